import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeBounded, encodeCanonical } from '../../src/core/identity/canonical.js';
import { decodeCertificate, signCertificate, keyId, type Certificate } from '../../src/core/identity/cert.js';
import { createRoot, issueNodeCert } from '../../src/core/identity/ca.js';
import {
  decodeChain,
  decodeTrustBundle,
  encodeChain,
  encodeTrustBundle,
  validateChain,
} from '../../src/core/identity/chain.js';
import { RevocationStore, signRevocationList } from '../../src/core/identity/revocation.js';
import { parseSpiffeId, parseSubject } from '../../src/core/identity/spiffe.js';
import { validateLimits } from '../../src/core/identity/limits.js';
import { encodeCbor } from '../../src/core/wire/cbor.js';
import { buildWorld, crypto, hourMs, nodeKeys, nowMs } from './fixtures.js';

const world = buildWorld();
const other = buildWorld(crypto, 'mesh.example', 40); // same trust domain name, another CA

test('limits are consistent', () => {
  validateLimits();
});

test('SPIFFE IDs: accepts valid IDs and refuses each rule of the spec with a reason', () => {
  assert.equal(parseSpiffeId('spiffe://mesh.example/node/r1'), {
    ok: true,
    value: { trustDomain: 'mesh.example', segments: ['node', 'r1'] },
  });
  assert.ok(parseSpiffeId('spiffe://mesh.example').ok);
  const cases: Array<[string, string]> = [
    ['', 'spiffe-empty'],
    ['http://mesh.example/node/a', 'spiffe-bad-scheme'],
    ['SPIFFE://mesh.example/node/a', 'spiffe-bad-scheme'],
    ['spiffe://Mesh.example/node/a', 'spiffe-bad-trust-domain'],
    ['spiffe://mesh.example:8080/node/a', 'spiffe-bad-trust-domain'],
    ['spiffe://user@mesh.example/node/a', 'spiffe-bad-trust-domain'],
    ['spiffe:///node/a', 'spiffe-bad-trust-domain'],
    ['spiffe://mesh.example/node/a/', 'spiffe-bad-path'],
    ['spiffe://mesh.example//a', 'spiffe-bad-path'],
    ['spiffe://mesh.example/node/../a', 'spiffe-bad-path'],
    ['spiffe://mesh.example/node/./a', 'spiffe-bad-path'],
    ['spiffe://mesh.example/node/a%20b', 'spiffe-bad-path'],
    ['spiffe://mesh.example/node/a?x=1', 'spiffe-bad-path'],
    ['spiffe://mesh.example/node/a#f', 'spiffe-bad-path'],
    [`spiffe://${'a'.repeat(256)}/node/a`, 'spiffe-bad-trust-domain'],
    [`spiffe://mesh.example/${'a'.repeat(2048)}`, 'spiffe-too-long'],
  ];
  for (const [id, reason] of cases) assert.equal(parseSpiffeId(id), { ok: false, reason }, id);
  assert.is(parseSubject('spiffe://mesh.example/host/a').ok, false);
  assert.is(parseSubject('spiffe://mesh.example/node/a/b').ok, false);
});

test('certificate encoding is canonical and round-trips to the same bytes', () => {
  const cert = world.a.chain[0] as Certificate;
  const decoded = decodeCertificate(cert.bytes);
  assert.ok(decoded.ok);
  assert.equal(decoded.value.bytes, cert.bytes);
  assert.is(decoded.value.subject, 'spiffe://mesh.example/node/a');
  assert.equal(decoded.value.roles, ['member']);
  // notAfterMs > 2^32: canonical CBOR writes it as a uint64 (0x1b), never as the float64 cbor-x would use.
  assert.ok(cert.tbs.includes(0x1b));
  assert.equal(encodeCanonical(cert.notAfterMs).length, 9);
});

test('a certificate re-encoded by a non-canonical encoder is refused as cert-not-canonical', () => {
  const cert = world.a.chain[0] as Certificate;
  const fields = decodeBounded(cert.tbs, 1024);
  assert.ok(fields.ok);
  const loose = encodeCbor((fields.value as unknown[]).map((x) => (typeof x === 'bigint' ? Number(x) : x))); // cbor-x: floats for big ints
  const forged = encodeCanonical([loose, cert.signature]);
  assert.equal(decodeCertificate(forged), { ok: false, reason: 'cert-not-canonical' });
});

test('malformed certificates are refused with a reason, never a throw', () => {
  assert.equal(decodeCertificate(new Uint8Array([0xff, 0x00])), { ok: false, reason: 'cert-malformed' });
  assert.equal(decodeCertificate(new Uint8Array(2000)), { ok: false, reason: 'cert-too-large' });
  assert.equal(decodeCertificate(encodeCanonical([new Uint8Array(3), new Uint8Array(64)])), {
    ok: false,
    reason: 'cert-malformed',
  });
  assert.equal(decodeCertificate(encodeCanonical([encodeCanonical([1, 2, 3]), new Uint8Array(64)])), {
    ok: false,
    reason: 'cert-bad-field',
  });
  const cert = world.a.chain[0] as Certificate;
  assert.equal(decodeCertificate(cert.bytes.slice(0, cert.bytes.length - 5)), { ok: false, reason: 'cert-malformed' });
});

test('a valid chain validates; the peer is what the leaf says, expiring with the earliest certificate', () => {
  const a = validateChain(crypto, world.a.chain, world.bundle, nowMs);
  assert.ok(a.ok);
  assert.is(a.value.id, 'spiffe://mesh.example/node/a');
  const b = validateChain(crypto, world.b.chain, world.bundle, nowMs);
  assert.ok(b.ok);
  assert.equal(b.value.roles, ['gateway', 'member']);
  assert.is(b.value.expiresAtMs, Math.min(world.b.chain[0]!.notAfterMs, world.anchor.cert.notAfterMs));
});

test('chain validation refuses with an explicit reason for each failure', () => {
  const [leafB, anchorCert] = world.b.chain as [Certificate, Certificate];
  const check = (chain: Certificate[], at: number, reason: string) =>
    assert.equal(validateChain(crypto, chain, world.bundle, at), { ok: false, reason }, reason);
  check(world.a.chain, nowMs + 25 * hourMs, 'cert-expired');
  check(world.a.chain, nowMs - hourMs, 'cert-not-yet-valid');
  check(world.a.chain, 1000, 'clock-not-set');
  check([], nowMs, 'chain-empty');
  check([leafB], nowMs, 'unknown-issuer');
  check([anchorCert], nowMs, 'cert-not-node');
  check([leafB, world.a.chain[0] as Certificate], nowMs, 'issuer-not-ca');
  check([leafB, anchorCert, anchorCert, anchorCert], nowMs, 'chain-too-long');
  check(other.a.chain, nowMs, 'unknown-issuer'); // another CA under the same trust-domain name
  const foreign = buildWorld(crypto, 'other.example', 70);
  check(foreign.a.chain, nowMs, 'wrong-trust-domain');
  // Signature: a certificate with the right issuer names but signed by another key.
  const k = nodeKeys(crypto, 90);
  const forged = signCertificate(
    crypto,
    { ...world.a.chain[0]!, signPublicKey: k.sign.publicKey },
    other.root.signSecretKey,
  );
  check([forged], nowMs, 'cert-bad-signature');
  const expiredAnchor = {
    ...world.anchor,
    cert: signCertificate(crypto, { ...world.anchor.cert, notAfterMs: nowMs + hourMs }, world.root.signSecretKey),
  };
  const leafUnderExpired = issueNodeCert(crypto, expiredAnchor, {
    name: 'c',
    signPublicKey: k.sign.publicKey,
    boxPublicKey: k.box.publicKey,
    nowMs,
  });
  check([leafUnderExpired, expiredAnchor.cert], nowMs + 2 * hourMs, 'cert-expired');
});

test('revoked serials and revoked node IDs are refused as cert-revoked; the list version only moves forward', () => {
  const store = new RevocationStore();
  const v1 = signRevocationList(crypto, world.root, 1, {
    issuedAtMs: nowMs,
    serials: [world.a.chain[0]!.serial],
    nodeIds: [],
  });
  assert.ok(store.offer(v1).ok);
  assert.equal(validateChain(crypto, world.a.chain, world.bundle, nowMs, store), { ok: false, reason: 'cert-revoked' });
  assert.ok(validateChain(crypto, world.b.chain, world.bundle, nowMs, store).ok);
  const v2 = signRevocationList(crypto, world.root, 2, {
    issuedAtMs: nowMs,
    serials: [],
    nodeIds: ['spiffe://mesh.example/node/b'],
  });
  assert.ok(store.offer(v2).ok);
  assert.equal(validateChain(crypto, world.b.chain, world.bundle, nowMs, store), { ok: false, reason: 'cert-revoked' });
  assert.equal(store.offer(v1), { ok: false, reason: 'revocation-stale' });
  assert.equal(store.offer(v2), { ok: false, reason: 'revocation-stale' });
  assert.is(store.version, 2);
});

test('trust bundle and chain round-trip; a bundle with a forged root is refused', () => {
  const bundle = decodeTrustBundle(crypto, encodeTrustBundle(world.bundle));
  assert.ok(bundle.ok);
  assert.is(bundle.value.roots.length, 1);
  const chain = decodeChain(
    decodeBounded(encodeChain(world.b.chain), 4096).ok
      ? (decodeBounded(encodeChain(world.b.chain), 4096) as { value: unknown }).value
      : null,
  );
  assert.ok(chain.ok);
  assert.is(chain.value.length, 2);
  const fake = createRoot(crypto, { trustDomain: 'mesh.example', nowMs, keys: nodeKeys(crypto, 99) }).issuer.cert;
  const tampered = signCertificate(crypto, { ...fake, notAfterMs: fake.notAfterMs + 1 }, other.root.signSecretKey);
  const bad = encodeCanonical([1, 'mesh.example', [tampered.bytes]]);
  assert.equal(decodeTrustBundle(crypto, bad), { ok: false, reason: 'bundle-bad-root' });
  assert.equal(keyId(crypto, world.root.cert.signPublicKey), world.root.cert.issuerKeyId);
});

test.run();
