import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fc from 'fast-check';
import { ReplayWindow } from '../../src/core/channel/replay.js';
import { MessageType } from '../../src/core/channel/messages.js';
import { RevocationStore, signRevocationList } from '../../src/core/identity/revocation.js';
import { buildWorld, crypto } from '../identity/fixtures.js';
import { Net } from './harness.js';

const world = buildWorld();

function established(limits = {}) {
  const net = new Net();
  const a = net.add('A', crypto, world.a, world.bundle, limits);
  const b = net.add('B', crypto, world.b, world.bundle, limits);
  net.connect('A', 'B');
  net.log.length = 0;
  return { net, a, b };
}

test('replay window: each counter once; reordering within the window is fine; beyond it refused', () => {
  const w = new ReplayWindow(64);
  w.mark(0);
  assert.is(w.check(0), 'replay');
  w.mark(5);
  assert.is(w.check(3), null);
  w.mark(3);
  assert.is(w.check(3), 'replay');
  w.mark(100);
  assert.is(w.check(36), 'replay-too-old');
  assert.is(w.check(37), null);
  assert.is(w.check(100), 'replay');
  w.mark(1_000_000); // a big jump clears only what the window covers
  assert.is(w.check(999_999), null);
});

test('replay window matches a set-based model on random sequences', () => {
  fc.assert(
    fc.property(fc.array(fc.nat(300), { maxLength: 200 }), (counters) => {
      const w = new ReplayWindow(64);
      const seen = new Set<number>();
      let highest = -1;
      for (const c of counters) {
        const expected = c > highest ? null : highest - c >= 64 ? 'replay-too-old' : seen.has(c) ? 'replay' : null;
        if (w.check(c) !== expected) return false;
        if (expected === null) {
          w.mark(c);
          seen.add(c);
          highest = Math.max(highest, c);
        }
      }
      return true;
    }),
    { numRuns: 200 },
  );
});

test('a replayed data record is refused as replay; a tampered one as record-bad-seal; neither is delivered', () => {
  const { net, b } = established();
  net.send('A', 'B', 'one');
  net.pump();
  const record = net.log[0]!.bytes;
  net.inject('A', 'B', record);
  const tampered = new Uint8Array(record);
  tampered[tampered.length - 1]! ^= 1;
  net.inject('A', 'B', tampered);
  const badCounter = new Uint8Array(record);
  badCounter[14]! ^= 1; // the counter is in the nonce: a changed header fails authentication
  net.inject('A', 'B', badCounter);
  net.pump();
  assert.equal(net.texts('B'), ['one']);
  // The tampered copy reuses counter 0: the window refuses it before any decryption.
  assert.is(b.counters.get('replay'), 2);
  assert.is(b.counters.get('record-bad-seal'), 1);
  net.filter = (w) => {
    const t = new Uint8Array(w.bytes);
    t[20]! ^= 4;
    return t;
  };
  net.send('A', 'B', 'two');
  net.pump();
  assert.is(b.counters.get('record-bad-seal'), 2);
  assert.equal(net.texts('B'), ['one']);
});

test('records reordered within the window are delivered; one older than the window is refused', () => {
  const { net, b } = established({ replayWindowMessages: 16 });
  const held: Uint8Array[] = [];
  net.filter = (w) => {
    if (w.bytes[0] === MessageType.Data && held.length < 1) {
      held.push(w.bytes);
      return false;
    }
    return true;
  };
  for (let i = 0; i < 5; i++) net.send('A', 'B', `m${i}`);
  net.pump();
  net.filter = () => true;
  net.inject('A', 'B', held[0]!);
  net.pump();
  assert.equal(net.texts('B'), ['m1', 'm2', 'm3', 'm4', 'm0']);
  const old = net.log.find((w) => w.bytes[0] === MessageType.Data)!.bytes;
  for (let i = 0; i < 20; i++) net.send('A', 'B', `n${i}`);
  net.pump();
  net.inject('A', 'B', old);
  net.pump();
  assert.is(b.counters.get('replay-too-old') + b.counters.get('replay'), 1);
});

test('keys roll to a new epoch after the message limit and the time limit; traffic continues', () => {
  const { net, a } = established({ rekeyAfterMessages: 3, rekeyAfterMs: 5000 });
  for (let i = 0; i < 7; i++) net.send('A', 'B', `m${i}`);
  net.pump();
  assert.is(a.sessionFor('B')!.epoch, 2);
  net.advance(5000);
  net.send('A', 'B', 'later');
  net.pump();
  assert.is(a.sessionFor('B')!.epoch, 3);
  assert.equal(net.texts('B'), ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'later']);
});

test('revocation tears down a live session on both sides; the revoked peer cannot reconnect', () => {
  const { net, a, b } = established();
  const store = new RevocationStore();
  store.offer(
    signRevocationList(crypto, world.root, 1, { issuedAtMs: 0, serials: [world.a.chain[0]!.serial], nodeIds: [] }),
  );
  net.absorb('B', b.setRevocations(store, net.now()));
  net.pump();
  assert.equal(b.peers(), []);
  assert.equal(a.peers(), []);
  assert.ok(net.events.some((e) => e.at === 'B' && e.type === 'closed' && e.reason === 'cert-revoked'));
  assert.ok(net.events.some((e) => e.at === 'A' && e.type === 'closed' && e.reason === 'peer-closed'));
  assert.is(net.send('A', 'B', 'x'), false);
  net.connect('A', 'B');
  assert.is(b.counters.get('cert-revoked'), 1);
  assert.equal(b.peers(), []);
});

test('a session ends when the peer certificate expires', () => {
  const { net, a, b } = established();
  net.wallMs = b.peers()[0]!.expiresAtMs;
  net.advance(1);
  assert.equal(a.peers(), []);
  assert.equal(b.peers(), []);
  assert.ok(net.events.some((e) => e.type === 'closed' && e.reason === 'cert-expired'));
});

test('the initiator renews the session before its lifetime ends; traffic is not interrupted', () => {
  const { net, a, b } = established({ sessionLifetimeMs: 60_000 });
  const first = a.sessionFor('B')!.localIndex;
  net.advance(55_000);
  assert.ok(a.sessionFor('B')!.localIndex !== first);
  net.send('A', 'B', 'after');
  net.pump();
  assert.equal(net.texts('B'), ['after']);
  net.advance(11_000);
  assert.is(a.pendingCounts().sessions, 1);
  assert.is(b.pendingCounts().sessions, 1);
});

test('random and mutated datagrams are refused by reason, never thrown, never leave state behind', () => {
  const { net, b } = established();
  net.send('A', 'B', 'seed');
  net.pump();
  const samples = net.log.map((w) => w.bytes);
  const fresh = new Net();
  fresh.add('A', crypto, world.a, world.bundle);
  fresh.connect('A', 'B'); // records the three handshake messages as mutation seeds
  samples.push(...fresh.log.map((w) => w.bytes));
  const mutated = fc
    .tuple(fc.constantFrom(...samples), fc.nat(2000), fc.integer({ min: 1, max: 255 }), fc.nat(2000))
    .map(([bytes, at, xor, cut]) => {
      const copy = new Uint8Array(bytes);
      if (copy.length > 0) copy[at % copy.length]! ^= xor;
      return copy.subarray(0, Math.max(1, copy.length - (cut % 8)));
    });
  const sessionsBefore = b.pendingCounts().sessions;
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 1600 }), mutated), (bytes) => {
      const out = b.receive('Z', bytes, net.now());
      return out.delivered.length === 0;
    }),
    { numRuns: 150 },
  );
  net.advance(b.limits.handshakeTimeoutMs);
  assert.equal(b.pendingCounts(), { initiators: 0, responders: 0, sessions: sessionsBefore });
  assert.ok(Object.keys(b.counters.snapshot()).length >= 3);
});

test.run();
