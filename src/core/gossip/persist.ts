// Persistence of the mesh document, pure: what to write and when; the caller does the file I/O
// (src/gossip/store.ts, through platform.files). State = one snapshot (the whole document, the version
// vector, our incarnation) written atomically, plus a log of the records accepted since, appended in
// batches. Flash writes are bounded by FlushPolicy: at most one append per persistFlushMs and one snapshot
// per snapshotIntervalMs (plus one per start), with at most persistBufferBytesMax of other nodes' deltas
// per append. Loading replays the log through the gossip engine's own checks, so a torn or corrupt tail is
// refused like any bad input.
import { decodeLimited, encodeCbor } from '../wire/cbor.js';
import { fail, ok, type Result } from './assert.js';
import { isArray, isBytes, isId, isNat, isPositive, isSeq } from './check.js';
import { concatBytes } from './codec.js';
import type { Gossip } from './gossip.js';
import { limits } from './limits.js';
import { checkSectionDelta, sectionToWire } from './mesh-doc.js';
import { signedDocFromWire } from './signed-doc.js';
import { streamId } from './stream.js';
import { attestationFromWire, attestationToWire, hashBytes, signatureBytes, type WireAttestation } from './writer.js';

/** What the gossip engine hands over for the log: accepted deltas and states, adopted revocation lists. */
export type LogRecord =
  | {
      readonly kind: 'delta';
      readonly stream: string;
      readonly seq: number;
      readonly wire: unknown;
      readonly att?: WireAttestation | undefined;
    }
  | {
      readonly kind: 'state';
      readonly stream: string;
      readonly seq: number;
      readonly bytes: Uint8Array;
      readonly att?: WireAttestation | undefined;
    }
  | { readonly kind: 'doc'; readonly wire: unknown }
  /** A writer's certificate chain for one of its streams (gossip.ts onChain), so replay can check its deltas. */
  | { readonly kind: 'chain'; readonly stream: string; readonly bytes: Uint8Array };

// --- log records: [length u32 BE][FNV-1a u32 BE of the body][CBOR body] ---------------------------------

function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const byte of bytes) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

function recordToWire(r: LogRecord): unknown {
  switch (r.kind) {
    case 'delta':
      return [1, r.stream, r.seq, r.wire, ...(r.att === undefined ? [] : [attestationToWire(r.att)])];
    case 'state':
      return [2, r.stream, r.seq, r.bytes, ...(r.att === undefined ? [] : [attestationToWire(r.att)])];
    case 'doc':
      return [3, r.wire];
    case 'chain':
      return [4, r.stream, r.bytes];
  }
}

export function encodeRecord(r: LogRecord): Uint8Array {
  const body = encodeCbor(recordToWire(r));
  const out = new Uint8Array(8 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  view.setUint32(4, fnv1a(body));
  out.set(body, 8);
  return out;
}

function recordFromWire(x: unknown): LogRecord | null {
  if (!isArray(x, 5)) return null;
  // A record with an attestation has it last; one that does not parse is damage, like a bad field.
  const att = x.length === 5 ? attestationFromWire(x[4]) : null;
  if (att !== null && !att.ok) return null;
  const signed = att === null ? {} : { att: att.value };
  if (x[0] === 1 && x.length >= 4 && isId(x[1]) && isSeq(x[2]))
    return { kind: 'delta', stream: x[1], seq: x[2], wire: x[3], ...signed };
  if (x[0] === 2 && x.length >= 4 && isId(x[1]) && isSeq(x[2]) && isBytes(x[3]))
    return { kind: 'state', stream: x[1], seq: x[2], bytes: x[3], ...signed };
  if (x[0] === 3 && x.length === 2) return { kind: 'doc', wire: x[1] };
  if (x[0] === 4 && x.length === 3 && isId(x[1]) && isBytes(x[2]) && x[2].length <= limits.writerChainBytesMax)
    return { kind: 'chain', stream: x[1], bytes: x[2] };
  return null;
}

/** The record at `at`: its size on disk and the record, or null when it is torn or damaged. */
function readRecord(bytes: Uint8Array, view: DataView, at: number): { size: number; record: LogRecord | null } | null {
  if (at + 8 > bytes.length) return null;
  const length = view.getUint32(at);
  const checksum = view.getUint32(at + 4);
  if (length > limits.logRecordBytesMax || at + 8 + length > bytes.length) return null;
  const body = bytes.subarray(at + 8, at + 8 + length);
  if (fnv1a(body) !== checksum) return { size: 8 + length, record: null };
  const decoded = decodeLimited<unknown>(body, limits.logRecordBytesMax);
  return { size: 8 + length, record: decoded.ok ? recordFromWire(decoded.value) : null };
}

/**
 * Records of a log file, in order. A bad record at the end is a torn tail (a crash mid-append): the log stops
 * there (`intact` false). A bad record whose length still holds and that is followed by a good record is damage
 * inside what was written (flash bit rot), not a torn write: it is skipped, counted in `corrupt`, and the
 * records after it are kept (every record is replayed through the engine's checks; what the damaged one held
 * comes back from peers by anti-entropy). A damaged length field cannot be told from a torn tail.
 */
export function decodeLog(bytes: Uint8Array): {
  readonly records: LogRecord[];
  readonly intact: boolean;
  readonly corrupt: number;
} {
  const records: LogRecord[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  let corrupt = 0;
  // Bounded: every pass consumes at least 8 bytes.
  while (at < bytes.length) {
    const read = readRecord(bytes, view, at);
    if (read === null) return { records, intact: false, corrupt };
    if (read.record === null) {
      const next = at + read.size;
      if (next >= bytes.length || readRecord(bytes, view, next)?.record == null)
        return { records, intact: false, corrupt };
      corrupt += 1;
    } else {
      records.push(read.record);
    }
    at += read.size;
  }
  return { records, intact: true, corrupt };
}

// --- snapshots ----------------------------------------------------------------------------------------

export interface SnapshotHeader {
  readonly generation: number;
  readonly nodeId: string;
  readonly incarnation: number;
}

/**
 * [1, generation, nodeId, incarnation, sections [[id, incarnation, wire]], revocation list, streams, writers
 * [[stream, chain, [seq, stateHash, deltaHash, signature] | null]]]. A snapshot of seven elements (before writers
 * signed) is read as one with no writers.
 */
export function encodeSnapshot(g: Gossip, generation: number): Uint8Array {
  const doc = g.doc;
  const ids = [...doc.sections.keys()].sort();
  const sections = ids.map((id) => [id, doc.incarnation(id), sectionToWire(doc.sections.get(id) ?? {})]);
  const streams = g.vv
    .streamIds()
    .sort()
    .map((s) => [s, g.vv.max(s), g.vv.gaps(s)]);
  const bytes = encodeCbor([
    1,
    generation,
    g.nodeId,
    g.incarnation,
    sections,
    doc.revocations.toWire(),
    streams,
    g.writersToWire(),
  ]);
  return bytes;
}

export type SnapshotRefusal = 'snapshot-too-large' | 'snapshot-malformed' | 'snapshot-other-node';

/** Reads a snapshot's header without restoring it (the caller needs the incarnation before building the engine). */
export function readSnapshotHeader(
  bytes: Uint8Array,
): Result<SnapshotHeader & { readonly body: unknown[] }, SnapshotRefusal> {
  const decoded = decodeLimited<unknown>(bytes, limits.snapshotBytesMax);
  if (!decoded.ok) return fail(decoded.reason === 'cbor-too-large' ? 'snapshot-too-large' : 'snapshot-malformed');
  const x = decoded.value;
  if (!isArray(x, 8) || x.length < 7 || x[0] !== 1 || !isNat(x[1]) || !isId(x[2]) || !isPositive(x[3]))
    return fail('snapshot-malformed');
  // The next start takes incarnation + 1: a snapshot at the maximum could never start again.
  if (x[3] >= limits.incarnationMax) return fail('snapshot-malformed');
  return ok({ generation: x[1], nodeId: x[2], incarnation: x[3], body: x });
}

/**
 * Restores a snapshot into a fresh engine (before replay and start): the revocation list, then each
 * section (checked like a state from the network, minus the clock horizon), then the version vector.
 * Returns how many sections and streams were restored; bad ones are skipped and counted by the engine.
 */
export function restoreSnapshot(g: Gossip, body: readonly unknown[]): { sections: number; streams: number } {
  const [, , , , sections, docWire, streams, writers = []] = body;
  const doc = signedDocFromWire(docWire);
  if (doc.ok && doc.value !== null) g.offerDoc(doc.value);
  else if (!doc.ok) g.count(`refused:persist-${doc.reason}`);
  let restoredSections = 0;
  let restoredStreams = 0;
  for (const s of isArray(sections, limits.sectionsMax) ? sections : []) {
    if (!isArray(s, 3) || s.length !== 3 || !isId(s[0]) || !isPositive(s[1]) || g.doc.revoked.has(s[0])) {
      g.count('refused:persist-section-malformed');
      continue;
    }
    // Our own section is older than the incarnation we start (start() rebases it); anything else is damage.
    if (s[1] > limits.incarnationMax || (s[0] === g.nodeId && s[1] >= g.incarnation)) {
      g.count('refused:persist-section-malformed');
      continue;
    }
    const checked = checkSectionDelta(streamId(s[0], s[1]), s[2], Infinity);
    if (!checked.ok) {
      g.count(`refused:persist-${checked.reason}`);
      continue;
    }
    g.doc.apply(s[0], s[1], checked.value, 'state');
    restoredSections += 1;
  }
  for (const e of isArray(streams, limits.streamsMax) ? streams : []) {
    const valid =
      isArray(e, 3) &&
      e.length === 3 &&
      isId(e[0]) &&
      isNat(e[1]) &&
      e[1] <= limits.seqMax &&
      isArray(e[2], limits.streamGapMax) &&
      e[2].every(isSeq);
    if (valid && g.restoreStream(e[0] as string, e[1] as number, e[2] as number[])) restoredStreams += 1;
    else g.count('refused:persist-stream-malformed');
  }
  for (const w of isArray(writers, limits.streamsMax) ? writers : []) {
    const att = isArray(w, 3) && w.length === 3 ? attestationFromSnapshot(w[2]) : undefined;
    const valid = att !== undefined && isId((w as unknown[])[0]) && isBytes((w as unknown[])[1]);
    if (!valid || !g.restoreWriter((w as unknown[])[0] as string, (w as unknown[])[1] as Uint8Array, att))
      g.count('refused:persist-writer');
  }
  return { sections: restoredSections, streams: restoredStreams };
}

/** [seq, stateHash, deltaHash, signature] or null; undefined when malformed. */
function attestationFromSnapshot(x: unknown) {
  if (x === null) return null;
  if (!isArray(x, 4) || x.length !== 4 || !isSeq(x[0])) return undefined;
  const [seq, stateHash, deltaHash, signature] = x;
  if (!isBytes(stateHash) || !isBytes(deltaHash) || !isBytes(signature)) return undefined;
  if (stateHash.length !== hashBytes || deltaHash.length !== hashBytes || signature.length !== signatureBytes)
    return undefined;
  return { seq, stateHash, deltaHash, signature };
}

// --- when to write ------------------------------------------------------------------------------------

export interface FlushStats {
  appends: number;
  snapshots: number;
  bytesWritten: number;
  /** Records of other nodes dropped because the buffer was full (the mesh still has them). */
  droppedRecords: number;
}

/**
 * Decides when to write. Bound: writes per hour <= 3600000 / persistFlushMs + 3600000 / snapshotIntervalMs
 * (+ 1 per start); bytes per append <= persistBufferBytesMax + our own deltas of that interval.
 */
export class FlushPolicy {
  private buffer: Uint8Array[] = [];
  private bufferBytes = 0;
  private logBytes = 0;
  private lastAppendMs: number;
  private lastSnapshotMs: number;
  readonly stats: FlushStats = { appends: 0, snapshots: 0, bytesWritten: 0, droppedRecords: 0 };

  /** `nowMs` is monotonic; a snapshot was just written (every start writes one). */
  constructor(nowMs: number, snapshotBytes: number) {
    this.lastAppendMs = nowMs;
    this.lastSnapshotMs = nowMs;
    this.snapshotWritten(nowMs, snapshotBytes);
  }

  add(record: LogRecord, own: boolean): void {
    const bytes = encodeRecord(record);
    if (!own && this.bufferBytes + bytes.length > limits.persistBufferBytesMax) {
      this.stats.droppedRecords += 1;
      return;
    }
    this.buffer.push(bytes);
    this.bufferBytes += bytes.length;
  }

  get buffered(): number {
    return this.bufferBytes;
  }

  /** What to write now, if anything. */
  next(nowMs: number): 'snapshot' | 'append' | null {
    if (this.bufferBytes === 0) return null;
    const logFull = this.logBytes + this.bufferBytes >= limits.deltaLogBytesMax;
    if (logFull && nowMs - this.lastSnapshotMs >= limits.snapshotIntervalMs) return 'snapshot';
    if (nowMs - this.lastAppendMs >= limits.persistFlushMs) return 'append';
    return null;
  }

  /** The bytes to append (the caller writes them, then the policy counts them). */
  takeAppend(nowMs: number): Uint8Array {
    const out = concatBytes(this.buffer);
    this.buffer = [];
    this.bufferBytes = 0;
    this.logBytes += out.length;
    this.lastAppendMs = nowMs;
    this.stats.appends += 1;
    this.stats.bytesWritten += out.length;
    return out;
  }

  /** A snapshot holds everything buffered: the buffer and the log start over. */
  snapshotWritten(nowMs: number, bytes: number): void {
    this.buffer = [];
    this.bufferBytes = 0;
    this.logBytes = 0;
    this.lastSnapshotMs = nowMs;
    this.lastAppendMs = nowMs;
    this.stats.snapshots += 1;
    this.stats.bytesWritten += bytes;
  }
}

/**
 * Moves everything `old` holds (document, version vector, revocation list) into `next`, a fresh engine of
 * the same node with a greater incarnation, before next.start(): how a node that learns the mesh remembers
 * a later life of it (ownIncarnationSeen) restarts without losing what it knows.
 */
export function handOver(old: Gossip, next: Gossip): void {
  const header = readSnapshotHeader(encodeSnapshot(old, 0));
  if (header.ok) restoreSnapshot(next, header.value.body);
}

/**
 * The incarnation a restarting node takes: above the one it restored and above any later life of it the mesh
 * remembers; null when that would leave the incarnation space (the caller keeps its incarnation and counts
 * it, never asserts). Peers' claims are bounded by incarnationAcceptLimit, so only a node restarted about
 * four billion times gets null.
 */
export function nextIncarnation(restored: number, seen: number): number | null {
  const next = Math.max(restored, seen) + 1;
  return Number.isSafeInteger(next) && next <= limits.incarnationMax ? next : null;
}
