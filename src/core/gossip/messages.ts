// Gossip wire messages: CBOR arrays, first element the type, second the sender's node id. Decoding is
// size-checked first and every field is shape-checked here; semantic checks (membership, writers, clocks,
// signatures) happen in the engine. Formats: docs/protocol/gossip.md.
import { decodeLimited, encodeCbor } from '../wire/cbor.js';
import { fail, ok, type Result } from './assert.js';
import { isArray, isBytes, isId, isNat, isPositive, isSeq, isU32 } from './check.js';
import { limits } from './limits.js';
import { attestationFromWire, attestationToWire, type WireAttestation } from './writer.js';

export const MessageType = { syn: 1, buckets: 2, vv: 3, deltas: 4, sigdoc: 6, full: 7, chain: 8 } as const;

/**
 * A delta of `stream` (parts = 0, wire = the section delta), or chunk `part` of `parts` of the section's full
 * state (wire = a slice of its CBOR bytes) covering the stream up to seq. Chunks are reassembled before
 * decoding: a section is one lattice value, not splittable. The section is the stream's node.
 */
export interface Item {
  readonly stream: string;
  readonly seq: number;
  readonly wire: unknown;
  readonly part: number;
  readonly parts: number;
  /** The writer's attestation (writer.ts): on every delta, and on a state's first chunk, when writers sign. */
  readonly att?: WireAttestation;
}

/** (version, fingerprint of the signature) of the revocation list a node holds; [0, 0] when none. */
export type DocStamp = readonly [version: number, fingerprint: number];

export type Message =
  | { readonly type: 1; readonly from: string; readonly root: number; readonly doc: DocStamp }
  | {
      readonly type: 2;
      readonly from: string;
      readonly root: number;
      readonly doc: DocStamp;
      readonly hashes: readonly number[];
    }
  | {
      readonly type: 3;
      readonly from: string;
      readonly buckets: readonly number[];
      readonly entries: ReadonlyArray<readonly [string, number]>;
      readonly reply: boolean;
    }
  | { readonly type: 4; readonly from: string; readonly items: readonly Item[] }
  | {
      readonly type: 6;
      readonly from: string;
      readonly version: number;
      readonly part: number;
      readonly parts: number;
      readonly chunk: Uint8Array;
    }
  | { readonly type: 7; readonly from: string; readonly sections: ReadonlyArray<readonly [string, number, unknown]> }
  /** The certificate chain of the writer of `stream`: sent before that stream's state, checked against the CA. */
  | { readonly type: 8; readonly from: string; readonly stream: string; readonly chain: Uint8Array };

export type MessageRefusal = 'cbor-too-large' | 'cbor-malformed' | 'message-malformed' | 'message-type-unknown';

export function itemToWire(i: Item): unknown[] {
  const att = i.att === undefined ? [] : [attestationToWire(i.att)];
  return i.parts === 0 ? [i.stream, i.seq, i.wire, ...att] : [i.stream, i.seq, i.wire, i.part, i.parts, ...att];
}

export function encodeMessage(m: Message): Uint8Array {
  switch (m.type) {
    case 1:
      return encodeCbor([1, m.from, m.root, m.doc[0], m.doc[1]]);
    case 2:
      return encodeCbor([2, m.from, m.root, m.doc[0], m.doc[1], m.hashes]);
    case 3:
      return encodeCbor([3, m.from, m.buckets, m.entries, m.reply ? 1 : 0]);
    case 4:
      return encodeCbor([4, m.from, m.items.map(itemToWire)]);
    case 6:
      return encodeCbor([6, m.from, m.version, m.part, m.parts, m.chunk]);
    case 7:
      return encodeCbor([7, m.from, m.sections]);
    case 8:
      return encodeCbor([8, m.from, m.stream, m.chain]);
  }
}

export function decodeMessage(bytes: Uint8Array): Result<Message, MessageRefusal> {
  const decoded = decodeLimited<unknown>(bytes, limits.datagramBytesMax);
  if (!decoded.ok) return decoded;
  const x = decoded.value;
  if (!isArray(x, 6) || x.length < 3 || !isNat(x[0]) || !isId(x[1])) return fail('message-malformed');
  const from = x[1];
  switch (x[0]) {
    case 1:
      return x.length === 5 && isNat(x[2]) && isNat(x[3]) && isU32(x[4])
        ? ok({ type: 1, from, root: x[2], doc: [x[3], x[4]] })
        : fail('message-malformed');
    case 2:
      return decodeBuckets(from, x);
    case 3:
      return decodeVv(from, x);
    case 4:
      return decodeDeltas(from, x);
    case 6:
      return decodeDocChunk(from, x);
    case 7:
      return decodeFull(from, x);
    case 8:
      return x.length === 4 && isId(x[2]) && isBytes(x[3]) && x[3].length <= limits.writerChainBytesMax
        ? ok({ type: 8, from, stream: x[2], chain: x[3] })
        : fail('message-malformed');
    default:
      return fail('message-type-unknown');
  }
}

function decodeBuckets(from: string, x: unknown[]): Result<Message, MessageRefusal> {
  const [, , root, version, fingerprint, hashes] = x;
  if (
    x.length !== 6 ||
    !isNat(root) ||
    !isNat(version) ||
    !isU32(fingerprint) ||
    !isArray(hashes, limits.digestBuckets)
  )
    return fail('message-malformed');
  if (hashes.length !== 0 && hashes.length !== limits.digestBuckets) return fail('message-malformed');
  if (!hashes.every(isU32)) return fail('message-malformed');
  return ok({ type: 2, from, root, doc: [version, fingerprint], hashes: hashes as number[] });
}

function decodeVv(from: string, x: unknown[]): Result<Message, MessageRefusal> {
  const [, , buckets, entries, reply] = x;
  if (
    x.length !== 5 ||
    !isArray(buckets, limits.digestBuckets) ||
    !isArray(entries, limits.streamsMax) ||
    (reply !== 0 && reply !== 1)
  )
    return fail('message-malformed');
  if (!buckets.every((b) => isNat(b) && b < limits.digestBuckets)) return fail('message-malformed');
  for (const e of entries)
    if (!isArray(e, 2) || e.length !== 2 || !isId(e[0]) || !isSeq(e[1])) return fail('message-malformed');
  return ok({
    type: 3,
    from,
    buckets: buckets as number[],
    entries: entries as Array<[string, number]>,
    reply: reply === 1,
  });
}

function decodeDeltas(from: string, x: unknown[]): Result<Message, MessageRefusal> {
  const items = x[2];
  if (x.length !== 3 || !isArray(items, limits.batchItemsMax)) return fail('message-malformed');
  const out: Item[] = [];
  for (const i of items) {
    // [stream, seq, delta, att?] or [stream, seq, chunk, part, parts, att?]
    if (!isArray(i, 6) || i.length < 3) return fail('message-malformed');
    const chunked = i.length >= 5;
    const [stream, seq, wire] = i;
    const part = chunked ? i[3] : 0;
    const parts = chunked ? i[4] : 0;
    const attWire = i.length === 4 ? i[3] : i.length === 6 ? i[5] : undefined;
    if (!isId(stream) || !isSeq(seq) || !isNat(part) || !isNat(parts)) return fail('message-malformed');
    if (chunked && (parts === 0 || part >= parts || parts > limits.sectionChunksMax || !isBytes(wire)))
      return fail('message-malformed');
    if (attWire === undefined) {
      out.push({ stream, seq, wire, part, parts });
      continue;
    }
    const att = attestationFromWire(attWire);
    // A delta's attestation has no delta hash (it is the delta's own); a chunk's has one.
    if (!att.ok || (att.value.deltaHash === undefined) === chunked) return fail('message-malformed');
    out.push({ stream, seq, wire, part, parts, att: att.value });
  }
  return ok({ type: 4, from, items: out });
}

function decodeDocChunk(from: string, x: unknown[]): Result<Message, MessageRefusal> {
  const [, , version, part, parts, chunk] = x;
  if (
    x.length !== 6 ||
    !isPositive(version) ||
    !isNat(part) ||
    !isPositive(parts) ||
    part >= parts ||
    parts > limits.signedDocChunksMax
  )
    return fail('message-malformed');
  if (!isBytes(chunk) || chunk.length > limits.chunkBytes) return fail('message-malformed');
  return ok({ type: 6, from, version, part, parts, chunk });
}

function decodeFull(from: string, x: unknown[]): Result<Message, MessageRefusal> {
  const sections = x[2];
  if (x.length !== 3 || !isArray(sections, limits.batchItemsMax)) return fail('message-malformed');
  for (const s of sections)
    if (!isArray(s, 3) || s.length !== 3 || !isId(s[0]) || !isPositive(s[1]) || s[1] > limits.incarnationMax)
      return fail('message-malformed');
  return ok({ type: 7, from, sections: sections as Array<[string, number, unknown]> });
}
