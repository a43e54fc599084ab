// Grow-only, version-ordered register of a signed document (e.g. the revocation list). The highest version
// wins; equal versions break ties on the signature bytes so the join stays commutative. A candidate is
// checked (signature and content, by the injected DocCheck) before it can take part in any merge: an
// invalid document never enters the register, so it can neither win nor be relayed.
import { decodeLimited, encodeCbor } from '../wire/cbor.js';
import { fail, ok, type Result } from './assert.js';
import { compareBytes, isArray, isBytes, isId, isNat } from './check.js';
import { limits } from './limits.js';

export interface SignedDoc {
  /** What the document is (e.g. 'revocations'); part of the signed message so kinds cannot be swapped. */
  readonly kind: string;
  readonly version: number;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
}

/** The Crypto interface's verify: false, never a throw, for a bad signature. */
export type VerifyFn = (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array) => boolean;

/**
 * Checks a candidate (signature, then content) and returns what the register keeps alongside it (e.g. the
 * set of revoked node ids), or a reason code. Never throws. Must be deterministic: every node runs it.
 */
export type DocCheck<M> = (doc: SignedDoc) => Result<M, string>;

export type SignedDocRefusal =
  | 'signed-doc-malformed'
  | 'signed-doc-kind'
  | 'signed-doc-too-large'
  | 'signature-invalid'
  | (string & {});

/** The bytes that are signed: a domain tag, the kind, the version (8 bytes, big-endian), the payload. */
export function signedDocMessage(kind: string, version: number, payload: Uint8Array): Uint8Array {
  const tag = `x0-signed-doc\u0000${kind}\u0000`;
  const out = new Uint8Array(tag.length + 8 + payload.length);
  for (let i = 0; i < tag.length; i++) out[i] = tag.charCodeAt(i) & 0xff;
  const high = Math.floor(version / 0x1_0000_0000);
  const view = new DataView(out.buffer);
  view.setUint32(tag.length, high);
  view.setUint32(tag.length + 4, version >>> 0);
  out.set(payload, tag.length + 8);
  return out;
}

export function compareSignedDocs(a: SignedDoc, b: SignedDoc): number {
  return a.version !== b.version ? a.version - b.version : compareBytes(a.signature, b.signature);
}

/** A DocCheck for documents signed by one Ed25519 key, whose payload needs no further reading. */
export function signatureCheck(publicKey: Uint8Array, verify: VerifyFn): DocCheck<null> {
  return (doc) =>
    verify(signedDocMessage(doc.kind, doc.version, doc.payload), doc.signature, publicKey)
      ? ok(null)
      : fail('signature-invalid');
}

export class SignedDocRegister<M = unknown> {
  doc: SignedDoc | null = null;
  /** What the check returned for `doc`. */
  meta: M | null = null;

  constructor(
    readonly kind: string,
    private readonly check: DocCheck<M>,
  ) {}

  get version(): number {
    return this.doc?.version ?? 0;
  }

  /** Checks, then joins. ok(true) when the candidate replaced our document. */
  offer(candidate: SignedDoc): Result<boolean, SignedDocRefusal> {
    if (candidate.kind !== this.kind) return fail('signed-doc-kind');
    if (candidate.payload.length > limits.signedDocBytesMax) return fail('signed-doc-too-large');
    // Only a candidate that would win is worth a check (a verify is ~100 ms on the router without libsodium).
    if (this.doc !== null && compareSignedDocs(candidate, this.doc) <= 0) return ok(false);
    const checked = this.check(candidate);
    if (!checked.ok) return checked;
    this.doc = candidate;
    this.meta = checked.value;
    return ok(true);
  }

  /** Joins another register; its document is checked like any other candidate. */
  merge(other: SignedDocRegister<M>): Result<boolean, SignedDocRefusal> {
    return other.doc === null ? ok(false) : this.offer(other.doc);
  }

  clone(): SignedDocRegister<M> {
    const copy = new SignedDocRegister(this.kind, this.check);
    copy.doc = this.doc;
    copy.meta = this.meta;
    return copy;
  }

  toWire(): unknown {
    return signedDocToWire(this.doc);
  }
}

export function signedDocToWire(doc: SignedDoc | null): unknown {
  return doc === null ? null : [doc.kind, doc.version, doc.payload, doc.signature];
}

export function signedDocFromWire(x: unknown): Result<SignedDoc | null, SignedDocRefusal> {
  if (x === null) return ok(null);
  if (!isArray(x, 4) || x.length !== 4) return fail('signed-doc-malformed');
  const [kind, version, payload, signature] = x;
  if (!isId(kind) || !isNat(version) || version === 0 || !isBytes(payload) || !isBytes(signature))
    return fail('signed-doc-malformed');
  if (payload.length > limits.signedDocBytesMax) return fail('signed-doc-too-large');
  return ok({ kind, version, payload, signature });
}

/** A 32-bit fingerprint of a document's signature: peers compare (version, fingerprint) in their digests. */
export function signedDocFingerprint(doc: SignedDoc | null): number {
  if (doc === null) return 0;
  let h = 0x811c9dc5;
  for (const byte of doc.signature) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

/**
 * The simplest revocation format (tests, simulations, a mesh without the identity CA): the payload is a
 * CBOR array of revoked node ids, signed by one authority key. The identity CA's format is bound in
 * src/gossip/identity-revocations.ts.
 */
export function listRevocations(publicKey: Uint8Array, verify: VerifyFn): DocCheck<ReadonlySet<string>> {
  const signed = signatureCheck(publicKey, verify);
  return (doc) => {
    const verified = signed(doc);
    if (!verified.ok) return verified;
    const decoded = decodeLimited<unknown>(doc.payload, limits.signedDocBytesMax);
    if (!decoded.ok || !isArray(decoded.value, limits.signedDocBytesMax) || !decoded.value.every(isId))
      return fail('revocations-malformed');
    return ok(new Set(decoded.value as string[]));
  };
}

export function encodeRevokedIds(ids: readonly string[]): Uint8Array {
  return encodeCbor([...ids].sort());
}
