// The checks every crypto backend runs against the stored identity and channel vectors (engine-neutral):
// regenerate them byte for byte, decode and verify each stored artifact, refuse tampered copies by reason,
// and replay the stored handshake transcript through fresh endpoints.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Crypto } from '../../src/platform/types.js';
import { decodeBounded } from '../../src/core/identity/canonical.js';
import {
  createTrustBundle,
  decodeChain,
  decodeTrustBundle,
  encodeTrustBundle,
  noRevocations,
  validateChain,
  type TrustBundle,
} from '../../src/core/identity/chain.js';
import { decodeCertificate, type Certificate } from '../../src/core/identity/cert.js';
import { Registrar } from '../../src/core/identity/registrar.js';
import { RevocationStore } from '../../src/core/identity/revocation.js';
import { decodeRenewRequest, verifyRenewProofs } from '../../src/core/identity/rotation.js';
import {
  decodeJoinRequest,
  parseJoinToken,
  tokenSignatureValid,
  verifyJoinProofs,
} from '../../src/core/identity/token.js';
import { ChannelEndpoint, type Now } from '../../src/core/channel/endpoint.js';
import { fromHex, toHex } from '../../src/core/wire/hex.js';
import { generateIdentityVectors, seededCrypto } from './generate.js';
import { identityVectors as v } from './identity-vectors.js';

const hourMs = 3600_000;

function chainOf(hex: string): Certificate[] {
  const decoded = decodeBounded(fromHex(hex), 8192);
  if (!decoded.ok) throw new Error(`vector chain: ${decoded.reason}`);
  const chain = decodeChain(decoded.value);
  if (!chain.ok) throw new Error(`vector chain: ${chain.reason}`);
  return chain.value;
}

function flip(hex: string, at: number): Uint8Array {
  const bytes = fromHex(hex);
  bytes[at < 0 ? bytes.length + at : at]! ^= 0x01;
  return bytes;
}

function bundleOf(crypto: Crypto): TrustBundle {
  const bundle = decodeTrustBundle(crypto, fromHex(v.bundle));
  if (!bundle.ok) throw new Error(`vector bundle: ${bundle.reason}`);
  return bundle.value;
}

export function defineVectorChecks(crypto: Crypto): void {
  const test = suite(`identity vectors (${crypto.backend})`);

  test('regenerating the vectors gives the stored bytes, byte for byte', () => {
    assert.equal(generateIdentityVectors(crypto), JSON.parse(JSON.stringify(v)));
  });

  test('certificates, bundle and chains decode to the same bytes and validate; tampered or late ones are refused by reason', () => {
    const bundle = bundleOf(crypto);
    assert.is(toHex(encodeTrustBundle(bundle)), v.bundle);
    for (const hex of [v.rootCert, v.anchorCert]) {
      const cert = decodeCertificate(fromHex(hex));
      assert.ok(cert.ok);
      assert.is(toHex(cert.value.bytes), hex);
    }
    const a = validateChain(crypto, chainOf(v.chainA), bundle, v.nowMs);
    const b = validateChain(crypto, chainOf(v.chainB), bundle, v.nowMs);
    assert.equal(
      [a.ok && a.value.id, a.ok && a.value.roles, a.ok && a.value.addresses],
      ['spiffe://vectors.x0/node/a', ['anchor', 'member'], ['fd00::a']],
    );
    assert.equal([b.ok && b.value.id, b.ok && b.value.roles], ['spiffe://vectors.x0/node/b', ['gateway', 'member']]);
    assert.equal(validateChain(crypto, chainOf(v.chainA), bundle, v.nowMs + 25 * hourMs), {
      ok: false,
      reason: 'cert-expired',
    });
    const forged = decodeCertificate(flip(v.anchorCert, -1)); // last byte of the signature
    assert.ok(forged.ok);
    assert.equal(validateChain(crypto, [chainOf(v.chainB)[0]!, forged.value], bundle, v.nowMs), {
      ok: false,
      reason: 'cert-bad-signature',
    });
    assert.equal(decodeCertificate(fromHex(v.rootCert).subarray(0, 100)), { ok: false, reason: 'cert-malformed' });
    const flippedRoot = decodeCertificate(flip(v.rootCert, 20)); // a serial byte: well-formed, wrongly signed
    assert.ok(flippedRoot.ok);
    assert.equal(createTrustBundle(crypto, v.trustDomain, [flippedRoot.value]), {
      ok: false,
      reason: 'bundle-bad-root',
    });
  });

  test('the join token and request verify; the registrar issues once and refuses the replay as token-used', () => {
    const bundle = bundleOf(crypto);
    const token = parseJoinToken(crypto, v.join.joinToken);
    assert.ok(token.ok);
    assert.is(token.value.body.subject, 'spiffe://vectors.x0/node/r1');
    const request = decodeJoinRequest(fromHex(v.join.joinRequest));
    assert.ok(request.ok);
    assert.ok(tokenSignatureValid(crypto, request.value, bundle.roots[0]!.signPublicKey));
    assert.ok(verifyJoinProofs(crypto, request.value).ok);
    const anchorCert = decodeCertificate(fromHex(v.anchorCert));
    assert.ok(anchorCert.ok);
    const anchor = {
      cert: anchorCert.value,
      parents: [],
      signSecretKey: crypto.signKeyPairFromSeed(fromHex(v.signSecretSeeds.anchor)).secretKey,
    };
    const registrar = new Registrar(seededCrypto(crypto, 'pki'), anchor, bundle);
    const issued = registrar.redeem(fromHex(v.join.joinRequest), v.nowMs);
    assert.ok(issued.ok);
    assert.ok(validateChain(crypto, issued.value.chain, bundle, v.nowMs).ok);
    assert.equal(registrar.redeem(fromHex(v.join.joinRequest), v.nowMs), { ok: false, reason: 'token-used' });
    const restarted = new Registrar(crypto, anchor, bundle);
    assert.ok(restarted.importUsed(fromHex(v.join.usedTokens)).ok);
    assert.equal(restarted.redeem(fromHex(v.join.joinRequest), v.nowMs), { ok: false, reason: 'token-used' });
    assert.equal(new Registrar(crypto, anchor, bundle).redeem(flip(v.join.joinRequest, -3), v.nowMs), {
      ok: false,
      reason: 'join-bad-key-proof',
    });
  });

  test('the renewal request verifies; the issued and renewed chains validate at their times', () => {
    const bundle = bundleOf(crypto);
    const issued = chainOf(v.join.issuedChain);
    assert.is(toHex(issued[0]!.serial), v.join.issuedSerial);
    assert.ok(validateChain(crypto, issued, bundle, v.nowMs).ok);
    const renew = decodeRenewRequest(fromHex(v.join.renewRequest));
    assert.ok(renew.ok);
    assert.ok(verifyRenewProofs(crypto, renew.value).ok);
    const renewed = chainOf(v.join.renewedChain);
    assert.is(renewed[0]!.subject, issued[0]!.subject);
    assert.ok(renewed[0]!.notAfterMs > issued[0]!.notAfterMs);
    assert.ok(validateChain(crypto, renewed, bundle, v.join.renewAtMs).ok);
    const tampered = decodeRenewRequest(flip(v.join.renewRequest, -70)); // inside the old key's proof
    assert.ok(tampered.ok);
    assert.equal(verifyRenewProofs(crypto, tampered.value), { ok: false, reason: 'renew-bad-key-proof' });
  });

  test('revocation lists verify; v1 revokes a by serial, v2 adds b by node ID; an old or tampered list is refused', () => {
    const bundle = bundleOf(crypto);
    const store = new RevocationStore();
    assert.ok(store.offerBytes(crypto, fromHex(v.revocations.v1), bundle).ok);
    assert.ok(store.isRevoked(chainOf(v.chainA)[0]!));
    assert.not.ok(store.isRevoked(chainOf(v.chainB)[0]!));
    assert.ok(store.offerBytes(crypto, fromHex(v.revocations.v2), bundle).ok);
    assert.ok(store.isRevoked(chainOf(v.chainB)[0]!));
    assert.equal(store.offerBytes(crypto, fromHex(v.revocations.v1), bundle), {
      ok: false,
      reason: 'revocation-stale',
    });
    assert.equal(new RevocationStore().offerBytes(crypto, flip(v.revocations.v2, -1), bundle), {
      ok: false,
      reason: 'revocation-bad-signature',
    });
    assert.equal(validateChain(crypto, chainOf(v.chainA), bundle, v.nowMs, store), {
      ok: false,
      reason: 'cert-revoked',
    });
  });

  test('the stored handshake transcript replays through fresh endpoints, message for message', () => {
    const bundle = bundleOf(crypto);
    const now: Now = { monoMs: 1000, wallMs: v.nowMs };
    const endpoint = (label: string, seed: string, chainHex: string) =>
      new ChannelEndpoint({
        crypto: seededCrypto(crypto, label),
        bundle,
        revocations: noRevocations,
        identity: { chain: chainOf(chainHex), signSecretKey: crypto.signKeyPairFromSeed(fromHex(seed)).secretKey },
      });
    const a = endpoint('endpoint a', v.signSecretSeeds.a, v.chainA);
    const b = endpoint('endpoint b', v.signSecretSeeds.b, v.chainB);
    const sent = (out: { send: { bytes: Uint8Array }[] }) => out.send.map((s) => toHex(s.bytes));
    assert.equal(sent(a.connect('b', now)), [v.handshake.m1]);
    assert.equal(sent(b.receive('a', fromHex(v.handshake.m1), now)), [v.handshake.m2]);
    assert.equal(a.receive('b', flip(v.handshake.m2, -2), now).send.length, 0); // a forged seal is ignored ...
    assert.is(a.counters.get('handshake-bad-seal'), 1);
    assert.equal(sent(a.receive('b', fromHex(v.handshake.m2), now)), [v.handshake.m3]); // ... and the real M2 still works
    assert.equal(sent(b.receive('a', fromHex(v.handshake.m3), now)), [v.handshake.confirmation]);
    a.receive('b', fromHex(v.handshake.confirmation), now);
    const opened = b
      .receive('a', fromHex(v.handshake.recordAToB), now)
      .delivered.map((d) => new TextDecoder().decode(d.data));
    assert.equal(opened, ['hello b, from a']);
    assert.is(b.receive('a', fromHex(v.handshake.recordAToB), now).delivered.length, 0);
    assert.is(b.counters.get('replay'), 1);
    assert.equal(
      a.receive('b', fromHex(v.handshake.recordBToA), now).delivered.map((d) => d.peerId),
      ['spiffe://vectors.x0/node/b'],
    );
  });

  test.run();
}
