// Canonical CBOR for everything that is signed (RFC 8949 §4.2.1, core deterministic encoding), over the
// small subset our structures use: unsigned integers, byte strings, text strings and arrays. encodeCbor is not
// deterministic for us (like cbor-x before it, it writes integers above 2^32 as float64), so signed bytes come from this encoder,
// and a decoded structure is accepted only if re-encoding it gives back the exact bytes that were signed.
import { concatBytes } from '../wire/hex.js';
import { decodeLimited } from '../wire/cbor.js';
import { limits } from './limits.js';
import { assert, fail, ok, type Result } from './result.js';

export type Canon = number | string | Uint8Array | readonly Canon[];

const textEncoder = new TextEncoder();

class Writer {
  private buffer = new Uint8Array(256);
  length = 0;

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }

  head(major: number, value: number): void {
    assert(Number.isSafeInteger(value), 'canonical: integer is safe');
    assert(value >= 0, 'canonical: unsigned only');
    this.reserve(9);
    const b = this.buffer;
    const m = major << 5;
    if (value < 24) b[this.length++] = m | value;
    else if (value < 0x100) {
      b[this.length++] = m | 24;
      b[this.length++] = value;
    } else if (value < 0x10000) {
      b[this.length++] = m | 25;
      b[this.length++] = value >> 8;
      b[this.length++] = value & 0xff;
    } else if (value < 0x1_0000_0000) {
      b[this.length++] = m | 26;
      this.u32(value);
    } else {
      b[this.length++] = m | 27;
      this.u32(Math.floor(value / 0x1_0000_0000));
      this.u32(value >>> 0);
    }
  }

  private u32(value: number): void {
    const b = this.buffer;
    b[this.length++] = (value >>> 24) & 0xff;
    b[this.length++] = (value >>> 16) & 0xff;
    b[this.length++] = (value >>> 8) & 0xff;
    b[this.length++] = value & 0xff;
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  result(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

function write(w: Writer, value: Canon, depth: number): void {
  assert(depth <= limits.canonicalDepthMax, 'canonical: nesting within canonicalDepthMax');
  if (typeof value === 'number') return w.head(0, value);
  if (typeof value === 'string') {
    const text = textEncoder.encode(value);
    w.head(3, text.length);
    return w.bytes(text);
  }
  if (value instanceof Uint8Array) {
    w.head(2, value.length);
    return w.bytes(value);
  }
  w.head(4, value.length);
  for (const item of value) write(w, item, depth + 1);
}

/** Deterministic encoding of a value we built ourselves (never outside input: its depth is ours). */
export function encodeCanonical(value: Canon): Uint8Array {
  const w = new Writer();
  write(w, value, 0);
  return w.result();
}

export type CanonDecodeReason = 'too-large' | 'malformed';

/** decodeLimited with a size cap; failure is a value. 64-bit integer heads come back as bigint (asNat). */
export function decodeBounded(bytes: Uint8Array, maxBytes: number): Result<unknown, CanonDecodeReason> {
  const decoded = decodeLimited(bytes, maxBytes);
  if (!decoded.ok) return fail(decoded.reason === 'cbor-too-large' ? 'too-large' : 'malformed');
  return ok(decoded.value);
}

// --- shape checks for decoded (untrusted) values; callers turn false into a reason code ---

export const isNat = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** A uint64 head (decoded as bigint) is accepted if it fits a safe integer. */
export function asNat(x: unknown): number | null {
  if (isNat(x)) return x;
  if (typeof x === 'bigint' && x >= 0n && x <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(x);
  return null;
}

/** A time on the wire (ms since 1970) within limits.timeMsMax, or null. */
export function asTimeMs(x: unknown): number | null {
  const n = asNat(x);
  return n !== null && n <= limits.timeMsMax ? n : null;
}

export const isBytes = (x: unknown, length?: number): x is Uint8Array =>
  x instanceof Uint8Array && (length === undefined || x.length === length);

export const isText = (x: unknown, maxChars: number): x is string => typeof x === 'string' && x.length <= maxChars;

export function isArrayOf<T>(x: unknown, maxLength: number, item: (y: unknown) => y is T): x is T[] {
  if (!Array.isArray(x) || x.length > maxLength) return false;
  for (const y of x) if (!item(y)) return false;
  return true;
}

/** A private copy: the decoder hands out views into the input buffer, which the caller may reuse. */
export const copyBytes = (x: Uint8Array): Uint8Array => new Uint8Array(x);

/** Domain separation: a label and a NUL in front of every signed or hashed message. */
export function labelled(label: string, ...parts: Uint8Array[]): Uint8Array {
  return concatBytes([textEncoder.encode(`${label}\u0000`), ...parts]);
}

// Byte helpers live with the wire helpers; re-exported here for the identity and channel cores.
export { bytesEqual, compareBytes, concatBytes, toHex } from '../wire/hex.js';
