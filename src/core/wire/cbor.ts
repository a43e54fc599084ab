// CBOR for everything on the wire and on flash: our own small codec (cbor-encode.ts, cbor-decode.ts), which
// writes the bytes cbor-x wrote before (signatures and hashes cover them) and reads outside input with
// bounded depth and lengths. Every decode of outside input goes through decodeLimited (or decodeCbor with
// options): a size check first, then a decode whose failure is a value, never an exception.
import { decodeCbor, type DecodeResult } from './cbor-decode.js';

export { encodeCbor, encodeDepthMax } from './cbor-encode.js';
export { CborTag, decodeCbor, decodeDepthMax, type DecodeOptions, type DecodeResult } from './cbor-decode.js';

/** Maps as plain objects, no tags, 64-bit integer heads as bigint: what every core decoder reads. */
export function decodeLimited<T = unknown>(bytes: Uint8Array, maxBytes: number): DecodeResult<T> {
  return decodeCbor<T>(bytes, maxBytes);
}
