// The README's main command after set-up (scripts/start.sh --no-setup): five agents on x0-runtime, each from its
// own UCI file with its own real ubusd, enrol, elect a leader, converge, publish verified telemetry, heal a degraded
// leader with their own MAPE-K loop (a partial partition: leadership moved, with the decision's rule and why, the
// action, the outcome and the time to repair, traced to x0 watch), and notice the leader's death. Every step the demo
// prints is a check it made; this test checks that all seven held, in time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort, root, run } from '../lib/processes.js';
import { requireTools } from './lib.js';

test('the main job shows five agents forming one mesh, healing a degraded leader and the loss of the leader, in under a minute', async () => {
  requireTools();
  const base = 20_000 + Math.floor(Math.random() * 20_000);
  const started = Date.now();
  const result = await run(
    [
      'bash',
      `${root}scripts/start.sh`,
      '--no-setup',
      '--demo-dir',
      'build/test-demo',
      '--base-port',
      String(base),
      '--mqtt-port',
      String(await freePort()),
    ],
    120_000,
  );
  const seconds = (Date.now() - started) / 1000;
  const out = result.stdout + result.stderr;
  assert.is(result.code, 0, out);
  for (const step of [
    '1/7 enrolment',
    '2/7 telemetry consumer',
    '3/7 five routers',
    '4/7 consensus and mesh state',
    '5/7 telemetry',
    '6/7 incident',
    '7/7 failure',
  ])
    assert.ok(out.includes(step), `${step}\n${out}`);
  assert.match(out, /all 5 agents running in [\d.]+ s/);
  assert.match(out, /leader: (alpha|bravo|charlie) \(term \d+\), agreed by alpha, bravo, charlie/);
  assert.match(out, /every node sees all 5 nodes up in its mesh document/);
  assert.match(out, /verified telemetry from alpha, bravo, charlie, delta, echo; 0 rejected/);
  if (process.getuid?.() === 0) {
    // The incident: the leader's MAPE-K loop saw most of its links dead and handed the leadership over.
    assert.match(
      out,
      /detected: (alpha|bravo|charlie)'s liveness probe \(100 ms x 3\) saw \w+ [\d.]+ s, \w+ [\d.]+ s, \w+ [\d.]+ s after the cut/,
    );
    assert.match(
      out,
      /decided \(trace [0-9a-f]{32}, [\d.]+ s\): anchor-degraded by rule anchor-degraded-transfer; why: this node \d leads term \d+ and reports itself degraded \(3 of 4 probed links dead, \d+ losing >= \d+ % of probes\) for/,
    );
    assert.match(
      out,
      /action: transfer-leadership -> Raft leadership transfer to voter \d started \(ok, \d+ ms\); outcome read back by the loop: anchor-degraded by transfer-leadership/,
    );
    const repaired =
      /healed: (alpha|bravo|charlie) leads term \d+, (alpha|bravo|charlie) follows it: time to repair ([\d.]+) s from the cut/.exec(
        out,
      );
    assert.ok(repaired !== null, out);
    assert.ok(Number(repaired[3]) < 10, `time to repair ${repaired[3]} s`);
    assert.match(out, /x0 watch verified the same trace in \w+'s signed telemetry: decided, executed, cleared/);
    assert.match(out, /partition lifted: \w+'s probes see \w+, \w+, \w+ again/);
  } else assert.match(out, /6\/7 incident: .*\n.*SKIPPED: not root/);
  assert.match(out, /new leader (alpha|bravo|charlie) [\d.]+ s after the kill/);
  assert.match(out, /every surviving node marks (alpha|bravo|charlie) down [\d.]+ s after the kill/);
  assert.match(
    out,
    /done: 5 agents formed one mesh, elected a leader, converged, published verified telemetry, healed a degraded leader/,
  );
  assert.ok(seconds < 60, `took ${seconds.toFixed(1)} s`);
});

test.run();
