// CBOR for everything on the wire and on flash (cbor-x). Every decode of outside input goes through
// decodeLimited: a size check first, then a decode whose failure is a value, never an exception.
import { Decoder, Encoder } from 'cbor-x';

// Plain maps as objects, no record extension (keeps the wire format standard CBOR that other tools read),
// shortest-form map headers, no bundled structures: the same bytes on Node and QuickJS-ng.
const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  tagUint8Array: false,
  pack: false,
  variableMapSize: true,
});
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

export type DecodeResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: 'cbor-too-large' | 'cbor-malformed' };

export function encodeCbor(value: unknown): Uint8Array {
  const out = encoder.encode(value);
  // cbor-x returns a Buffer on Node; callers get a plain view on both engines.
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

export function decodeLimited<T = unknown>(bytes: Uint8Array, maxBytes: number): DecodeResult<T> {
  if (bytes.length > maxBytes) return { ok: false, reason: 'cbor-too-large' };
  try {
    return { ok: true, value: decoder.decode(bytes) as T };
  } catch {
    // cbor-x throws Error/RangeError on truncated or invalid input; deep nesting can exhaust the stack.
    return { ok: false, reason: 'cbor-malformed' };
  }
}
