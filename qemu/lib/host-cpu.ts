// How much of the host's CPU the rest of the machine took while the lab ran, for judging timing goals. The lab's
// own TCG guests load the host by themselves (5 routers on 2 cores: a 1-minute load of 5-6 with nothing else
// running), so the load average cannot tell a quiet host from a shared one. This reads the kernel's CPU time by
// state (/proc/stat) and the lab's own QEMU processes' time (/proc/PID/stat), and gives what everything else used
// at normal priority, what niced work used (it yields to the guests: CFS gives a nice-10 task about a tenth of a
// nice-0 one's share) and the hypervisor's steal, each in cores, averaged over the last minute.
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { ScenarioContext } from './scenario.js';

/** A goal is judged when the rest of the host took at most this many cores at normal priority (plus steal). */
export const othersCoresMax = 0.5;
/** The window the figure averages over (as the 1-minute load average does); samples are taken this often. */
const windowMs = 60_000;
const sampleEveryMs = 5_000;

interface Qemu {
  readonly user: number;
  readonly system: number;
  readonly niced: boolean;
}

interface Sample {
  readonly atMs: number;
  /** Clock ticks by state, all CPUs: busy at nice ≤ 0 (user + system + irq + softirq), nice, steal. */
  readonly busy: number;
  readonly nice: number;
  readonly steal: number;
  /** The lab's QEMU processes (qemu-system-*), by pid: user and system ticks, and whether the process is niced
   * (the kernel counts a niced process's user time as nice, its system time as system). */
  readonly qemu: ReadonlyMap<number, Qemu>;
}

function sample(): Sample | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
    const qemu = new Map<number, Qemu>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      const close = stat.lastIndexOf(')');
      if (!stat.slice(stat.indexOf('(') + 1, close).startsWith('qemu-system')) continue;
      // Fields after the command: state(3) ... utime(14) stime(15) ... nice(19), numbered from 1 with pid.
      const f = stat.slice(close + 2).split(' ');
      qemu.set(Number(name), { user: Number(f[11]), system: Number(f[12]), niced: Number(f[16]) > 0 });
    }
    return { atMs: Date.now(), busy: user + system + irq + softirq, nice, steal, qemu };
  } catch {
    return null; // not Linux, or /proc unreadable: the caller says so
  }
}

const samples: Sample[] = [];
let timer: ReturnType<typeof setInterval> | null = null;

/** Starts sampling (the scenarios call it when the lab starts; judging before a minute uses what there is). */
export function watchHostCpu(): void {
  if (timer !== null) return;
  const s = sample();
  if (s !== null) samples.push(s);
  timer = setInterval(() => {
    const next = sample();
    if (next === null) return;
    samples.push(next);
    while (samples.length > 2 && samples[1]!.atMs <= next.atMs - windowMs) samples.shift();
  }, sampleEveryMs);
  timer.unref();
}

export interface HostCpu {
  readonly seconds: number;
  /** Cores the lab's guests used; the rest of the host at normal priority plus steal; niced work. */
  readonly labCores: number;
  readonly othersCores: number;
  readonly nicedCores: number;
}

/** The last minute (or since watchHostCpu), in cores; null when /proc cannot be read or no time has passed. */
export function hostCpu(): HostCpu | null {
  watchHostCpu();
  const first = samples[0];
  const now = sample();
  if (first === undefined || now === null || now.atMs - first.atMs < 1_000) return null;
  const ticksPerS = 100; // USER_HZ: /proc reports in 1/100 s on every Linux architecture the lab runs on
  const cores = (ticks: number) => ticks / ticksPerS / ((now.atMs - first.atMs) / 1000);
  // What the guests used, split as the kernel books it: in the busy ticks, or (a niced QEMU's user time) in nice.
  let inBusy = 0;
  let inNice = 0;
  for (const [pid, p] of now.qemu) {
    const before = first.qemu.get(pid);
    const user = p.user - (before?.user ?? 0);
    inBusy += p.system - (before?.system ?? 0) + (p.niced ? 0 : user);
    if (p.niced) inNice += user;
  }
  return {
    seconds: Math.round((now.atMs - first.atMs) / 1000),
    labCores: cores(inBusy + inNice),
    othersCores: Math.max(0, cores(now.busy - first.busy - inBusy + now.steal - first.steal)),
    nicedCores: Math.max(0, cores(now.nice - first.nice - inNice)),
  };
}

export const describeHostCpu = (h: HostCpu | null): string =>
  h === null
    ? `host CPU unknown (1-minute load ${os.loadavg()[0]!.toFixed(1)})`
    : `host over the last ${h.seconds} s: lab guests ${h.labCores.toFixed(2)} cores, everything else ${h.othersCores.toFixed(2)} (niced work ${h.nicedCores.toFixed(2)} more) of ${os.cpus().length}`;

/**
 * A timing goal: a check when the rest of the host left the guests their CPU (at most othersCoresMax cores taken at
 * normal priority), a skip that says so (with the figure) when it did not: TCG guests of a shared 2-core machine
 * stall for seconds then. A goal met is a pass whatever the host did. `single`: this run is one sample, not the
 * repeated run the goal is judged on (CI runs each scenario once); a miss is then a skip that says how to judge it.
 */
export function judgeTiming(ctx: ScenarioContext, name: string, ok: boolean, detail: string, single?: string): void {
  const h = hostCpu();
  const quiet = h !== null && h.othersCores <= othersCoresMax;
  if (ok) ctx.check(name, ok, `${detail}; ${describeHostCpu(h)}`);
  else if (single !== undefined) ctx.skip(name, `${single}; ${detail}; ${describeHostCpu(h)}`);
  else if (quiet) ctx.check(name, ok, `${detail}; ${describeHostCpu(h)}`);
  else ctx.skip(name, `${describeHostCpu(h)} (> ${othersCoresMax} cores elsewhere): timing not judged; ${detail}`);
}
