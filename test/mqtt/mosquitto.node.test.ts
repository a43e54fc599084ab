// Our client against a real mosquitto started by this test on loopback: connect, publish, subscribe on both
// protocol versions; QoS 1 not lost across a broker restart (persistence on) nor across a client restart
// (queue persisted to a file); the Last Will delivered when the uplink process is killed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect as mqttConnect, type MqttClient as MqttJs } from 'mqtt';
import { createMqttConnection, type ConnectionOptions, type MqttConnection } from '../../src/mqtt/connection.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { TelemetryVerifier } from '../../src/core/telemetry/messages.js';
import { decodeTrustBundle } from '../../src/core/identity/chain.js';
import { readFileSync, existsSync } from 'node:fs';
import { bundlePath as x0Bundle, runtimePath } from '../lib/processes.js';
import { Mosquitto, crypto, makeMesh, sleep, start, testDir, waitFor, x0Runtime } from './lib.js';

const platform = createNodePlatform();

function ours(broker: Mosquitto, clientId: string, extra: Partial<ConnectionOptions> = {}): MqttConnection {
  return createMqttConnection(platform, {
    host: '127.0.0.1',
    port: broker.port,
    clientId,
    backoffMinMs: 100,
    backoffMaxMs: 500,
    ...extra,
  });
}

/** A persistent mqtt.js subscriber (clean: false, QoS 1): what it misses while away, the broker keeps. */
async function observer(broker: Mosquitto, filter: string, received: string[]): Promise<MqttJs> {
  const client = mqttConnect(`mqtt://127.0.0.1:${broker.port}`, {
    clientId: 'observer',
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 100,
  });
  client.on('message', (topic, payload) => received.push(`${topic} ${payload.toString()}`));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
    setTimeout(() => reject(new Error('observer could not connect')), 5000);
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return client;
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

for (const version of [5, 4] as const) {
  test(`connect, subscribe, publish QoS 0 and 1 round trip through mosquitto (MQTT ${version === 5 ? '5' : '3.1.1'})`, async () => {
    const broker = await Mosquitto.start(testDir(`roundtrip-${version}`));
    try {
      const c = ours(broker, `rt-${version}`, { version });
      const got: string[] = [];
      c.onMessage((topic, payload, qos) => got.push(`${topic}:${new TextDecoder().decode(payload)}:${qos}`));
      c.subscribe('rt/#', 1);
      c.start();
      assert.ok(await c.waitConnected(5000), 'connected');
      await until(
        () => c.client.counters.get('subscribe-refused') === 0 && c.client.state === 'connected',
        1000,
        'subscribed',
      );
      await sleep(100);
      c.publish('rt/zero', new TextEncoder().encode('a'), 0);
      c.publish('rt/one', new TextEncoder().encode('b'), 1);
      assert.ok(await c.flush(5000), 'acknowledged');
      await until(() => got.length === 2, 5000, 'both messages back');
      assert.equal(got.sort(), ['rt/one:b:1', 'rt/zero:a:0']);
      c.stop();
    } finally {
      await broker.stop();
    }
  });
}

test('QoS 1 is not lost across a broker restart (persistence on): acked, in flight and queued messages all arrive', async () => {
  const broker = await Mosquitto.start(testDir('restart'), { persistence: true });
  const received: string[] = [];
  try {
    const obs = await observer(broker, 'persist/#', received);
    await obs.endAsync();
    const c = ours(broker, 'restart-client');
    c.start();
    assert.ok(await c.waitConnected(5000));
    for (let i = 0; i < 100; i++) c.publish('persist/a', new TextEncoder().encode(String(i)), 1);
    // Restart at once: some are acknowledged, some in flight, some still queued in our client.
    await broker.restart();
    for (let i = 100; i < 150; i++) c.publish('persist/a', new TextEncoder().encode(String(i)), 1);
    assert.ok(
      await c.flush(15_000),
      `all acknowledged after the restart (${JSON.stringify(c.client.counters.snapshot())})`,
    );
    const again = await observer(broker, 'persist/#', received);
    await until(() => new Set(received).size === 150, 15_000, `150 distinct messages (have ${new Set(received).size})`);
    await again.endAsync();
    c.stop();
  } finally {
    await broker.stop();
  }
});

test('queued QoS 1 messages survive a client restart through the persisted queue file', async () => {
  const dir = testDir('client-restart');
  const broker = await Mosquitto.start(dir, { persistence: true });
  const received: string[] = [];
  let obs: Awaited<ReturnType<typeof observer>> | null = null;
  try {
    obs = await observer(broker, 'q/#', received);
    const port = broker.port;
    await broker.stop();
    const first = createMqttConnection(platform, {
      host: '127.0.0.1',
      port,
      clientId: 'q-client',
      persistPath: `${dir}/queue.bin`,
      persistIntervalMs: 50,
      backoffMinMs: 100,
      backoffMaxMs: 300,
    });
    const startedMs = Date.now();
    first.start();
    for (let i = 0; i < 40; i++) first.publish('q/a', new TextEncoder().encode(String(i)), 1);
    first.stop();
    const elapsedMs = Date.now() - startedMs;
    assert.ok(existsSync(`${dir}/queue.bin`), 'queue written at stop');
    // At most one write per persistIntervalMs (50) while publishing, plus the last one at stop: 2 when the
    // 40 publishes take under 50 ms, more only on a machine so loaded that they take longer.
    assert.ok(
      first.persistWrites <= 2 + Math.floor(elapsedMs / 50),
      `bounded flash writes: ${first.persistWrites} in ${elapsedMs} ms`,
    );
    await broker.restart();
    const second = createMqttConnection(platform, {
      host: '127.0.0.1',
      port: broker.port,
      clientId: 'q-client',
      persistPath: `${dir}/queue.bin`,
      backoffMinMs: 100,
    });
    second.start();
    assert.ok(await second.flush(10_000), 'restored queue sent and acknowledged');
    await until(() => new Set(received).size === 40, 10_000, `40 messages (have ${new Set(received).size})`);
    second.stop();
  } finally {
    // The observer reconnects forever while it lives: end it even when an assertion failed, or the run hangs.
    obs?.end(true);
    await broker.stop();
  }
});

test('the Last Will (signed, retained offline) is delivered when the uplink on x0-runtime is killed', async () => {
  assert.ok(
    existsSync(runtimePath) && existsSync(x0Bundle),
    'build/x0-runtime and dist/x0tta6bl4.js are needed (bash scripts/setup.sh)',
  );
  const dir = testDir('will');
  const broker = await Mosquitto.start(dir);
  const mesh = makeMesh(dir, 'mesh.test', ['alpha']);
  try {
    const uplink = start(
      x0Runtime(
        x0Bundle,
        'uplink',
        '--dir',
        mesh.nodeDir('alpha'),
        '--broker',
        `127.0.0.1:${broker.port}`,
        '--interval-ms',
        '200',
        '--simulate',
        '1',
      ),
    );
    await waitFor(uplink, /uplink alpha@mesh\.test/);
    const seen: { topic: string; payload: Buffer; retain: boolean }[] = [];
    const sub = mqttConnect(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion: 5 });
    sub.on('message', (topic, payload, packet) => seen.push({ topic, payload, retain: packet.retain }));
    await new Promise<void>((resolve) => sub.once('connect', () => resolve()));
    await sub.subscribeAsync('x0/mesh.test/alpha/status', { qos: 1 });
    const bundle = decodeTrustBundle(crypto, readFileSync(mesh.bundlePath));
    assert.ok(bundle.ok);
    const verifier = new TelemetryVerifier(crypto, bundle.value, () => Date.now());
    const states = () =>
      seen
        .map((m) => verifier.verify(m.topic, new Uint8Array(m.payload)))
        .map((r) => (r.ok ? String(r.value.data.state) : r.reason));
    await until(() => seen.length >= 1, 5000, 'retained online status');
    uplink.child.kill('SIGKILL');
    await uplink.done;
    // mosquitto notices the dead TCP connection at once (RST) and publishes the Will.
    await until(() => seen.length >= 2, 10_000, 'the Last Will');
    assert.equal(states(), ['online', 'offline']);
    const late = mqttConnect(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion: 4 });
    const retained: Buffer[] = [];
    late.on('message', (_t, payload, packet) => {
      if (packet.retain) retained.push(payload);
    });
    await new Promise<void>((resolve) => late.once('connect', () => resolve()));
    await late.subscribeAsync('x0/mesh.test/alpha/status', { qos: 1 });
    await until(() => retained.length === 1, 5000, 'retained offline for a late subscriber');
    const again = new TelemetryVerifier(crypto, bundle.value, () => Date.now()).verify(
      'x0/mesh.test/alpha/status',
      new Uint8Array(retained[0]!),
    );
    assert.ok(again.ok && again.value.data.state === 'offline', 'retained Will verifies as offline');
    await sub.endAsync();
    await late.endAsync();
  } finally {
    await broker.stop();
  }
});

test.run();
