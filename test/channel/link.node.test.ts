// The sealed link (src/channel/link.ts) between three nodes on loopback UDP, on the Node platform: services
// delivered with the sender named by its certificate, Raft only from anchors, large messages fragmented and
// reassembled; and what an attacker on the network can send (plain datagrams, forged and replayed records, a node of
// another CA) is dropped and counted, with the link between the real nodes working afterwards.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as dgram from 'node:dgram';
import { SealedLink, type LinkPeer } from '../../src/channel/link.js';
import { createRoot, issueNodeCert, type Issuer } from '../../src/core/identity/ca.js';
import { createTrustBundle, noRevocations, type TrustBundle } from '../../src/core/identity/chain.js';
import type { Certificate } from '../../src/core/identity/cert.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import type { HostPort, KeyPair, UdpSocket } from '../../src/platform/types.js';
import { freePort } from '../lib/processes.js';

const platform = createNodePlatform({ argv: [] });
const crypto = platform.crypto;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Node {
  name: string;
  port: number;
  chain: Certificate[];
  sign: KeyPair;
  link?: SealedLink;
  sockets: Partial<Record<'gossip' | 'raft', UdpSocket>>;
  got: { service: string; from: HostPort; data: Uint8Array }[];
}

function ca(): { issuer: Issuer; bundle: TrustBundle } {
  const root = createRoot(crypto, { trustDomain: 'link.test', nowMs: Date.now() });
  const bundle = createTrustBundle(crypto, 'link.test', [root.issuer.cert]);
  if (!bundle.ok) throw new Error(bundle.reason);
  return { issuer: root.issuer, bundle: bundle.value };
}

function node(issuer: Issuer, name: string, port: number): Node {
  const sign = crypto.signKeyPair();
  const box = crypto.boxKeyPair();
  const cert = issueNodeCert(crypto, issuer, {
    name,
    signPublicKey: sign.publicKey,
    boxPublicKey: box.publicKey,
    nowMs: Date.now(),
  });
  return { name, port, chain: [cert], sign, sockets: {}, got: [] };
}

const peerOf = (n: Node): LinkPeer => ({
  name: n.name,
  link: { host: '127.0.0.1', port: n.port },
  services: { gossip: { host: '127.0.0.1', port: n.port }, raft: { host: '127.0.0.1', port: n.port + 1 } },
});

async function open(n: Node, bundle: TrustBundle, all: Node[], anchors: string[]): Promise<SealedLink> {
  const link = await SealedLink.open(platform, {
    listen: { host: '127.0.0.1', port: n.port },
    chain: n.chain,
    signSecretKey: n.sign.secretKey,
    bundle,
    revocations: noRevocations,
    peers: all.filter((p) => p !== n).map(peerOf),
    allow: (service, peer) => (service === 'raft' ? anchors.includes(peer) : all.some((p) => p.name === peer)),
  });
  for (const service of ['gossip', 'raft'] as const)
    n.sockets[service] = link.socket(
      service,
      { onMessage: (data, from) => n.got.push({ service, from, data }) },
      { host: '127.0.0.1', port: n.port },
    );
  n.link = link;
  return link;
}

const mesh = ca();
const ports = await Promise.all([freePort(), freePort(), freePort()]);
const [a, b, c] = [
  node(mesh.issuer, 'a', ports[0] as number),
  node(mesh.issuer, 'b', ports[1] as number),
  node(mesh.issuer, 'c', ports[2] as number),
];
const all = [a, b, c];

test.after(() => {
  for (const n of all) n.link?.close();
});

test("services reach the right socket, named by the sender's certificate; Raft only from anchors; 40 KB in fragments", async () => {
  for (const n of all) await open(n, mesh.bundle, all, ['a', 'b']);
  const gossipA = { host: '127.0.0.1', port: a.port };
  const raftB = { host: '127.0.0.1', port: b.port + 1 };
  // Sockets of the services, as a component uses them: send to the peer's service address.
  const send = (from: Node, service: 'gossip' | 'raft', to: HostPort, data: Uint8Array) =>
    (from.sockets[service] as UdpSocket).send(data, to);
  assert.is(send(b, 'gossip', gossipA, new Uint8Array([1, 2, 3])), null);
  const big = Uint8Array.from({ length: 40_000 }, (_, i) => (i * 7) & 0xff);
  assert.is(send(a, 'raft', raftB, big), null);
  assert.is(
    send(c, 'raft', { host: '127.0.0.1', port: a.port + 1 }, new Uint8Array([9])),
    null,
    'c sends Raft though it is no anchor',
  );
  for (let i = 0; i < 100 && (a.got.length < 1 || b.got.length < 1 || (c.link?.established().length ?? 0) < 1); i++)
    await sleep(50);
  await sleep(200);
  assert.equal(
    a.got.map((g) => [g.service, g.from.port, [...g.data]]),
    [['gossip', b.port, [1, 2, 3]]],
    "a got gossip from b, named by b's gossip address",
  );
  assert.is(b.got.length, 1);
  assert.equal([b.got[0]?.service, b.got[0]?.from.port], ['raft', a.port + 1]);
  assert.equal(b.got[0]?.data, big, 'the 40 KB Raft message arrived whole');
  assert.is(a.link?.counters.get('raft-not-allowed'), 1, "a dropped c's Raft message and counted it");
  assert.not.ok(a.got.some((g) => g.service === 'raft'));
});

test("plain, forged and replayed datagrams and another CA's node are dropped and counted; the real nodes keep talking", async () => {
  const attacker = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => attacker.bind(0, '127.0.0.1', resolve));
  const shoot = (bytes: Uint8Array, port: number) =>
    new Promise<void>((resolve) => attacker.send(bytes, port, '127.0.0.1', () => resolve()));
  const before = a.got.length;
  // Plain gossip-looking bytes, a forged data record (type 4: right header, garbage seal), random junk.
  await shoot(new Uint8Array([1, 0, 1, 0, 1, 42]), a.port);
  await shoot(Uint8Array.from([4, 0, 0, 0, 1, 0, 0, ...new Array(40).fill(7)]), a.port);
  for (let i = 0; i < 20; i++)
    await shoot(
      Uint8Array.from({ length: 60 + i }, (_, j) => (i * 13 + j) & 0xff),
      a.port,
    );
  // A replay: capture what b sends to a, then send the same bytes again from the attacker.
  const captured: Uint8Array[] = [];
  // The test reads b's outgoing datagrams at its transport (a private field: the only place they exist in clear).
  const realSend = (b.link as unknown as { transport: { send(to: string, bytes: Uint8Array): string | null } })
    .transport;
  const original = realSend.send.bind(realSend);
  realSend.send = (to, bytes) => {
    captured.push(bytes);
    return original(to, bytes);
  };
  (b.sockets.gossip as UdpSocket).send(new Uint8Array([5, 5]), { host: '127.0.0.1', port: a.port });
  realSend.send = original;
  await sleep(200);
  const afterFirst = a.got.length;
  assert.is(afterFirst, before + 1, 'the genuine message arrived once');
  for (const bytes of captured) await shoot(bytes, a.port);
  // Another CA's node with a name a knows: its handshake is refused.
  const other = ca();
  const x = node(other.issuer, 'b', await freePort());
  await open(x, other.bundle, [a, x], []);
  (x.sockets.gossip as UdpSocket).send(new Uint8Array([6]), { host: '127.0.0.1', port: a.port });
  await sleep(1500);
  assert.is(a.got.length, afterFirst, 'nothing from the attacker, the replay or the foreign node was delivered');
  const counted = a.link?.counters.snapshot() ?? {};
  const endpoint = a.link?.channelCounters() ?? {};
  const refusals = Object.entries(endpoint)
    .filter(([k]) => !k.startsWith('closed'))
    .reduce((n, [, v]) => n + v, 0);
  assert.ok(
    refusals >= 22,
    `the endpoint counted the plain, forged and replayed datagrams: ${JSON.stringify(endpoint)}`,
  );
  assert.ok(
    Object.keys(endpoint).some((k) => /replay|duplicate|counter/.test(k)),
    `a replay reason is counted: ${JSON.stringify(endpoint)}`,
  );
  assert.ok(
    !('from-unknown-node' in counted) || (counted['from-unknown-node'] ?? 0) === 0,
    'the foreign node never got a session to deliver through',
  );
  // The real nodes still talk.
  (b.sockets.gossip as UdpSocket).send(new Uint8Array([7]), { host: '127.0.0.1', port: a.port });
  await until(() => a.got.some((g) => g.data[0] === 7));
  x.link?.close();
  attacker.close();
});

test('peers found at run time (setPeers) are let in; a dial that finds another name than the expected one fails', async () => {
  const [dPort, ePort, fPort] = [await freePort(), await freePort(), await freePort()];
  const [d, e, f] = [node(mesh.issuer, 'd', dPort), node(mesh.issuer, 'e', ePort), node(mesh.issuer, 'f', fPort)];
  const idOf = (name: string) => `spiffe://link.test/node/${name}`;
  // As the agent opens it: gossip from any listed peer; the list changes at run time.
  const unknown: string[] = [];
  const bare = async (n: Node, peers: LinkPeer[]) => {
    n.link = await SealedLink.open(platform, {
      listen: { host: '127.0.0.1', port: n.port },
      chain: n.chain,
      signSecretKey: n.sign.secretKey,
      bundle: mesh.bundle,
      revocations: noRevocations,
      peers,
      allow: (service) => service === 'gossip',
      onUnknownPeer: (name, from) => unknown.push(`${n.name}<-${name}@${from}`),
    });
    n.sockets.gossip = n.link.socket(
      'gossip',
      { onMessage: (data, from) => n.got.push({ service: 'gossip', from, data }) },
      { host: '127.0.0.1', port: n.port },
    );
  };
  await bare(d, [{ ...peerOf(f), expectedId: idOf('f') }]);
  await bare(f, []);
  // e believes c listens at d's address (a wrong or forged announcement): the dial expects c's certificate.
  await bare(e, [{ ...peerOf(c), link: { host: '127.0.0.1', port: d.port }, expectedId: idOf('c') }]);
  try {
    const toF = { host: '127.0.0.1', port: f.port };
    // f does not list d yet: d's message is dropped and counted.
    assert.is((d.sockets.gossip as UdpSocket).send(new Uint8Array([4]), toF), null);
    await until(() => (f.link?.counters.get('from-unknown-node') ?? 0) >= 1);
    assert.is(f.got.length, 0);
    // The link names the unknown sender by its certificate and where its session came from (the agent lists it).
    assert.equal(unknown, [`f<-d@127.0.0.1:${d.port}`]);
    // d is found (through batman-adv, in the agent): f lists it, and d's next message is delivered, named d.
    f.link?.setPeers([{ ...peerOf(d), expectedId: idOf('d') }]);
    assert.is((d.sockets.gossip as UdpSocket).send(new Uint8Array([5]), toF), null);
    await until(() => f.got.length === 1);
    assert.equal([f.got[0]?.from.port, [...(f.got[0]?.data ?? [])]], [d.port, [5]]);
    // Removed again: the session ends.
    f.link?.setPeers([]);
    await until(() => (f.link?.established().length ?? 1) === 0);
    // e's dial to "c" reaches d, whose certificate names d: the handshake fails, no session, nothing delivered.
    assert.is((e.sockets.gossip as UdpSocket).send(new Uint8Array([6]), { host: '127.0.0.1', port: c.port }), null);
    await until(() => (e.link?.counters.get('channel-handshake-failed') ?? 0) >= 1);
    assert.is(e.link?.channelCounters()['peer-id-mismatch'], 1);
    assert.equal(e.link?.established(), []);
    assert.is(d.got.length, 0);
  } finally {
    for (const n of [d, e, f]) n.link?.close();
  }
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await sleep(50);
  assert.ok(check(), 'condition reached within 5 s');
}

test.run();
