// The CI run of the Raft simulator: 2,000 seeds across every fault mix (3- and 5-node clusters), split over two
// processes so both cores work. Each seed checks safety after every step, linearizability and liveness; a
// failing seed prints the `npm run sim` command that reproduces it. RAFT_SIM_SEED_BASE shifts the seeds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { root, run } from '../lib/processes.js';

const base = Number(process.env.RAFT_SIM_SEED_BASE ?? 1);
const seedsPerProcess = 1000;

const groups = [
  [
    '--seed',
    String(base),
    '--seeds',
    String(seedsPerProcess),
    '--nodes',
    '3',
    '--faults-ms',
    '10000',
    '--settle-ms',
    '10000',
  ],
  [
    '--seed',
    String(base + 500_000),
    '--seeds',
    String(seedsPerProcess),
    '--nodes',
    '5',
    '--faults-ms',
    '8000',
    '--settle-ms',
    '10000',
  ],
];

test(`${2 * seedsPerProcess} simulated seeds across all fault mixes find no safety, linearizability or liveness violation`, async () => {
  const results = await Promise.all(
    groups.map((args) =>
      run(['node', '--import', 'tsx', `${root}test/sim/cli.ts`, '--mix', 'all', '--quiet', ...args], 900_000),
    ),
  );
  let passed = 0;
  const failures: string[] = [];
  for (const result of results) {
    const summary = /^(\d+) passed, (\d+) failed \(.*\)$/m.exec(result.stdout);
    assert.ok(summary !== null, `no summary line from the simulator:\n${result.stdout}\n${result.stderr}`);
    passed += Number(summary?.[1]);
    if (result.code !== 0)
      failures.push(
        result.stdout
          .split('\n')
          .filter((line) => line.includes('FAILED') || line.includes('reproduce'))
          .join('\n'),
      );
    process.stdout.write(`  ${summary?.[0]}\n`);
  }
  assert.is(failures.length, 0, `failing seeds:\n${failures.join('\n')}`);
  assert.is(passed, 2 * seedsPerProcess);
});

test.run();
