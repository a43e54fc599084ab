// How a CRDT's element values become plain CBOR-able data and back; fromWire returns null for bad input.
import { isBytes, isNat, isText } from './check.js';

export interface Codec<V> {
  toWire(value: V): unknown;
  fromWire(x: unknown): V | null;
}

export const nullCodec: Codec<null> = { toWire: () => null, fromWire: (x) => (x === null ? null : null) };
export const textCodec: Codec<string> = { toWire: (v) => v, fromWire: (x) => (isText(x) ? x : null) };
export const natCodec: Codec<number> = { toWire: (v) => v, fromWire: (x) => (isNat(x) ? x : null) };
export const bytesCodec: Codec<Uint8Array> = { toWire: (v) => v, fromWire: (x) => (isBytes(x) ? x : null) };

// One byte-concatenation helper for all cores (reassembled chunks, batched log records).
export { concatBytes } from '../wire/hex.js';
