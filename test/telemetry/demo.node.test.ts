// The main job's telemetry step (scripts/start.sh, the README's main command), run as start.sh runs it: a mesh
// CA and two node identities made with the x0 CLI, two nodes (x0-runtime running the bundle's bytecode, and
// Node) publishing signed telemetry, `x0 watch` verifying both; with no broker configured, an embedded aedes
// broker inside x0 watch, and with one configured (a real mosquitto here), that broker over MQTT 5.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { bundlePath, freePort, root, run, runtimePath } from '../lib/processes.js';
import { Mosquitto, testDir } from '../mqtt/lib.js';

test.before(() => {
  assert.ok(existsSync(runtimePath) && existsSync(bundlePath), 'build/x0-runtime and dist/x0tta6bl4.js are needed (bash scripts/setup.sh)');
});

const startSh = (...args: string[]) => ['bash', `${root}scripts/start.sh`, '--no-setup', '--telemetry-only', '--demo-dir', testDir('demo'), ...args];

/** Both nodes' telemetry verified by x0 watch, each node ended in order, nothing rejected. */
function assertBothVerified(output: string): void {
  for (const node of ['alpha', 'bravo']) {
    const verified = output.match(new RegExp(`^verified telemetry from ${node}@demo\\.x0 seq \\d+$`, 'gm')) ?? [];
    assert.is(verified.length, 5, `${node}: 5 verified telemetry messages\n${output}`);
    assert.match(output, new RegExp(`^${node}@demo\\.x0 +offline `, 'm'), `${node} ended with a verified offline status`);
  }
  assert.match(output, /^verified 14, REJECTED 0$/m);
  assert.match(output, /^uplink alpha: done: 5 telemetry messages$/m);
  assert.match(output, /^uplink bravo: done: 5 telemetry messages$/m);
  assert.match(output, /^start: telemetry: x0 watch verified the signed telemetry of both nodes/m);
}

test('with no broker configured, the main job runs an embedded aedes broker and x0 watch verifies both nodes in < 30 s', async () => {
  const started = Date.now();
  const result = await run(startSh('--mqtt-port', String(await freePort())), 90_000);
  const seconds = (Date.now() - started) / 1000;
  const output = result.stdout + result.stderr;
  assert.is(result.code, 0, output);
  assert.match(output, /no MQTT broker configured .*x0 watch runs an embedded one \(aedes, MQTT 3\.1\.1\)/);
  assert.match(output, /^embedded MQTT broker \(aedes, MQTT 3\.1\.1\) on 127\.0\.0\.1:\d+$/m);
  assert.match(output, /^uplink alpha@demo\.x0: .* mqtt v3\.1\.1/m);
  assertBothVerified(output);
  assert.ok(seconds < 30, `the telemetry step took ${seconds.toFixed(1)} s`);
});

test('with a broker configured (mosquitto), the main job uses it, over MQTT 5', async () => {
  const broker = await Mosquitto.start(testDir('demo-broker'));
  try {
    const result = await run([...startSh('--broker', `127.0.0.1:${broker.port}`)], 90_000);
    const output = result.stdout + result.stderr;
    assert.is(result.code, 0, output);
    assert.match(output, new RegExp(`^start: telemetry: MQTT broker 127\\.0\\.0\\.1:${broker.port}$`, 'm'));
    assert.not.match(output, /embedded MQTT broker/);
    assert.match(output, /^uplink bravo@demo\.x0: .* mqtt v5/m);
    assertBothVerified(output);
  } finally {
    await broker.stop();
  }
});

test.run();
