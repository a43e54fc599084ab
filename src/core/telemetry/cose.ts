// COSE_Sign1 (RFC 9052 §4.2) with EdDSA (alg -8, Ed25519): the envelope of every telemetry payload, so any
// COSE library can verify what a node sent, whatever broker carried it.
//   COSE_Sign1 = #6.18([protected: bstr .cbor header_map, unprotected: header_map, payload: bstr, signature: bstr])
//   Sig_structure = ["Signature1", body_protected, external_aad, payload]   (§4.4), signed as CBOR bytes.
// Protected header: {1 (alg): -8, 3 (content type): 60 application/cbor | 50 application/json, 4 (kid): key id}.
// Unprotected header: optionally {"x0-chain": [certificate bytes, leaf first]} (docs/telemetry.md).
import { Decoder } from 'cbor-x';
import type { Crypto } from '../../platform/types.js';
import { fail, ok, type Result } from '../result.js';
import { CborWriter } from './cbor.js';
import { messageBytesMax } from './limits.js';

export const algEdDSA = -8;
export const coseSign1Tag = 18;
export const contentTypeCbor = 60;
export const contentTypeJson = 50;
export const chainHeader = 'x0-chain';
const label = { alg: 1, contentType: 3, kid: 4 } as const;

export interface Sign1 {
  /** The protected header exactly as sent: the signature covers these bytes, not a re-encoding. */
  readonly protectedBytes: Uint8Array;
  readonly alg: number;
  readonly contentType: number | null;
  readonly kid: Uint8Array;
  readonly chain: readonly Uint8Array[] | null;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
}

export type CoseReason = 'cose-too-large' | 'cose-malformed' | 'cose-not-sign1' | 'cose-alg-unsupported' | 'cose-no-kid' | 'cose-detached';

const decoder = new Decoder({ useRecords: false, mapsAsObjects: false });
const empty = new Uint8Array(0);

export function encodeProtected(contentType: number, kid: Uint8Array): Uint8Array {
  const w = new CborWriter();
  w.value(new Map<number, unknown>([[label.alg, algEdDSA], [label.contentType, contentType], [label.kid, kid]]));
  return w.result();
}

/** The bytes that are signed (RFC 9052 §4.4). */
export function sigStructure(protectedBytes: Uint8Array, payload: Uint8Array, externalAad: Uint8Array = empty): Uint8Array {
  const w = new CborWriter();
  w.head(4, 4);
  w.text('Signature1');
  w.bytes(protectedBytes);
  w.bytes(externalAad);
  w.bytes(payload);
  return w.result();
}

export interface SignOptions {
  readonly contentType: number;
  readonly kid: Uint8Array;
  readonly chain?: readonly Uint8Array[];
}

/** Signs payload as a tagged COSE_Sign1 with Ed25519 (secretKey: 64 bytes, NaCl layout). */
export function signSign1(crypto: Crypto, secretKey: Uint8Array, payload: Uint8Array, options: SignOptions, protectedBytes = encodeProtected(options.contentType, options.kid)): Uint8Array {
  const signature = crypto.sign(sigStructure(protectedBytes, payload), secretKey);
  const w = new CborWriter();
  w.tag(coseSign1Tag);
  w.head(4, 4);
  w.bytes(protectedBytes);
  if (options.chain === undefined) w.head(5, 0);
  else w.value(new Map([[chainHeader, options.chain]]));
  w.bytes(payload);
  w.bytes(signature);
  return w.result();
}

const isBytes = (x: unknown): x is Uint8Array => x instanceof Uint8Array;

/** Parses a COSE_Sign1 from outside: shape, algorithm and key id. Does not verify the signature. */
export function decodeSign1(bytes: Uint8Array): Result<Sign1, CoseReason> {
  if (bytes.length > messageBytesMax) return fail('cose-too-large');
  let outer: unknown;
  try {
    outer = decoder.decode(bytes);
  } catch {
    return fail('cose-malformed');
  }
  const tagged = outer as { tag?: unknown; value?: unknown } | null;
  if (typeof tagged !== 'object' || tagged === null || tagged.tag !== coseSign1Tag) return fail('cose-not-sign1');
  const parts = tagged.value;
  if (!Array.isArray(parts) || parts.length !== 4) return fail('cose-malformed');
  const [protectedBytes, unprotected, payload, signature] = parts as unknown[];
  if (!isBytes(protectedBytes) || !(unprotected instanceof Map) || !isBytes(signature)) return fail('cose-malformed');
  if (!isBytes(payload)) return fail(payload === null ? 'cose-detached' : 'cose-malformed');
  let header: unknown;
  try {
    header = protectedBytes.length === 0 ? new Map() : decoder.decode(protectedBytes);
  } catch {
    return fail('cose-malformed');
  }
  if (!(header instanceof Map)) return fail('cose-malformed');
  // RFC 9052 §3: a label may not appear in both buckets.
  for (const key of unprotected.keys()) if (header.has(key)) return fail('cose-malformed');
  if (header.get(label.alg) !== algEdDSA) return fail('cose-alg-unsupported');
  const kid = header.get(label.kid);
  if (!isBytes(kid) || kid.length === 0) return fail('cose-no-kid');
  const contentType = header.get(label.contentType);
  const chain = unprotected.get(chainHeader);
  if (chain !== undefined && !(Array.isArray(chain) && chain.length <= 4 && chain.every(isBytes))) return fail('cose-malformed');
  return ok({
    protectedBytes: new Uint8Array(protectedBytes), alg: algEdDSA, contentType: typeof contentType === 'number' ? contentType : null,
    kid: new Uint8Array(kid), chain: chain === undefined ? null : (chain as Uint8Array[]).map((c) => new Uint8Array(c)),
    payload: new Uint8Array(payload), signature: new Uint8Array(signature),
  });
}

export function verifySign1(crypto: Crypto, message: Sign1, publicKey: Uint8Array): boolean {
  return message.signature.length === 64 && crypto.verify(sigStructure(message.protectedBytes, message.payload), message.signature, publicKey);
}
