// Issue 14 item 9, as a new user met it: `x0 uplink` printed its banner and then nothing, forever, when the
// broker was unreachable or named by host name, and spoke MQTT 5 to the embedded aedes broker (3.1.1 only).
// Now every failed attempt is logged with what failed and the backoff before the next one; x0-runtime (no
// DNS resolver) refuses a name it cannot resolve at once, saying why; MQTT 3.1.1 is the default.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { bundlePath, freePort, run, runtimePath } from '../lib/processes.js';
import { makeMesh, start, testDir, waitFor, x0Node, x0Runtime, type Running } from '../mqtt/lib.js';

test.before(() => {
  assert.ok(
    existsSync(runtimePath) && existsSync(bundlePath),
    'build/x0-runtime and dist/x0tta6bl4.js are needed (bash scripts/setup.sh)',
  );
});

/** The retry log lines: attempt number and the delay announced. */
function attempts(text: string, what: string): { attempt: number; delayS: number }[] {
  const pattern = new RegExp(
    `warn uplink: broker \\S+: ${what} \\(\\S+\\); retrying in ([\\d.]+) s attempt=(\\d+)`,
    'g',
  );
  return [...text.matchAll(pattern)].map((m) => ({ attempt: Number(m[2]), delayS: Number(m[1]) }));
}

async function stop(running: Running): Promise<void> {
  running.child.kill('SIGTERM');
  await running.done;
}

test('unreachable broker (connection refused): every attempt is logged, with a growing backoff', async () => {
  const dir = testDir('uplink-refused');
  const mesh = makeMesh(dir, 'mesh.test', ['alpha']);
  const port = await freePort(); // nothing listens there
  const uplink = start(
    x0Node('uplink', '--dir', mesh.nodeDir('alpha'), '--broker', `127.0.0.1:${port}`, '--simulate', '1'),
  );
  try {
    await waitFor(uplink, /attempt=4/, 15_000);
  } finally {
    await stop(uplink);
  }
  const seen = attempts(uplink.stderr, 'connection refused');
  assert.equal(
    seen.slice(0, 4).map((a) => a.attempt),
    [1, 2, 3, 4],
    uplink.stderr,
  );
  // Equal jitter: attempt n waits within [step/2, step], step = 0.5 s * 2^(n-1).
  seen
    .slice(0, 4)
    .forEach((a, i) =>
      assert.ok(
        a.delayS >= 0.25 * 2 ** i - 0.05 && a.delayS <= 0.5 * 2 ** i + 0.05,
        `attempt ${a.attempt}: ${a.delayS} s`,
      ),
    );
  assert.match(uplink.stderr, /hint="nothing listens there/);
});

test('a host name that does not resolve (Node): "name not resolved", retried', async () => {
  const dir = testDir('uplink-name');
  const mesh = makeMesh(dir, 'mesh.test', ['alpha']);
  // .invalid never resolves (RFC 6761); with no DNS server at all the answer is EAI_AGAIN, named the same.
  const uplink = start(
    x0Node('uplink', '--dir', mesh.nodeDir('alpha'), '--broker', 'broker.invalid:1883', '--simulate', '1'),
  );
  try {
    await waitFor(uplink, /attempt=2/, 20_000);
  } finally {
    await stop(uplink);
  }
  assert.ok(attempts(uplink.stderr, 'name not resolved').length >= 2, uplink.stderr);
  assert.match(uplink.stderr, /check the host name 'broker\.invalid'/);
});

test('x0-runtime: a name it cannot resolve is refused at once (exit 1), saying why and what to do', async () => {
  const dir = testDir('uplink-name-qjs');
  const mesh = makeMesh(dir, 'mesh.test', ['alpha']);
  const started = Date.now();
  const r = await run(
    x0Runtime(
      bundlePath,
      'uplink',
      '--dir',
      mesh.nodeDir('alpha'),
      '--broker',
      'broker.invalid:1883',
      '--simulate',
      '1',
    ),
    10_000,
  );
  assert.is(r.code, 1, r.stdout + r.stderr);
  assert.ok(Date.now() - started < 5000, 'promptly');
  assert.match(r.stderr, /broker host 'broker\.invalid' not resolved: x0-runtime has no DNS resolver/);
  assert.match(r.stderr, /--broker as an IP address/);
});

test('MQTT 3.1.1 by default: x0-runtime publishes to the embedded aedes broker by "localhost"; --mqtt 5 is named as refused', async () => {
  const dir = testDir('uplink-default-version');
  const mesh = makeMesh(dir, 'mesh.test', ['alpha']);
  const port = await freePort();
  const watch = start(
    x0Node(
      'watch',
      '--embedded-broker',
      '--broker',
      `127.0.0.1:${port}`,
      '--bundle',
      mesh.bundlePath,
      '--json',
      '--duration-ms',
      '40000',
    ),
  );
  try {
    await waitFor(watch, /subscribed to x0\/mesh\.test\/#/);
    const common = [
      'uplink',
      '--dir',
      mesh.nodeDir('alpha'),
      '--broker',
      `localhost:${port}`,
      '--simulate',
      '1',
      '--interval-ms',
      '200',
    ];
    const plain = await run(x0Runtime(bundlePath, ...common, '--count', '2'), 20_000);
    assert.is(plain.code, 0, plain.stdout + plain.stderr);
    assert.match(plain.stdout, /mqtt v3\.1\.1/);
    assert.match(plain.stdout, /uplink alpha: done: 2 telemetry messages/);
    const v5 = start(x0Runtime(bundlePath, ...common, '--mqtt', '5'));
    try {
      await waitFor(v5, /attempt=1/, 15_000);
    } finally {
      await stop(v5);
    }
    assert.match(
      v5.stderr,
      /broker refused MQTT 5 \(unsupported protocol version\) \(protocol-version-refused\)/,
      v5.stderr,
    );
    assert.match(v5.stderr, /hint="use --mqtt 3\.1\.1"/);
  } finally {
    await stop(watch);
  }
});

test.run();
