// HKDF over HMAC-SHA-512 (RFC 5869) and the transcript hash, over the Crypto interface only.
import type { Crypto } from '../../platform/types.js';
import { assert } from '../identity/result.js';
import { concatBytes } from '../wire/hex.js';

const textEncoder = new TextEncoder();

/** RFC 5869: extract then expand; length at most 255 SHA-512 blocks. */
export function hkdf(crypto: Crypto, salt: Uint8Array, ikm: Uint8Array, info: string, length: number): Uint8Array {
  assert(length > 0 && length <= 255 * 64, 'hkdf: length within RFC 5869');
  const prk = crypto.hmacSha512(salt, ikm);
  const infoBytes = textEncoder.encode(info);
  const out = new Uint8Array(length);
  let previous: Uint8Array = new Uint8Array(0);
  for (let block = 1, offset = 0; offset < length; block++) {
    previous = crypto.hmacSha512(prk, concatBytes([previous, infoBytes, new Uint8Array([block])]));
    out.set(previous.subarray(0, Math.min(64, length - offset)), offset);
    offset += 64;
  }
  return out;
}

/** Transcript chaining: h' = SHA-512(h || part...). */
export function chainHash(crypto: Crypto, previous: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  return crypto.sha512(concatBytes([previous, ...parts]));
}

export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const b of bytes) acc |= b;
  return acc === 0;
}
