// More self-healing, off and on in the same run, on one boot of heal.ts's ring of 4 (1-2-3-4-1, batman-adv on a
// dummy primary, an agent on every router; here nodes 1-3 are Raft anchors and XDP runs on both mesh NICs).
// Each phase runs first with `config mapek` enabled '0' (what the mesh does alone), then, after the agents restart
// with enabled '1', again (docs/mapek.md, "Lab figures"):
//   steady  a healthy mesh: zero decisions (STEADY_MINUTES, default 1; `npm run lab` figures use 30).
//   anchor  the Raft leader's links degraded (netem 100 ms + 60 % loss each way on both of them): how long until
//           another anchor leads (goal with self-healing: 3 s, the agent's transfer-leadership), from its log.
//   flood   node 3 sends up to 6,000 batman-adv frames/s for 8 s into node 2 (x0-xdp-gen over AF_PACKET, its own
//           MAC): the time until node 2's XDP rate limit is applied (goal 2 s), from its log, its drop counter
//           rising, lifted when it stops. While a phase is timed the host reads the routers' logs only: the agents
//           being timed have a third of a TCG core each, and ubus or x0-xdp calls from the host took a share. The agents' floor is flood_pps_min 1,000/s (below); a guest starved by a loaded host may
//           not reach it: then no limit is right, and the check is a skip that says so.
//   flap    link 3-4 flaps (netem 100 % loss toggled every 5 s on both ends): batman-adv's hop_penalty retuned
//           (read back with batctl), corrective actions per target within the damping bound, restored when calm.
// HEAL_RUNS=N (default 1) repeats the anchor and flood phases N times per mode; the figures in docs use 3.
// HEAL_MORE_PHASES=steady,anchor,flood,flap (default all) picks phases. Timing goals are judged only when the rest
// of the host left the guests their CPU and over 3+ runs (lib/host-cpu.ts judgeTiming()); the mechanics at any load.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Scenario, ScenarioContext } from '../lib/scenario.js';
import { nicByMac } from '../lib/lab.js';
import { delay } from '../lib/vm.js';
import { judgeTiming } from '../lib/host-cpu.js';
import { readLimits, readStats } from '../../src/xdp/parse.js';
import { adjtimexMs, clockCommand, type GuestClock, guestClock } from '../lib/guest-clock.js';
import {
  all,
  dummyPrimary,
  type HealUciOptions,
  logLines,
  median,
  nameOf,
  prepare,
  readyCount,
  timeOf,
  writeAgents,
} from './heal.js';

/**
 * The agents' flood floor: 1,000 frames/s instead of 2,000. With the agents probing and reading XDP every second, a
 * TCG guest's generator sends 1,500-1,600 frames/s at most (4,300-4,600 with self-healing off, 6 December), so at
 * the default the "on" runs never see a flood at all; `flood_pps_min` is the operator's knob for a slower floor.
 */
const floodPpsMin = 1000;
const options: HealUciOptions = { anchors: [1, 2, 3], xdp: true, floodPpsMin };
const phasesAll = ['steady', 'anchor', 'flood', 'flap'] as const;
type Phase = (typeof phasesAll)[number];
type Mode = 'off' | 'on';
/** The core's defaults these checks lean on (src/core/mapek/types.ts defaultMapekConfig). */
const core = { dampingActionsMax: 4, flapCalmMs: 60_000, floodCalmMs: 10_000, retuneHopPenalty: 96 };
const undoActions = new Set(['link-up', 'restore-tuning', 'lift']);
const gen = '/tmp/x0-xdp-gen';
const floodPps = 6000;
const floodSeconds = 8;
const flapHalfS = 5;
const anchorWaitMs = 15_000;
let repoRoot = process.cwd();

interface Env {
  readonly runs: number;
  readonly steadyMs: number;
  readonly phases: readonly Phase[];
}

function envOf(): Env {
  const runs = Number(process.env.HEAL_RUNS ?? '1');
  if (!Number.isInteger(runs) || runs < 1 || runs > 10) throw new Error(`HEAL_RUNS=${process.env.HEAL_RUNS}: 1..10`);
  const minutes = Number(process.env.STEADY_MINUTES ?? '1');
  if (!Number.isFinite(minutes) || minutes < 0.1 || minutes > 120)
    throw new Error(`STEADY_MINUTES=${process.env.STEADY_MINUTES}: 0.1..120`);
  const phases = (process.env.HEAL_MORE_PHASES ?? phasesAll.join(',')).split(',').map((p) => p.trim());
  for (const p of phases)
    if (!(phasesAll as readonly string[]).includes(p))
      throw new Error(`HEAL_MORE_PHASES: '${p}' is not one of ${phasesAll.join(', ')}`);
  return { runs, steadyMs: Math.round(minutes * 60_000), phases: phases as Phase[] };
}

/** The name of node n's NIC on its link to peer (eth1, eth2). */
async function ifaceOn(ctx: ScenarioContext, n: number, peer: number): Promise<string> {
  const r = await ctx.lab.exec(n, nicByMac(ctx.lab.macOn(n, peer)));
  const name = r.out.trim();
  if (!/^[a-z0-9]+$/.test(name)) throw new Error(`node ${n}: no interface with ${ctx.lab.macOn(n, peer)}: ${r.out}`);
  return name;
}

interface Decided {
  readonly at: number;
  readonly action: string;
  readonly target: string;
  readonly line: string;
}

/** Every `mapek decided` line of node n (guest clock). */
async function decisions(ctx: ScenarioContext, n: number): Promise<Decided[]> {
  // The component's own line (with symptom=...); the core's `decided` event (what=...) repeats it.
  return (await logLines(ctx, n, 'mapek decided trace_id=[0-9a-f]+ symptom=')).map((line) => ({
    at: timeOf(line),
    action: /action=(\S+)/.exec(line)?.[1] ?? '?',
    target: /target=(\S+)/.exec(line)?.[1] ?? '?',
    line,
  }));
}

const decidedCounts = async (ctx: ScenarioContext): Promise<number[]> =>
  Promise.all(all.map(async (n) => (await decisions(ctx, n)).length));

interface RaftView {
  readonly role: string | null;
  readonly leader: string | null;
}

async function raftView(ctx: ScenarioContext, n: number): Promise<RaftView> {
  const r = await ctx.lab.exec(n, 'ubus -t 3 call x0tta6bl4 raft', 15_000);
  try {
    const v = JSON.parse(r.out) as Record<string, unknown>;
    return { role: typeof v.role === 'string' ? v.role : null, leader: typeof v.leader === 'string' ? v.leader : null };
  } catch {
    return { role: null, leader: null };
  }
}

/** The anchor every anchor names as leader and that says it leads, or null. */
async function agreedLeader(ctx: ScenarioContext): Promise<number | null> {
  const anchors = options.anchors as readonly number[];
  const views = await Promise.all(anchors.map((n) => raftView(ctx, n)));
  const names = new Set(views.map((v) => v.leader));
  const self = anchors.filter((_, i) => views[i]!.role === 'leader');
  if (names.size !== 1 || self.length !== 1 || views[0]!.leader !== nameOf(self[0]!)) return null;
  return self[0]!;
}

/** Node n's `raft role role=leader` lines (its clock): it became the leader. */
const leaderLines = (ctx: ScenarioContext, n: number): Promise<string[]> => logLines(ctx, n, ' raft role role=leader ');

/** Node 2's `mapek executed ... action=rate-limit` lines (its clock). */
const rateLimitsExecuted = (ctx: ScenarioContext): Promise<string[]> =>
  logLines(ctx, 2, 'mapek executed .*action=rate-limit');

/** node n's hop_penalty on iface, as batctl reads it back from the kernel. */
async function hopPenalty(ctx: ScenarioContext, n: number, iface: string): Promise<number | null> {
  const r = await ctx.lab.exec(n, `batctl hardif ${iface} hop_penalty`);
  const v = Number.parseInt(r.out.trim(), 10);
  return r.rc === 0 && Number.isInteger(v) ? v : null;
}

interface XdpView {
  readonly packets: number;
  readonly drops: number;
  readonly limits: number;
}

/** Node n's XDP counters for one source MAC and the number of rate-limit rules, from x0-xdp itself. */
async function xdpView(ctx: ScenarioContext, n: number, mac: string): Promise<XdpView | null> {
  const r = await ctx.lab.exec(n, 'x0-xdp --json stats; echo @@; x0-xdp --json limit show');
  const [stats, limits] = r.out.split('@@');
  try {
    const s = readStats(JSON.parse(stats ?? ''));
    const l = readLimits(JSON.parse(limits ?? ''));
    const src = s.sources.find((x) => x.mac === mac);
    return { packets: src?.packets ?? 0, drops: src?.drops ?? 0, limits: l.length };
  } catch {
    return null;
  }
}

async function waitAgents(ctx: ScenarioContext, mode: Mode): Promise<boolean> {
  await writeAgents(ctx, mode === 'on', options);
  const want = mode === 'off' ? 1 : 2;
  const ready = await ctx.lab
    .waitFor(
      `agents ready (mapek ${mode})`,
      async () => (await Promise.all(all.map((n) => readyCount(ctx, n)))).every((c) => c >= want) || null,
      120_000,
    )
    .catch(() => null);
  if (!ctx.check(`agents-ready-${mode}`, ready !== null, `every agent logged "agent ready" (mapek ${mode})`))
    return false;
  const leader = await ctx.lab.waitFor(`a Raft leader (${mode})`, () => agreedLeader(ctx), 90_000).catch(() => null);
  return ctx.check(
    `raft-leader-${mode}`,
    leader !== null,
    leader === null ? 'anchors 1-3 agree on no leader within 90 s' : `anchors agree: ${nameOf(leader.value)} leads`,
  );
}

/** With self-healing on: wait until nothing was decided for 20 s and every link is under bat0 again. */
async function waitQuiet(ctx: ScenarioContext, what: string, timeoutMs = 120_000): Promise<void> {
  await ctx.lab
    .waitFor(
      `the agents to be quiet (${what})`,
      async () => {
        const last = (await Promise.all(all.map((n) => decisions(ctx, n))))
          .flat()
          .map((d) => d.at)
          .filter(Number.isFinite)
          .sort((a, b) => a - b)
          .at(-1);
        const out = await Promise.all(all.map((n) => ctx.lab.exec(n, 'ls /sys/class/net/bat0 | grep -c "^lower_eth"')));
        const guestNow = Date.parse((await ctx.lab.exec(1, 'date -u +%Y-%m-%dT%H:%M:%SZ')).out.trim());
        return (
          (out.every((r) => Number(r.out.trim()) === 2) && (last === undefined || guestNow - last > 20_000)) || null
        );
      },
      timeoutMs,
    )
    .catch(() => null);
}

/** The steady phase's zero-actions goal is judged over this long (the issue's 30 minutes; CI runs 1). */
const steadyJudgedMs = 30 * 60_000;

async function steady(ctx: ScenarioContext, mode: Mode, env: Env): Promise<void> {
  // Off, the agents cannot act (a structural zero): a short baseline. On, the whole STEADY_MINUTES.
  const ms = mode === 'off' ? Math.min(env.steadyMs, 10_000) : env.steadyMs;
  const before = await decidedCounts(ctx);
  const load0 = os.loadavg()[0]!;
  await delay(ms);
  const after = await decidedCounts(ctx);
  const taken = after.map((c, i) => c - before[i]!);
  const lines = (await Promise.all(all.map((n) => decisions(ctx, n))))
    .flatMap((ds, i) => ds.slice(before[i]).map((d) => `node ${i + 1}: ${d.line.replace(/^\S+ /, '').slice(0, 160)}`))
    .slice(0, 3);
  const detail = `${Math.round(ms / 1000)} s of a healthy mesh: ${taken.join('+')} decisions on the 4 agents (host load ${load0.toFixed(1)} at the start)${lines.length ? `: ${lines.join('; ')}` : ''}`;
  ctx.measure(
    `steady_decisions_${mode}`,
    taken.reduce((a, b) => a + b, 0),
    'decisions',
    detail,
  );
  if (mode === 'on')
    judgeTiming(
      ctx,
      'steady-zero-actions',
      taken.every((t) => t === 0),
      detail,
      env.steadyMs < steadyJudgedMs
        ? `${Math.round(ms / 60_000)} minute(s): judged over ${steadyJudgedMs / 60_000} (STEADY_MINUTES=${steadyJudgedMs / 60_000})`
        : undefined,
    );
}

/** The anchor phase: degrade the leader's links, time until another anchor leads. Returns ms or null (not moved). */
async function anchorOnce(ctx: ScenarioContext, mode: Mode, i: number, env: Env): Promise<number | null> {
  const { lab } = ctx;
  const label = `${mode}-${i}`;
  const leader = await lab.waitFor(`a Raft leader (${label})`, () => agreedLeader(ctx), 60_000).catch(() => null);
  if (!ctx.check(`anchor-leader-${label}`, leader !== null, leader ? `${nameOf(leader.value)} leads` : 'no leader'))
    return null;
  const l = leader!.value;
  const links = lab.links.filter((k) => k.edge.includes(l)).map((k) => k.edge);
  const decidedBefore = (await decisions(ctx, l)).length;
  const others = (options.anchors as readonly number[]).filter((n) => n !== l);
  // The other anchors are not asked anything while they elect: their logs are read (a grep once a second) for
  // their `raft role role=leader` line, put on the host's clock with each guest's offset measured before. Until
  // 16:45 on 6 December a ubus `raft` call to both every poll loaded the very agents being timed.
  const movedBy = new Map<number, { before: number; clock: GuestClock | null }>();
  for (const n of others)
    movedBy.set(n, { before: (await leaderLines(ctx, n)).length, clock: await guestClock(ctx, n) });
  // Every guest whose links are impaired reads its clock just before its tc commands: the degradation began after
  // the earliest of those reads, put on the host's clock (the host's command goes out before that, by a TCG guest's
  // command round trip: 0.3-0.8 s, not the agents' time). Both links at once: one command per guest, in parallel.
  const ends = [...new Set(links.flat())];
  const clocks = new Map<number, GuestClock | null>();
  for (const n of ends) clocks.set(n, movedBy.get(n)?.clock ?? (await guestClock(ctx, n)));
  const t0 = Date.now();
  const impaired = await lab.impairLinks(links, { delayMs: 100, lossPercent: 60 }, clockCommand);
  const stamps = ends.map((n) => {
    const guest = adjtimexMs(impaired.outputs.get(n) ?? '');
    const clock = clocks.get(n);
    return guest === null || clock == null ? null : { ms: guest - clock.offsetMs, errorMs: clock.errorMs };
  });
  const first = stamps.every((x) => x !== null) ? stamps.reduce((a, b) => (b!.ms < a!.ms ? b : a))! : null;
  // Without every guest's read the host's command time stands (the conservative start).
  const startMs = first === null ? t0 : Math.max(t0, Math.round(first.ms));
  let moved: { to: number; ms: number; errorMs: number } | null = null;
  while (moved === null && Date.now() - t0 < anchorWaitMs) {
    await delay(1000);
    for (const n of others) {
      const { before, clock } = movedBy.get(n)!;
      const line = (await leaderLines(ctx, n)).slice(before)[0];
      if (line === undefined || clock === null) continue;
      const ms = Math.max(0, Math.round(timeOf(line) - clock.offsetMs - startMs));
      const errorMs = clock.errorMs + (first?.errorMs ?? 0);
      if (ms <= anchorWaitMs && (moved === null || ms < moved.ms)) moved = { to: n, ms, errorMs };
    }
  }
  await lab.clearImpairments(links);
  const ms = moved?.ms ?? null;
  const everyone = new Map([...clocks, ...[...movedBy].map(([n, m]) => [n, m.clock] as const)]);
  const steps = await anchorTimeline(ctx, everyone, startMs, startMs + (ms ?? anchorWaitMs) + 500);
  ctx.measure(
    `anchor_moved_${label}`,
    ms ?? anchorWaitMs,
    'ms',
    ms === null
      ? `self-healing ${mode}: ${nameOf(l)}'s links degraded (100 ms, 60 % loss): still leading after ${anchorWaitMs / 1000} s; ${steps}`
      : `self-healing ${mode}: ${nameOf(l)}'s links degraded (100 ms, 60 % loss): ${nameOf(moved!.to)} leads ${ms} ms later (its log and the guests' clock reads before tc, on the host's clock ± ${Math.round(moved!.errorMs)} ms; ${ms + startMs - t0} ms after the host's tc commands went out, which took ${impaired.ms} ms); ${steps}`,
  );
  if (mode === 'on') {
    const mine = (await decisions(ctx, l)).slice(decidedBefore);
    const executed = (await logLines(ctx, l, 'mapek executed .*action=transfer-leadership .*ok=true')).at(-1);
    // Whether both links are called dead at once, and for anchorDegradedMs, depends on the probe's timing under
    // 60 % loss: a starved guest may not get there within the wait, hence judgeTiming().
    judgeTiming(
      ctx,
      `anchor-transfer-${label}`,
      mine.some((d) => d.action === 'transfer-leadership') && executed !== undefined,
      `${nameOf(l)} decided ${mine.map((d) => d.action).join(', ') || 'nothing'}; ${executed === undefined ? 'no transfer-leadership executed ok' : executed.replace(/^\S+ /, '').slice(0, 220)}`,
      env.runs < 3 ? `${env.runs} run: judged with HEAL_RUNS=3` : undefined,
    );
  }
  await lab.waitFor(`a Raft leader after ${label}`, () => agreedLeader(ctx), 60_000).catch(() => null);
  return ms;
}

/**
 * What the impaired links' ends logged between fromMs and toMs (host clock), in order, as seconds after fromMs: the
 * probe's verdicts, the loop's decisions, Raft's roles ("n1 down eth1 +0.62, n1 transfer-leadership +1.31, n2
 * candidate +1.80, ..."). Read once, after the phase, so it costs the agents nothing while they are timed.
 */
async function anchorTimeline(
  ctx: ScenarioContext,
  clocks: ReadonlyMap<number, GuestClock | null>,
  fromMs: number,
  toMs: number,
): Promise<string> {
  const steps: Array<{ at: number; text: string }> = [];
  for (const [n, clock] of clocks) {
    if (clock === null) continue;
    const pattern = 'mapek neighbour-down |mapek decided trace_id=[0-9a-f]+ symptom=| raft role role=';
    for (const line of await logLines(ctx, n, pattern)) {
      const at = timeOf(line) - clock.offsetMs;
      if (!(at >= fromMs && at <= toMs)) continue;
      const down = /neighbour-down iface=(\S+)/.exec(line);
      const act = /action=(\S+) target=(\S+)/.exec(line);
      const role = /role=(\S+) term=(\d+)/.exec(line);
      const what = down ? `down ${down[1]}` : act ? `${act[1]} ${act[2]}` : role ? `${role[1]} term ${role[2]}` : '?';
      steps.push({ at, text: `n${n} ${what} +${((at - fromMs) / 1000).toFixed(2)}` });
    }
  }
  steps.sort((a, b) => a.at - b.at);
  return steps.length === 0 ? 'no log lines' : steps.map((x) => x.text).join(', ');
}

/** The flood phase: node 3 floods node 2 over link 2-3. Returns ms from the flood's start to the limit, or null. */
async function floodOnce(ctx: ScenarioContext, mode: Mode, i: number, env: Env): Promise<number | null> {
  const { lab } = ctx;
  const label = `${mode}-${i}`;
  const src = lab.macOn(3, 2);
  const iface = await ifaceOn(ctx, 3, 2);
  const v0 = await xdpView(ctx, 2, src);
  if (!ctx.check(`flood-xdp-${label}`, v0 !== null && v0.limits === 0, `node 2's x0-xdp before: ${JSON.stringify(v0)}`))
    return null;
  const count = floodPps * floodSeconds;
  // Node 2's own clock in ms at the flood's start (read just before it: the time to the limit is, if anything,
  // long; busybox's date has whole seconds only, its adjtimex has microseconds).
  const g0 = adjtimexMs((await lab.exec(2, clockCommand)).out) ?? Number.NaN;
  const executedBefore = (await rateLimitsExecuted(ctx)).length;
  await lab.exec(
    3,
    // At most floodSeconds: a starved guest sends slower than asked (timeout ends it: rc 124/143, no total).
    `(timeout ${floodSeconds} ${gen} send ${iface} --src ${src} --dst ${lab.macOn(2, 3)} --ethertype 0x4305 --pps ${floodPps} --count ${count}; echo rc=$?) > /tmp/gen-${label}.out 2>&1 &`,
  );
  const t0 = Date.now();
  // Node 2 is not asked anything during the flood but a grep of its log once a second: the agent being timed
  // has about a third of a TCG core, and x0-xdp runs from the host every 0.2 s took a share of it (until 16:30,
  // 6 December). Its log says when the limit was applied (executed action=rate-limit ok=true, its own clock).
  let limitedMs: number | null = null;
  let limitedLine = '';
  while (Date.now() - t0 < floodSeconds * 1000 + 2000 && limitedMs === null) {
    await delay(1000);
    const line = (await rateLimitsExecuted(ctx)).slice(executedBefore).find((l) => / ok=true /.test(l));
    if (line !== undefined && Number.isFinite(g0)) {
      limitedMs = Math.max(0, Math.round(timeOf(line) - g0));
      limitedLine = line;
    }
  }
  // The rule as node 2's x0-xdp shows it, once, and its drops rising while the flood goes on.
  const during = limitedMs === null ? null : await xdpView(ctx, 2, src);
  if (limitedMs !== null) await delay(Math.max(0, t0 + floodSeconds * 1000 - Date.now() - 500));
  const later = limitedMs === null ? null : await xdpView(ctx, 2, src);
  const drops = [during?.drops ?? 0, later?.drops ?? 0];
  if (limitedMs !== null)
    ctx.check(
      `flood-rule-shown-${label}`,
      (during?.limits ?? 0) > 0,
      `node 2's x0-xdp limit show after "${limitedLine.slice(0, 160)}": ${JSON.stringify(during)}`,
    );
  // The sender prints its total when it is done, or timeout ended it.
  const sent =
    (
      await lab
        .waitFor(
          `x0-xdp-gen on node 3 to finish (${label})`,
          async () => {
            const out = (await lab.exec(3, `cat /tmp/gen-${label}.out`)).out.trim();
            return out.includes('rc=') ? out.replace(/\s+/g, ' ') : null;
          },
          15_000,
        )
        .catch(() => null)
    )?.value ?? 'no answer from x0-xdp-gen within 15 s';
  const sentN = Number(/"sent":(\d+)/.exec(sent)?.[1] ?? Number.NaN);
  const ns = Number(/"elapsed_ns":(\d+)/.exec(sent)?.[1] ?? Number.NaN);
  const rate = Number.isFinite(sentN) ? sentN / (ns / 1e9) : Number.NaN;
  const after = await xdpView(ctx, 2, src);
  const last = after;
  const seen = (after?.packets ?? 0) - (v0?.packets ?? 0);
  // What reached node 2, per second of the sender's run (its own figure; the timeout's 8 s when it has none).
  const peakPps = (seen * 1e9) / (Number.isFinite(ns) ? ns : floodSeconds * 1e9);
  ctx.check(
    `flood-sent-${label}`,
    /rc=(0|124|143)\b/.test(sent) && seen >= 1000 && (!Number.isFinite(sentN) || seen >= sentN * 0.9),
    `x0-xdp-gen on node 3 (${iface}) for at most ${floodSeconds} s: ${sent.slice(0, 120)}${Number.isFinite(rate) ? ` = ${Math.round(rate)} frames/s` : ' (ended by timeout: the guest sent slower than asked)'}; node 2's XDP counted ${seen} from ${src}, ${Math.round(peakPps)} per second of the sender's run`,
  );
  ctx.measure(
    `flood_peak_pps_${label}`,
    Math.round(peakPps),
    'pps',
    `frames/s from ${src} counted by node 2's XDP over the sender's run`,
  );
  if (mode === 'off') {
    ctx.check(
      `flood-no-limit-${label}`,
      limitedMs === null && (last?.drops ?? 0) === (v0?.drops ?? 0),
      `self-healing off: no rate limit on node 2, ${(last?.drops ?? 0) - (v0?.drops ?? 0)} frames of ${src} dropped`,
    );
    return null;
  }
  // A flood is floodPpsMin frames/s or more: a guest starved by a loaded host may not make it.
  if (peakPps < floodPpsMin * 1.25 && limitedMs === null) {
    ctx.skip(
      `flood-limited-${label}`,
      `the flood reached node 2 at ${Math.round(peakPps)} frames/s (host load ${os.loadavg()[0]!.toFixed(1)}): too close to flood_pps_min=${floodPpsMin} for the agent's samples to see floodSamplesMin=2 in a row over it; no limit`,
    );
    return null;
  }
  const rising = drops[1]! > drops[0]!;
  // The agent sees the flood in its own XDP samples (a request to its x0-xdp serve every 0.5 s), hence
  // judgeTiming(): on a starved guest the samples come late.
  judgeTiming(
    ctx,
    `flood-limited-${label}`,
    limitedMs !== null && rising,
    limitedMs === null
      ? `node 2 applied no rate limit during the flood (peak ${Math.round(peakPps)} frames/s, flood_pps_min ${floodPpsMin})`
      : `node 2's rate limit in force ${limitedMs} ms after the flood began; drops of ${src} while limited: ${drops[0]} -> ${drops.at(-1)}`,
    env.runs < 3 ? `${env.runs} run: judged with HEAL_RUNS=3` : undefined,
  );
  // Lifted once the rate stayed below floodPpsMin for floodCalmMs.
  const stopped = Date.now();
  const lifted = await lab
    .waitFor(
      `node 2's rate limit lifted (${label})`,
      async () => ((await xdpView(ctx, 2, src))?.limits === 0 ? true : null),
      core.floodCalmMs + 30_000,
    )
    .catch(() => null);
  ctx.check(
    `flood-lifted-${label}`,
    lifted !== null,
    lifted === null
      ? `the limit still in force ${Math.round((Date.now() - stopped) / 1000)} s after the flood`
      : `lifted ${Date.now() - stopped} ms after the flood ended (floodCalmMs ${core.floodCalmMs})`,
  );
  if (limitedMs !== null)
    ctx.measure(
      `flood_limited_${label}`,
      limitedMs,
      'ms',
      "flood start -> rate limit applied, by node 2's clock and log",
    );
  return limitedMs;
}

/** The flap phase: link 3-4 toggled 100 % loss / clear every flapHalfS on both ends, `cycles` times. */
async function flap(ctx: ScenarioContext, mode: Mode, env: Env): Promise<void> {
  const { lab } = ctx;
  const cycles = mode === 'off' ? 2 : 4;
  const ends = [
    { n: 3, iface: await ifaceOn(ctx, 3, 4) },
    { n: 4, iface: await ifaceOn(ctx, 4, 3) },
  ];
  const base = await Promise.all(ends.map((e) => hopPenalty(ctx, e.n, e.iface)));
  const decidedBefore = await Promise.all(ends.map(async (e) => (await decisions(ctx, e.n)).length));
  const pingFile = `/tmp/flap-${mode}.ping`;
  await lab.exec(3, `ping -i 0.1 10.77.0.4 > ${pingFile} 2>&1 & echo $! > ${pingFile}.pid`);
  await delay(2000);
  const loop = (iface: string): string =>
    `(i=0; while [ $i -lt ${cycles} ]; do /sbin/tc qdisc replace dev ${iface} root netem loss 100%; sleep ${flapHalfS}; /sbin/tc qdisc del dev ${iface} root; sleep ${flapHalfS}; i=$((i+1)); done) >/dev/null 2>&1 &`;
  const t0 = Date.now();
  await Promise.all(ends.map((e) => lab.exec(e.n, loop(e.iface))));
  let retunedMs: number | null = null;
  const seen: number[][] = [[], []];
  while (Date.now() - t0 < cycles * 2 * flapHalfS * 1000 + 1000) {
    const hp = await Promise.all(ends.map((e) => hopPenalty(ctx, e.n, e.iface)));
    hp.forEach((v, k) => v !== null && seen[k]!.push(v));
    if (retunedMs === null && hp.some((v) => v === core.retuneHopPenalty)) retunedMs = Date.now() - t0;
    await delay(500);
  }
  await lab.exec(3, `kill $(cat ${pingFile}.pid)`);
  const replies = (await lab.exec(3, `grep -c 'seq=' ${pingFile}; true`)).out.trim();
  const sentPings = Math.round((Date.now() - t0 + 2000) / 100);
  ctx.measure(
    `flap_ping_replies_${mode}`,
    Number(replies) || 0,
    'replies',
    `node 3 -> node 4 every 100 ms over ${cycles} flaps (${cycles * 2 * flapHalfS} s, about ${sentPings} sent): self-healing ${mode}`,
  );
  const after = await Promise.all(ends.map((e) => hopPenalty(ctx, e.n, e.iface)));
  if (mode === 'off') {
    ctx.check(
      'flap-untouched-off',
      seen.every((vs, k) => vs.every((v) => v === base[k])),
      `hop_penalty on ${ends.map((e, k) => `node ${e.n} ${e.iface}: ${base[k]} -> ${[...new Set(seen[k])].join('/')}`).join('; ')}`,
    );
    return;
  }
  for (const [k, e] of ends.entries()) {
    const mine = (await decisions(ctx, e.n)).slice(decidedBefore[k]);
    const retune = (await logLines(ctx, e.n, `mapek executed .*action=retune target=iface:${e.iface} .*ok=true`)).at(
      -1,
    );
    // The probe has to follow a 5 s toggle: on a starved guest (echoes taking seconds) it cannot, hence judgeTiming().
    judgeTiming(
      ctx,
      `flap-retune-node-${e.n}`,
      // Read back by the host during the flap or at its end: a later link-down takes the interface out of
      // batman-adv (it then reads null), which does not undo that the retune was seen in force.
      retune !== undefined && (after[k] === core.retuneHopPenalty || (seen[k] ?? []).includes(core.retuneHopPenalty)),
      `${retune === undefined ? 'no retune executed ok' : retune.replace(/^\S+ /, '').slice(0, 200)}; batctl hardif ${e.iface} hop_penalty reads ${after[k]} now (was ${base[k]}; seen during the flap: ${[...new Set(seen[k] ?? [])].join('/')})`,
      env.runs < 3 ? `${env.runs} run: judged with HEAL_RUNS=3` : undefined,
    );
    const corrective = new Map<string, number>();
    for (const d of mine) if (!undoActions.has(d.action)) corrective.set(d.target, (corrective.get(d.target) ?? 0) + 1);
    const held = (await logLines(ctx, e.n, 'mapek held ')).length;
    const worst = Math.max(0, ...corrective.values());
    ctx.check(
      `flap-damping-node-${e.n}`,
      worst <= core.dampingActionsMax,
      `corrective decisions per target during ${cycles} flaps: ${[...corrective].map(([t, c]) => `${t} ${c}`).join(', ') || 'none'} (at most ${core.dampingActionsMax} per window); all: ${mine.map((d) => d.action).join(' ')}; ${held} held`,
    );
  }
  if (retunedMs !== null)
    ctx.measure(
      'flap_retuned',
      retunedMs,
      'ms',
      'flapping began -> hop_penalty 96 read back on link 3-4 (host polls every ~0.5 s)',
    );
  // Restored once link 3-4 has had no transition for flapCalmMs.
  if (retunedMs === null && !after.some((v) => v === core.retuneHopPenalty)) {
    ctx.skip('flap-restored', 'hop_penalty was never retuned during the flap: nothing to restore');
    return;
  }
  const calm = Date.now();
  const restored = await lab
    .waitFor(
      'hop_penalty restored on link 3-4',
      async () => {
        const hp = await Promise.all(ends.map((e) => hopPenalty(ctx, e.n, e.iface)));
        return hp.every((v, k) => v === base[k]) || null;
      },
      core.flapCalmMs + 60_000,
    )
    .catch(() => null);
  // The agents' log reaches the file through logd a little after the action: read it until both lines are there.
  const undoCounts = () =>
    Promise.all(
      ends.map(async (e) => (await logLines(ctx, e.n, 'mapek executed .*action=restore-tuning .*ok=true')).length),
    );
  const undo =
    (
      await lab
        .waitFor(
          'restore-tuning logged on both ends',
          async () => {
            const counts = await undoCounts();
            return counts.every((u) => u > 0) ? counts : null;
          },
          15_000,
        )
        .catch(() => null)
    )?.value ?? (await undoCounts());
  ctx.check(
    'flap-restored',
    restored !== null && undo.every((u) => u > 0),
    `${restored === null ? 'not restored' : `restored ${Date.now() - calm} ms after the flapping stopped`} (flapCalmMs ${core.flapCalmMs}); restore-tuning executed ok: node 3 ${undo[0]}, node 4 ${undo[1]}; batctl reads ${(await Promise.all(ends.map((e) => hopPenalty(ctx, e.n, e.iface)))).join(', ')}`,
  );
}

export const healMore: Scenario = {
  name: 'heal-more',
  summary:
    'ring of 4 with agents, self-healing off then on: steady mesh, degraded Raft anchor, a flood, a flapping link',
  nodes: all.length,
  topology: 'ring',
  edges: [
    [1, 2],
    [2, 3],
    [3, 4],
    [1, 4],
  ],
  async prepare(env) {
    repoRoot = env.root;
    return prepare(env);
  },
  async run(ctx) {
    const env = envOf();
    const { lab } = ctx;
    if ((await dummyPrimary(ctx)) === null) return;
    if (env.phases.includes('flood')) {
      // The flood's sender, a test tool (bpf/tools/x0-xdp-gen.c, built by test/xdp), copied into node 3.
      const file = path.join(repoRoot, 'build', 'xdp-tools', 'x0-xdp-gen');
      if (!existsSync(file)) throw new Error(`${file} is missing: build it with make -C bpf (scripts/setup.sh does)`);
      await lab.vm(3).putFile(gen, readFileSync(file), '755');
    }
    const anchorMs: Record<Mode, Array<number | null>> = { off: [], on: [] };
    const floodMs: number[] = [];
    for (const mode of ['off', 'on'] as const) {
      if (!(await waitAgents(ctx, mode))) return;
      if (mode === 'on') await waitQuiet(ctx, 'after the start');
      if (env.phases.includes('steady')) await steady(ctx, mode, env);
      if (env.phases.includes('anchor'))
        for (let i = 1; i <= env.runs; i++) {
          anchorMs[mode].push(await anchorOnce(ctx, mode, i, env));
          if (mode === 'on') await waitQuiet(ctx, `after anchor ${i}`, 60_000);
        }
      if (env.phases.includes('flood'))
        for (let i = 1; i <= env.runs; i++) {
          const ms = await floodOnce(ctx, mode, i, env);
          if (mode === 'on' && ms !== null) floodMs.push(ms);
        }
      if (env.phases.includes('flap')) await flap(ctx, mode, env);
    }
    const breakers = await Promise.all(all.map(async (n) => (await logLines(ctx, n, 'mapek breaker-opened')).length));
    ctx.measure(
      'breakers_opened',
      breakers.reduce((a, b) => a + b, 0),
      'breakers',
      `circuit breakers opened on nodes 1-4: ${breakers.join(', ')}`,
    );
    if (env.phases.includes('anchor')) {
      const on = anchorMs.on.map((m) => m ?? anchorWaitMs);
      const off = anchorMs.off.map((m) => m ?? anchorWaitMs);
      const goal = `leadership moved after: on ${on.join(', ')} ms (median ${median(on)}, goal < 3000); off ${off.join(', ')} ms (${anchorWaitMs} = not within ${anchorWaitMs / 1000} s)`;
      if (env.runs < 3) ctx.skip('anchor-under-3s', `${env.runs} run: judged with HEAL_RUNS=3; ${goal}`);
      else judgeTiming(ctx, 'anchor-under-3s', on.length === env.runs && median(on) < 3000, goal);
    }
    if (env.phases.includes('flood')) {
      const goal = `rate limit in force after: ${floodMs.join(', ') || '-'} ms (median ${floodMs.length ? median(floodMs) : '-'}, goal < 2000)`;
      if (env.runs < 3) ctx.skip('flood-under-2s', `${env.runs} run: judged with HEAL_RUNS=3; ${goal}`);
      else judgeTiming(ctx, 'flood-under-2s', floodMs.length === env.runs && median(floodMs) < 2000, goal);
    }
    // The agents' MAPE-K and Raft lines, kept on the host for reading a run afterwards (the guests are gone then).
    const keep = path.join(repoRoot, 'build', 'lab', 'heal-more', 'host');
    mkdirSync(keep, { recursive: true });
    for (const n of all)
      writeFileSync(
        path.join(keep, `node-${n}.mapek.log`),
        `${(await logLines(ctx, n, ' (mapek|raft) ')).join('\n')}\n`,
      );
    const started = (await logLines(ctx, 1, 'mapek started')).at(-1) ?? '';
    const overhead = Number(/probe_bytes_per_s_per_neighbour=(\d+)/.exec(started)?.[1] ?? Number.NaN);
    if (Number.isFinite(overhead))
      ctx.measure('probe_bytes_per_s_per_neighbour', overhead, 'B/s', 'probes and echoes one node sends one neighbour');
    ctx.measure(
      'host_load_avg_1m',
      Math.round(os.loadavg()[0]! * 100) / 100,
      'load',
      `host 1-minute load average at the end, ${os.cpus().length} cores`,
    );
  },
};
