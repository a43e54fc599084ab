// A small deterministic CBOR encoder (RFC 8949 §4.2.1 shortest heads, definite lengths) for the values we
// sign: COSE structures and telemetry bodies. Its output is one exact byte string, as a signature needs.
// Decoding is the wire decoder's (src/core/wire/cbor-decode.ts, with size limits).
//
// Built for QuickJS-ng, where the per-message cost is the uplink's budget (docs/benchmarks.md, mqtt):
// one scratch buffer at module level, written by plain functions (a method call or property read is a
// lookup on QuickJS-ng; a module variable is not), ASCII text copied from charCodeAt and short strings'
// encodings kept (QuickJS-ng has no native TextEncoder; the polyfill allocates twice per call).
// Synchronous and not re-entrant: begin() ... end() brackets each use, and begin() asserts it is not nested.
import { assertThat } from '../result.js';
import { cborScratchBytesKept, payloadDepthMax, textCacheCharsMax, textCacheEntriesMax } from './limits.js';

const textEncoder = new TextEncoder();
/** Encoded CBOR text items of short ASCII strings: a Map lookup is several times cheaper than encoding. */
const textCache = new Map<string, Uint8Array>();
// float64 bytes without a DataView per number.
const float64 = new Float64Array(1);
const float64Bytes = new Uint8Array(float64.buffer);
const bigEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 0;

let buf = new Uint8Array(1024);
let n = 0;
let open = false;

function grow(k: number): void {
  const next = new Uint8Array(Math.max(buf.length * 2, n + k));
  next.set(buf.subarray(0, n));
  buf = next;
}

/** Starts encoding at the start of the scratch buffer. */
export function begin(): void {
  assertThat(!open, 'cbor: begin() inside another encoding');
  open = true;
  n = 0;
}

/** Ends an encoding; views of the scratch buffer taken before are invalid from the next begin(). */
export function end(): void {
  open = false;
  if (buf.length > cborScratchBytesKept) buf = new Uint8Array(1024);
}

/** The write position. */
export const position = (): number => n;

/** Moves the write position (to fill in room left earlier with skip()). */
export function seek(at: number): void {
  assertThat(at >= 0 && at <= buf.length, 'cbor: seek within the buffer');
  n = at;
}

/** Leaves k bytes of room, to be filled in later. */
export function skip(k: number): void {
  if (n + k > buf.length) grow(k);
  n += k;
}

/** A view of the scratch buffer (read it after the writes: the buffer is replaced when it grows). */
export const view = (from: number, to: number): Uint8Array => buf.subarray(from, to);

/** The bytes from `from` to the write position, copied out. */
export const copy = (from = 0): Uint8Array => buf.slice(from, n);

export function head(major: number, value: number): void {
  if (n + 9 > buf.length) grow(9);
  const m = major << 5;
  if (value < 24) {
    buf[n++] = m | value;
  } else if (value < 0x100) {
    buf[n++] = m | 24;
    buf[n++] = value;
  } else if (value < 0x10000) {
    buf[n++] = m | 25;
    buf[n++] = value >> 8;
    buf[n++] = value & 0xff;
  } else {
    const high = Math.floor(value / 0x1_0000_0000);
    buf[n++] = m | (high > 0 ? 27 : 26);
    if (high > 0) {
      buf[n++] = high >>> 24;
      buf[n++] = (high >>> 16) & 0xff;
      buf[n++] = (high >>> 8) & 0xff;
      buf[n++] = high & 0xff;
    }
    const low = value >>> 0;
    buf[n++] = low >>> 24;
    buf[n++] = (low >>> 16) & 0xff;
    buf[n++] = (low >>> 8) & 0xff;
    buf[n++] = low & 0xff;
  }
}

/** Bytes as they are (already CBOR, or the content of a string whose head is written). */
export function raw(data: Uint8Array): void {
  if (n + data.length > buf.length) grow(data.length);
  buf.set(data, n);
  n += data.length;
}

export function bytes(data: Uint8Array): void {
  head(2, data.length);
  raw(data);
}

export function text(value: string): void {
  const cached = textCache.get(value);
  if (cached !== undefined) return raw(cached);
  const start = n;
  const length = value.length;
  // ASCII first (our keys, names and topics): one UTF-8 byte per UTF-16 unit, written as we read.
  head(3, length);
  if (n + length > buf.length) grow(length);
  for (let i = 0; i < length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0x7f) {
      n = start;
      const data = textEncoder.encode(value);
      head(3, data.length);
      return raw(data);
    }
    buf[n++] = c;
  }
  if (length > textCacheCharsMax) return;
  // Keys and names repeat in every message: keep their encoding (bounded: a full cache starts over).
  if (textCache.size >= textCacheEntriesMax) textCache.clear();
  textCache.set(value, buf.slice(start, n));
}

export function number(value: number): void {
  if (Number.isSafeInteger(value)) return value >= 0 ? head(0, value) : head(1, -1 - value);
  // Not an integer: float64 (major 7, 27) — always 8 bytes, so the same value always has the same bytes.
  float64[0] = value;
  if (n + 9 > buf.length) grow(9);
  buf[n++] = 0xfb;
  for (let i = 0; i < 8; i++) buf[n++] = float64Bytes[bigEndian ? i : 7 - i] as number;
}

/** Any of our own values: numbers, strings, bytes, booleans, null, arrays, Maps and plain objects. */
export function value(item: unknown, depth = 0): void {
  switch (typeof item) {
    case 'number':
      return number(item);
    case 'string':
      return text(item);
    case 'boolean':
      return head(7, item ? 21 : 20);
    case 'object':
      break;
    default:
      return head(7, 22);
  }
  if (item === null) return head(7, 22);
  assertThat(depth < payloadDepthMax, 'cbor: nesting within payloadDepthMax');
  if (item instanceof Uint8Array) return bytes(item);
  if (Array.isArray(item)) {
    head(4, item.length);
    for (let i = 0; i < item.length; i++) value(item[i], depth + 1);
    return;
  }
  if (item instanceof Map) {
    head(5, item.size);
    for (const [k, v] of item) {
      value(k, depth + 1);
      value(v, depth + 1);
    }
    return;
  }
  record(item as Record<string, unknown>, depth);
}

/** A plain object: its defined entries, in insertion order (as JSON.stringify would write them). */
function record(object: Record<string, unknown>, depth: number): void {
  const keys = Object.keys(object);
  // The head counts every key and is patched if some values are undefined (one byte while < 24 entries).
  const at = n;
  let count = keys.length;
  if (count >= 24) for (let i = 0; i < keys.length; i++) if (object[keys[i] as string] === undefined) count--;
  head(5, count);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const item = object[key];
    if (item === undefined) {
      if (keys.length < 24) buf[at] = 0xa0 | --count;
      continue;
    }
    text(key);
    value(item, depth + 1);
  }
}

/** The CBOR encoding of what write() writes (heads, text, values, ...), copied out. */
export function encodeWith(write: () => void): Uint8Array {
  begin();
  try {
    write();
    return copy();
  } finally {
    end();
  }
}

/** The CBOR encoding of one of our own values. */
export const encodeValue = (item: unknown): Uint8Array => encodeWith(() => value(item));
