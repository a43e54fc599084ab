// Seeded simulations of a small mesh (sim.ts) with properties checked on every seed: a cut link is routed
// around within a second and restored after it heals; a flood is contained within 3 s and lifted; a degraded
// anchor loses leadership within 3 s; a steady mesh with noise takes no action at all. Engine-neutral and
// short (it also runs inside x0-runtime); the long runs are in sim.node.test.ts. A failing seed prints the
// command that reproduces it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type SimResult, runScenario } from './sim.js';

const reproduce = (seed: number, name: string): string =>
  `X0_MAPEK_SEED=${seed} X0_MAPEK_SEEDS=1 node --import tsx node_modules/uvu/bin.js test/mapek 'sim\\.test\\.ts$'   # ${name}`;

const firstSeed = Number(globalThis.process?.env?.X0_MAPEK_SEED ?? 1);
const seedCount = Number(globalThis.process?.env?.X0_MAPEK_SEEDS ?? 3);
const seeds = Array.from({ length: seedCount }, (_, i) => firstSeed + i);

function withSeed(seed: number, name: string, body: () => void): void {
  try {
    body();
  } catch (error) {
    console.log(`\nmapek simulation failed with seed ${seed}; reproduce with:\n  ${reproduce(seed, name)}\n`);
    throw error;
  }
}

const at = (r: SimResult, pattern: RegExp): number[] => r.trace.filter((l) => pattern.test(l.text)).map((l) => l.atMs);

for (const seed of seeds) {
  test(`a cut link is routed around within 1 s and restored within 1 s of healing (seed ${seed})`, () => {
    withSeed(seed, 'link cut', () => {
      const r = runScenario(`mesh ring 4\nseed ${seed}\nnoise on\nat 10s cut n1-n2\nat 30s heal n1-n2\nrun 40s`);
      assert.equal(r.violations, []);
      const rerouted = at(r, /^n1-n2 rerouted/);
      assert.is(rerouted.length, 1, 'rerouted once');
      assert.ok(
        (rerouted[0] as number) - 10_000 <= 1000,
        `rerouted ${(rerouted[0] as number) - 10_000} ms after the cut`,
      );
      const ups = r.decisions.filter((d) => d.decision.action.kind === 'link-up');
      assert.is(ups.length, 2, 'both ends put the link back');
      for (const u of ups) assert.ok(u.decision.atMs - 30_000 <= 1000);
      for (const n of r.sim.nodes.values())
        assert.equal(n.mapek.inForceNow().linkDown, [], `${n.name} has nothing left in force`);
    });
  });

  test(`a flood is rate-limited within 3 s at every neighbour and lifted after it stops (seed ${seed})`, () => {
    withSeed(seed, 'flood', () => {
      const r = runScenario(`mesh ring 4\nseed ${seed}\nnoise on\nat 20s flood n3 4000 until 40s\nrun 60s`);
      assert.equal(r.violations, []);
      const limits = r.decisions.filter((d) => d.decision.action.kind === 'rate-limit');
      assert.equal(limits.map((d) => d.node).sort(), ['n2', 'n4']);
      for (const d of limits)
        assert.ok(d.decision.atMs - 20_000 <= 3000, `${d.node} after ${d.decision.atMs - 20_000} ms`);
      const lifts = r.decisions.filter((d) => d.decision.action.kind === 'lift');
      assert.is(lifts.length, 2);
      assert.ok(
        r.decisions.every((d) => d.decision.action.kind === 'rate-limit' || d.decision.action.kind === 'lift'),
        'nothing else',
      );
    });
  });

  test(`a degraded anchor loses Raft leadership within 3 s (seed ${seed})`, () => {
    withSeed(seed, 'anchor', () => {
      const r = runScenario(`mesh ring 4\nseed ${seed}\nnoise on\nat 10s degrade n1 until 30s\nrun 35s`);
      assert.equal(r.violations, []);
      const moved = at(r, /^Raft leadership moves n1/);
      assert.is(moved.length, 1);
      assert.ok((moved[0] as number) - 10_000 <= 3000, `moved after ${(moved[0] as number) - 10_000} ms`);
      assert.is(r.sim.leader === 'n1', false);
    });
  });

  test(`a steady mesh with noise takes no action in 3 minutes (seed ${seed})`, () => {
    withSeed(seed, 'steady', () => {
      const r = runScenario(`mesh ring 5\nseed ${seed + 100}\nnoise on\nrun 3m`);
      assert.ok(r.sim.noise.probesLost > 0 && r.sim.noise.rateBursts > 0, 'the noise happened');
      assert.equal(
        r.decisions.map((d) => `${d.node} ${d.decision.rule}`),
        [],
      );
    });
  });
  test(`peers' knowledge: a node with no record of its own follows what its peers learnt (seed ${seed})`, () => {
    withSeed(seed, "peers' knowledge", () => {
      // n2 and n4 cannot rate-limit: each learns isolate. Then n2 floods n1 and n3, which have no record.
      const scenario = (extra: string) =>
        `mesh ring 4\nseed ${seed}\nnoise on\n${extra}at 5s fail n2 rate-limit 1\nat 5s fail n4 rate-limit 1\n` +
        'at 10s flood n1 8000 until 20s\nat 40s flood n1 8000 until 50s\nat 80s flood n2 8000 until 90s\nrun 95s';
      const firstOn = (r: SimResult, node: string) =>
        r.decisions.find((d) => d.node === node && d.decision.target === 'mac:02:00:00:00:00:02')?.decision;
      const shared = runScenario(scenario(''));
      assert.equal(shared.violations, []);
      for (const node of ['n1', 'n3']) {
        const d = firstOn(shared, node);
        assert.is(d?.action.kind, 'isolate', `${node} isolates at once`);
        assert.match(d?.choice ?? '', /^isolate [\d.]+ over rate-limit [\d.]+ by knowledge \(isolate own 0\/0, peers/);
      }
      // The same mesh without the peers' record (peerWeight 0): the catalogue's order, a rate limit first.
      const alone = runScenario(scenario('config peerWeight=0\n'));
      for (const node of ['n1', 'n3']) assert.is(firstOn(alone, node)?.action.kind, 'rate-limit', node);
    });
  });
}

test('the same seed gives the same trace; another seed a different one', () => {
  const text = (seed: number): string =>
    JSON.stringify(runScenario(`mesh ring 3\nseed ${seed}\nat 5s cut n1-n2\nrun 8s`).trace);
  assert.is(text(7), text(7));
  assert.is.not(text(7), text(8));
});

test('a bad scenario is refused with the line that is wrong', () => {
  assert.throws(() => runScenario('mesh ring 4\nrun 10s\nat 5s explode n1'), /unknown fault 'explode'/);
  assert.throws(() => runScenario('mesh star 4\nrun 10s'), /mesh ring\|line/);
  assert.throws(() => runScenario('mesh ring 4\nconfig zScoreMin=0\nrun 1s'), /zScoreMin/);
});

test.run();
