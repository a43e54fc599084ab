// The long simulations (Node only: seconds of CPU). A steady mesh with noise for 30 virtual minutes per seed
// takes zero actions (the lab's steady-mesh scenario, in virtual time); random mixes of faults keep every
// invariant (sim.ts checkDecision: trace ids, a threshold in every why, one action in flight per target,
// damping, no action through an open breaker) and leave nothing in force once the faults are over.
// X0_MAPEK_SEED=<n> X0_MAPEK_SEEDS=<k> pick the seeds; a failure prints the command and the scenario.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '../../src/core/rng.js';
import { runScenario } from './sim.js';

const firstSeed = Number(process.env.X0_MAPEK_SEED ?? 1);
const seedCount = Number(process.env.X0_MAPEK_SEEDS ?? 4);
const seeds = Array.from({ length: seedCount }, (_, i) => firstSeed + i);

function withSeed(seed: number, name: string, scenario: string, body: () => void): void {
  try {
    body();
  } catch (error) {
    console.error(
      `\nmapek simulation '${name}' failed with seed ${seed}; reproduce with:\n` +
        `  X0_MAPEK_SEED=${seed} X0_MAPEK_SEEDS=1 node --import tsx node_modules/uvu/bin.js test/mapek 'sim\\.node\\.test\\.ts$'\n` +
        `the scenario (save it as test/mapek/golden/<name>.txt to get its trace):\n${scenario}\n`,
    );
    throw error;
  }
}

/** A random mix of faults on a ring of 3..6 nodes, all over by 150 s, then 200 s of calm. */
export function randomScenario(seed: number): string {
  const rng = new Rng(seed);
  const n = rng.range(3, 6);
  const node = (): string => `n${rng.range(1, n)}`;
  const link = (): string => {
    const a = rng.range(1, n);
    const b = a === n ? 1 : a + 1;
    return a < b ? `n${a}-n${b}` : `n${b}-n${a}`;
  };
  const lines = [`mesh ring ${n}`, `seed ${seed}`, 'noise on', 'config authCalmMs=30000 breakerCooldownMs=60000'];
  const faults = rng.range(1, 4);
  for (let i = 0; i < faults; i++) {
    const start = rng.range(10, 100);
    const end = start + rng.range(5, 50);
    switch (rng.int(7)) {
      case 0: {
        const l = link();
        lines.push(`at ${start}s cut ${l}`, `at ${end}s heal ${l}`);
        break;
      }
      case 1:
        lines.push(`at ${start}s flap ${link()} every ${rng.range(2, 8)}s until ${end}s`);
        break;
      case 2:
        lines.push(`at ${start}s flood ${node()} ${rng.range(3000, 20000)} until ${end}s`);
        break;
      case 3:
        lines.push(`at ${start}s auth-attack ${node()} ${rng.range(8, 50)} until ${end}s`);
        break;
      case 4:
        lines.push(`at ${start}s degrade n1 until ${end}s`);
        break;
      case 5:
        lines.push(`at ${start}s crash ${node()} ${rng.pick(['gossip', 'raft', 'xdp'])}`);
        break;
      default:
        lines.push(
          `at ${start}s fail ${node()} ${rng.pick(['link-down', 'link-up', 'rate-limit', 'lift'])} ${rng.range(1, 3)}`,
        );
    }
  }
  lines.push('run 350s');
  return lines.join('\n');
}

for (const seed of seeds) {
  const steady = `mesh ring 4\nseed ${seed}\nnoise on\nrun 30m`;
  test(`a steady mesh with noise takes zero actions in 30 virtual minutes (seed ${seed})`, () => {
    withSeed(seed, 'steady', steady, () => {
      const r = runScenario(steady);
      assert.ok(r.sim.noise.probesLost > 100, `noise happened (${r.sim.noise.probesLost} probes lost)`);
      assert.equal(
        r.decisions.map((d) => `${d.node} ${d.decision.rule}`),
        [],
      );
      for (const n of r.sim.nodes.values())
        assert.not.ok(n.mapek.knowledgeDue(30 * 60_000), 'and writes nothing to flash');
    });
  });

  const mix = randomScenario(seed);
  test(`a random mix of faults keeps every invariant and ends with nothing in force (seed ${seed})`, () => {
    withSeed(seed, 'random mix', mix, () => {
      const r = runScenario(mix);
      assert.equal(r.violations, []);
      for (const n of r.sim.nodes.values()) {
        assert.equal(
          n.mapek.inForceNow(),
          { linkDown: [], retuned: [], macs: [] },
          `${n.name}: nothing of ours in force at the end`,
        );
        const open = n.mapek.incidents().filter((i) => i.state === 'open' && i.symptom !== 'breaker-open');
        assert.equal(
          open.map((i) => `${i.symptom}@${i.target}`),
          [],
          `${n.name}: every incident closed`,
        );
        assert.ok(JSON.stringify(n.mapek.knowledge()).length < 32 * 1024);
      }
    });
  });
}

test.run();
