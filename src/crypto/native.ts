// Crypto backend over x0:crypto (libsodium inside x0-runtime): the fast path on the router. Byte for byte
// the same as the tweetnacl backend (test/native/crypto.node.test.ts and the conformance suite check it).
import * as sodium from 'x0:crypto';
import type { Crypto, KeyPair } from '../platform/types.js';

const publicKeyBytes = 32;
const signatureBytes = 64;
const sharedPointBytes = 32;

function keyPair(pair: sodium.KeyPair): KeyPair {
  return { publicKey: pair.publicKey, secretKey: pair.secretKey };
}

export function createNativeCrypto(): Crypto {
  return {
    backend: 'native',
    signKeyPair: () => keyPair(sodium.signKeypair()),
    signKeyPairFromSeed: (seed) => keyPair(sodium.signSeedKeypair(seed)),
    sign: (message, secretKey) => sodium.sign(message, secretKey),
    // A signature or key of the wrong size is a forgery to reject (false), not a reason to throw.
    verify: (message, signature, publicKey) =>
      signature.length === signatureBytes &&
      publicKey.length === publicKeyBytes &&
      sodium.verify(message, signature, publicKey),
    boxKeyPair: () => keyPair(sodium.boxKeypair()),
    boxKeyPairFromSecretKey: (secretKey) => ({
      publicKey: sodium.scalarmultBase(secretKey),
      secretKey: Uint8Array.from(secretKey),
    }),
    // libsodium refuses a low-order public key; tweetnacl returns the all-zero point. We return what tweetnacl
    // does so the backends stay interchangeable; the channel layer rejects an all-zero shared secret itself.
    scalarMult: (secretKey, publicKey) => sodium.scalarmult(secretKey, publicKey) ?? new Uint8Array(sharedPointBytes),
    box(message, nonce, theirPublicKey, mySecretKey) {
      const sealed = sodium.box(message, nonce, theirPublicKey, mySecretKey);
      if (sealed === null) throw new RangeError('box: the public key is a low-order point (x25519-low-order-key)');
      return sealed;
    },
    boxOpen: (box, nonce, theirPublicKey, mySecretKey) => sodium.boxOpen(box, nonce, theirPublicKey, mySecretKey),
    secretbox: (message, nonce, key) => sodium.secretbox(message, nonce, key),
    secretboxOpen: (box, nonce, key) => sodium.secretboxOpen(box, nonce, key),
    sha512: (data) => sodium.sha512(data),
    hmacSha512: (key, data) => sodium.hmacSha512(key, data),
    randomBytes: (length) => sodium.randomBytes(length),
  };
}
