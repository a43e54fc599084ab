// Pure-JS Crypto backend over tweetnacl: runs anywhere, slowest. The reference the other backends must match.
import nacl from 'tweetnacl';
import type { Crypto, KeyPair } from '../platform/types.js';
import { hmac } from './hmac.js';

type GetRandomValues = (array: Uint8Array) => Uint8Array;

// tweetnacl finds a CSPRNG only through `self.crypto` or Node's require; QuickJS-ng has neither. Use the
// caller's source, else Web Crypto's getRandomValues (Node has it; the qjs platform polyfills it).
function randomSource(randomBytes?: (length: number) => Uint8Array): ((out: Uint8Array, n: number) => void) | null {
  if (randomBytes !== undefined) return (out, n) => out.set(randomBytes(n));
  const getRandomValues = (globalThis as { crypto?: { getRandomValues?: GetRandomValues } }).crypto?.getRandomValues;
  if (getRandomValues === undefined) return null;
  const webCrypto = (globalThis as unknown as { crypto: { getRandomValues: GetRandomValues } }).crypto;
  return (out, n) => {
    for (let i = 0; i < n; i += 65536) out.set(webCrypto.getRandomValues(new Uint8Array(Math.min(65536, n - i))), i);
  };
}

export function createTweetnaclCrypto(randomBytes?: (length: number) => Uint8Array): Crypto {
  const source = randomSource(randomBytes);
  if (source !== null) nacl.setPRNG(source);
  const sha512 = (data: Uint8Array) => nacl.hash(data);
  return {
    backend: 'tweetnacl',
    signKeyPair: (): KeyPair => nacl.sign.keyPair(),
    signKeyPairFromSeed: (seed) => nacl.sign.keyPair.fromSeed(seed),
    sign: (message, secretKey) => nacl.sign.detached(message, secretKey),
    // A signature or key of the wrong size is a forgery to reject, not a reason to throw.
    verify: (message, signature, publicKey) =>
      signature.length === nacl.sign.signatureLength &&
      publicKey.length === nacl.sign.publicKeyLength &&
      nacl.sign.detached.verify(message, signature, publicKey),
    boxKeyPair: () => nacl.box.keyPair(),
    boxKeyPairFromSecretKey: (secretKey) => nacl.box.keyPair.fromSecretKey(secretKey),
    scalarMult: (secretKey, publicKey) => nacl.scalarMult(secretKey, publicKey),
    box: (message, nonce, theirPublicKey, mySecretKey) => nacl.box(message, nonce, theirPublicKey, mySecretKey),
    boxOpen: (box, nonce, theirPublicKey, mySecretKey) => nacl.box.open(box, nonce, theirPublicKey, mySecretKey),
    secretbox: (message, nonce, key) => nacl.secretbox(message, nonce, key),
    secretboxOpen: (box, nonce, key) => nacl.secretbox.open(box, nonce, key),
    sha512,
    hmacSha512: (key, data) => hmac(sha512, 128, key, data),
    randomBytes: (length) => nacl.randomBytes(length),
  };
}
