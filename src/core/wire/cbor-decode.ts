// The CBOR decoder for everything we receive (RFC 8949), built for outside input:
//  - no recursion: nesting is an explicit stack of at most decodeDepthMax arrays, maps and tags;
//  - nothing is allocated from a declared length: an array or map longer than the bytes left could hold is
//    refused, items are pushed as they are read, a byte string is a view of the input;
//  - definite lengths only: indefinite-length items (0x5f, 0x7f, 0x9f, 0xbf) are refused, as are the break
//    code, simple values other than false/true/null/undefined, reserved heads (28-30) and trailing bytes;
//  - text must be valid UTF-8 (cbor-x replaced bad sequences with U+FFFD; we refuse them);
//  - tags are refused unless the caller lists them (COSE accepts its own, 16-18 and 96-98), then come back
//    as a CborTag; a 64-bit integer head (0x1b) gives a bigint, as cbor-x did (or, with int64 'number', a
//    number when it is a safe integer and a refusal otherwise): never a silent loss of precision;
//  - map keys: with maps 'objects' (the default) text or integer keys (integers as their decimal string, as
//    JavaScript would), a duplicate key is refused and "__proto__" is an own property, not a prototype; with
//    maps 'maps' a Map of any keys, a duplicate refused.
// Failure is a value (decodeCbor's result), never an exception to the caller.
import { encodeDepthMax } from './cbor-encode.js';

/** Arrays, maps and tags open at once: what we encode (encodeDepthMax) and no more. */
export const decodeDepthMax = encodeDepthMax;

export type DecodeResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: 'cbor-too-large' | 'cbor-malformed' };

export interface DecodeOptions {
  /** 'objects' (default): a map is a plain object. 'maps': a Map (COSE headers have integer labels). */
  readonly maps?: 'objects' | 'maps';
  /** Tags accepted, each decoded as a CborTag; any other tag is refused. None by default. */
  readonly tags?: readonly number[];
  /** A 64-bit integer head: 'bigint' (default, as cbor-x gave) or 'number' (refused beyond 2^53). */
  readonly int64?: 'bigint' | 'number';
}

/** A tagged item (RFC 8949 §3.4) the caller asked for. */
export class CborTag {
  constructor(
    readonly tag: number,
    readonly value: unknown,
  ) {}
}

class Malformed extends Error {}
const malformed = new Malformed('cbor-malformed');

const kindArray = 0;
const kindObject = 1;
const kindMap = 2;
const kindTag = 3;
const noKey = Symbol('no key');
/** place() leaves the item in an open container: read the next one. */
const pending = Symbol('pending');
/** readItem() opened a container: read its first item. */
const opened = Symbol('opened');

let src: Uint8Array = new Uint8Array(0);
let pos = 0;
let mapsAsMaps = false;
let tagsAccepted: readonly number[] = [];
let int64AsNumber = false;
let depth = 0;
const kinds: number[] = [];
const containers: unknown[] = [];
const remaining: number[] = [];
const hasOwn = Object.prototype.hasOwnProperty;
const keys: unknown[] = [];
const units: number[] = [];
const f32 = new Float32Array(1);
const f32Bytes = new Uint8Array(f32.buffer);
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function need(k: number): void {
  if (k > src.length - pos) throw malformed;
}

function uint(k: number): number {
  need(k);
  let value = 0;
  for (let i = 0; i < k; i++) value = value * 256 + (src[pos++] as number);
  return value;
}

/** The head's argument for a length or a tag (a number: anything above 2^53 is refused by the caller's check). */
function argument(info: number): number {
  if (info < 24) return info;
  if (info === 24) return uint(1);
  if (info === 25) return uint(2);
  if (info === 26) return uint(4);
  if (info === 27) return uint(8);
  throw malformed; // 28-30 reserved, 31 indefinite length or break
}

function integer(major: number, info: number): number | bigint {
  if (info !== 27) {
    const value = argument(info);
    return major === 0 ? value : -1 - value;
  }
  need(8);
  const high = uint(4);
  const low = uint(4);
  if (int64AsNumber) {
    const value = major === 0 ? high * 0x1_0000_0000 + low : -1 - (high * 0x1_0000_0000 + low);
    if (!Number.isSafeInteger(value)) throw malformed;
    return value;
  }
  const big = (BigInt(high) << 32n) | BigInt(low);
  return major === 0 ? big : -1n - big;
}

function floatBytes(target: Uint8Array, k: number): void {
  need(k);
  for (let i = 0; i < k; i++) target[littleEndian ? k - 1 - i : i] = src[pos++] as number;
}

function half(bits: number): number {
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  let value: number;
  if (exponent === 0) value = mantissa * 2 ** -24;
  else if (exponent === 31) value = mantissa === 0 ? Number.POSITIVE_INFINITY : Number.NaN;
  else value = (mantissa + 1024) * 2 ** (exponent - 25);
  return bits & 0x8000 ? -value : value;
}

function simple(info: number): unknown {
  switch (info) {
    case 20:
      return false;
    case 21:
      return true;
    case 22:
      return null;
    case 23:
      return undefined;
    case 25:
      return half(uint(2));
    case 26:
      floatBytes(f32Bytes, 4);
      return f32[0];
    case 27:
      floatBytes(f64Bytes, 8);
      return f64[0];
    default:
      throw malformed; // unassigned simple values, 0xf8 xx, reserved, break
  }
}

function continuation(at: number): number {
  const byte = src[at] as number;
  if ((byte & 0xc0) !== 0x80) throw malformed;
  return byte & 0x3f;
}

/** One code point from the lead byte at pos (valid UTF-8 only: no overlong forms, surrogates or > U+10FFFF). */
function codePoint(stop: number): void {
  const lead = src[pos++] as number;
  let cp: number;
  if (lead >= 0xc2 && lead < 0xe0) {
    if (pos + 1 > stop) throw malformed;
    cp = ((lead & 0x1f) << 6) | continuation(pos++);
  } else if (lead >= 0xe0 && lead < 0xf0) {
    if (pos + 2 > stop) throw malformed;
    cp = ((lead & 0x0f) << 12) | (continuation(pos++) << 6) | continuation(pos++);
    if (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000)) throw malformed;
  } else if (lead >= 0xf0 && lead < 0xf5) {
    if (pos + 3 > stop) throw malformed;
    cp = ((lead & 0x07) << 18) | (continuation(pos++) << 12) | (continuation(pos++) << 6) | continuation(pos++);
    if (cp < 0x10000 || cp > 0x10ffff) throw malformed;
    cp -= 0x10000;
    units.push(0xd800 | (cp >> 10));
    cp = 0xdc00 | (cp & 0x3ff);
  } else throw malformed;
  units.push(cp);
}

/** ASCII text (our keys, names, streams): the bytes are the UTF-16 units, one call makes the string. */
function ascii(length: number): string | null {
  const at = pos;
  const stop = at + length;
  for (let i = at; i < stop; i++) if ((src[i] as number) > 0x7f) return null;
  pos = stop;
  return length <= 8
    ? shortAscii(at, length)
    : String.fromCharCode.apply(null, src.subarray(at, stop) as unknown as number[]);
}

/** Up to 8 units as explicit arguments: on QuickJS-ng several times cheaper than a view and an apply. */
function shortAscii(at: number, length: number): string {
  const s = src as unknown as number[];
  const f = String.fromCharCode;
  switch (length) {
    case 0:
      return '';
    case 1:
      return f(s[at] as number);
    case 2:
      return f(s[at] as number, s[at + 1] as number);
    case 3:
      return f(s[at] as number, s[at + 1] as number, s[at + 2] as number);
    case 4:
      return f(s[at] as number, s[at + 1] as number, s[at + 2] as number, s[at + 3] as number);
    default:
      return (
        f(s[at] as number, s[at + 1] as number, s[at + 2] as number, s[at + 3] as number) +
        shortAscii(at + 4, length - 4)
      );
  }
}

/** A text string of `length` bytes at pos, in chunks so that String.fromCharCode's arguments stay few. */
function text(length: number): string {
  need(length);
  if (length <= 1024) {
    const plain = ascii(length);
    if (plain !== null) return plain;
  }
  const stop = pos + length;
  let out = '';
  units.length = 0;
  while (pos < stop) {
    const byte = src[pos] as number;
    if (byte < 0x80) {
      units.push(byte);
      pos++;
    } else codePoint(stop);
    if (units.length >= 1024) {
      out += String.fromCharCode.apply(null, units);
      units.length = 0;
    }
  }
  return out + String.fromCharCode.apply(null, units);
}

function open(kind: number, container: unknown, count: number): typeof opened {
  if (depth >= decodeDepthMax) throw malformed;
  kinds[depth] = kind;
  containers[depth] = container;
  remaining[depth] = count;
  keys[depth] = noKey;
  depth++;
  return opened;
}

/** One head and what it holds: a complete item, or `opened` when it starts a non-empty array, map or tag. */
function readItem(): unknown {
  if (pos >= src.length) throw malformed;
  const initial = src[pos++] as number;
  const major = initial >> 5;
  const info = initial & 0x1f;
  if (major === 0 && info < 24) return info;
  if (major <= 1) return integer(major, info);
  if (major === 7) return simple(info);
  const count = info < 24 ? info : argument(info);
  switch (major) {
    case 2: {
      need(count);
      const start = src.byteOffset + pos;
      pos += count;
      return new Uint8Array(src.buffer, start, count);
    }
    case 3:
      return text(count);
    case 4:
      if (count > src.length - pos) throw malformed; // every item takes at least one byte
      return count === 0 ? [] : open(kindArray, [], count);
    case 5: {
      if (count > (src.length - pos) / 2) throw malformed; // every entry takes at least two
      const container = mapsAsMaps ? new Map() : {};
      return count === 0 ? container : open(mapsAsMaps ? kindMap : kindObject, container, count);
    }
    default:
      if (!tagsAccepted.includes(count)) throw malformed;
      return open(kindTag, count, 1);
  }
}

function setEntry(k: number, key: unknown, item: unknown): void {
  if (kinds[k] === kindMap) {
    const map = containers[k] as Map<unknown, unknown>;
    if (map.has(key)) throw malformed;
    map.set(key, item);
    return;
  }
  const object = containers[k] as Record<string, unknown>;
  const name = key as string;
  // `in` first (an operator, no call); true for an inherited name too, so ask for an own property only then.
  if (name in object && hasOwn.call(object, name)) throw malformed;
  if (name === '__proto__')
    Object.defineProperty(object, name, { value: item, enumerable: true, writable: true, configurable: true });
  else object[name] = item;
}

/** Puts a finished item into the innermost open container; returns the container when that completes it. */
function place(item: unknown): unknown {
  const k = depth - 1;
  const kind = kinds[k];
  if (kind === kindTag) {
    item = new CborTag(containers[k] as number, item);
  } else if (kind === kindArray) {
    (containers[k] as unknown[]).push(item);
  } else if (keys[k] === noKey) {
    if (kind === kindObject) {
      if (typeof item === 'number' && Number.isInteger(item)) item = String(item);
      else if (typeof item !== 'string') throw malformed;
    }
    keys[k] = item;
    return pending;
  } else {
    setEntry(k, keys[k], item);
    keys[k] = noKey;
  }
  if (kind !== kindTag && --(remaining[k] as number) > 0) return pending;
  const done = kind === kindTag ? item : containers[k];
  containers[k] = undefined;
  keys[k] = undefined;
  depth = k;
  return done;
}

function decodeItem(): unknown {
  // Each turn reads at least one byte, so the loop ends within src.length turns.
  for (;;) {
    let item = readItem();
    if (item === opened) continue;
    while (depth > 0) {
      item = place(item);
      if (item === pending) break;
    }
    if (depth === 0 && item !== pending) return item;
  }
}

function reset(): void {
  for (let k = 0; k < depth; k++) {
    containers[k] = undefined;
    keys[k] = undefined;
  }
  depth = 0;
  units.length = 0;
  src = new Uint8Array(0);
}

/** Decodes one CBOR item that must fill `bytes` exactly; anything else is 'cbor-malformed'. */
export function decodeCbor<T = unknown>(
  bytes: Uint8Array,
  maxBytes: number,
  options: DecodeOptions = {},
): DecodeResult<T> {
  if (bytes.length > maxBytes) return { ok: false, reason: 'cbor-too-large' };
  src = bytes;
  pos = 0;
  depth = 0;
  mapsAsMaps = options.maps === 'maps';
  tagsAccepted = options.tags ?? [];
  int64AsNumber = options.int64 === 'number';
  try {
    const value = decodeItem() as T;
    if (pos !== src.length) return { ok: false, reason: 'cbor-malformed' };
    return { ok: true, value };
  } catch {
    // Malformed input (Malformed), or an engine limit (memory) reached on input within maxBytes.
    return { ok: false, reason: 'cbor-malformed' };
  } finally {
    reset();
  }
}
