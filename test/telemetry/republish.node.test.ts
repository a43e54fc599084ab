// Issue 21 item 7: `x0 watch --republish` publishes each node's verified state as plain JSON on its own topic tree,
// with Home Assistant MQTT discovery and availability, against a real broker (mosquitto). Only verified messages
// are republished: a node revoked before it starts, an unsigned message and a forged one never appear; a node
// revoked while it runs is withdrawn (state cleared, unavailable); the bridge's availability ends offline.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from 'mqtt';
import { Mosquitto, requireMosquitto, sleep, start, waitFor, x0Node } from '../mqtt/lib.js';
import { enrol, must, tempDir } from '../identity/cli-lib.js';

test.before(() => requireMosquitto());

test('verified state, discovery and availability are republished; unverified and revoked never are', async () => {
  const dir = tempDir('telemetry-republish');
  await enrol(dir, 'mesh.test', ['alpha', 'bravo', 'charlie']);
  await must('ca', 'revoke', '--node', 'charlie', '--ca-dir', `${dir}/ca`);
  const listPath = `${dir}/ca/revocations.cbor`;
  const broker = await Mosquitto.start(dir);
  const brokerArg = ['--broker', `127.0.0.1:${broker.port}`];
  const seen: { topic: string; payload: string }[] = [];
  const sub = connect(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion: 4 });
  sub.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString() }));
  await new Promise<void>((resolve) => sub.once('connect', () => resolve()));
  await sub.subscribeAsync(['x0-verified/#', 'homeassistant/#'], { qos: 1 });
  const watch = start(
    x0Node(
      'watch',
      '--trust',
      `${dir}/ca/bundle.cbor`,
      ...brokerArg,
      '--revocations',
      listPath,
      '--republish',
      '--json',
      '--duration',
      '60s',
    ),
  );
  const uplink = (name: string, seed: string) =>
    start(x0Node('uplink', '--state-dir', `${dir}/${name}`, ...brokerArg, '--interval', '200ms', '--simulate', seed));
  const uplinks: ReturnType<typeof start>[] = [];
  const stateOf = (node: string) =>
    seen
      .filter((m) => m.topic === `x0-verified/mesh.test/${node}/state` && m.payload !== '')
      .map((m) => JSON.parse(m.payload));
  const until = async (what: string, check: () => boolean, timeoutMs = 20_000) => {
    for (const end = Date.now() + timeoutMs; !check(); await sleep(100))
      if (Date.now() > end)
        throw new Error(`${what}: not within ${timeoutMs} ms\n${watch.stderr}\n${seen.map((m) => m.topic).join('\n')}`);
  };
  try {
    await waitFor(watch, /republishing verified state under x0-verified\//, 45_000);
    uplinks.push(uplink('alpha', '1'), uplink('bravo', '2'), uplink('charlie', '3'));
    // Unsigned and forged messages on the watched tree: rejected by the watch, so never republished.
    const forger = connect(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion: 4 });
    await new Promise<void>((resolve) => forger.once('connect', () => resolve()));
    await forger.publishAsync('x0/mesh.test/eve/status', JSON.stringify({ state: 'online', forged: true }), { qos: 1 });
    await forger.publishAsync('x0/mesh.test/alpha/telemetry', JSON.stringify({ forged: true }), { qos: 1 });
    await forger.endAsync();
    await until(
      'alpha and bravo republished',
      () => stateOf('alpha').length > 0 && stateOf('bravo').some((s) => s.uptime_s !== null),
    );
    await until('charlie rejected as revoked', () => /cert-revoked/.test(watch.stdout));

    const alpha = stateOf('alpha').at(-1);
    assert.is(alpha.verified, true);
    assert.is(alpha.state, 'online');
    assert.is(alpha.node, 'alpha');
    assert.type(alpha.uptime_s, 'number');
    const retained = (topic: string) => seen.filter((m) => m.topic === topic).at(-1)?.payload;
    assert.is(retained('x0-verified/bridge/availability'), 'online');
    assert.is(retained('x0-verified/mesh.test/alpha/availability'), 'online');
    const discovery = JSON.parse(retained('homeassistant/sensor/x0_mesh_test_alpha/uptime/config') ?? '{}');
    assert.is(discovery.state_topic, 'x0-verified/mesh.test/alpha/state');
    assert.is(discovery.value_template, '{{ value_json.uptime_s }}');
    assert.is(discovery.unit_of_measurement, 's');
    assert.is(discovery.unique_id, 'x0_mesh_test_alpha_uptime');
    assert.equal(discovery.availability, [
      { topic: 'x0-verified/bridge/availability' },
      { topic: 'x0-verified/mesh.test/alpha/availability' },
    ]);
    assert.is(discovery.availability_mode, 'all');
    assert.equal(discovery.device.identifiers, ['x0_mesh_test_alpha']);
    assert.ok(
      ['state', 'uptime', 'load', 'clients', 'memory_available'].every((f) =>
        retained(`homeassistant/sensor/x0_mesh_test_alpha/${f}/config`),
      ),
      'one discovery message per sensor',
    );

    // Revoked before it started, unsigned, forged: none of them anywhere in the plain tree or discovery.
    for (const m of seen) {
      assert.not.match(m.topic, /charlie|eve/, `nothing for the revoked or the unknown node: ${m.topic}`);
      assert.not.match(m.payload, /forged/, `no forged content: ${m.topic}`);
    }

    // bravo revoked while it runs: withdrawn within seconds, and nothing of it republished after that.
    await must('ca', 'revoke', '--node', 'bravo', '--ca-dir', `${dir}/ca`);
    await until('bravo withdrawn', () => retained('x0-verified/mesh.test/bravo/availability') === 'offline');
    const clearedAt = seen.findIndex((m) => m.topic === 'x0-verified/mesh.test/bravo/state' && m.payload === '');
    assert.ok(clearedAt >= 0, "bravo's retained state was cleared");
    await sleep(1500);
    assert.not.ok(
      seen.slice(clearedAt + 1).some((m) => m.topic.includes('/bravo/') && m.payload !== 'offline' && m.payload !== ''),
      'no bravo state after its revocation',
    );
    assert.ok(stateOf('alpha').length > 1, 'alpha keeps being republished');
  } finally {
    for (const u of uplinks) u.child.kill('SIGTERM');
    watch.child.kill('SIGKILL');
    await watch.done;
  }
  // The watch is gone without a word: the broker publishes its Will.
  await until(
    'bridge offline',
    () => seen.filter((m) => m.topic === 'x0-verified/bridge/availability').at(-1)?.payload === 'offline',
    10_000,
  );
  await sub.endAsync();
  await broker.stop();
});

test.run();
