// One conformance suite for every Crypto backend: known answers (RFC 8032, RFC 4231, recorded tweetnacl
// outputs) and cross-backend checks (what one backend signs, seals or boxes, every other opens, byte for byte).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Crypto } from '../../src/platform/types.js';
import { fromHex, toHex, utf8 } from '../../src/core/wire/hex.js';
import { vectors as v } from '../crypto/vectors.js';

const rfc8032Test1 = {
  seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  signature:
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
};
const rfc4231Case2 =
  '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737';
const sha512Abc =
  'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f';

function knownAnswers(crypto: Crypto, name: string): void {
  const t = suite(`crypto ${name}: known answers`);
  t('Ed25519 RFC 8032 test 1', () => {
    const pair = crypto.signKeyPairFromSeed(fromHex(rfc8032Test1.seed));
    assert.is(toHex(pair.publicKey), rfc8032Test1.publicKey);
    assert.is(pair.secretKey.length, 64);
    assert.is(toHex(crypto.sign(new Uint8Array(0), pair.secretKey)), rfc8032Test1.signature);
  });
  t('Ed25519 matches recorded signature and verifies', () => {
    const pair = crypto.signKeyPairFromSeed(fromHex(v.seed));
    assert.is(toHex(pair.publicKey), v.signPublicKey);
    const signature = crypto.sign(fromHex(v.message), pair.secretKey);
    assert.is(toHex(signature), v.signature);
    assert.ok(crypto.verify(fromHex(v.message), signature, pair.publicKey));
  });
  t('Ed25519 rejects a flipped bit and a wrong key', () => {
    const message = fromHex(v.message);
    const signature = fromHex(v.signature);
    signature[5] = (signature[5] as number) ^ 1;
    assert.not.ok(crypto.verify(message, signature, fromHex(v.signPublicKey)));
    assert.not.ok(crypto.verify(message, fromHex(v.signature), fromHex(v.boxPublicA)));
    assert.not.ok(crypto.verify(message, new Uint8Array(10), fromHex(v.signPublicKey)));
  });
  t('X25519 public keys and shared secret', () => {
    assert.is(toHex(crypto.boxKeyPairFromSecretKey(fromHex(v.boxSecretA)).publicKey), v.boxPublicA);
    assert.is(toHex(crypto.scalarMult(fromHex(v.boxSecretA), fromHex(v.boxPublicB))), v.sharedAB);
    assert.is(toHex(crypto.scalarMult(fromHex(v.boxSecretB), fromHex(v.boxPublicA))), v.sharedAB);
  });
  t('box and secretbox match recorded bytes and open', () => {
    const nonce = fromHex(v.nonce);
    const sealed = crypto.box(fromHex(v.message), nonce, fromHex(v.boxPublicB), fromHex(v.boxSecretA));
    assert.is(toHex(sealed), v.box);
    assert.is(
      toHex(crypto.boxOpen(sealed, nonce, fromHex(v.boxPublicA), fromHex(v.boxSecretB)) ?? new Uint8Array(0)),
      v.message,
    );
    const payload = Uint8Array.from({ length: 1400 }, (_, i) => (i * 7) & 0xff);
    const box = crypto.secretbox(payload, nonce, fromHex(v.secretKey));
    assert.is(toHex(box), v.secretboxOf1400);
    assert.is(toHex(crypto.secretboxOpen(box, nonce, fromHex(v.secretKey)) ?? new Uint8Array(0)), toHex(payload));
  });
  t('tampered boxes do not open', () => {
    const nonce = fromHex(v.nonce);
    const box = fromHex(v.secretboxOf1400);
    box[100] = (box[100] as number) ^ 0x80;
    assert.is(crypto.secretboxOpen(box, nonce, fromHex(v.secretKey)), null);
    const sealed = fromHex(v.box);
    sealed[0] = (sealed[0] as number) ^ 1;
    assert.is(crypto.boxOpen(sealed, nonce, fromHex(v.boxPublicA), fromHex(v.boxSecretB)), null);
    assert.is(crypto.secretboxOpen(new Uint8Array(5), nonce, fromHex(v.secretKey)), null);
  });
  t('SHA-512 and HMAC-SHA-512 (RFC 4231 case 2, long key)', () => {
    assert.is(toHex(crypto.sha512(utf8('abc'))), sha512Abc);
    assert.is(toHex(crypto.sha512(Uint8Array.from({ length: 1400 }, (_, i) => (i * 7) & 0xff))), v.sha512Of1400);
    assert.is(toHex(crypto.hmacSha512(utf8('Jefe'), utf8('what do ya want for nothing?'))), rfc4231Case2);
    assert.is(toHex(crypto.hmacSha512(fromHex(v.secretKey), fromHex(v.message))), v.hmacSha512);
    assert.is(toHex(crypto.hmacSha512(new Uint8Array(131).fill(0xaa), fromHex(v.message))), v.hmacSha512LongKey);
  });
  t('random bytes have the asked length and differ', () => {
    const a = crypto.randomBytes(32);
    assert.is(a.length, 32);
    assert.is.not(toHex(a), toHex(crypto.randomBytes(32)));
  });
  t.run();
}

function crossBackends(backends: readonly Crypto[]): void {
  const t = suite(`crypto cross-backend: ${backends.map((b) => b.backend).join(' x ')}`);
  for (const from of backends) {
    for (const to of backends) {
      if (from === to) continue;
      t(`${from.backend} seals and signs, ${to.backend} opens and verifies`, () => {
        const signer = from.signKeyPair();
        const message = from.randomBytes(200);
        assert.ok(to.verify(message, from.sign(message, signer.secretKey), signer.publicKey));
        const alice = from.boxKeyPair();
        const bob = to.boxKeyPair();
        const nonce = from.randomBytes(24);
        const boxed = from.box(message, nonce, bob.publicKey, alice.secretKey);
        assert.is(toHex(to.boxOpen(boxed, nonce, alice.publicKey, bob.secretKey) ?? new Uint8Array(0)), toHex(message));
        const key = from.randomBytes(32);
        const sealed = from.secretbox(message, nonce, key);
        assert.is(toHex(sealed), toHex(to.secretbox(message, nonce, key)));
        assert.is(toHex(to.secretboxOpen(sealed, nonce, key) ?? new Uint8Array(0)), toHex(message));
        assert.is(
          toHex(from.scalarMult(alice.secretKey, bob.publicKey)),
          toHex(to.scalarMult(bob.secretKey, alice.publicKey)),
        );
        assert.is(toHex(from.hmacSha512(key, message)), toHex(to.hmacSha512(key, message)));
      });
    }
  }
  t.run();
}

export function defineCryptoConformance(backends: readonly Crypto[]): void {
  for (const backend of backends) knownAnswers(backend, backend.backend);
  if (backends.length > 1) crossBackends(backends);
}
