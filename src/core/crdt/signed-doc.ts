// Grow-only, version-ordered register of a signed document (e.g. the revocation list). The highest version
// wins; equal versions break ties on the signature bytes so the join stays commutative. A candidate whose
// signature does not verify is refused before it can take part in any merge.
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

export type SignedDocRefusal = 'signed-doc-malformed' | 'signed-doc-kind' | 'signed-doc-too-large' | 'signature-invalid';

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

export class SignedDocRegister {
  doc: SignedDoc | null = null;

  constructor(readonly kind: string, private readonly publicKey: Uint8Array, private readonly verify: VerifyFn) {}

  get version(): number {
    return this.doc?.version ?? 0;
  }

  /** Verifies, then joins. ok(true) when the candidate replaced our document. */
  offer(candidate: SignedDoc): Result<boolean, SignedDocRefusal> {
    if (candidate.kind !== this.kind) return fail('signed-doc-kind');
    if (candidate.payload.length > limits.signedPayloadBytesMax) return fail('signed-doc-too-large');
    // Only a candidate that would win is worth a signature check (a verify is ~100 ms on the router).
    if (this.doc !== null && compareSignedDocs(candidate, this.doc) <= 0) return ok(false);
    const message = signedDocMessage(candidate.kind, candidate.version, candidate.payload);
    if (!this.verify(message, candidate.signature, this.publicKey)) return fail('signature-invalid');
    this.doc = candidate;
    return ok(true);
  }

  /** Joins another register; its document is verified like any other candidate. */
  merge(other: SignedDocRegister): Result<boolean, SignedDocRefusal> {
    return other.doc === null ? ok(false) : this.offer(other.doc);
  }

  clone(): SignedDocRegister {
    const copy = new SignedDocRegister(this.kind, this.publicKey, this.verify);
    copy.doc = this.doc;
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
  if (!isId(kind) || !isNat(version) || !isBytes(payload) || !isBytes(signature)) return fail('signed-doc-malformed');
  if (payload.length > limits.signedPayloadBytesMax) return fail('signed-doc-too-large');
  return ok({ kind, version, payload, signature });
}
