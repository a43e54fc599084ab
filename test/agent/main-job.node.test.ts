// The README's main command after set-up (scripts/start.sh --no-setup): five agents on x0-runtime, each from its
// own UCI file with its own real ubusd, enrol, elect a leader, converge, publish verified telemetry, and notice the
// leader's death. Every step the demo prints is a check it made; this test checks that all six held, in time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort, root, run } from '../lib/processes.js';
import { requireTools } from './lib.js';

test('the main job shows five agents forming one mesh and healing the loss of the leader, in under a minute', async () => {
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
    '1/6 enrolment',
    '2/6 telemetry consumer',
    '3/6 five routers',
    '4/6 consensus and mesh state',
    '5/6 telemetry',
    '6/6 failure',
  ])
    assert.ok(out.includes(step), `${step}\n${out}`);
  assert.match(out, /all 5 agents running in [\d.]+ s/);
  assert.match(out, /leader: (alpha|bravo|charlie) \(term \d+\), agreed by alpha, bravo, charlie/);
  assert.match(out, /every node sees all 5 nodes up in its mesh document/);
  assert.match(out, /verified telemetry from alpha, bravo, charlie, delta, echo; 0 rejected/);
  assert.match(out, /new leader (alpha|bravo|charlie) [\d.]+ s after the kill/);
  assert.match(out, /every surviving node marks (alpha|bravo|charlie) down [\d.]+ s after the kill/);
  assert.match(out, /done: 5 agents formed one mesh/);
  assert.ok(seconds < 60, `took ${seconds.toFixed(1)} s`);
});

test.run();
