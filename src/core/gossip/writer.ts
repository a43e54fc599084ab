// Writer attestation: every delta and every section state carries its writer's signature, so a relay can
// forward a section but cannot forge or alter it. The writer signs, at each write, (stream, seq, the hash of
// its whole section after the write, the hash of the delta). A receiver checks a delta against the delta's
// own bytes; a relay keeps the newest attestation it has checked and sends its section state only when the
// state's hash is the one the writer signed (same deltas joined = same canonical bytes). The key comes from
// the writer's certificate chain, which travels once per stream (message type 8) and is checked against the
// mesh CA by the injected WriterAuth. Protocol: docs/protocol/gossip.md "Writers".
import { fail, ok, type Result } from './assert.js';
import { isArray, isBytes } from './check.js';

/** Hash and signature sizes (SHA-512/256-style truncated digest, Ed25519). */
export const hashBytes = 32;
export const signatureBytes = 64;

/** What signs and checks; injected (the pure core has no crypto). Never throws. */
export interface WriterAuth {
  /** This node's certificate chain as it travels (at most limits.writerChainBytesMax bytes). */
  readonly chain: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
  /** The signing key `chain` names for `node`, checked against the mesh CA (and time); or a reason. */
  checkChain(node: string, chain: Uint8Array): Result<Uint8Array, string>;
  verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean;
  /** A 32-byte digest. */
  hash(bytes: Uint8Array): Uint8Array;
}

/** The writer's signature over one write: the state after it and the delta it made. */
export interface Attestation {
  readonly seq: number;
  readonly stateHash: Uint8Array;
  readonly deltaHash: Uint8Array;
  readonly signature: Uint8Array;
}

/** The bytes signed: a domain tag, the stream, seq (8 bytes, big-endian), the two hashes. */
export function attestationMessage(
  stream: string,
  seq: number,
  stateHash: Uint8Array,
  deltaHash: Uint8Array,
): Uint8Array {
  const tag = `x0-gossip-writer-v1\u0000${stream}\u0000`;
  const out = new Uint8Array(tag.length + 8 + 2 * hashBytes);
  for (let i = 0; i < tag.length; i++) out[i] = tag.charCodeAt(i) & 0xff;
  const view = new DataView(out.buffer);
  view.setUint32(tag.length, Math.floor(seq / 0x1_0000_0000));
  view.setUint32(tag.length + 4, seq >>> 0);
  out.set(stateHash, tag.length + 8);
  out.set(deltaHash, tag.length + 8 + hashBytes);
  return out;
}

export function attest(
  auth: WriterAuth,
  stream: string,
  seq: number,
  state: Uint8Array,
  delta: Uint8Array,
): Attestation {
  const stateHash = auth.hash(state);
  const deltaHash = auth.hash(delta);
  return { seq, stateHash, deltaHash, signature: auth.sign(attestationMessage(stream, seq, stateHash, deltaHash)) };
}

export function verifyAttestation(auth: WriterAuth, stream: string, a: Attestation, key: Uint8Array): boolean {
  return auth.verify(attestationMessage(stream, a.seq, a.stateHash, a.deltaHash), a.signature, key);
}

/**
 * On the wire an attestation rides on its item. A delta's carries [stateHash, signature] (the delta hash is the
 * hash of the item's own bytes); the first chunk of a state carries [stateHash, deltaHash, signature].
 */
export function onItem(a: Attestation, chunk: boolean): WireAttestation {
  return { stateHash: a.stateHash, deltaHash: chunk ? a.deltaHash : undefined, signature: a.signature };
}

export function attestationToWire(a: WireAttestation): unknown[] {
  return a.deltaHash === undefined ? [a.stateHash, a.signature] : [a.stateHash, a.deltaHash, a.signature];
}

/** Shape only: [stateHash, signature] or [stateHash, deltaHash, signature]; seq is the item's. */
export function attestationFromWire(x: unknown): Result<WireAttestation, 'attestation-malformed'> {
  if (!isArray(x, 3) || x.length < 2) return fail('attestation-malformed');
  const parts = x as unknown[];
  if (!parts.every(isBytes)) return fail('attestation-malformed');
  const [stateHash, second, third] = parts as Uint8Array[];
  const deltaHash = parts.length === 3 ? second : undefined;
  const signature = parts.length === 3 ? third : second;
  if (stateHash?.length !== hashBytes || signature?.length !== signatureBytes) return fail('attestation-malformed');
  if (deltaHash !== undefined && deltaHash.length !== hashBytes) return fail('attestation-malformed');
  return ok({ stateHash, deltaHash, signature });
}

/** An attestation as decoded from an item: the delta hash is absent on deltas (computed from the delta). */
export interface WireAttestation {
  readonly stateHash: Uint8Array;
  readonly deltaHash: Uint8Array | undefined;
  readonly signature: Uint8Array;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
