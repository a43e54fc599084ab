// Hybrid logical clock (Kulkarni et al., 2014): timestamps close to wall time that still order causally
// related events when clocks drift. Routers start at 1970 until NTP runs, so "far in the future" is judged
// against the wall clock only once it is plausible (>= wallClockFloorMs); before that, a fixed horizon.
import { assert, fail, ok, type Result } from './assert.js';
import { isId, isNat } from './check.js';
import { limits } from './limits.js';

/** [logical wall ms, counter, replica]; ordered lexicographically. */
export type Hlc = readonly [l: number, c: number, replica: string];

export function compareHlc(a: Hlc, b: Hlc): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  if (a[1] !== b[1]) return a[1] - b[1];
  return a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0;
}

export function isHlc(x: unknown): x is Hlc {
  return Array.isArray(x) && x.length === 3 && isNat(x[0]) && isNat(x[1]) && x[1] <= limits.hlcCounterMax && isId(x[2]);
}

/** The latest timestamp a wall clock reading allows from a peer. */
export function hlcAcceptLimitMs(wallMs: number): number {
  if (wallMs < limits.wallClockFloorMs) return limits.wallClockFloorMs + limits.unsyncedHorizonMs;
  return wallMs + limits.clockAheadMsMax;
}

export class HlcClock {
  private l = 0;
  private c = 0;

  constructor(readonly replica: string) {}

  get last(): Hlc {
    return [this.l, this.c, this.replica];
  }

  /** A timestamp for a local event; strictly greater than every timestamp issued or observed before. */
  now(wallMs: number): Hlc {
    const before = this.last;
    if (wallMs > this.l) {
      this.l = wallMs;
      this.c = 0;
    } else {
      this.tickCounter();
    }
    const issued = this.last;
    assert(compareHlc(issued, before) > 0, 'a local timestamp is greater than every earlier one');
    assert(issued[1] <= limits.hlcCounterMax, 'the logical counter stays within its bound');
    return issued;
  }

  /** Checks a remote timestamp against the wall clock, then moves past it. */
  observe(remote: Hlc, wallMs: number): Result<null, 'clock-future'> {
    if (remote[0] > hlcAcceptLimitMs(wallMs)) return fail('clock-future');
    if (remote[0] > this.l || (remote[0] === this.l && remote[1] > this.c)) {
      this.l = remote[0];
      this.c = remote[1];
    }
    assert(this.l >= remote[0], 'the clock has moved past an accepted timestamp');
    return ok(null);
  }

  private tickCounter(): void {
    // A stuck wall clock (pre-NTP) and a busy node could overflow the counter: borrow 1 ms instead.
    if (this.c >= limits.hlcCounterMax) {
      this.l += 1;
      this.c = 0;
    } else {
      this.c += 1;
    }
  }
}
