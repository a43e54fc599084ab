import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromBase64Url, toBase64Url } from '../../src/core/identity/base64url.js';
import { validateChain, createTrustBundle } from '../../src/core/identity/chain.js';
import { createRoot } from '../../src/core/identity/ca.js';
import { Registrar } from '../../src/core/identity/registrar.js';
import { RevocationStore, signRevocationList } from '../../src/core/identity/revocation.js';
import {
  createRenewRequest,
  needsRenewal,
  renewalDueAtMs,
  addRoot,
  retireRoot,
} from '../../src/core/identity/rotation.js';
import { createJoinRequest, issueJoinToken, parseJoinToken } from '../../src/core/identity/token.js';
import { buildWorld, crypto, hourMs, nodeKeys, nowMs } from './fixtures.js';

const world = buildWorld();

test('base64url round-trips every length and refuses foreign characters and non-zero padding bits', () => {
  for (let n = 0; n < 20; n++) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
    assert.equal(fromBase64Url(toBase64Url(bytes)), bytes);
  }
  assert.is(fromBase64Url('ab+c'), null);
  assert.is(fromBase64Url('A'), null);
  assert.equal(fromBase64Url('AA'), new Uint8Array([0]));
  assert.is(fromBase64Url('AF'), null); // 'F' leaves non-zero bits after the one byte
});

test('a node joins with a token: keys generated locally, certificate for exactly the token name', () => {
  const registrar = new Registrar(crypto, world.anchor, world.bundle);
  const { text } = issueJoinToken(crypto, world.root, { name: 'r7', nowMs, ttlMs: hourMs, roles: ['member'] });
  const token = parseJoinToken(crypto, text);
  assert.ok(token.ok);
  const keys = nodeKeys(crypto, 120);
  const issued = registrar.redeem(createJoinRequest(crypto, token.value, keys, nowMs), nowMs);
  assert.ok(issued.ok);
  assert.is(issued.value.certificate.subject, 'spiffe://mesh.example/node/r7');
  assert.equal(issued.value.certificate.signPublicKey, keys.sign.publicKey);
  assert.is(issued.value.chain.length, 2); // leaf + the anchor's intermediate
  assert.ok(validateChain(crypto, issued.value.chain, world.bundle, nowMs + 1000).ok);
});

test('tokens cannot be replayed, even across a restart of the registrar (used set persisted)', () => {
  const registrar = new Registrar(crypto, world.root, world.bundle);
  const { text } = issueJoinToken(crypto, world.root, { name: 'r8', nowMs });
  const token = parseJoinToken(crypto, text);
  assert.ok(token.ok);
  const request = createJoinRequest(crypto, token.value, nodeKeys(crypto, 122), nowMs);
  assert.ok(registrar.redeem(request, nowMs).ok);
  assert.equal(registrar.redeem(request, nowMs), { ok: false, reason: 'token-used' });
  const restarted = new Registrar(crypto, world.root, world.bundle);
  assert.ok(restarted.importUsed(registrar.exportUsed()).ok);
  const again = createJoinRequest(crypto, token.value, nodeKeys(crypto, 124), nowMs);
  assert.equal(restarted.redeem(again, nowMs), { ok: false, reason: 'token-used' });
  assert.is(restarted.counters.get('token-used'), 1);
});

test('expired, foreign, tampered and wrongly-proved tokens are refused with reasons', () => {
  const registrar = new Registrar(crypto, world.root, world.bundle);
  const keys = nodeKeys(crypto, 126);
  const t = (name: string, extra: object = {}) => {
    const parsed = parseJoinToken(
      crypto,
      issueJoinToken(crypto, world.root, { name, nowMs, ttlMs: hourMs, ...extra }).text,
    );
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.value;
  };
  assert.equal(registrar.redeem(createJoinRequest(crypto, t('x1'), keys, nowMs + 2 * hourMs), nowMs + 2 * hourMs), {
    ok: false,
    reason: 'token-expired',
  });
  assert.equal(
    registrar.redeem(
      createJoinRequest(crypto, t('x2', { redeemer: 'spiffe://mesh.example/ca/anchor-9' }), keys, nowMs),
      nowMs,
    ),
    { ok: false, reason: 'token-wrong-redeemer' },
  );
  const foreignRoot = createRoot(crypto, { trustDomain: 'mesh.example', nowMs, keys: nodeKeys(crypto, 128) }).issuer;
  const foreign = parseJoinToken(crypto, issueJoinToken(crypto, foreignRoot, { name: 'x3', nowMs }).text);
  assert.ok(foreign.ok);
  assert.equal(registrar.redeem(createJoinRequest(crypto, foreign.value, keys, nowMs), nowMs), {
    ok: false,
    reason: 'token-unknown-issuer',
  });
  // A stolen token body without the token seed: proof signed with another key.
  const stolen = { ...t('x4'), tokenKeys: crypto.signKeyPairFromSeed(new Uint8Array(32).fill(7)) };
  assert.equal(registrar.redeem(createJoinRequest(crypto, stolen, keys, nowMs), nowMs), {
    ok: false,
    reason: 'join-bad-token-proof',
  });
  assert.equal(registrar.redeem(new Uint8Array([1, 2, 3]), nowMs), { ok: false, reason: 'join-malformed' });
  assert.equal(parseJoinToken(crypto, 'x0jt1.!!!'), { ok: false, reason: 'token-malformed' });
  assert.equal(parseJoinToken(crypto, 'hello'), { ok: false, reason: 'token-malformed' });
  assert.is(registrar.counters.get('token-expired'), 1);
});

test('renewal: due at half the lifetime; a valid certificate gets a new one, a revoked one does not', () => {
  const leaf = world.a.chain[0]!;
  // Half the lifetime counted from the issue time (notBefore is back-dated 5 minutes on issue).
  assert.is(renewalDueAtMs(leaf), nowMs + (leaf.notAfterMs - nowMs) / 2);
  assert.is(needsRenewal(leaf, nowMs), false);
  assert.is(needsRenewal(leaf, renewalDueAtMs(leaf)), true);
  const registrar = new Registrar(crypto, world.root, world.bundle);
  const next = nodeKeys(crypto, 130);
  const at = renewalDueAtMs(leaf);
  const renewed = registrar.renew(createRenewRequest(crypto, world.a.chain, world.a.sign.secretKey, next, at), at);
  assert.ok(renewed.ok);
  assert.is(renewed.value.certificate.subject, leaf.subject);
  assert.ok(renewed.value.certificate.notAfterMs > leaf.notAfterMs);
  const wrongKey = createRenewRequest(crypto, world.a.chain, next.sign.secretKey, next, at);
  assert.equal(registrar.renew(wrongKey, at), { ok: false, reason: 'renew-bad-key-proof' });
  const store = new RevocationStore();
  store.offer(signRevocationList(crypto, world.root, 1, { issuedAtMs: nowMs, serials: [leaf.serial], nodeIds: [] }));
  registrar.setRevocations(store);
  assert.equal(registrar.renew(createRenewRequest(crypto, world.a.chain, world.a.sign.secretKey, next, at), at), {
    ok: false,
    reason: 'cert-revoked',
  });
});

test('CA rollover: with old and new roots in the bundle, certificates from either validate; retiring the old one refuses its certificates', () => {
  const newRoot = createRoot(crypto, {
    trustDomain: 'mesh.example',
    name: 'root-2027',
    nowMs,
    keys: nodeKeys(crypto, 132),
  }).issuer;
  const both = addRoot(crypto, world.bundle, newRoot.cert);
  assert.ok(both.ok);
  assert.is(both.value.roots.length, 2);
  const registrar = new Registrar(crypto, newRoot, both.value);
  const token = parseJoinToken(crypto, issueJoinToken(crypto, newRoot, { name: 'n1', nowMs }).text);
  assert.ok(token.ok);
  const issued = registrar.redeem(createJoinRequest(crypto, token.value, nodeKeys(crypto, 134), nowMs), nowMs);
  assert.ok(issued.ok);
  assert.ok(validateChain(crypto, issued.value.chain, both.value, nowMs).ok);
  assert.ok(validateChain(crypto, world.a.chain, both.value, nowMs).ok);
  const retired = retireRoot(crypto, both.value, world.root.cert.issuerKeyId);
  assert.ok(retired.ok);
  assert.equal(validateChain(crypto, world.a.chain, retired.value, nowMs), { ok: false, reason: 'unknown-issuer' });
  assert.ok(validateChain(crypto, issued.value.chain, retired.value, nowMs).ok);
  assert.equal(createTrustBundle(crypto, 'mesh.example', []), { ok: false, reason: 'bundle-empty' });
});

test.run();
