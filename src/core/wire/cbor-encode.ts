// The CBOR encoder behind encodeCbor: the exact bytes cbor-x 1.6 wrote for us before (Encoder with
// useRecords false, mapsAsObjects true, tagUint8Array false, pack false, variableMapSize true), because
// signatures and hashes cover them (gossip attestations hash section encodings). test/wire/cbor.node.test.ts
// compares it with cbor-x over arbitrary values; test/wire/cbor.test.ts holds recorded vectors for x0-runtime.
// cbor-x's choices kept here, each on purpose:
//  - integers in [-2^32, 2^32) get the shortest head; every other number (fractions, and integers beyond
//    that range) is a float64 (0xfb): cbor-x does not write 64-bit integer heads for numbers;
//  - bigint in 64 bits is a 64-bit head (0x1b/0x3b), beyond it a bignum (tag 2/3);
//  - a plain object is a map of Object.keys in their order, undefined values included (0xf7);
//  - a Map is tag 259 around a map; a Uint8Array (or Node Buffer) is a byte string;
//  - a string under 64 UTF-16 units is written unit by unit (a lone surrogate as its 3-byte form), a longer
//    one as TextEncoder would (a lone surrogate as U+FFFD).
// Synchronous and not re-entrant: one scratch buffer at module level, copied out at the end.

/** Nesting of what we encode; the decoder accepts the same (decodeDepthMax), so what we write we can read. */
export const encodeDepthMax = 64;
/** The scratch buffer is dropped back to its start size after an encoding larger than this. */
const scratchBytesKept = 64 * 1024;
/** cbor-x writes strings shorter than this unit by unit, longer ones with the platform's UTF-8 encoder. */
const shortStringUnits = 64;

let buf = new Uint8Array(1024);
let n = 0;
const float64 = new Float64Array(1);
const float64Bytes = new Uint8Array(float64.buffer);
const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Every item may write this much without asking for room (heads, floats, 64-bit integers, tag 259). */
const slackBytes = 16;
let safeEnd = buf.length - slackBytes;

function room(k: number): void {
  if (n + k <= safeEnd) return;
  const next = new Uint8Array(Math.max(buf.length * 2, n + k + slackBytes));
  next.set(buf.subarray(0, n));
  buf = next;
  safeEnd = buf.length - slackBytes;
}

/** A head with an argument below 2^32 (all cbor-x writes for lengths and small integers). */
function head(major: number, value: number): void {
  const m = major << 5;
  if (value < 24) buf[n++] = m | value;
  else if (value < 0x100) {
    buf[n++] = m | 24;
    buf[n++] = value;
  } else if (value < 0x10000) {
    buf[n++] = m | 25;
    buf[n++] = value >> 8;
    buf[n++] = value & 0xff;
  } else {
    buf[n++] = m | 26;
    buf[n++] = value >>> 24;
    buf[n++] = (value >>> 16) & 0xff;
    buf[n++] = (value >>> 8) & 0xff;
    buf[n++] = value & 0xff;
  }
}

function number(value: number): void {
  if (value >>> 0 === value) return head(0, value);
  if (value < 0 && value >= -0x1_0000_0000 && Math.floor(value) === value) return head(1, -1 - value);
  float64[0] = value;
  buf[n++] = 0xfb;
  for (let i = 0; i < 8; i++) buf[n++] = float64Bytes[littleEndian ? 7 - i : i] as number;
}

function bigint(value: bigint): void {
  const negative = value < 0n;
  let magnitude = negative ? -1n - value : value;
  // cbor-x's bounds: [0, 2^64) and (-2^64, 0) take a 64-bit head; -2^64 itself is a bignum.
  if (magnitude < (negative ? (1n << 64n) - 1n : 1n << 64n)) {
    buf[n++] = negative ? 0x3b : 0x1b;
    for (let shift = 56n; shift >= 0n; shift -= 8n) buf[n++] = Number((magnitude >> shift) & 0xffn);
    return;
  }
  // A bignum (RFC 8949 §3.4.3): tag 2 or 3 around the magnitude's big-endian bytes.
  const digits: number[] = [];
  while (magnitude > 0n) {
    digits.push(Number(magnitude & 0xffn));
    magnitude >>= 8n;
  }
  buf[n++] = negative ? 0xc3 : 0xc2;
  bytes(Uint8Array.from(digits.reverse()));
}

function bytes(data: Uint8Array): void {
  head(2, data.length);
  room(data.length + slackBytes);
  buf.set(data, n);
  n += data.length;
}

/** UTF-8 of value[from..] into buf at n; `wtf8` keeps a lone surrogate as 3 bytes, else writes U+FFFD. */
function utf8Into(value: string, wtf8: boolean): void {
  const length = value.length;
  for (let i = 0; i < length; i++) {
    let c = value.charCodeAt(i);
    if (c < 0x80) buf[n++] = c;
    else if (c < 0x800) {
      buf[n++] = (c >> 6) | 0xc0;
      buf[n++] = (c & 0x3f) | 0x80;
    } else {
      if ((c & 0xfc00) === 0xd800 && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        c = 0x10000 + ((c & 0x3ff) << 10) + (value.charCodeAt(++i) & 0x3ff);
        buf[n++] = (c >> 18) | 0xf0;
        buf[n++] = ((c >> 12) & 0x3f) | 0x80;
        buf[n++] = ((c >> 6) & 0x3f) | 0x80;
        buf[n++] = (c & 0x3f) | 0x80;
        continue;
      }
      if (!wtf8 && (c & 0xf800) === 0xd800) c = 0xfffd;
      buf[n++] = (c >> 12) | 0xe0;
      buf[n++] = ((c >> 6) & 0x3f) | 0x80;
      buf[n++] = (c & 0x3f) | 0x80;
    }
  }
}

/** A short ASCII string (our keys and names) in one pass: its length is its byte count. */
function asciiText(value: string): boolean {
  const units = value.length;
  const start = n;
  buf[n++] = 0x60 | units;
  for (let i = 0; i < units; i++) {
    const c = value.charCodeAt(i);
    if (c > 0x7f) {
      n = start;
      return false;
    }
    buf[n++] = c;
  }
  return true;
}

function text(value: string): void {
  const units = value.length;
  if (n + units >= safeEnd) room(units + 1);
  if (units < 24 && asciiText(value)) return;
  // The head's size is known only after the bytes: write them after the largest head, then move them.
  room(5 + units * 3 + slackBytes);
  const start = n;
  n += 5;
  utf8Into(value, units < shortStringUnits);
  const length = n - start - 5;
  n = start;
  head(3, length);
  if (n !== start + 5) buf.copyWithin(n, start + 5, start + 5 + length);
  n += length;
}

function array(items: readonly unknown[], depth: number): void {
  const length = items.length;
  head(4, length);
  for (let i = 0; i < length; i++) value(items[i], depth);
}

function object(record: object, depth: number): void {
  const keys = Object.keys(record);
  const values = Object.values(record);
  head(5, keys.length);
  for (let i = 0; i < keys.length; i++) {
    text(keys[i] as string);
    value(values[i], depth);
  }
}

function map(entries: Map<unknown, unknown>, depth: number): void {
  buf[n++] = 0xd9; // tag 259: a map whose keys need not be strings (cbor-x's marker for a JS Map)
  buf[n++] = 0x01;
  buf[n++] = 0x03;
  head(5, entries.size);
  for (const [k, v] of entries) {
    value(k, depth);
    value(v, depth);
  }
}

/** An array, map or object inside `depth` others; a byte string is not a container. */
function container(item: object, depth: number): void {
  const maker = item.constructor;
  if (maker === Uint8Array) return bytes(item as Uint8Array);
  if (depth >= encodeDepthMax) throw new RangeError(`cbor: nesting deeper than encodeDepthMax (${encodeDepthMax})`);
  if (maker === Object) return object(item, depth + 1);
  if (maker === Array) return array(item as unknown[], depth + 1);
  if (item instanceof Uint8Array) return bytes(item); // a Node Buffer: a byte string too
  if (maker === Map) return map(item as Map<unknown, unknown>, depth + 1);
  // cbor-x has tags for these (dates, sets, typed arrays, ...); we never send them, so say so loudly.
  if (ArrayBuffer.isView(item) || item instanceof ArrayBuffer || item instanceof Date || item instanceof Set)
    throw new TypeError(`cbor: cannot encode a ${maker?.name ?? 'value'} (use a Uint8Array, array or object)`);
  if (item instanceof Error || item instanceof RegExp)
    throw new TypeError(`cbor: cannot encode a ${maker?.name ?? 'value'} (use a Uint8Array, array or object)`);
  if (Symbol.iterator in item) throw new TypeError('cbor: cannot encode an iterable (use an array)');
  object(item, depth + 1);
}

function value(item: unknown, depth: number): void {
  if (n > safeEnd) room(slackBytes);
  switch (typeof item) {
    case 'string':
      return text(item);
    case 'number':
      return number(item);
    case 'boolean':
      buf[n++] = item ? 0xf5 : 0xf4;
      return;
    case 'undefined':
      buf[n++] = 0xf7;
      return;
    case 'bigint':
      return bigint(item);
    case 'object':
      if (item === null) {
        buf[n++] = 0xf6;
        return;
      }
      return container(item, depth);
    default:
      throw new TypeError(`cbor: cannot encode a ${typeof item}`);
  }
}

/** The CBOR bytes of a value (a fresh copy; throws TypeError/RangeError for what it cannot encode). */
export function encodeCbor(item: unknown): Uint8Array {
  n = 0;
  try {
    value(item, 0);
    return buf.slice(0, n);
  } finally {
    if (buf.length > scratchBytesKept) {
      buf = new Uint8Array(1024);
      safeEnd = buf.length - slackBytes;
    }
  }
}
