// Slots a trickle of cheap openings must not exhaust (issue 16): an M1 costs the sender nothing (no
// certificate, an ephemeral key), while it costs the responder a DH, a signature and a half-open slot. A few
// M1s a second from many addresses, or from many ports of one host, must not keep a legitimate peer out.
// Engine-neutral.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildWorld, crypto } from '../identity/fixtures.js';
import { Net } from './harness.js';

const world = buildWorld();

/**
 * B under a trickle of M1s (never followed by an M3) from `addresses`: the attacker keeps every half-open slot
 * taken (one fresh M1 for each slot that times out: handshakesPendingMax per handshakeTimeoutMs, 6.4 a second),
 * timed to land just before each of A's M1s, while A connects and retries as an initiator does.
 */
function underTrickle(addresses: (i: number) => string) {
  const net = new Net();
  const a = net.add('A', crypto, world.a, world.bundle);
  // Fewer slots than the default 64 keep the test quick (each M1 costs B a DH and a signature, slow on
  // QuickJS-ng); the same shape: more than handshakesPendingMax openings per handshakeTimeoutMs.
  const b = net.add('B', crypto, world.b, world.bundle, { handshakesPendingMax: 6 });
  const x = net.add('X', crypto, world.a, world.bundle);
  // One M1 sent from every address: cheap for the attacker (no new key), full work for B at each new address.
  const opening = x.connect('B', net.now()).send[0]?.bytes as Uint8Array;
  x.close('B', net.now());
  let sent = 0;
  const m1 = () => {
    b.receive(addresses(sent), opening, net.now());
    sent++;
  };
  const fill = () => {
    for (let k = 0; k < 8 && b.pendingCounts().responders < b.limits.handshakesPendingMax; k++) m1();
  };
  net.filter = (w) => {
    if (w.from === 'A' && w.to === 'B' && w.bytes[0] === 1) fill(); // the attacker's M1s arrive first
    return true;
  };
  for (let ms = 0; ms < 25_000; ms += 250) {
    fill();
    if (ms === 11_000) net.connect('A', 'B');
    net.advance(250);
  }
  return { a, b, net, sent };
}

test('a trickle of M1s from many addresses does not keep a legitimate peer out (responder slots)', () => {
  const { a, b, sent } = underTrickle((i) => `10.0.${i >> 8}.${i & 255}:4000`);
  assert.ok(sent < 400, `the attacker sent ${sent} M1s in 25 s (a trickle)`);
  assert.is(a.peers().length, 1, `A has no session with B (B: ${JSON.stringify(b.counters.snapshot())})`);
  assert.ok(b.pendingCounts().responders <= b.limits.handshakesPendingMax, 'half-open handshakes stay bounded');
});

test('many source ports of one host share one handshake budget (rate limit per host)', () => {
  const { a, b, sent } = underTrickle((i) => `10.9.9.9:${10_000 + i}`);
  assert.is(a.peers().length, 1, 'A still gets a session');
  const limited = b.counters.get('handshake-rate-limited') ?? 0;
  const budget = b.limits.handshakeBurst + 25_000 / b.limits.handshakeRefillMs;
  assert.ok(sent - limited <= budget, `one host with many ports got ${sent - limited} handshakes out of ${sent}`);
});

test.run();
