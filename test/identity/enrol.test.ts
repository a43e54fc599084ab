// Enrolment over the network, the pure part: the messages and their bounds, and the new node's check of an
// anchor's answer (the bundle must hold the token's signer, the chain must be for the node's own name and key).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  acceptEnrolment,
  decodeEnrolAnswer,
  decodeEnrolRequest,
  encodeEnrolAnswer,
  encodeEnrolRequest,
  enrolMessageBytesMax,
} from '../../src/core/identity/enrol.js';
import { createRoot } from '../../src/core/identity/ca.js';
import { createTrustBundle } from '../../src/core/identity/chain.js';
import { encodeCanonical } from '../../src/core/identity/canonical.js';
import { Registrar } from '../../src/core/identity/registrar.js';
import { createJoinRequest, issueJoinToken, parseJoinToken } from '../../src/core/identity/token.js';
import { buildWorld, crypto, hourMs, nodeKeys, nowMs } from './fixtures.js';

const world = buildWorld();

function joining(name: string, signer = world.root, keyByte = 140) {
  const token = parseJoinToken(
    crypto,
    issueJoinToken(crypto, signer, { name, nowMs, ttlMs: hourMs, roles: ['member'] }).text,
  );
  assert.ok(token.ok);
  const keys = nodeKeys(crypto, keyByte);
  return { token: token.value, keys, request: createJoinRequest(crypto, token.value, keys, nowMs) };
}

test('a request and an issued answer round-trip; the node accepts a certificate for its name and key', () => {
  const { token, keys, request } = joining('r9');
  const decodedRequest = decodeEnrolRequest(encodeEnrolRequest(request));
  assert.ok(decodedRequest.ok);
  assert.equal(decodedRequest.value, request);
  const issued = new Registrar(crypto, world.anchor, world.bundle).redeem(request, nowMs);
  assert.ok(issued.ok);
  const answer = decodeEnrolAnswer(
    crypto,
    encodeEnrolAnswer({ ok: true, chain: issued.value.chain, bundle: world.bundle }),
  );
  assert.ok(answer.ok && answer.value.ok);
  const accepted = acceptEnrolment(crypto, answer.value, { token, signPublicKey: keys.sign.publicKey }, nowMs + 1000);
  assert.ok(accepted.ok);
  assert.is(accepted.value.chain[0]?.name, 'r9');
  assert.is(accepted.value.chain.length, 2, 'the leaf and the anchor intermediate that issued it');
});

test('a token signed by an anchor intermediate is accepted when the chain ties that intermediate to the root', () => {
  const { token, keys, request } = joining('r10', world.anchor);
  const issued = new Registrar(crypto, world.anchor, world.bundle).redeem(request, nowMs);
  assert.ok(issued.ok);
  const accepted = acceptEnrolment(
    crypto,
    { ok: true, chain: issued.value.chain, bundle: world.bundle },
    { token, signPublicKey: keys.sign.publicKey },
    nowMs,
  );
  assert.ok(accepted.ok);
});

test('the node refuses an answer from an impostor, for another key or name, with a bad chain, or a refusal', () => {
  const { token, keys, request } = joining('r11');
  const issued = new Registrar(crypto, world.anchor, world.bundle).redeem(request, nowMs);
  assert.ok(issued.ok);
  const me = { token, signPublicKey: keys.sign.publicKey };
  // An impostor with a CA of its own: same trust domain, but not the root that signed the token.
  const fake = createRoot(crypto, { trustDomain: 'mesh.example', nowMs });
  const fakeBundle = createTrustBundle(crypto, 'mesh.example', [fake.issuer.cert]);
  assert.ok(fakeBundle.ok);
  const fakeIssued = new Registrar(crypto, fake.issuer, fakeBundle.value).redeem(
    joining('r11', fake.issuer).request,
    nowMs,
  );
  assert.ok(fakeIssued.ok);
  assert.equal(
    acceptEnrolment(crypto, { ok: true, chain: fakeIssued.value.chain, bundle: fakeBundle.value }, me, nowMs),
    { ok: false, reason: 'enrol-wrong-root' },
  );
  const other = joining('r11', world.root, 150);
  const otherIssued = new Registrar(crypto, world.anchor, world.bundle).redeem(other.request, nowMs);
  assert.ok(otherIssued.ok);
  assert.equal(acceptEnrolment(crypto, { ok: true, chain: otherIssued.value.chain, bundle: world.bundle }, me, nowMs), {
    ok: false,
    reason: 'enrol-wrong-key',
  });
  const renamed = joining('r12', world.root, 140);
  const renamedIssued = new Registrar(crypto, world.anchor, world.bundle).redeem(renamed.request, nowMs);
  assert.ok(renamedIssued.ok);
  assert.equal(
    acceptEnrolment(crypto, { ok: true, chain: renamedIssued.value.chain, bundle: world.bundle }, me, nowMs),
    { ok: false, reason: 'enrol-wrong-name' },
  );
  assert.equal(
    acceptEnrolment(crypto, { ok: true, chain: issued.value.chain.slice(0, 1), bundle: world.bundle }, me, nowMs),
    { ok: false, reason: 'enrol-bad-chain' },
    'the leaf without its intermediate does not validate',
  );
  assert.equal(acceptEnrolment(crypto, { ok: false, reason: 'token-used' }, me, nowMs), {
    ok: false,
    reason: 'enrol-refused',
  });
});

test('refusals round-trip as reason codes; malformed, oversized and hostile messages are refused by reason', () => {
  assert.equal(decodeEnrolAnswer(crypto, encodeEnrolAnswer({ ok: false, reason: 'token-used' })), {
    ok: true,
    value: { ok: false, reason: 'token-used' },
  });
  assert.equal(decodeEnrolRequest(new Uint8Array(enrolMessageBytesMax + 1)), { ok: false, reason: 'enrol-too-large' });
  assert.equal(decodeEnrolRequest(encodeCanonical([1, 'join', 'text'])), { ok: false, reason: 'enrol-malformed' });
  assert.equal(decodeEnrolRequest(encodeCanonical([2, 'join', new Uint8Array(4)])), {
    ok: false,
    reason: 'enrol-malformed',
  });
  assert.equal(decodeEnrolRequest(new Uint8Array([0xff, 0x00])), { ok: false, reason: 'enrol-malformed' });
  assert.equal(decodeEnrolAnswer(crypto, encodeCanonical([1, 'refused', 'Not A Code\n'])), {
    ok: false,
    reason: 'enrol-malformed',
  });
  assert.equal(decodeEnrolAnswer(crypto, encodeCanonical([1, 'issued', new Uint8Array(3), new Uint8Array(3)])), {
    ok: false,
    reason: 'enrol-malformed',
  });
  assert.equal(decodeEnrolAnswer(crypto, encodeCanonical([1, 'issued', encodeCanonical([]), new Uint8Array(3)])), {
    ok: false,
    reason: 'enrol-malformed',
  });
  for (let i = 0; i < 200; i++) {
    const junk = Uint8Array.from({ length: (i * 7) % 300 }, (_, j) => (i * 31 + j * 17) & 0xff);
    assert.is(decodeEnrolAnswer(crypto, junk).ok && decodeEnrolRequest(junk).ok, false);
  }
});

test.run();
