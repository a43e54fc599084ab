// Every bug the simulator found, pinned by the seed that found it (run `npm run sim -- ...` to watch one).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reproduceCommand, runSim, simDefaults, type SimOptions } from './cluster.js';

interface Regression {
  readonly bug: string;
  readonly options: Partial<SimOptions> & { seed: number; mix: string };
  readonly check?: (report: ReturnType<typeof runSim>) => string | null;
}

const regressions: Regression[] = [
  {
    // The Raft side of this seed's finding (a lost append never resent) is pinned by a unit test in
    // test/raft/raft.test.ts ("a lost append with nothing after it is resent after two heartbeats").
    bug: 'the harness matched a late, duplicated reply to a later request (a false linearizability alarm)',
    options: { seed: 1, mix: 'lossy' },
    check: (r) => (r.linearizability === 'ok' ? null : `linearizability ${r.linearizability}`),
  },
  {
    bug: 'a snapshot installed while a Ready was being persisted made advance() assert (applied went back)',
    options: { seed: 301, nodes: 3, mix: 'snapshot', faultsUntilMs: 10_000, settleMs: 10_000 },
  },
  { bug: 'same, 5 nodes', options: { seed: 500053, nodes: 5, mix: 'snapshot', faultsUntilMs: 8000, settleMs: 10_000 } },
  {
    bug: 'a torn write kept the new commit index but not the entries it covered: after a restart the node applied its own stale entry',
    options: { seed: 243, nodes: 3, mix: 'crash', faultsUntilMs: 10_000, settleMs: 10_000 },
  },
  { bug: 'same, 5 nodes', options: { seed: 500533, nodes: 5, mix: 'snapshot', faultsUntilMs: 8000, settleMs: 10_000 } },
];

for (const regression of regressions) {
  const options: SimOptions = { ...simDefaults, ...regression.options };
  test(`seed ${options.seed} (${options.mix}): ${regression.bug}`, () => {
    const report = runSim(options);
    assert.ok(report.ok, `${report.failure}\n  reproduce: ${reproduceCommand(options)}`);
    const problem = regression.check?.(report) ?? null;
    assert.is(problem, null, `${problem}\n  reproduce: ${reproduceCommand(options)}`);
  });
}

test.run();
