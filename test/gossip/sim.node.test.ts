// The 1,000-node simulation (Node only: seconds of CPU). Seeded and deterministic; a failure prints the one
// command that reproduces it. SIM_SEED=<n> runs one seed; SIM_SEEDS=<k> runs k seeds from SIM_SEED.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeCbor } from '../../src/core/wire/cbor.js';
import { revocationDoc } from './kinds.js';
import { defaultSim, MeshSim, type SimOptions } from './sim.js';

const firstSeed = Number(process.env.SIM_SEED ?? 1);
const seedCount = Number(process.env.SIM_SEEDS ?? 1);

function reproduce(seed: number, name: string): string {
  return `SIM_SEED=${seed} SIM_SEEDS=1 node --import tsx node_modules/uvu/bin.js test/gossip 'sim\\.node\\.test\\.ts$'   # test: ${name}`;
}

function withSeed(seed: number, name: string, body: () => void): void {
  try {
    body();
  } catch (error) {
    console.error(`\nsimulation failed with seed ${seed}; reproduce with:\n  ${reproduce(seed, name)}\n`);
    throw error;
  }
}

function assertIdenticalDocs(sim: MeshSim): void {
  const [first, ...rest] = sim.members();
  const reference = encodeCbor(first!.doc.toWire());
  for (const g of rest)
    assert.equal(encodeCbor(g.doc.toWire()), reference, `${g.nodeId} differs from ${first!.nodeId}`);
}

for (let seed = firstSeed; seed < firstSeed + seedCount; seed++) {
  const name = `1,000 nodes converge to identical state after a partition heals (seed ${seed})`;
  test(name, () => {
    withSeed(seed, name, () => {
      const options: SimOptions = {
        ...defaultSim,
        seed,
        updatesPerSecond: 15,
        updatesUntilMs: 12_000,
        restartsPerSecond: 1,
        partition: { startMs: 3_000, healMs: 9_000 },
      };
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
      assert.ok(sim.restarts >= 10, `nodes restarted (${sim.restarts})`);
      const refused = sim.totals('refused:');
      assert.equal(refused, {}, 'no well-formed message of a member was refused');
    });
  });
}

test('routers at 1970 (before NTP) converge too, and a revocation list spreads and evicts a node', () => {
  const seed = firstSeed + 100;
  const name = 'routers at 1970';
  withSeed(seed, name, () => {
    const options: SimOptions = {
      ...defaultSim,
      seed,
      nodes: 200,
      wallStartMs: 0,
      partition: null,
      updatesUntilMs: 5_000,
    };
    const sim = new MeshSim(options);
    sim.start();
    sim.runUntil(options.updatesUntilMs);
    assert.ok(sim.runToConvergence(60_000) >= 0, 'converged');
    assertIdenticalDocs(sim);
    const index = sim.nonCutNode(7);
    const victim = `n${index}`;
    assert.ok(sim.nodes[0]!.doc.sections.has(victim));
    assert.is(sim.nodes[3]!.offerDoc(revocationDoc(1, [victim])), null);
    for (let k = 0; k < 50; k++) sim.writeAt(index);
    assert.ok(sim.runToConvergence(sim.nowMs + 60_000) >= 0, 'converged after the revocation');
    assertIdenticalDocs(sim);
    for (const g of sim.members())
      assert.not.ok(g.doc.sections.has(victim), `${g.nodeId} still holds the revoked node's section`);
    assert.ok(
      sim.total('refused:sender-revoked') + sim.total('refused:origin-revoked') > 0,
      'the revoked node was refused',
    );
    assert.ok(sim.nodes[index]!.revoked, 'the revoked node was told, and went quiet');
  });
});

test.run();
