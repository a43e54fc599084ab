// The 1,000-node simulation (Node only: a few seconds of CPU). Seeded and deterministic; a failure prints
// the one command that reproduces it. SIM_SEED=<n> runs one seed; SIM_SEEDS=<k> runs k seeds from SIM_SEED.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeCbor } from '../../src/core/wire/cbor.js';
import { defaultSim, MeshSim, type SimOptions } from './sim.js';

const firstSeed = Number(process.env.SIM_SEED ?? 1);
const seedCount = Number(process.env.SIM_SEEDS ?? 1);

function reproduce(seed: number): string {
  return `SIM_SEED=${seed} SIM_SEEDS=1 node --import tsx node_modules/uvu/bin.js test/crdt 'sim\\.node\\.test\\.ts$'`;
}

function withSeed(seed: number, body: () => void): void {
  try {
    body();
  } catch (error) {
    console.error(`\nsimulation failed with seed ${seed}; reproduce with:\n  ${reproduce(seed)}\n`);
    throw error;
  }
}

function assertIdenticalDocs(sim: MeshSim): void {
  const reference = encodeCbor(sim.nodes[0]!.doc.toWire());
  for (const g of sim.nodes) assert.equal(encodeCbor(g.doc.toWire()), reference, `${g.nodeId} differs from n0`);
}

for (let seed = firstSeed; seed < firstSeed + seedCount; seed++) {
  test(`1,000 nodes converge to identical state after a partition heals (seed ${seed})`, () => {
    withSeed(seed, () => {
      const options: SimOptions = { ...defaultSim, seed, updatesPerSecond: 15, updatesUntilMs: 12_000, partition: { startMs: 3_000, healMs: 9_000 } };
      const sim = new MeshSim(options);
      assert.ok(sim.meanDegree() >= 4 && sim.meanDegree() <= 8, `mean degree ${sim.meanDegree()}`);
      assert.ok(sim.eccentricity() > 3, 'multi-hop');
      sim.start();
      sim.runUntil(options.partition!.healMs - 1);
      assert.not.ok(sim.converged(), 'the partition keeps the halves apart');
      sim.runUntil(options.updatesUntilMs);
      const rounds = sim.runToConvergence(options.updatesUntilMs + 120_000);
      assert.ok(rounds >= 0, 'converged within 120 rounds after the last update');
      assertIdenticalDocs(sim);
      assert.ok(sim.updates > 150, `updates were made (${sim.updates})`);
      assert.is(sim.total('refused:delta-malformed') + sim.total('refused:clock-future'), 0, 'no good delta refused');
    });
  });
}

test('routers at 1970 (before NTP) converge too', () => {
  const seed = firstSeed + 100;
  withSeed(seed, () => {
    const options: SimOptions = { ...defaultSim, seed, nodes: 200, wallStartMs: 0, partition: null, updatesUntilMs: 5_000 };
    const sim = new MeshSim(options);
    sim.start();
    sim.runUntil(options.updatesUntilMs);
    assert.ok(sim.runToConvergence(60_000) >= 0, 'converged');
    assertIdenticalDocs(sim);
  });
});

test.run();
