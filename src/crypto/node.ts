// Crypto backend over node:crypto where Node has the primitive (Ed25519, X25519, SHA-512, HMAC, random);
// XSalsa20-Poly1305 (box, secretbox) is not in OpenSSL, so those fall back to tweetnacl.
import * as nodeCrypto from 'node:crypto';
import type { Crypto, KeyPair } from '../platform/types.js';
import { createTweetnaclCrypto } from './tweetnacl.js';

// DER prefixes that wrap a raw 32-byte key as PKCS#8 (private) or SPKI (public), RFC 8410.
const ed25519Pkcs8Prefix = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
const ed25519SpkiPrefix = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
const x25519Pkcs8Prefix = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);
const x25519SpkiPrefix = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00]);

const concat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};
const bytes = (buffer: Buffer) => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);

function checkLength(what: string, value: Uint8Array, length: number): void {
  if (value.length !== length) throw new RangeError(`${what} must be ${length} bytes, got ${value.length}`);
}

// Parsing a DER key costs more than the signature itself; an agent signs with one key and verifies a few
// peers' keys, so a small bounded cache of KeyObjects keeps Node at its real speed.
const keyCacheEntriesMax = 64;
const keyCache = new Map<string, nodeCrypto.KeyObject>();

function cachedKey(kind: 'private' | 'public', prefix: Uint8Array, raw32: Uint8Array): nodeCrypto.KeyObject {
  const der = Buffer.from(concat(prefix, raw32));
  const id = `${kind}:${der.toString('base64')}`;
  let key = keyCache.get(id);
  if (key === undefined) {
    key =
      kind === 'private'
        ? nodeCrypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
        : nodeCrypto.createPublicKey({ key: der, format: 'der', type: 'spki' });
    if (keyCache.size >= keyCacheEntriesMax) keyCache.delete(keyCache.keys().next().value as string);
    keyCache.set(id, key);
  }
  return key;
}

const privateKey = (prefix: Uint8Array, raw32: Uint8Array) => cachedKey('private', prefix, raw32);
const publicKey = (prefix: Uint8Array, raw32: Uint8Array) => cachedKey('public', prefix, raw32);

function rawPublic(key: nodeCrypto.KeyObject): Uint8Array {
  return bytes(key.export({ format: 'der', type: 'spki' })).slice(-32);
}

function signKeyPairFromSeed(seed: Uint8Array): KeyPair {
  checkLength('Ed25519 seed', seed, 32);
  const pk = rawPublic(nodeCrypto.createPublicKey(privateKey(ed25519Pkcs8Prefix, seed)));
  return { publicKey: pk, secretKey: concat(seed, pk) };
}

function boxKeyPairFromSecretKey(secretKey: Uint8Array): KeyPair {
  checkLength('X25519 secret key', secretKey, 32);
  const pk = rawPublic(nodeCrypto.createPublicKey(privateKey(x25519Pkcs8Prefix, secretKey)));
  return { publicKey: pk, secretKey: Uint8Array.from(secretKey) };
}

export function createNodeCrypto(): Crypto {
  const nacl = createTweetnaclCrypto();
  const randomBytes = (length: number) => bytes(nodeCrypto.randomBytes(length));
  return {
    backend: 'node',
    signKeyPair: () => signKeyPairFromSeed(randomBytes(32)),
    signKeyPairFromSeed,
    sign(message, secretKey) {
      checkLength('Ed25519 secret key', secretKey, 64);
      return bytes(nodeCrypto.sign(null, message, privateKey(ed25519Pkcs8Prefix, secretKey.subarray(0, 32))));
    },
    verify(message, signature, pk) {
      if (signature.length !== 64 || pk.length !== 32) return false;
      try {
        return nodeCrypto.verify(null, message, publicKey(ed25519SpkiPrefix, pk), signature);
      } catch {
        return false; // not a valid curve point
      }
    },
    boxKeyPair: () => boxKeyPairFromSecretKey(randomBytes(32)),
    boxKeyPairFromSecretKey,
    scalarMult(secretKey, pk) {
      checkLength('X25519 secret key', secretKey, 32);
      checkLength('X25519 public key', pk, 32);
      const shared = nodeCrypto.diffieHellman({
        privateKey: privateKey(x25519Pkcs8Prefix, secretKey),
        publicKey: publicKey(x25519SpkiPrefix, pk),
      });
      return bytes(shared);
    },
    box: nacl.box,
    boxOpen: nacl.boxOpen,
    secretbox: nacl.secretbox,
    secretboxOpen: nacl.secretboxOpen,
    sha512: (data) => bytes(nodeCrypto.createHash('sha512').update(data).digest()),
    hmacSha512: (key, data) => bytes(nodeCrypto.createHmac('sha512', key).update(data).digest()),
    randomBytes,
  };
}
