// The simulator must catch a broken Raft: with a safety rule switched off on purpose, some seed in a small
// range fails, and the failure says which property broke and how to reproduce it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reproduceCommand, runSim, simDefaults, type SimOptions } from './cluster.js';
import { mixNames } from './faults.js';

function firstFailure(extra: Partial<SimOptions>, seeds: number): { options: SimOptions; failure: string } | null {
  for (let seed = 1; seed <= seeds; seed++) {
    const options: SimOptions = { ...simDefaults, ...extra, seed, mix: mixNames[seed % mixNames.length] as string };
    const report = runSim(options);
    if (!report.ok) return { options, failure: report.failure ?? '' };
  }
  return null;
}

test('granting votes without the log up-to-date check is caught (leader completeness / state machine safety)', () => {
  const found = firstFailure({ unsafe: { skipVoteLogCheck: true } }, 200);
  assert.ok(found !== null, 'no seed in 1..200 caught the broken vote rule');
  assert.match(found?.failure ?? '', /leader completeness|state machine safety|log matching|linearizability/);
  assert.match(
    reproduceCommand(found!.options),
    /^npm run sim -- --seed \d+ --nodes 5 --mix \w+ --unsafe skip-vote-log-check$/,
  );
});

test('serving reads from the local state machine without ReadIndex is caught by the linearizability checker', () => {
  const found = firstFailure({ staleReads: true }, 40);
  assert.ok(found !== null, 'no seed in 1..40 caught the stale reads');
  assert.match(found?.failure ?? '', /^linearizability: /);
});

test('the same seeds with the rules kept pass, and a run is deterministic', () => {
  const options: SimOptions = { ...simDefaults, seed: 23, mix: 'chaos' };
  const a = runSim(options);
  const b = runSim(options);
  assert.ok(a.ok, a.failure ?? '');
  assert.equal(a, b);
});

test.run();
