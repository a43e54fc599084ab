// CRDT gossip benchmark on the 1,000-node simulation (not a test): rounds and wall time to converge after a
// single update and after a partition heals, bytes per node per round, memory per node, and delta gossip
// against naive full-state gossip on the same converged documents.
// Run: node --expose-gc --import tsx bench/crdt.bench.ts [seed]
import { Gossip } from '../src/core/crdt/gossip.js';
import { limits } from '../src/core/crdt/limits.js';
import { setNeighbour, setStatus } from '../src/core/crdt/local.js';
import { defaultSim, MeshSim, type SimOptions } from '../test/crdt/sim.js';

const seed = Number(process.argv[2] ?? 1);
const N = 1000;
const roundMs = defaultSim.tickMs * limits.roundTicks;
const gc = (globalThis as { gc?: () => void }).gc;

function heapMb(): number {
  gc?.();
  return process.memoryUsage().heapUsed / 1e6;
}

/** Every node publishes its status and its links: the document a settled mesh carries (N sections). */
function populate(sim: MeshSim): void {
  sim.nodes.forEach((g, i) => {
    setStatus(g, { online: true, uptimeS: 100, loadMilli: 250 }, sim.wallMs());
    for (const j of (sim.adjacency[i] as number[]).slice(0, 4)) setNeighbour(g, `n${j}`, { tq: 200, rttMs: 5 }, sim.wallMs());
  });
}

function measureWindow(sim: MeshSim, rounds: number): { bytesPerNodeRound: number; datagramsPerNodeRound: number } {
  const bytes0 = sim.bytesSent;
  const dgrams0 = sim.datagramsSent;
  sim.runUntil(sim.nowMs + rounds * roundMs);
  return { bytesPerNodeRound: (sim.bytesSent - bytes0) / (N * rounds), datagramsPerNodeRound: (sim.datagramsSent - dgrams0) / (N * rounds) };
}

const rows: string[][] = [];
const row = (...cells: Array<string | number>) => rows.push(cells.map(String));

const heapBefore = heapMb();
const options: SimOptions = { ...defaultSim, seed, nodes: N, updatesPerSecond: 0, partition: null };
const sim = new MeshSim(options);
sim.start();
populate(sim);
let t = performance.now();
const initialRounds = sim.runToConvergence(600_000);
row('initial sync of N sections (N x ~5 deltas)', `${initialRounds} rounds`, `${((performance.now() - t) / 1000).toFixed(1)} s wall`);
const sections = sim.nodes[0]!.doc.sections.size;
const heapPerNodeKb = ((heapMb() - heapBefore) * 1000) / N;

// Steady state: nothing changes; delta gossip sends digests only.
sim.runUntil(sim.nowMs + 10 * roundMs);
const steadyDelta = measureWindow(sim, 10);

// A single update at n0.
const writer = sim.nodes[0]!;
setStatus(writer, { online: true, uptimeS: 101, loadMilli: 999 }, sim.wallMs());
t = performance.now();
const singleRounds = sim.runToConvergence(sim.nowMs + 600_000, () => sim.nodes.every((g) => g.vv.max(writer.stream) === writer.seq));
const singleWall = (performance.now() - t) / 1000;
row('single update reaches all N nodes', `${singleRounds} rounds`, `${singleWall.toFixed(2)} s wall`, `eccentricity of n0: ${sim.eccentricity()} hops, log2 N = ${Math.log2(N).toFixed(1)}`);
sim.runToConvergence(sim.nowMs + 600_000);

// Partition: west and east halves apart for 20 rounds with 20 updates/s; then heal.
const partitionStart = sim.nowMs;
const partitioned = new MeshSim({ ...options, updatesPerSecond: 0 });
void partitioned;
(sim as unknown as { partitioned: boolean }).partitioned = true;
for (let k = 0; k < 400; k++) {
  sim.writeAt(sim.rng.int(N));
  sim.runUntil(sim.nowMs + 50);
}
(sim as unknown as { partitioned: boolean }).partitioned = false;
t = performance.now();
const bytesAtHeal = sim.bytesSent;
const healRounds = sim.runToConvergence(sim.nowMs + 600_000);
const healWall = (performance.now() - t) / 1000;
row('partition heals (400 updates over 20 rounds apart)', `${healRounds} rounds`, `${healWall.toFixed(2)} s wall`, `${((sim.bytesSent - bytesAtHeal) / (N * Math.max(1, healRounds))).toFixed(0)} B/node/round while healing`);
void partitionStart;

// Naive full-state gossip on the same converged documents, same topology and fanout.
const full = sim.nodes.map((g, i) => {
  const f = new Gossip({ nodeId: g.nodeId, incarnation: 1, doc: g.doc, membership: () => 'member', random: () => sim.rng.nextUint32(), mode: 'full' });
  f.setPeers((sim.adjacency[i] as number[]).map((j) => `n${j}`));
  return f;
});
let fullBytes = 0;
let fullDatagrams = 0;
const fullRounds = 2;
t = performance.now();
for (let r = 0; r < fullRounds; r++) {
  for (const f of full) {
    for (let k = 0; k < limits.roundTicks; k++) {
      for (const m of f.tick(sim.wallMs())) {
        fullBytes += m.bytes.length;
        fullDatagrams += 1;
        full[Number(m.to.slice(1))]!.receive(m.bytes, sim.wallMs());
      }
    }
  }
}
const fullWall = (performance.now() - t) / 1000;
const steadyFull = fullBytes / (N * fullRounds);

console.log(`crdt gossip benchmark: ${N} nodes, mean degree ${sim.meanDegree().toFixed(2)}, ${sections} sections, seed ${seed}, loss ${options.lossRate}, dup ${options.duplicateRate}, fanout ${limits.gossipFanout}, push fanout ${limits.pushFanout}, round = ${limits.roundTicks} ticks of ${options.tickMs} ms`);
for (const r of rows) console.log('  ' + r.join(' | '));
console.log(`  steady state, delta gossip: ${steadyDelta.bytesPerNodeRound.toFixed(1)} B/node/round (${steadyDelta.datagramsPerNodeRound.toFixed(2)} datagrams)`);
console.log(`  steady state, full-state gossip: ${steadyFull.toFixed(0)} B/node/round (${(fullDatagrams / (N * fullRounds)).toFixed(1)} datagrams; ${fullWall.toFixed(1)} s wall for ${fullRounds} rounds)`);
console.log(`  ratio full/delta at steady state: ${(steadyFull / steadyDelta.bytesPerNodeRound).toFixed(0)}x`);
console.log(`  heap per node (document of ${sections} sections + gossip state, simulation overhead included): ${heapPerNodeKb.toFixed(1)} KB${gc === undefined ? ' (run with --expose-gc for a stable figure)' : ''}`);
