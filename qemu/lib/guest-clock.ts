// A guest's wall clock against the host's, for timing what a router logs on the host's clock (the lab's scenarios
// read their routers' logs instead of polling the agents they time).
import type { ScenarioContext } from './scenario.js';

/**
 * How a guest's wall clock relates to the host's: guest = host + offsetMs, within ±errorMs. Each sample is one
 * exec of `busybox adjtimex` (the guests' busybox date has no %N) between two host timestamps; the guest read its
 * clock somewhere between them, so the sample with the shortest round trip bounds the offset best (NTP's rule).
 */
export interface GuestClock {
  readonly offsetMs: number;
  readonly errorMs: number;
}
const clockSamples = 5;
export const clockCommand = 'busybox adjtimex';

/** adjtimex's time.tv_sec and time.tv_usec (nanoseconds when its status has STA_NANO, 0x2000) -> ms. */
export function adjtimexMs(out: string): number | null {
  const sec = /time\.tv_sec:\s+(\d+)/.exec(out)?.[1];
  const sub = /time\.tv_usec:\s+(\d+)/.exec(out)?.[1];
  const status = Number(/status:\s+(\d+)/.exec(out)?.[1] ?? 0);
  if (sec === undefined || sub === undefined) return null;
  return Number(sec) * 1000 + Number(sub) / ((status & 0x2000) !== 0 ? 1e6 : 1e3);
}

export async function guestClock(ctx: ScenarioContext, n: number): Promise<GuestClock | null> {
  let best: GuestClock | null = null;
  for (let i = 0; i < clockSamples; i++) {
    const t0 = Date.now();
    const r = await ctx.lab.exec(n, clockCommand, 10_000);
    const t1 = Date.now();
    const guest = r.rc === 0 ? adjtimexMs(r.out) : null;
    if (guest === null) continue;
    const sample = { offsetMs: guest - (t0 + t1) / 2, errorMs: (t1 - t0) / 2 };
    if (best === null || sample.errorMs < best.errorMs) best = sample;
  }
  return best;
}
