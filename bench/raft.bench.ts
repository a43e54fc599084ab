// Raft benchmark (not a test): three `x0 raft serve` voters on loopback UDP, on Node and on x0-runtime.
//   - committed writes/s and p50/p99 commit latency (puts from concurrent clients, each waiting for its answer)
//   - bytes written to flash per committed entry, and entries per fsync (batching)
//   - time to a new leader after SIGKILL of the leader, with the default (wireless mesh) timeouts
//   - simulator throughput: simulated node-seconds per wall second
// Usage: node --import tsx bench/raft.bench.ts [--quick]
import { existsSync } from 'node:fs';
import { inRuntime } from './lib/in-runtime.js';
import { raftMicroSuite } from './lib/raft-micro.js';
import type { Measurement } from './lib/measure.js';
import { bundlePath, runtimePath } from '../test/lib/processes.js';
import { ProcCluster, type Engine } from '../test/raft/procs.js';
import { runSim, simDefaults } from '../test/sim/cluster.js';
import { mixNames } from '../test/sim/faults.js';
import type { RaftClient } from '../src/raft/client.js';
import { writeLoad, type WriteFigures } from '../src/raft/load.js';

const quick = process.argv.includes('--quick');
const writes = quick ? 1000 : 5000;
const elections = quick ? 2 : 5;

async function load(cluster: ProcCluster, clients: number, count: number): Promise<WriteFigures> {
  const conns: RaftClient[] = await Promise.all(Array.from({ length: clients }, () => cluster.client()));
  const figures = await writeLoad(conns, count, 64, () => performance.now());
  for (const c of conns) c.close();
  return figures;
}

async function electionAfterKill(cluster: ProcCluster, client: RaftClient): Promise<number> {
  const leader = await cluster.waitForLeader(client, 20_000);
  const victim = cluster.nodes[leader.id - 1]!;
  const killedAt = performance.now();
  await cluster.kill(victim);
  const next = await cluster.waitForLeader(client, 20_000, [leader.id]);
  const ms = performance.now() - killedAt;
  if (next.id === leader.id) throw new Error('the dead leader is still leading');
  cluster.launch(victim);
  await cluster.waitForApplied(client, victim.id, next.commit, 20_000);
  return ms;
}

interface EngineFigures {
  readonly engine: Engine;
  readonly loads: WriteFigures[];
  readonly bytesPerEntryLeader: number;
  readonly bytesPerEntryFollower: number;
  readonly entriesPerFsync: number;
  readonly electionMs: number[];
}

async function measureEngine(engine: Engine): Promise<EngineFigures> {
  const cluster = new ProcCluster(engine, 3);
  await cluster.start();
  const client = await cluster.client();
  try {
    const leader = await cluster.waitForLeader(client, 20_000);
    const before = await Promise.all(cluster.nodes.map((n) => cluster.status(client, n.id)));
    const loads = [await load(cluster, 16, writes / 2), await load(cluster, 128, writes)];
    const after = await Promise.all(cluster.nodes.map((n) => cluster.status(client, n.id)));
    const entries = (after[leader.id - 1]?.commit ?? 0) - (before[leader.id - 1]?.commit ?? 0);
    const perEntry = (i: number): number => ((after[i]?.bytesWritten ?? 0) - (before[i]?.bytesWritten ?? 0)) / entries;
    const follower = cluster.nodes.findIndex((n) => n.id !== leader.id);
    const fsyncs = (after[follower]?.appends ?? 0) - (before[follower]?.appends ?? 0);
    const electionMs: number[] = [];
    for (let i = 0; i < elections; i++) electionMs.push(await electionAfterKill(cluster, client));
    return {
      engine,
      loads,
      bytesPerEntryLeader: perEntry(leader.id - 1),
      bytesPerEntryFollower: perEntry(follower),
      entriesPerFsync: entries / fsyncs,
      electionMs,
    };
  } finally {
    client.close();
    await cluster.stop();
  }
}

function simulatorThroughput(): { nodeSecondsPerSecond: number; seeds: number } {
  const seeds = quick ? 8 : 40;
  let nodeMs = 0;
  const started = performance.now();
  for (let seed = 1; seed <= seeds; seed++) {
    const report = runSim({ ...simDefaults, seed, mix: mixNames[seed % mixNames.length] as string });
    nodeMs += report.simulatedMs * simDefaults.nodes;
  }
  return { nodeSecondsPerSecond: nodeMs / (performance.now() - started), seeds };
}

/** Per-write CPU costs on QuickJS-ng (bundled, run in x0-runtime) and on Node: where a commit's time goes. */
async function microCosts(): Promise<{ node: Measurement[]; qjs: Measurement[] | null }> {
  const node = raftMicroSuite(() => performance.now(), 300);
  if (!existsSync(runtimePath)) return { node, qjs: null };
  return { node, qjs: await inRuntime<Measurement[]>('raft', { X0_BENCH_BUDGET_MS: '300' }, 120_000) };
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const engines: Engine[] = existsSync(runtimePath) && existsSync(bundlePath) ? ['node', 'qjs'] : ['node'];
  const figures: EngineFigures[] = [];
  for (const engine of engines) figures.push(await measureEngine(engine));
  const sim = simulatorThroughput();
  const micro = await microCosts();
  const rows: string[] = [];
  rows.push('| engine | clients | commits/s | p50 ms | p99 ms | failed |');
  rows.push('|---|---:|---:|---:|---:|---:|');
  for (const f of figures)
    for (const l of f.loads)
      rows.push(
        `| ${f.engine} | ${l.clients} | ${fmt(l.commitsPerSec)} | ${fmt(l.p50Ms, 1)} | ${fmt(l.p99Ms, 1)} | ${l.failed} |`,
      );
  rows.push('');
  rows.push(
    '| engine | bytes/entry leader | bytes/entry follower | entries/fsync | new leader after kill: min / median / max ms |',
  );
  rows.push('|---|---:|---:|---:|---|');
  for (const f of figures)
    rows.push(
      `| ${f.engine} | ${fmt(f.bytesPerEntryLeader)} | ${fmt(f.bytesPerEntryFollower)} | ${fmt(f.entriesPerFsync, 1)} | ${fmt(Math.min(...f.electionMs))} / ${fmt(median(f.electionMs))} / ${fmt(Math.max(...f.electionMs))} |`,
    );
  const node = figures.find((f) => f.engine === 'node');
  const qjs = figures.find((f) => f.engine === 'qjs');
  if (node && qjs) {
    rows.push('');
    rows.push(
      `x0-runtime / Node commits/s: ${qjs.loads.map((l, i) => `${l.clients} clients ${fmt(l.commitsPerSec / (node.loads[i]?.commitsPerSec ?? NaN), 2)}x`).join(', ')}`,
    );
  }
  rows.push('');
  rows.push('| per-write CPU cost (leader side) | x0-runtime µs | Node µs | ratio |');
  rows.push('|---|---:|---:|---:|');
  micro.node.forEach((n, i) => {
    const q = micro.qjs?.[i];
    const us = (m: Measurement | undefined): number => (m === undefined ? NaN : 1e6 / m.opsPerSec);
    rows.push(`| ${n.name} | ${fmt(us(q), 1)} | ${fmt(us(n), 1)} | ${fmt(us(q) / us(n), 1)}x |`);
  });
  rows.push('');
  rows.push(
    `simulator: ${fmt(sim.nodeSecondsPerSecond)} simulated node-seconds per wall second (Node, ${sim.seeds} seeds, ${simDefaults.nodes} nodes, all fault mixes)`,
  );
  rows.push(
    `goals: >= 2000 commits/s on x0-runtime (128 clients: ${qjs ? fmt(qjs.loads[1]?.commitsPerSec ?? NaN) : 'not run'}), new leader within 2000 ms (worst: ${fmt(Math.max(...figures.flatMap((f) => f.electionMs)))})`,
  );
  process.stdout.write(`${rows.join('\n')}\n`);
}

await main();
