// Self-healing off and on, in the same run: the failover scenario's ring of 4 (1-2-3-4-1), node 1 pinging node 2
// every 100 ms while the direct link 1-2 is cut, with every router running `x0 agent` from its UCI file. First with
// `config mapek` option enabled '0' (batman-adv alone), then, after the agents restart with enabled '1', again: the
// liveness probe (100 ms × 3) sees the link dead and the agents on both ends take it out of batman-adv
// (`batctl meshif bat0 interface -M del`), which reroutes at once; when the link comes back the probe sees it alive
// and the agents put it back. Outage = the largest gap between ping replies, as in failover.ts.
//
// The cut keeps carrier up on both ends: netem 100 % loss on both NICs of the link inside the guests (a radio link
// that fades keeps its carrier; QMP set_link off would drop it on one end, which this healing does not rely on).
// batman-adv gets a dummy primary interface first (dummy0, the way Gluon's primary0 does it), so taking a mesh link
// out never changes a node's originator address (measured without it: 6.2 s of outage, docs/mapek.md).
// HEAL_CUTS=N (default 1) cuts N times in each mode; the figures in docs/benchmarks.md use 3.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { PrepareEnv, Scenario, ScenarioContext, UplinkService } from '../lib/scenario.js';
import { bestRoute, type Originator, parseOriginators } from '../../src/batman/tables.js';
import { delay } from '../lib/vm.js';
import { judgeTiming } from '../lib/host-cpu.js';

const trustDomain = 'heal.x0';
const port = 7400;
const nodeCount = 4;
const stateDir = '/etc/x0tta6bl4';
export const agentLog = '/var/log/x0/agent.log';
const pingIntervalMs = 100;
/** 100 ms × 5: the TCG guests of a shared 2-core host stall for hundreds of ms (docs/mapek.md, "Lab figures"). */
const detectMultiplier = 5;
export const all = Array.from({ length: nodeCount }, (_, i) => i + 1);
export const nameOf = (n: number): string => `node-${n}`;

function cutsWanted(): number {
  const n = Number(process.env.HEAL_CUTS ?? '1');
  if (!Number.isInteger(n) || n < 1 || n > 10) throw new Error(`HEAL_CUTS=${process.env.HEAL_CUTS}: 1..10`);
  return n;
}

export interface HealUciOptions {
  /** The anchors (Raft voters); default node 1 alone. */
  readonly anchors?: readonly number[];
  /** XDP on the two mesh NICs (eth1, eth2): counters per source MAC, rate limits (heal-more's flood). */
  readonly xdp?: boolean;
  /** `flood_pps_min` (default: the agent's, 2000/s). */
  readonly floodPpsMin?: number;
}

/** Node 1 is the one anchor (Raft of one) unless told; the others are nodes; everyone gossips over bat0. */
export function healUci(n: number, mapek: boolean, options: HealUciOptions = {}): string {
  const anchors = options.anchors ?? [1];
  return [
    `# ${nameOf(n)}: written by the QEMU lab (qemu/scenarios/heal.ts); every option: docs/config.md`,
    "config agent 'main'",
    `\toption node_name '${nameOf(n)}'`,
    `\toption role '${anchors.includes(n) ? 'anchor' : 'node'}'`,
    `\toption state_dir '${stateDir}'`,
    `\toption trust_domain '${trustDomain}'`,
    "\toption mesh_interface 'bat0'",
    `\toption listen '0.0.0.0:${port}'`,
    ...anchors.map((a) => `\tlist anchor '${nameOf(a)}@10.77.0.${a}:${port}'`),
    ...all
      .filter((p) => !anchors.includes(p) && p !== n)
      .map((p) => `\tlist static_peer '${nameOf(p)}@10.77.0.${p}:${port}'`),
    "\toption log_level 'info'",
    '',
    "config mapek 'mapek'",
    `\toption enabled '${mapek ? 1 : 0}'`,
    "\toption probe_interval '100ms'",
    `\toption detect_multiplier '${detectMultiplier}'`,
    ...(options.floodPpsMin === undefined ? [] : [`\toption flood_pps_min '${options.floodPpsMin}'`]),
    '',
    ...(options.xdp === true
      ? ["config xdp 'xdp'", "\toption enabled '1'", "\tlist interface 'eth1'", "\tlist interface 'eth2'", '']
      : []),
  ].join('\n');
}

let hostDir: string | null = null;

function x0(root: string, args: readonly string[]): string {
  const runtime = path.join(root, 'build', 'x0-runtime');
  const bundle = path.join(root, 'dist', 'x0tta6bl4.js');
  if (!existsSync(runtime) || !existsSync(bundle))
    throw new Error(`${runtime} or ${bundle} is missing: run bash scripts/setup.sh (or npm run build)`);
  const r = spawnSync(runtime, [bundle, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0)
    throw new Error(`x0 ${args.slice(0, 2).join(' ')} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout.trim();
}

export async function prepare(env: PrepareEnv): Promise<UplinkService> {
  const dir = path.join(env.dir, 'host');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const ca = path.join(dir, 'ca');
  x0(env.root, ['ca', 'init', '--trust-domain', trustDomain, '--dir', ca]);
  for (const n of all) {
    const state = path.join(dir, nameOf(n), 'state');
    const token = x0(env.root, ['ca', 'issue-token', '--node', nameOf(n), '--dir', ca]);
    x0(env.root, ['cert', 'request', '--token', token, '--dir', state]);
    x0(env.root, [
      'ca',
      'sign',
      '--request',
      path.join(state, 'join-request.cbor'),
      '--out',
      path.join(state, 'node.chain'),
      '--bundle-out',
      path.join(state, 'bundle.cbor'),
      '--dir',
      ca,
    ]);
  }
  hostDir = dir;
  env.log(`mesh CA ${trustDomain} and ${nodeCount} identities in ${dir}`);
  // The uplink is not used (no uplink section): a listener that closes what connects.
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : 0, close: () => void server.close() };
}

/** A shell snippet printing the interface that has this MAC. */
const ifaceByMac = (mac: string): string =>
  `$(for d in /sys/class/net/*; do [ "$(cat $d/address)" = "${mac}" ] && basename $d; done | head -1)`;

export async function writeAgents(ctx: ScenarioContext, mapek: boolean, options: HealUciOptions = {}): Promise<void> {
  const dir = hostDir as string;
  await Promise.all(
    all.map(async (n) => {
      const vm = ctx.lab.vm(n);
      for (const [file, mode] of [
        ['node.key', '600'],
        ['node.chain', '644'],
        ['bundle.cbor', '644'],
      ] as const)
        await vm.putFile(`${stateDir}/${file}`, readFileSync(path.join(dir, nameOf(n), 'state', file)), mode);
      await vm.putFile('/etc/config/x0tta6bl4', Buffer.from(healUci(n, mapek, options)));
      // The packaged image (X0_LAB_INSTALL=opkg) runs the agent under procd through its init script; the files
      // image under busybox init (qemu/guest/x0-lab-service), which starts it again when it is killed.
      const packaged = (await ctx.lab.exec(n, '[ -f /usr/lib/opkg/info/x0tta6bl4.list ]')).rc === 0;
      const start = packaged
        ? `chmod 700 ${stateDir} && /etc/init.d/x0tta6bl4 restart`
        : `chmod 700 ${stateDir}; mkdir -p /etc/x0-lab; touch /etc/x0-lab/agent.enabled; kill $(pidof x0-runtime) 2>/dev/null; true`;
      const r = await ctx.lab.exec(n, start, 30_000);
      if (r.rc !== 0) throw new Error(`node ${n}: starting the agent (${start}) failed: ${r.out.trim()}`);
    }),
  );
}

export async function readyCount(ctx: ScenarioContext, n: number): Promise<number> {
  const r = await ctx.lab.exec(n, `grep -c ' agent ready ' ${agentLog} 2>/dev/null; true`);
  return Number(r.out.trim()) || 0;
}

/** Node `from`'s best route to an originator (here every node's originator is its dummy primary's MAC), or null. */
async function routeTo(ctx: ScenarioContext, from: number, origin: string): Promise<Originator | null> {
  return bestRoute(await ctx.lab.originators(from), origin);
}

async function replySeqs(ctx: ScenarioContext, file: string): Promise<number[]> {
  const r = await ctx.lab.exec(1, `cat ${file}`);
  return [...r.out.matchAll(/seq=(\d+) ttl=/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
}

/** The largest gap between consecutive replies from seq `from` on (more than 2 intervals), in ms. */
function largestGapMs(seqs: readonly number[], from: number, to = Number.POSITIVE_INFINITY): number | null {
  let best: number | null = null;
  for (let i = 1; i < seqs.length; i++) {
    const a = seqs[i - 1]!;
    const b = seqs[i]!;
    if (a < from || a > to) continue;
    const gap = (b - a) * pingIntervalMs;
    if (gap > 2 * pingIntervalMs && (best === null || gap > best)) best = gap;
  }
  return best;
}

/** One cut of link 1-2 (netem 100 % loss both ends, carrier up) under ping; the outage; the restore. */
async function cutOnce(
  ctx: ScenarioContext,
  mode: 'off' | 'on',
  i: number,
  origins: readonly string[],
): Promise<number | null> {
  const { lab } = ctx;
  const origin2 = origins[1]!;
  const direct = lab.macOn(2, 1);
  const label = `${mode}-${i}`;
  const back = await lab
    .waitFor(
      `node 1 to route to node 2 directly (${label})`,
      async () => (await routeTo(ctx, 1, origin2))?.nextHop === direct || null,
      150_000,
    )
    .catch(() => null);
  if (
    !ctx.check(
      `direct-route-${label}`,
      back !== null,
      back === null ? 'no direct route within 150 s' : `next hop ${direct}`,
    )
  )
    return null;
  const file = `/tmp/heal-${label}.ping`;
  await lab.exec(1, `ping -i ${pingIntervalMs / 1000} 10.77.0.2 > ${file} 2>&1 & echo $! > ${file}.pid`);
  await lab.waitFor('replies', async () => (await replySeqs(ctx, file)).length >= 20 || null, 20_000);
  const linesBefore = await Promise.all([1, 2].map(async (n) => (await logLines(ctx, n, ' mapek ')).length));
  const seqAtCut = (await replySeqs(ctx, file)).at(-1) ?? 0;
  const cutAt = Date.now();
  await lab.impair(1, 2, { delayMs: 0, lossPercent: 100 });
  const resumed = await lab
    .waitFor(
      `replies after the cut (${label})`,
      async () =>
        (largestGapMs(await replySeqs(ctx, file), seqAtCut) !== null &&
          (await replySeqs(ctx, file)).at(-1)! > seqAtCut + 10) ||
        null,
      60_000,
    )
    .catch(() => null);
  // Off, rerouting is batman-adv's own business: when it does not reroute within the wait, that is the baseline
  // being measured (an outage of at least 60 s), not a failure of the agent.
  if (mode === 'off' && resumed === null) {
    // What batman-adv holds at the end of the wait: each end's route to the other's primary (docs/mapek.md, "Why
    // batman-adv alone did not reroute").
    const held = await Promise.all(
      [
        [1, 2],
        [2, 1],
      ].map(async ([from, to]) => {
        const o = await routeTo(ctx, from!, origins[to! - 1]!);
        return `node ${from} -> ${to}: ${o === null ? 'no route' : `via ${o.nextHop} ${o.outgoingIf} tq ${o.tq} last seen ${o.lastSeenMs} ms`}`;
      }),
    );
    // And which originators node 1's translation table names for node 2's bat0 MAC (the ping's destination): a
    // client is sent to the originator of the best route among those that announce it.
    const bat0 = (await lab.exec(2, 'cat /sys/class/net/bat0/address')).out.trim();
    const tg = await lab.exec(1, `batctl meshif bat0 transglobal -H | grep -i '${bat0}'`);
    const via = tg.out
      .split('\n')
      .map((l) => l.replace(/\s+/g, ' ').trim())
      .filter((l) => l !== '')
      .join(' | ');
    ctx.skip(
      `traffic-resumed-${label}`,
      `batman-adv alone did not reroute within 60 s of the cut (outage >= 60 s); ${held.join('; ')}; node 1's translation table for node 2's bat0 ${bat0}: ${via || 'none'}`,
    );
  } else
    ctx.check(
      `traffic-resumed-${label}`,
      resumed !== null,
      resumed === null
        ? 'no replies within 60 s of the cut'
        : `replies again ${Date.now() - cutAt} ms after the cut (seen by the host)`,
    );
  await delay(3000);
  const seqAtRestore = (await replySeqs(ctx, file)).at(-1) ?? 0;
  await lab.clearImpairment(1, 2);
  await delay(4000);
  await lab.exec(1, `kill $(cat ${file}.pid)`);
  const seqs = await replySeqs(ctx, file);
  const outage = largestGapMs(seqs, seqAtCut, seqAtRestore);
  const restoreGap = largestGapMs(seqs, seqAtRestore);
  // Off, the restore is batman-adv's own business (measured); on, it is our link-up: it must not cost an outage.
  if (mode === 'off')
    ctx.measure(
      `restore_gap_${label}`,
      restoreGap ?? 0,
      'ms',
      'largest reply gap after the link came back (batman-adv alone)',
    );
  else
    judgeTiming(
      ctx,
      `no-outage-on-restore-${label}`,
      restoreGap === null || restoreGap <= 2000,
      `reply gap after the restore (the agents put the link back): ${restoreGap ?? 0} ms`,
      cutsWanted() < 3 ? `${cutsWanted()} cut: judged with HEAL_CUTS=3` : undefined,
    );
  if (mode === 'on') await timeline(ctx, label, linesBefore);
  if (outage !== null)
    ctx.measure(
      `outage_${label}`,
      outage,
      'ms',
      `self-healing ${mode}: largest gap between replies, ping every ${pingIntervalMs} ms 1 -> 2, cut ${i}`,
    );
  return outage;
}

/** The agent's own timestamp of a log line (files image: at its start; packaged: after syslog's prefix). */
export const timeOf = (line: string): number => Date.parse(/\d{4}-\d\d-\d\dT[\d:.]+Z/.exec(line)?.[0] ?? '');

/**
 * Where the time went on nodes 1 and 2, from their own logs (each on its own clock, so host polling does not
 * blur it): the probe's verdict (time since the last echo when it called the neighbour down) and the time from
 * that verdict to the executed link-down.
 */
async function timeline(ctx: ScenarioContext, label: string, linesBefore: readonly number[]): Promise<void> {
  for (const [i, n] of [1, 2].entries()) {
    const peer = n === 1 ? 2 : 1;
    const lines = (await logLines(ctx, n, ' mapek ')).slice(linesBefore[i]);
    const down = lines.find((l) => l.includes(' neighbour-down ') && l.includes(`neighbour=${ctx.lab.macOn(peer, n)}`));
    const done = lines.find((l) => / executed trace_id=\S+ action=link-down .*ok=true/.test(l));
    const at = (l: string | undefined): number => timeOf(l ?? '');
    const since = Number(/since_reply_ms=(\d+)/.exec(down ?? '')?.[1] ?? Number.NaN);
    if (Number.isFinite(since))
      ctx.measure(
        `detect_${label}_node${n}`,
        since,
        'ms',
        `node ${n}: no echo for this long when the probe called the link dead (${/detect_ms=(\d+)/.exec(down ?? '')?.[1]} ms wait then, RTT-adaptive)`,
      );
    if (Number.isFinite(at(done) - at(down)))
      ctx.measure(
        `act_${label}_node${n}`,
        at(done) - at(down),
        'ms',
        `node ${n}: probe verdict -> link-down executed and checked`,
      );
  }
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function logLines(ctx: ScenarioContext, n: number, pattern: string): Promise<string[]> {
  const r = await ctx.lab.exec(n, `grep -E '${pattern}' ${agentLog} 2>/dev/null; true`);
  return r.out.split('\n').filter((l) => l.trim() !== '');
}

/**
 * batman-adv's primary interface becomes dummy0 on every node (out and back in with every mesh NIC: -M keeps bat0),
 * then waits until every node sees every other by its dummy0 MAC. The originator MACs by node (index n - 1), or
 * null after a failed check.
 */
export async function dummyPrimary(ctx: ScenarioContext): Promise<string[] | null> {
  const { lab } = ctx;
  const primaries = await Promise.all(
    all.map(async (n) => {
      const ifs = lab.links
        .filter((l) => l.edge.includes(n))
        .map((l) => ifaceByMac(l.edge[0] === n ? l.nicA.mac : l.nicB.mac));
      const r = await lab.exec(
        n,
        `set -e; ip link set dummy0 up; batctl meshif bat0 interface add dummy0; for i in ${ifs.join(' ')}; do batctl meshif bat0 interface -M del $i; done; for i in ${ifs.join(' ')}; do batctl meshif bat0 interface add $i; done; batctl meshif bat0 originators | head -1`,
      );
      return {
        n,
        ok: r.rc === 0 && /MainIF\/MAC: dummy0\//.test(r.out),
        mac: /MainIF\/MAC: dummy0\/([0-9a-f:]{17})/.exec(r.out)?.[1] ?? '',
        out: r.out.trim(),
      };
    }),
  );
  if (
    !ctx.check(
      'dummy-primary',
      primaries.every((p) => p.ok),
      primaries.map((p) => `node ${p.n}: ${p.out.slice(0, 90)}`).join('; '),
    )
  )
    return null;
  // The old originators (the eth MACs) linger until batman-adv purges them: wait for the new ones.
  const converged = await lab
    .waitFor(
      'every node to see every other by its dummy primary',
      async () => {
        const seen = await Promise.all(
          all.map(async (n) => {
            const best = new Set(
              parseOriginators((await lab.exec(n, 'batctl meshif bat0 originators -H')).out)
                .filter((o) => o.best)
                .map((o) => o.originator),
            );
            return primaries.every((p) => p.n === n || best.has(p.mac));
          }),
        );
        return seen.every(Boolean) || null;
      },
      120_000,
    )
    .catch(() => null);
  if (!ctx.check('originators', converged !== null, 'every node sees the 3 others (by their dummy primaries)'))
    return null;

  return primaries.map((p) => p.mac);
}

export const heal: Scenario = {
  name: 'heal',
  summary: 'ring of 4 with agents: cut link 1-2 (carrier up) under ping with self-healing off, then on; outage of each',
  nodes: nodeCount,
  topology: 'ring',
  edges: [
    [1, 2],
    [2, 3],
    [3, 4],
    [1, 4],
  ],
  prepare,
  async run(ctx) {
    const { lab } = ctx;
    const cuts = cutsWanted();
    // 1. batman-adv's primary interface becomes dummy0 (every node's originator is its dummy0 MAC).
    const origins = await dummyPrimary(ctx);
    if (origins === null) return;

    // 2. Agents with self-healing off.
    await writeAgents(ctx, false);
    const readyOff = await lab
      .waitFor(
        'agents ready (mapek off)',
        async () => (await Promise.all(all.map((n) => readyCount(ctx, n)))).every((c) => c >= 1) || null,
        120_000,
      )
      .catch(() => null);
    if (!ctx.check('agents-ready-off', readyOff !== null, 'every agent logged "agent ready" (mapek disabled)')) return;
    const disabled = await logLines(ctx, 1, 'mapek disabled');
    ctx.check('mapek-disabled', disabled.length > 0, disabled[0] ?? 'node 1 did not log mapek disabled');
    const off: number[] = [];
    for (let i = 1; i <= cuts; i++) {
      const o = await cutOnce(ctx, 'off', i, origins);
      if (o !== null) off.push(o);
    }

    // 3. Agents restarted with self-healing on; the probe of link 1-2 up on both ends.
    await writeAgents(ctx, true);
    const readyOn = await lab
      .waitFor(
        'agents ready (mapek on)',
        async () => (await Promise.all(all.map((n) => readyCount(ctx, n)))).every((c) => c >= 2) || null,
        120_000,
      )
      .catch(() => null);
    if (
      !ctx.check('agents-ready-on', readyOn !== null, 'every agent restarted and logged "agent ready" (mapek enabled)')
    )
      return;
    const probesUp = await lab
      .waitFor(
        'the probe of link 1-2 up on nodes 1 and 2',
        async () => {
          const a = await logLines(ctx, 1, `mapek neighbour-up .*neighbour=${lab.macOn(2, 1)}`);
          const b = await logLines(ctx, 2, `mapek neighbour-up .*neighbour=${lab.macOn(1, 2)}`);
          return (a.length > 0 && b.length > 0) || null;
        },
        60_000,
      )
      .catch(() => null);
    if (
      !ctx.check(
        'probe-up',
        probesUp !== null,
        'both ends of link 1-2 see each other alive over fe80::…%iface (sealed probe)',
      )
    )
      return;
    // The agents' start (handshakes on emulated CPUs) may make the probe flap and the agents act: wait until they
    // are quiet (nothing decided for 20 s, every link back under bat0), and count what they did meanwhile.
    const quiet0 = Date.now();
    let early = 0;
    await lab
      .waitFor(
        'the agents to be quiet before the cut',
        async () => {
          const decided = (await Promise.all(all.map((n) => logLines(ctx, n, 'mapek decided trace_id')))).flat();
          early = decided.length;
          const last = decided
            .map(timeOf)
            .filter(Number.isFinite)
            .sort((a, b) => a - b)
            .at(-1);
          const out = await Promise.all(all.map((n) => lab.exec(n, 'ls /sys/class/net/bat0 | grep -c "^lower_eth"')));
          const allIn = out.every((r) => Number(r.out.trim()) === 2);
          const guestNow = Date.parse((await lab.exec(1, 'date -u +%Y-%m-%dT%H:%M:%SZ')).out.trim());
          return (allIn && (last === undefined || guestNow - last > 20_000)) || null;
        },
        120_000,
      )
      .catch(() => null);
    ctx.measure(
      'actions_before_cut',
      early,
      'decisions',
      `decided by the 4 agents between their start with mapek on and the first cut (${Math.round((Date.now() - quiet0) / 1000)} s waiting for quiet); on a calm host 0`,
    );
    const decidedAtQuiet = await Promise.all(
      [3, 4].map(async (n) => (await logLines(ctx, n, 'mapek decided trace_id')).length),
    );
    const on: number[] = [];
    for (let i = 1; i <= cuts; i++) {
      const o = await cutOnce(ctx, 'on', i, origins);
      if (o !== null) on.push(o);
    }

    // 4. What the agents did, with trace ids (ubus events), and the figures; every mapek line kept on the host.
    for (const n of all)
      writeFileSync(
        path.join(hostDir as string, `node-${n}.mapek.log`),
        `${(await logLines(ctx, n, ' mapek ')).join('\n')}\n`,
      );
    for (const n of [1, 2]) {
      const decided = await logLines(ctx, n, 'mapek decided .*action=link-down');
      const executed = await logLines(ctx, n, 'mapek executed .*action=link-down .*ok=true');
      const upAgain = await logLines(ctx, n, 'mapek executed .*action=link-up .*ok=true');
      ctx.check(
        `link-down-node-${n}`,
        executed.length >= 1,
        `${decided.length} link-down decided, ${executed.length} executed ok: ${(executed[0] ?? decided[0] ?? 'none').replace(/^\S+ /, '').slice(0, 300)}`,
      );
      ctx.check(
        `link-up-node-${n}`,
        upAgain.length >= 1,
        `${upAgain.length} link-up executed ok: ${(upAgain[0] ?? 'none').replace(/^\S+ /, '').slice(0, 200)}`,
      );
      const events = await lab.exec(n, `ubus -t 20 call x0tta6bl4 events '{"limit":256}'`, 30_000);
      const traced = (events.out.match(/"trace_id":\s*"[0-9a-f]{32}"/g) ?? []).length;
      ctx.check(
        `trace-ids-node-${n}`,
        traced > 0,
        `ubus call x0tta6bl4 events on node ${n} (rc ${events.rc}): ${traced} events carry a trace id${traced === 0 ? `: ${events.out.trim().slice(0, 200)}` : ''}`,
      );
    }
    const quiet = await Promise.all(
      [3, 4].map(async (n, i) => (await logLines(ctx, n, 'mapek decided trace_id')).length - decidedAtQuiet[i]!),
    );
    judgeTiming(
      ctx,
      'no-actions-elsewhere',
      quiet.every((q) => q === 0),
      `during the cuts nodes 3 and 4 decided ${quiet.join(' and ')} actions (their links were never cut)`,
      cuts < 3 ? `${cuts} cut: judged with HEAL_CUTS=3` : undefined,
    );
    const started = (await logLines(ctx, 1, 'mapek started'))[0] ?? '';
    const overhead = Number(/probe_bytes_per_s_per_neighbour=(\d+)/.exec(started)?.[1] ?? Number.NaN);
    if (Number.isFinite(overhead))
      ctx.measure(
        'probe_bytes_per_s_per_neighbour',
        overhead,
        'B/s',
        'sent by one node to one neighbour: its probes and its echoes, 99 B each on the wire, every 100 ms',
      );
    if (off.length > 0)
      ctx.measure('outage_off_median', median(off), 'ms', `self-healing off, ${off.length} cuts: ${off.join(', ')} ms`);
    if (on.length > 0)
      ctx.measure('outage_on_median', median(on), 'ms', `self-healing on, ${on.length} cuts: ${on.join(', ')} ms`);
    const goal = `median outage with self-healing on: ${on.length ? median(on) : '-'} ms (goal < 2000); off: ${off.length ? median(off) : '-'} ms`;
    // A speed goal is judged on a median over several cuts (the benchmark run), not on CI's single cut.
    if (cuts < 3)
      ctx.skip('heal-under-2s', `${cuts} cut per mode: judged with HEAL_CUTS=3 (npm run lab -- test heal); ${goal}`);
    else judgeTiming(ctx, 'heal-under-2s', on.length === cuts && median(on) < 2000, goal);
    ctx.measure(
      'host_load_avg_1m',
      Math.round(os.loadavg()[0]! * 100) / 100,
      'load',
      `host 1-minute load average at the end, ${os.cpus().length} cores`,
    );
  },
};
