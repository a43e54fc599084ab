import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as dgram from 'node:dgram';
import { runHelloAgent } from '../../src/hello/agent.js';
import { createNodePlatform } from '../../src/platform/node/index.js';

const quiet = () => createNodePlatform({ argv: [] });

test('two agents on the Node platform exchange verified hellos over loopback UDP', async () => {
  const p = quiet();
  const output: string[] = [];
  const platform = {
    ...p,
    stdout: (text: string) => {
      output.push(text);
    },
  };
  const [a, b] = await Promise.all([
    runHelloAgent(platform, {
      name: 'a',
      transport: 'udp',
      listen: { host: '127.0.0.1', port: 0 + 47311 },
      peer: { host: '127.0.0.1', port: 47312 },
      intervalMs: 20,
      timeoutMs: 5000,
    }),
    runHelloAgent(platform, {
      name: 'b',
      transport: 'udp',
      listen: { host: '127.0.0.1', port: 47312 },
      peer: { host: '127.0.0.1', port: 47311 },
      intervalMs: 20,
      timeoutMs: 5000,
    }),
  ]);
  assert.ok(a.ok);
  assert.ok(b.ok);
  assert.is(a.received[0]?.node, 'b');
  assert.is(b.received[0]?.node, 'a');
  assert.ok(output.some((line) => line.includes('verified hello from b')));
});

test('two agents exchange verified hellos over TCP frames, whichever starts first', async () => {
  const platform = { ...quiet(), stdout: () => {} };
  const a = runHelloAgent(platform, {
    name: 'a',
    transport: 'tcp',
    listen: { host: '127.0.0.1', port: 47331 },
    peer: { host: '127.0.0.1', port: 47332 },
    intervalMs: 20,
    timeoutMs: 5000,
  });
  await new Promise((r) => setTimeout(r, 100));
  const b = runHelloAgent(platform, {
    name: 'b',
    transport: 'tcp',
    listen: { host: '127.0.0.1', port: 47332 },
    peer: { host: '127.0.0.1', port: 47331 },
    intervalMs: 20,
    timeoutMs: 5000,
  });
  const [ra, rb] = await Promise.all([a, b]);
  assert.ok(ra.ok);
  assert.ok(rb.ok);
  assert.is(ra.received[0]?.node, 'b');
});

test('garbage datagrams are counted by reason and the agent still completes', async () => {
  const p = quiet();
  const platform = { ...p, stdout: () => {} };
  const noise = dgram.createSocket('udp4');
  const spam = setInterval(() => noise.send(Buffer.from([0xff, 0x00, 0x13]), 47322, '127.0.0.1'), 10);
  try {
    const [a] = await Promise.all([
      runHelloAgent(platform, {
        name: 'a',
        transport: 'udp',
        listen: { host: '127.0.0.1', port: 47322 },
        peer: { host: '127.0.0.1', port: 47323 },
        intervalMs: 30,
        timeoutMs: 5000,
      }),
      runHelloAgent(platform, {
        name: 'b',
        transport: 'udp',
        listen: { host: '127.0.0.1', port: 47323 },
        peer: { host: '127.0.0.1', port: 47322 },
        intervalMs: 30,
        timeoutMs: 5000,
      }),
    ]);
    assert.ok(a.ok);
    assert.ok((a.rejected['hello-malformed'] ?? 0) > 0);
  } finally {
    clearInterval(spam);
    noise.close();
  }
});

test('an agent with no peer times out with ok=false', async () => {
  const platform = { ...quiet(), stdout: () => {} };
  const result = await runHelloAgent(platform, {
    name: 'lonely',
    transport: 'udp',
    listen: { host: '127.0.0.1', port: 0 },
    peer: { host: '127.0.0.1', port: 47399 },
    intervalMs: 20,
    timeoutMs: 200,
  });
  assert.is(result.ok, false);
  assert.is(result.received.length, 0);
});

test.run();
