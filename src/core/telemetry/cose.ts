// COSE_Sign1 (RFC 9052 §4.2) with EdDSA (alg -8, Ed25519): the envelope of every telemetry payload, so any
// COSE library can verify what a node sent, whatever broker carried it.
//   COSE_Sign1 = #6.18([protected: bstr .cbor header_map, unprotected: header_map, payload: bstr, signature: bstr])
//   Sig_structure = ["Signature1", body_protected, external_aad, payload]   (§4.4), signed as CBOR bytes.
// Protected header: {1 (alg): -8, 3 (content type): 60 application/cbor | 50 application/json, 4 (kid): key id}.
// Unprotected header: optionally {"x0-chain": [certificate bytes, leaf first]} (docs/telemetry.md).
import type { Crypto } from '../../platform/types.js';
import { assertThat, fail, ok, type Result } from '../result.js';
import { decodeCbor, type DecodeOptions } from '../wire/cbor.js';
import * as cbor from './cbor.js';
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

export type CoseReason =
  | 'cose-too-large'
  | 'cose-malformed'
  | 'cose-not-sign1'
  | 'cose-alg-unsupported'
  | 'cose-no-kid'
  | 'cose-detached';

// Headers have integer labels: maps as Maps. The COSE tags (RFC 9052 §2: Sign 98, Sign1 18, Encrypt 96,
// Encrypt0 16, MAC 97, MAC0 17) are read so that another COSE message is 'cose-not-sign1'; any other tag is
// malformed input.
const outerOptions: DecodeOptions = { maps: 'maps', tags: [16, 17, 18, 96, 97, 98] };
const headerOptions: DecodeOptions = { maps: 'maps' };
const empty = new Uint8Array(0);

export function encodeProtected(contentType: number, kid: Uint8Array): Uint8Array {
  return cbor.encodeValue(
    new Map<number, unknown>([
      [label.alg, algEdDSA],
      [label.contentType, contentType],
      [label.kid, kid],
    ]),
  );
}

/** The bytes that are signed (RFC 9052 §4.4): ["Signature1", body_protected, external_aad, payload]. */
export function sigStructure(
  protectedBytes: Uint8Array,
  payload: Uint8Array,
  externalAad: Uint8Array = empty,
): Uint8Array {
  return cbor.encodeWith(() => {
    cbor.head(4, 4);
    cbor.text('Signature1');
    cbor.bytes(protectedBytes);
    cbor.bytes(externalAad);
    cbor.bytes(payload);
  });
}

export interface SignOptions {
  readonly contentType: number;
  readonly kid: Uint8Array;
  readonly chain?: readonly Uint8Array[];
}

/** The unprotected header map: empty, or the certificate chain (docs/telemetry.md). */
export function encodeUnprotected(chain: readonly Uint8Array[] | undefined): Uint8Array {
  return cbor.encodeValue(new Map(chain === undefined ? [] : [[chainHeader, chain]]));
}

/** Bytes of a CBOR head for a byte string of this length. */
const bstrHeadBytes = (length: number): number => (length < 24 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5);

/**
 * Signs payload after payload under one key and protected header, at the least cost per message: the
 * constant parts are encoded once; the payload is encoded straight into the scratch buffer behind room for
 * the Sig_structure's head (which is filled in front of it), signed there, and copied once into the message.
 */
export class Sign1Signer {
  /** ["Signature1", protected, h'' — the Sig_structure up to its payload. */
  private readonly sigPrefix: Uint8Array;
  /** Tag 18, array(4), protected — the COSE_Sign1 up to its unprotected header. */
  private readonly messagePrefix: Uint8Array;

  constructor(
    private readonly crypto: Crypto,
    private readonly secretKey: Uint8Array,
    protectedBytes: Uint8Array,
  ) {
    this.sigPrefix = cbor.encodeWith(() => {
      cbor.head(4, 4);
      cbor.text('Signature1');
      cbor.bytes(protectedBytes);
      cbor.bytes(empty);
    });
    this.messagePrefix = cbor.encodeWith(() => {
      cbor.head(6, coseSign1Tag);
      cbor.head(4, 4);
      cbor.bytes(protectedBytes);
    });
  }

  /**
   * A tagged COSE_Sign1 of the payload: given as bytes, or written by a function into the CBOR scratch
   * buffer (cbor.value, cbor.text, ...). unprotected: an encoded header map (encodeUnprotected).
   */
  sign(payload: Uint8Array | (() => void), unprotected: Uint8Array): Uint8Array {
    const room = this.sigPrefix.length + 5;
    cbor.begin();
    try {
      cbor.skip(room);
      if (typeof payload === 'function') payload();
      else cbor.raw(payload);
      const end = cbor.position();
      const length = end - room;
      const bstrStart = room - bstrHeadBytes(length);
      const start = bstrStart - this.sigPrefix.length;
      cbor.seek(start);
      cbor.raw(this.sigPrefix);
      cbor.head(2, length);
      const signature = this.crypto.sign(cbor.view(start, end), this.secretKey);
      assertThat(signature.length === 64, 'cose: an Ed25519 signature is 64 bytes');
      const prefix = this.messagePrefix;
      const out = new Uint8Array(prefix.length + unprotected.length + end - bstrStart + 2 + 64);
      out.set(prefix);
      out.set(unprotected, prefix.length);
      // The payload's byte-string head and the payload, as they stand in the Sig_structure.
      out.set(cbor.view(bstrStart, end), prefix.length + unprotected.length);
      out[out.length - 66] = 0x58;
      out[out.length - 65] = 64;
      out.set(signature, out.length - 64);
      return out;
    } finally {
      cbor.end();
    }
  }
}

/** Signs payload as a tagged COSE_Sign1 with Ed25519 (secretKey: 64 bytes, NaCl layout). */
export function signSign1(
  crypto: Crypto,
  secretKey: Uint8Array,
  payload: Uint8Array,
  options: SignOptions,
): Uint8Array {
  return new Sign1Signer(crypto, secretKey, encodeProtected(options.contentType, options.kid)).sign(
    payload,
    encodeUnprotected(options.chain),
  );
}

const isBytes = (x: unknown): x is Uint8Array => x instanceof Uint8Array;

/** Parses a COSE_Sign1 from outside: shape, algorithm and key id. Does not verify the signature. */
export function decodeSign1(bytes: Uint8Array): Result<Sign1, CoseReason> {
  if (bytes.length > messageBytesMax) return fail('cose-too-large');
  const decoded = decodeCbor(bytes, messageBytesMax, outerOptions);
  if (!decoded.ok) return fail('cose-malformed');
  const tagged = decoded.value as { tag?: unknown; value?: unknown } | null;
  if (typeof tagged !== 'object' || tagged === null || tagged.tag !== coseSign1Tag) return fail('cose-not-sign1');
  const parts = tagged.value;
  if (!Array.isArray(parts) || parts.length !== 4) return fail('cose-malformed');
  const [protectedBytes, unprotected, payload, signature] = parts as unknown[];
  if (!isBytes(protectedBytes) || !(unprotected instanceof Map) || !isBytes(signature)) return fail('cose-malformed');
  if (!isBytes(payload)) return fail(payload === null ? 'cose-detached' : 'cose-malformed');
  const decodedHeader = protectedBytes.length === 0 ? null : decodeCbor(protectedBytes, messageBytesMax, headerOptions);
  if (decodedHeader !== null && !decodedHeader.ok) return fail('cose-malformed');
  const header: unknown = decodedHeader === null ? new Map() : decodedHeader.value;
  if (!(header instanceof Map)) return fail('cose-malformed');
  // RFC 9052 §3: a label may not appear in both buckets.
  for (const key of unprotected.keys()) if (header.has(key)) return fail('cose-malformed');
  if (header.get(label.alg) !== algEdDSA) return fail('cose-alg-unsupported');
  const kid = header.get(label.kid);
  if (!isBytes(kid) || kid.length === 0) return fail('cose-no-kid');
  const contentType = header.get(label.contentType);
  const chain = unprotected.get(chainHeader);
  if (chain !== undefined && !(Array.isArray(chain) && chain.length <= 4 && chain.every(isBytes)))
    return fail('cose-malformed');
  return ok({
    protectedBytes: new Uint8Array(protectedBytes),
    alg: algEdDSA,
    contentType: typeof contentType === 'number' ? contentType : null,
    kid: new Uint8Array(kid),
    chain: chain === undefined ? null : (chain as Uint8Array[]).map((c) => new Uint8Array(c)),
    payload: new Uint8Array(payload),
    signature: new Uint8Array(signature),
  });
}

export function verifySign1(crypto: Crypto, message: Sign1, publicKey: Uint8Array): boolean {
  return (
    message.signature.length === 64 &&
    crypto.verify(sigStructure(message.protectedBytes, message.payload), message.signature, publicKey)
  );
}
