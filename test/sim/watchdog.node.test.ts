// The simulator never passes a seed it did not check, and never hangs without naming the seed: a history the
// linearizability checker cannot finish fails the seed; virtual time that stops advancing fails it; a core that
// loops forever (a planted mutant, test/sim/mutants.ts) is stopped by the wall-clock watchdog, which prints the
// seed and the command that reproduces it, and the run goes on with the next seed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Cluster, reproduceCommand, runSim, simDefaults, type SimOptions } from './cluster.js';
import { materialize, mutants } from './mutants.js';
import { run } from '../lib/processes.js';

test('a history the checker cannot finish within its budget fails the seed with a clear message (not a pass)', () => {
  const options: SimOptions = { ...simDefaults, seed: 23, mix: 'contention', linStepsMax: 50 };
  const report = runSim(options);
  assert.is(report.ok, false, 'an unchecked history passed');
  assert.is(report.linearizability, 'unknown');
  assert.match(
    report.failure ?? '',
    /^linearizability: check did not finish for key\(s\) 'k0' \(\d+ operations\) within 50 search steps per key: not a pass/,
  );
  assert.match(reproduceCommand(options), /--mix contention --lin-steps 50$/);
});

test('virtual time that stops advancing fails the seed and says when', () => {
  const cluster = new Cluster({ ...simDefaults, seed: 5, mix: 'calm' });
  const spin = (): void => {
    cluster.scheduler.after(0, spin);
  };
  cluster.scheduler.at(1500, spin);
  const report = cluster.run();
  assert.is(report.ok, false);
  assert.match(report.failure ?? '', /^watchdog: virtual time stopped advancing at 1500 ms/);
});

test('a core that loops forever is stopped by the wall-clock watchdog, which names the seed and how to reproduce it', async () => {
  const looping = mutants.find((m) => m.name === 'core-loops');
  assert.ok(looping !== undefined);
  const dir = materialize(looping!);
  // Seed 9 of this mix reaches the mutated scan; 8 and 10 do not, and 10 still runs after the hang (the seeds
  // moved when candidates began re-sending their vote requests each heartbeat).
  const started = Date.now();
  const args = [
    '--seed',
    '8',
    '--seeds',
    '3',
    '--mix',
    'transfer-partition',
    '--nodes',
    '3',
    '--faults-ms',
    '10000',
    '--settle-ms',
    '10000',
    '--quiet',
    '--watchdog-ms',
    '2000',
  ];
  const result = await run(['node', '--import', 'tsx', `${dir}/test/sim/cli.ts`, ...args], 120_000);
  assert.is(result.code, 1, `${result.stdout}${result.stderr}`);
  assert.match(
    result.stdout,
    /^seed 9 FAILED \(transfer-partition\): watchdog: still running after 2000 ms of wall time/m,
  );
  assert.match(
    result.stdout,
    /^ {2}reproduce: npm run sim -- --seed 9 --nodes 3 --mix transfer-partition --faults-ms 10000 --settle-ms 10000$/m,
  );
  assert.match(result.stdout, /^2 passed, 1 failed/m);
  assert.ok(Date.now() - started < 60_000, 'the watchdog fired in time');
});

test.run();
