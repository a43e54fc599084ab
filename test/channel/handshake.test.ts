import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RevocationStore, signRevocationList } from '../../src/core/identity/revocation.js';
import { issueNodeCert } from '../../src/core/identity/ca.js';
import { MessageType } from '../../src/core/channel/messages.js';
import { buildWorld, crypto, hourMs, nodeKeys } from '../identity/fixtures.js';
import { Net } from './harness.js';

const world = buildWorld();
const otherCa = buildWorld(crypto, 'mesh.example', 40);
const otherDomain = buildWorld(crypto, 'other.example', 70);

function pair(limits = {}) {
  const net = new Net();
  const a = net.add('A', crypto, world.a, world.bundle, limits);
  const b = net.add('B', crypto, world.b, world.bundle, limits);
  return { net, a, b };
}

test('two nodes of one CA establish a channel; each knows the other by SPIFFE ID; data flows both ways', () => {
  const { net, a, b } = pair();
  net.connect('A', 'B');
  assert.equal(
    a.peers().map((p) => [p.peerId, p.role, p.confirmed]),
    [['spiffe://mesh.example/node/b', 'initiator', true]],
  );
  assert.equal(
    b.peers().map((p) => [p.peerId, p.role]),
    [['spiffe://mesh.example/node/a', 'responder']],
  );
  assert.ok(net.send('A', 'B', 'hello b'));
  assert.ok(net.send('B', 'A', 'hello a'));
  net.pump();
  assert.equal(net.texts('B'), ['hello b']);
  assert.equal(net.texts('A'), ['hello a']);
  assert.equal(net.delivered.find((d) => d.at === 'B')?.peerId, 'spiffe://mesh.example/node/a');
  // Three handshake messages and one key confirmation, nothing more.
  assert.equal(
    net.log.slice(0, 4).map((w) => w.bytes[0]),
    [MessageType.Init, MessageType.Response, MessageType.Finish, MessageType.Data],
  );
  assert.equal(a.pendingCounts(), { initiators: 0, responders: 0, sessions: 1 });
});

test('a peer with a certificate from another CA is refused with unknown-issuer, nothing half-open stays', () => {
  const net = new Net();
  net.add('A', crypto, world.a, world.bundle);
  const intruder = net.add('X', crypto, otherCa.a, otherCa.bundle);
  net.connect('X', 'A');
  assert.equal(
    net.events.filter((e) => e.type === 'handshake-failed'),
    [{ at: 'X', type: 'handshake-failed', reason: 'unknown-issuer' }],
  );
  assert.is(intruder.counters.get('unknown-issuer'), 1);
  const a = net.endpoints.get('A')!;
  assert.is(a.peers().length, 0);
  net.advance(a.limits.handshakeTimeoutMs);
  assert.equal(a.pendingCounts(), { initiators: 0, responders: 0, sessions: 0 });
  assert.equal(intruder.pendingCounts(), { initiators: 0, responders: 0, sessions: 0 });
});

test('a peer from another trust domain is refused at M1 with wrong-trust-domain', () => {
  const net = new Net();
  const a = net.add('A', crypto, world.a, world.bundle);
  net.add('Y', crypto, otherDomain.a, otherDomain.bundle);
  net.connect('Y', 'A');
  assert.is(a.counters.get('wrong-trust-domain'), 1);
  assert.equal(a.pendingCounts(), { initiators: 0, responders: 0, sessions: 0 });
});

test('an expired peer certificate is refused with cert-expired; a revoked one with cert-revoked', () => {
  const k = nodeKeys(crypto, 150);
  const shortLived = issueNodeCert(crypto, world.root, {
    name: 'old',
    signPublicKey: k.sign.publicKey,
    boxPublicKey: k.box.publicKey,
    nowMs: world.a.chain[0]!.notBeforeMs - 2 * hourMs,
    ttlMs: hourMs,
  });
  const net = new Net();
  const a = net.add('A', crypto, world.a, world.bundle);
  net.add('E', crypto, { ...k, chain: [shortLived] }, world.bundle);
  net.connect('E', 'A');
  // E (the initiator) checked A first and accepted; A refused E's expired certificate at M3.
  assert.is(a.counters.get('cert-expired'), 1);
  assert.is(a.peers().length, 0);

  const store = new RevocationStore();
  store.offer(
    signRevocationList(crypto, world.root, 1, {
      issuedAtMs: 0,
      serials: [],
      nodeIds: ['spiffe://mesh.example/node/b'],
    }),
  );
  const net2 = new Net();
  const a2 = net2.add('A', crypto, world.a, world.bundle, {}, store);
  net2.add('B', crypto, world.b, world.bundle);
  net2.connect('B', 'A');
  assert.is(a2.counters.get('cert-revoked'), 1);
  assert.equal(a2.pendingCounts(), { initiators: 0, responders: 0, sessions: 0 });
});

test('a replayed handshake creates no session: a replayed M1 leaves a pending that times out, an old M3 is unknown', () => {
  const { net, a, b } = pair();
  net.connect('A', 'B');
  const [m1, , m3] = net.log.map((w) => w.bytes);
  net.inject('A', 'B', m1!);
  net.pump();
  assert.is(b.pendingCounts().responders, 1); // the attacker cannot answer the new M2 ...
  assert.is(a.counters.get('handshake-unknown-session'), 1); // ... and the real A ignores it
  net.advance(b.limits.handshakeTimeoutMs);
  assert.equal(b.pendingCounts(), { initiators: 0, responders: 0, sessions: 1 });
  net.absorb('A', a.close('B', net.now()));
  net.pump();
  assert.is(b.pendingCounts().sessions, 0);
  net.inject('A', 'B', m3!);
  net.pump();
  assert.is(b.counters.get('handshake-unknown-session'), 1);
  assert.equal(b.pendingCounts(), { initiators: 0, responders: 0, sessions: 0 });
});

test('a lost M3 is retransmitted; a duplicated M3 is answered idempotently', () => {
  const { net, a, b } = pair({ handshakeRetryMs: 500 });
  let dropped = false;
  net.filter = (w) => {
    if (!dropped && w.bytes[0] === MessageType.Finish) {
      dropped = true;
      return false;
    }
    return true;
  };
  net.connect('A', 'B');
  assert.is(b.peers().length, 0);
  assert.is(a.peers()[0]?.confirmed, false);
  net.advance(500);
  assert.is(b.peers().length, 1);
  assert.is(a.peers()[0]?.confirmed, true);
  const m3 = net.log.find((w) => w.bytes[0] === MessageType.Finish)!.bytes;
  net.inject('A', 'B', m3);
  net.pump();
  assert.is(b.counters.get('handshake-duplicate'), 1);
  assert.is(b.pendingCounts().sessions, 1);
});

test('handshakes are rate-limited per peer address', () => {
  const { net, b } = pair({ handshakeBurst: 2, handshakeRefillMs: 10_000 });
  const a = net.endpoints.get('A')!;
  for (let i = 0; i < 3; i++) {
    net.connect('A', 'B');
    a.close('B', net.now());
    net.pump();
  }
  assert.is(b.counters.get('handshake-rate-limited'), 1);
});

test('simultaneous open ends with one session on each side', () => {
  const { net, a, b } = pair();
  net.absorb('A', a.connect('B', net.now()));
  net.absorb('B', b.connect('A', net.now()));
  net.pump();
  assert.is(a.peers().length, 1);
  assert.is(b.peers().length, 1);
  assert.is(a.counters.get('handshake-collision') + b.counters.get('handshake-collision'), 1);
  assert.ok(net.send('A', 'B', 'x'));
  assert.ok(net.send('B', 'A', 'y'));
  net.pump();
  assert.equal([net.texts('A'), net.texts('B')], [['y'], ['x']]);
});

test.run();
