// The sealed channel over TCP streams, between real processes: an x0-runtime node (QuickJS-ng, native
// crypto, the shipped bundle) and Node nodes talk over loopback TCP with the same handshake and records as
// over UDP; a revoked and a foreign node are refused. Then the bad-input cases a stream adds (an oversized
// length, an empty frame, a frame cut by the close, a peer that hangs up mid-handshake), thrown at an
// x0-runtime node from a raw socket and at the Node binding in-process: each is closed and counted, and no
// half-open handshake or stream is left behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync } from 'node:fs';
import * as net from 'node:net';
import { freePort, root, run, runtimePath, type RunResult } from '../lib/processes.js';
import { enrol, must, tempDir } from '../identity/cli-lib.js';
import { encodeInit } from '../../src/core/channel/messages.js';
import { openChannelNode, type ChannelNode } from '../../src/channel/node.js';
import { TcpTransport } from '../../src/channel/tcp-transport.js';
import { channelLimits } from '../../src/core/channel/limits.js';
import { createNodePlatform } from '../../src/platform/node/index.js';

const nodeCmd = [process.execPath, '--import', 'tsx', `${root}src/entry/node.ts`];
const qjsCmd = [runtimePath, `${root}dist/x0tta6bl4.js`];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function requireRuntime(): void {
  if (!existsSync(runtimePath)) throw new Error(`${runtimePath} is missing: run bash scripts/setup.sh`);
  if (!existsSync(qjsCmd[1]!)) throw new Error(`${qjsCmd[1]} is missing: run npm run build`);
}

const channel = (cmd: string[], dir: string, listen: number, extra: string[]) =>
  run([...cmd, 'channel', '--transport', 'tcp', '--dir', dir, '--listen', `127.0.0.1:${listen}`, ...extra], 30_000);

test('x0-runtime and Node processes talk over sealed TCP; a revoked and a foreign node are refused', async () => {
  requireRuntime();
  const dir = tempDir('tcp');
  await enrol(dir, 'mesh.test', ['a', 'b', 'c']);
  await must('ca', 'revoke', '--node', 'c', '--dir', `${dir}/ca`);
  copyFileSync(`${dir}/ca/revocations.cbor`, `${dir}/a/revocations.cbor`);
  await enrol(`${dir}/other`, 'mesh.test', ['x']); // another CA, same trust-domain name
  const [pa, pb, pc, px] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const peerA = ['--peer', `127.0.0.1:${pa}`];
  // b dials before a listens: the binding retries a refused connect.
  const b = channel(nodeCmd, `${dir}/b`, pb, [
    ...peerA,
    '--send',
    'hello from b',
    '--expect',
    '1',
    '--timeout-ms',
    '12000',
  ]);
  await sleep(300);
  const a = channel(qjsCmd, `${dir}/a`, pa, [
    '--send',
    'hello from a',
    '--expect',
    '1',
    '--timeout-ms',
    '14000',
    '--linger-ms',
    '4000',
  ]);
  await sleep(800);
  const c = channel(qjsCmd, `${dir}/c`, pc, [...peerA, '--expect', '1', '--timeout-ms', '4000']);
  const x = channel(nodeCmd, `${dir}/other/x`, px, [...peerA, '--expect', '1', '--timeout-ms', '4000']);
  const [ra, rb, rc, rx] = (await Promise.all([a, b, c, x])) as RunResult[];
  assert.is(rb!.code, 0, rb!.stdout + rb!.stderr);
  assert.match(rb!.stdout, /established 127\.0\.0\.1:\d+ spiffe:\/\/mesh\.test\/node\/a initiator/);
  assert.match(rb!.stdout, /received spiffe:\/\/mesh\.test\/node\/a hello from a/);
  assert.is(ra!.code, 0, ra!.stdout + ra!.stderr);
  assert.match(ra!.stdout, /received spiffe:\/\/mesh\.test\/node\/b hello from b/);
  // a refused c at M3 and closed its stream; c never got a message through.
  assert.match(ra!.stdout, /handshake-failed 127\.0\.0\.1:\d+\s+cert-revoked/);
  assert.is(rc!.code, 1);
  assert.not.match(rc!.stdout, /received spiffe/);
  assert.match(rc!.stdout, /closed 127\.0\.0\.1:\d+ spiffe:\/\/mesh\.test\/node\/a stream-closed/);
  assert.is(rx!.code, 1);
  assert.match(rx!.stdout, /handshake-failed 127\.0\.0\.1:\d+\s+unknown-issuer/);
  assert.not.match(ra!.stdout, /node\/x/);
  assert.match(ra!.stdout, /pending initiators=0 responders=0/);
});

/** Opens a raw TCP connection, writes `bytes`, optionally waits for a reply, then ends it. */
function rawClient(
  port: number,
  bytes: Uint8Array,
  options: { waitReply?: boolean } = {},
): Promise<{ reply: number; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = 0;
    let ended = false;
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      reply += chunk.length;
      if (options.waitReply === true && !ended) {
        ended = true;
        socket.end();
      }
    });
    socket.on('end', () => {
      if (!ended) {
        ended = true;
        resolve({ reply, closedByServer: true });
        socket.end();
      }
    });
    socket.on('close', () => resolve({ reply, closedByServer: false }));
    socket.once('connect', () => {
      socket.write(bytes);
      if (options.waitReply !== true)
        setTimeout(() => {
          if (!ended) {
            ended = true;
            socket.end();
          }
        }, 300);
    });
    setTimeout(() => reject(new Error('raw client: no close within 5 s')), 5000);
  });
}

const frame = (body: Uint8Array) => Uint8Array.from([body.length >> 8, body.length & 0xff, ...body]);
const m1 = (trustDomain: string) => encodeInit({ senderIndex: 7, ephemeral: new Uint8Array(32).fill(9), trustDomain });

/** The four bad streams, one after the other, against a node listening on `port`. */
async function badStreams(port: number): Promise<void> {
  const oversized = await rawClient(port, Uint8Array.from([0xff, 0xff, 1, 2, 3]));
  assert.ok(oversized.closedByServer, 'an oversized length closes the stream');
  const empty = await rawClient(port, Uint8Array.from([0, 0]));
  assert.ok(empty.closedByServer, 'an empty frame closes the stream');
  await rawClient(port, Uint8Array.from([0x02, 0x58, ...new Uint8Array(100)])); // 600 announced, 100 sent
  const midHandshake = await rawClient(port, frame(m1('mesh.test')), { waitReply: true });
  assert.ok(midHandshake.reply > 100, 'the node answered M1 with M2 before the peer hung up');
}

test('x0-runtime: oversized, empty and truncated frames and a hang-up mid-handshake are counted; nothing half-open stays', async () => {
  requireRuntime();
  const dir = tempDir('tcp-bad');
  await enrol(dir, 'mesh.test', ['a']);
  const port = await freePort();
  const node = channel(qjsCmd, `${dir}/a`, port, ['--timeout-ms', '4500']);
  await sleep(1200);
  await badStreams(port);
  const r = await node;
  assert.is(r.code, 0, r.stdout + r.stderr);
  for (const reason of ['frame-too-large', 'frame-empty', 'frame-truncated', 'stream-closed-mid-handshake'])
    assert.match(r.stdout, new RegExp(`${reason}=1`), reason);
  assert.match(r.stdout, /pending initiators=0 responders=0 sessions=0/);
});

test('Node binding in-process: the same bad streams leave no handshake and no stream open', async () => {
  const dir = tempDir('tcp-bad-node');
  await enrol(dir, 'mesh.test', ['a']);
  const platform = { ...createNodePlatform({ argv: [] }), stdout: () => {}, stderr: () => {} };
  const opened = await openChannelNode(platform, {
    dir: `${dir}/a`,
    transport: 'tcp',
    listen: { host: '127.0.0.1', port: 0 },
    peers: [],
    messages: [],
  });
  if (typeof opened === 'string') throw new Error(opened);
  const node: ChannelNode = opened;
  try {
    await badStreams(node.transport.local.port);
    await sleep(100);
    node.tick();
    assert.equal(node.endpoint.pendingCounts(), { initiators: 0, responders: 0, sessions: 0 });
    assert.is((node.transport as TcpTransport).streamCount, 0);
    const counters = { ...node.transport.counters.snapshot(), ...node.endpoint.counters.snapshot() };
    assert.equal(
      [
        counters['frame-too-large'],
        counters['frame-empty'],
        counters['frame-truncated'],
        counters['stream-closed-mid-handshake'],
      ],
      [1, 1, 1, 1],
    );
  } finally {
    node.close();
  }
});

test('a stream that never completes a handshake is closed after the limit; a new stream evicts the oldest idle one', async () => {
  const platform = createNodePlatform({ argv: [] });
  const disconnected: string[] = [];
  const transport = new TcpTransport(
    platform,
    { onMessage: () => {}, onConnected: () => {}, onDisconnected: (_, reason) => disconnected.push(reason) },
    { ...channelLimits, streamsMax: 2, streamHandshakeMs: 200 },
  );
  await transport.listen({ host: '127.0.0.1', port: 0 });
  transport.tick(platform.monotonicMs(), () => false);
  const sockets = [0, 1, 2].map(() => net.connect(transport.local.port, '127.0.0.1').on('error', () => {}));
  try {
    await sleep(300);
    assert.is(transport.streamCount, 2);
    assert.is(transport.counters.get('stream-evicted'), 1);
    transport.tick(platform.monotonicMs(), () => false);
    assert.is(transport.streamCount, 0);
    assert.equal(disconnected, ['stream-evicted', 'stream-no-session', 'stream-no-session']);
  } finally {
    for (const s of sockets) s.destroy();
    transport.close();
  }
});

// Issue 16: a trickle of idle connections (one per slot per streamHandshakeMs) kept every slot taken, and a
// real peer's stream was closed at accept ('stream-limit') for as long as the trickle lasted.
test('a trickle of idle connections does not keep a new peer out: it gets a stream, streams with a session stay', async () => {
  const platform = createNodePlatform({ argv: [] });
  const messages: string[] = [];
  const transport = new TcpTransport(
    platform,
    { onMessage: (address) => messages.push(address), onConnected: () => {}, onDisconnected: () => {} },
    { ...channelLimits, streamsMax: 4, streamHandshakeMs: 400 },
  );
  await transport.listen({ host: '127.0.0.1', port: 0 });
  const port = transport.local.port;
  const sockets: net.Socket[] = [];
  const idle = () => sockets.push(net.connect(port, '127.0.0.1').on('error', () => {}));
  try {
    // A peer with a session (say the node has one with it) and an attacker filling the rest, then trickling.
    const friend = net.connect(port, '127.0.0.1').on('error', () => {});
    sockets.push(friend);
    await sleep(100);
    const friendAddress = `127.0.0.1:${friend.localPort}`;
    const established = (address: string) => address === friendAddress;
    for (let i = 0; i < 3; i++) idle();
    await sleep(100);
    // The trickle: after each tick (which closes streams idle past streamHandshakeMs) the attacker tops up.
    for (let round = 0; round < 6; round++) {
      transport.tick(platform.monotonicMs(), established);
      for (let i = transport.streamCount; i < 4; i++) idle();
      await sleep(100);
    }
    assert.is(transport.streamCount, 4, 'every slot is taken when the new peer connects');
    const peer = net.connect(port, '127.0.0.1').on('error', () => {});
    sockets.push(peer);
    await sleep(100);
    peer.write(new Uint8Array([0, 1, 0x42]));
    friend.write(new Uint8Array([0, 1, 0x43]));
    await sleep(100);
    assert.ok(messages.includes(`127.0.0.1:${peer.localPort}`), `the new peer's frame was not read (${messages})`);
    assert.ok(messages.includes(friendAddress), 'the stream with a session was kept');
    assert.ok(transport.streamCount <= 4, 'streams stay bounded');
  } finally {
    for (const s of sockets) s.destroy();
    transport.close();
  }
});

test.run();
