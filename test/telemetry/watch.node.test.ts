// The consumers end to end through a real mosquitto: two simulated nodes (one on x0-runtime, one on Node)
// publish signed telemetry; `x0 watch` verifies both and shows an unsigned and a tampered message as
// REJECTED; `x0 exporter` serves their metrics; a signed operator command is answered, a forged one refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { connect as mqttConnect } from 'mqtt';
import { bundlePath, freePort, run, runtimePath } from '../lib/processes.js';
import { Mosquitto, makeMesh, start, testDir, waitFor, x0Node, x0Runtime, sleep } from '../mqtt/lib.js';

test.before(() => {
  assert.ok(
    existsSync(runtimePath) && existsSync(bundlePath),
    'build/x0-runtime and dist/x0tta6bl4.js are needed (bash scripts/setup.sh)',
  );
});

async function publishRaw(port: number, topic: string, payload: Uint8Array): Promise<void> {
  const client = mqttConnect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4 });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  await client.publishAsync(topic, Buffer.from(payload), { qos: 1 });
  await client.endAsync();
}

async function capture(port: number, topic: string, wait: () => Promise<void>): Promise<Buffer> {
  const client = mqttConnect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5 });
  let got: Buffer | null = null;
  client.on('message', (_t, payload) => {
    got ??= payload;
  });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  await client.subscribeAsync(topic, { qos: 1 });
  await wait();
  for (let i = 0; i < 200 && got === null; i++) await sleep(25);
  await client.endAsync();
  if (got === null) throw new Error(`nothing on ${topic}`);
  return got;
}

test('x0 watch verifies two nodes (x0-runtime and Node) and shows unsigned and tampered messages as rejected', async () => {
  const dir = testDir('watch');
  const broker = await Mosquitto.start(dir);
  const mesh = makeMesh(dir, 'mesh.test', ['alpha', 'bravo']);
  try {
    const watch = start(
      x0Node(
        'watch',
        '--bundle',
        mesh.bundlePath,
        '--broker',
        `127.0.0.1:${broker.port}`,
        '--json',
        '--duration-ms',
        '30000',
      ),
    );
    await waitFor(watch, /subscribed to x0\/mesh\.test\/#/);
    const common = ['--broker', `127.0.0.1:${broker.port}`, '--interval-ms', '300', '--count', '4'];
    const alphaRun = run(
      x0Runtime(bundlePath, 'uplink', '--dir', mesh.nodeDir('alpha'), '--simulate', '1', '--mqtt', '3.1.1', ...common),
      30_000,
    );
    // A genuine telemetry message of alpha's, captured and replayed with one byte flipped; and an unsigned one.
    const genuine = await capture(broker.port, 'x0/mesh.test/alpha/telemetry', async () => {});
    const bravoRun = run(
      x0Node('uplink', '--dir', mesh.nodeDir('bravo'), '--simulate', '2', '--format', 'json', ...common),
      30_000,
    );
    const tampered = new Uint8Array(genuine);
    tampered[tampered.length - 100] = (tampered[tampered.length - 100] as number) ^ 0x20;
    await publishRaw(broker.port, 'x0/mesh.test/alpha/telemetry', tampered);
    await publishRaw(
      broker.port,
      'x0/mesh.test/bravo/telemetry',
      new TextEncoder().encode('{"v":1,"kind":"telemetry","node":"bravo","data":{"statistics":{"loadavg":99}}}'),
    );
    const [alpha, bravo] = await Promise.all([alphaRun, bravoRun]);
    assert.is(alpha.code, 0, alpha.stdout + alpha.stderr);
    assert.is(bravo.code, 0, bravo.stdout + bravo.stderr);
    assert.match(alpha.stdout, /uplink alpha: done: 4 telemetry messages/);
    await waitFor(watch, /"kind":"status".*"node":"bravo".*|"node":"bravo".*"kind":"status"/, 10_000);
    watch.child.kill('SIGINT');
    await watch.done;
    const lines = watch.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const verified = lines.filter((l) => l.ok === true);
    const rejected = lines.filter((l) => l.ok === false && l.benign !== true).map((l) => l.reason);
    for (const node of ['alpha', 'bravo']) {
      assert.ok(
        verified.filter((l) => l.node === node && l.kind === 'telemetry').length >= 4,
        `${node}: 4 verified telemetry messages`,
      );
      assert.ok(
        verified.some((l) => l.node === node && l.kind === 'status'),
        `${node}: verified status`,
      );
    }
    assert.ok(rejected.includes('bad-signature'), `tampered refused: ${rejected}`);
    assert.ok(rejected.includes('cose-malformed'), `unsigned refused: ${rejected}`);
    const summary = lines[lines.length - 1] as { summary: boolean; rejected: Record<string, number> };
    assert.ok(summary.summary);
    assert.is(summary.rejected['bad-signature'], 1);
    assert.is(summary.rejected['cose-malformed'], 1);
    const telemetry = verified.find((l) => l.node === 'alpha' && l.kind === 'telemetry') as {
      data: { neighbours: { batadv: Record<string, unknown> }; nodeinfo: unknown; statistics: unknown };
    };
    assert.ok(
      telemetry.data.nodeinfo !== undefined &&
        telemetry.data.statistics !== undefined &&
        Object.keys(telemetry.data.neighbours.batadv).length > 0,
      'respondd-shaped telemetry',
    );
  } finally {
    await broker.stop();
  }
});

test('x0 exporter serves verified metrics; operator commands run only with the operator key', async () => {
  const dir = testDir('exporter');
  const broker = await Mosquitto.start(dir);
  const mesh = makeMesh(dir, 'mesh.test', ['alpha']);
  try {
    const key = await run(x0Node('cmd', 'keygen', '--out', `${dir}/operator.key`));
    assert.is(key.code, 0, key.stderr);
    const stranger = await run(x0Node('cmd', 'keygen', '--out', `${dir}/stranger.key`));
    assert.is(stranger.code, 0, stranger.stderr);
    const port = await freePort();
    const exporter = start(
      x0Node(
        'exporter',
        '--bundle',
        mesh.bundlePath,
        '--broker',
        `127.0.0.1:${broker.port}`,
        '--listen',
        `127.0.0.1:${port}`,
        '--duration-ms',
        '40000',
      ),
    );
    await waitFor(exporter, /exporter: http:/);
    const uplink = start(
      x0Runtime(
        bundlePath,
        'uplink',
        '--dir',
        mesh.nodeDir('alpha'),
        '--broker',
        `127.0.0.1:${broker.port}`,
        '--interval-ms',
        '200',
        '--simulate',
        '3',
        '--operator-key',
        key.stdout.trim(),
      ),
    );
    await waitFor(uplink, /uplink alpha@mesh\.test/);
    let metrics = '';
    for (let i = 0; i < 100 && !/x0_node_neighbour_tq\{/.test(metrics); i++) {
      await sleep(100);
      metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    }
    assert.match(metrics, /^x0_node_up\{mesh="mesh\.test",node="alpha"\} 1$/m);
    assert.match(metrics, /^x0_node_uptime_seconds\{mesh="mesh\.test",node="alpha"\} [\d.]+$/m);
    assert.match(
      metrics,
      /^x0_node_neighbour_tq\{mesh="mesh\.test",node="alpha",iface="mesh0",neighbour="02:00:03:00:00:01"\} \d+$/m,
    );
    assert.match(metrics, /^# TYPE x0_messages_verified_total counter$/m);
    const events: string[] = [];
    const sub = mqttConnect(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion: 5 });
    sub.on('message', (_t, payload) => events.push(payload.toString('latin1')));
    await new Promise<void>((resolve) => sub.once('connect', () => resolve()));
    await sub.subscribeAsync('x0/mesh.test/alpha/events', { qos: 1 });
    const send = (keyFile: string) =>
      run(
        x0Node(
          'cmd',
          'send',
          '--key',
          keyFile,
          '--mesh',
          'mesh.test',
          '--node',
          'alpha',
          '--name',
          'ping',
          '--broker',
          `127.0.0.1:${broker.port}`,
        ),
      );
    assert.is((await send(`${dir}/operator.key`)).code, 0);
    assert.is((await send(`${dir}/stranger.key`)).code, 0);
    for (let i = 0; i < 100 && events.length < 2; i++) await sleep(50);
    const all = events.join('\n');
    assert.match(all, /cmd-result[\s\S]*pong/, 'the operator ping is answered');
    assert.match(all, /cmd-rejected[\s\S]*operator-unknown/, 'the stranger is refused');
    await sub.endAsync();
    uplink.child.kill('SIGTERM');
    exporter.child.kill('SIGINT');
    await Promise.all([uplink.done, exporter.done]);
  } finally {
    await broker.stop();
  }
});

test.run();
