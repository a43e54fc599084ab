// Durable Raft storage through platform.files: a write-ahead log in segments plus one snapshot file.
//
//   DIR/wal-00000001.log   records: [length u32 BE][crc32 u32 BE][payload], payload (big-endian):
//                            hard state [0|2][term u64][vote u32][commit u64] | entry [1][index u64][term u64][type u8][data]
//                            (kind 2: the hard state that begins an append)
//   DIR/snapshot           [crc32 u32 BE][CBOR [index, term, voters, learners, resetSeq, data]] (atomic write)
//
// One Ready is one append (one fsync): a hard state record with the new term and vote but the old commit, the
// entries, then (if it moved) the new commit: a torn write never leaves an entry without the term that wrote it,
// nor a commit index ahead of the entries it covers. An entry record at index i replaces any entry >= i. On
// open, a bad record (length or CRC) in the last append of the last segment is a torn write: the segment is cut
// back to its good prefix and the node starts. A bad record followed by the start of a later append (a kind-2
// record with a good CRC), a bad record in an earlier segment, or a record whose CRC is good but whose values
// are out of range (limits.ts) is corruption: the node refuses to start and says where ('wal-corrupt'). Entries
// in segments before the snapshot's resetSeq belong to a log that a received snapshot replaced.
import { removeStaleTempFiles } from '../platform/temp-files.js';
import { decodeLimited, encodeCbor } from '../core/wire/cbor.js';
import { assertThat, Counters, ok } from '../core/result.js';
import { validConf, validNodeId } from '../core/raft/config.js';
import { decodeConf } from '../core/raft/conf.js';
import type { Entry, HardState, Ready, Snapshot, Stored } from '../core/raft/types.js';
import { emptyHardState } from '../core/raft/types.js';
import type { Files } from '../platform/types.js';
import { crc32 } from './crc32.js';
import { concatBytes } from '../core/wire/hex.js';
import { recordBytesMax, segmentBytesMax } from './limits.js';
import { indexMax, snapshotBytesMax, termMax } from '../core/raft/limits.js';

export type StorageReason = 'wal-corrupt' | 'wal-gap' | 'snapshot-corrupt' | 'dir-unusable';

/** Why the storage cannot be opened, and where: the file and byte offset, for the operator. */
export interface StorageFailure {
  readonly ok: false;
  readonly reason: StorageReason;
  readonly detail: string;
}

const refuse = (reason: StorageReason, detail: string): StorageFailure => ({ ok: false, reason, detail });

interface Segment {
  readonly seq: number;
  bytes: number;
  maxIndex: number;
}

const headerBytes = 8;
const segmentName = (seq: number): string => `wal-${String(seq).padStart(8, '0')}.log`;
const segmentSeq = (name: string): number | null => {
  const m = /^wal-(\d{8})\.log$/.exec(name);
  return m === null ? null : Number(m[1]);
};

function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(headerBytes + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length);
  view.setUint32(4, crc32(payload));
  out.set(payload, headerBytes);
  return out;
}

// Records are fixed binary layouts (no CBOR): the hot path on a router is one record per entry.
//   hard state: [0][term u64][vote u32][commit u64]    entry: [1][index u64][term u64][type u8][data]
function putU64(view: DataView, at: number, n: number): void {
  view.setUint32(at, Math.floor(n / 0x1_0000_0000));
  view.setUint32(at + 4, n >>> 0);
}

const getU64 = (view: DataView, at: number): number => view.getUint32(at) * 0x1_0000_0000 + view.getUint32(at + 4);

const kindHard = 0;
const kindEntry = 1;
const kindAppendStart = 2;

function hardStateRecord(hs: HardState, kind = kindHard): Uint8Array {
  const payload = new Uint8Array(21);
  payload[0] = kind;
  const view = new DataView(payload.buffer);
  putU64(view, 1, hs.term);
  view.setUint32(9, hs.vote);
  putU64(view, 13, hs.commit);
  return frame(payload);
}

function entryRecord(e: Entry): Uint8Array {
  const payload = new Uint8Array(18 + e.data.length);
  const view = new DataView(payload.buffer);
  payload[0] = kindEntry;
  putU64(view, 1, e.index);
  putU64(view, 9, e.term);
  payload[17] = e.type === 'conf' ? 1 : 0;
  payload.set(e.data, 18);
  return frame(payload);
}

type WalRecord = { readonly kind: 'hard'; readonly hs: HardState } | { readonly kind: 'entry'; readonly entry: Entry };

const isCount = (n: unknown, max = Number.MAX_SAFE_INTEGER): n is number =>
  typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= max;

/** A record's values, bounded as the wire bounds them (limits.ts); null when any is out of range. */
function decodeRecord(payload: Uint8Array): WalRecord | null {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if ((payload[0] === kindHard || payload[0] === kindAppendStart) && payload.length === 21) {
    const hs = { term: getU64(view, 1), vote: view.getUint32(9), commit: getU64(view, 13) };
    const ok = isCount(hs.term, termMax) && isCount(hs.commit, indexMax) && (hs.vote === 0 || validNodeId(hs.vote));
    return ok ? { kind: 'hard', hs } : null;
  }
  if (payload[0] !== kindEntry || payload.length < 18 || payload[17]! > 1) return null;
  const entry: Entry = {
    index: getU64(view, 1),
    term: getU64(view, 9),
    type: payload[17] === 1 ? 'conf' : 'normal',
    data: payload.slice(18),
  };
  if (!isCount(entry.index, indexMax) || entry.index === 0 || !isCount(entry.term, termMax)) return null;
  if (entry.type === 'conf' && decodeConf(entry.data) === null) return null;
  return { kind: 'entry', entry };
}

interface Parsed {
  readonly records: WalRecord[];
  /** Where the first bad record starts (or the end). */
  readonly goodBytes: number;
  /** A whole record (good CRC) whose values are out of range: never a torn write. */
  readonly badValues: boolean;
}

/** The record framed at `at`, if its length fits and its CRC matches. */
function framedAt(bytes: Uint8Array, view: DataView, at: number): Uint8Array | null {
  const length = view.getUint32(at);
  if (length > recordBytesMax || at + headerBytes + length > bytes.length) return null;
  const payload = bytes.subarray(at + headerBytes, at + headerBytes + length);
  return crc32(payload) === view.getUint32(at + 4) ? payload : null;
}

/** Splits a segment into records up to the first bad one. */
function parseSegment(bytes: Uint8Array): Parsed {
  const records: WalRecord[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + headerBytes <= bytes.length) {
    const payload = framedAt(bytes, view, at);
    if (payload === null) break;
    const record = decodeRecord(payload);
    if (record === null) return { records, goodBytes: at, badValues: true };
    records.push(record);
    at += headerBytes + payload.length;
  }
  return { records, goodBytes: at, badValues: false };
}

/**
 * Where a later append starts after a bad record at `from` (a kind-2 record with a good CRC), or -1. A torn write
 * damages only the last append, so finding one means the damage is in the middle of acknowledged state.
 */
function laterAppendStart(bytes: Uint8Array, from: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = from + 1; at + headerBytes + 21 <= bytes.length; at++) {
    if (bytes[at + headerBytes] !== kindAppendStart || view.getUint32(at) !== 21) continue;
    const payload = framedAt(bytes, view, at);
    if (payload !== null && decodeRecord(payload) !== null) return at;
  }
  return -1;
}

function encodeSnapshot(s: Snapshot, resetSeq: number): Uint8Array {
  const body = encodeCbor([s.meta.index, s.meta.term, s.meta.conf.voters, s.meta.conf.learners, resetSeq, s.data]);
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, crc32(body));
  out.set(body, 4);
  return out;
}

function decodeSnapshot(bytes: Uint8Array): { snapshot: Snapshot; resetSeq: number } | null {
  if (bytes.length < 4) return null;
  const body = bytes.subarray(4);
  if (crc32(body) !== new DataView(bytes.buffer, bytes.byteOffset).getUint32(0)) return null;
  const decoded = decodeLimited<unknown>(body, snapshotBytesMax + 4096);
  if (!decoded.ok || !Array.isArray(decoded.value)) return null;
  const [index, term, voters, learners, resetSeq, data] = decoded.value as unknown[];
  if (!isCount(index, indexMax) || !isCount(term, termMax) || !isCount(resetSeq) || !(data instanceof Uint8Array))
    return null;
  if (!Array.isArray(voters) || !Array.isArray(learners)) return null;
  const conf = { voters: voters as number[], learners: learners as number[] };
  if (!validConf(conf) || conf.voters.length === 0) return null;
  return { snapshot: { meta: { index, term, conf }, data: new Uint8Array(data) }, resetSeq };
}

export class RaftStorage {
  readonly counters = new Counters();
  bytesWritten = 0;
  appends = 0;
  private segments: Segment[] = [];
  private hardState: HardState = emptyHardState;
  /** The last hard state written to a record (what a restart would read). */
  private durableHard: HardState = emptyHardState;
  private snapshotIndex = 0;
  private resetSeq = 1;

  private constructor(
    private readonly files: Files,
    private readonly dir: string,
  ) {}

  /**
   * Raft's promise is that what it acknowledged is on flash: a write the system refused breaks it, so the node
   * stops here (procd restarts it, and it recovers from what did reach the flash) rather than run on a lie.
   */
  private durable(operation: string, path: string, errno: string | null): void {
    assertThat(errno === null, `raft storage: ${operation} ${path} failed: ${errno}`);
  }

  /** Opens (creating) the storage in dir and reads back what a restarting node needs (null: nothing yet). */
  static open(
    files: Files,
    dir: string,
  ): { readonly ok: true; readonly value: { storage: RaftStorage; stored: Stored | null } } | StorageFailure {
    const made = files.mkdirp(dir);
    if (made !== null) return refuse('dir-unusable', made);
    const storage = new RaftStorage(files, dir);
    // A kill between an atomic write's open and its rename leaves its temporary file: never state, removed.
    const stale = removeStaleTempFiles(files, dir).length;
    if (stale > 0) storage.counters.add('temp-files-removed', stale);
    const loaded = storage.load();
    if (!loaded.ok) return loaded;
    return ok({ storage, stored: loaded.value });
  }

  private path(name: string): string {
    return `${this.dir}/${name}`;
  }

  private load(): { readonly ok: true; readonly value: Stored | null } | StorageFailure {
    let snapshot: Snapshot | null = null;
    const snapshotBytes = this.files.read(this.path('snapshot'));
    if (snapshotBytes !== null) {
      const decoded = decodeSnapshot(snapshotBytes);
      if (decoded === null)
        return refuse('snapshot-corrupt', `${this.path('snapshot')}: bad checksum or values out of range`);
      snapshot = decoded.snapshot;
      this.resetSeq = decoded.resetSeq;
      this.snapshotIndex = snapshot.meta.index;
    }
    const entries: Entry[] = [];
    const names = this.files.list(this.dir).filter((n) => segmentSeq(n) !== null);
    for (let i = 0; i < names.length; i++) {
      const replayed = this.replaySegment(names[i] as string, i === names.length - 1, entries);
      if (!replayed.ok) return replayed;
    }
    this.dropVoidSegments();
    if (this.segments.length === 0) this.startSegment(Math.max(1, this.resetSeq), []);
    if (this.hardState.term === 0 && snapshot === null && entries.length === 0) return ok(null);
    const lastIndex = entries[entries.length - 1]?.index ?? this.snapshotIndex;
    // The commit index is re-learned from the leader if a torn write left it ahead of the entries.
    const hardState = { ...this.hardState, commit: Math.min(this.hardState.commit, lastIndex) };
    return ok({ hardState, snapshot, entries });
  }

  /** Segments left from before a received snapshot (a crash interrupted their removal). */
  private dropVoidSegments(): void {
    for (const segment of this.segments.filter((s) => s.seq < this.resetSeq))
      this.durable(
        'remove',
        this.path(segmentName(segment.seq)),
        this.files.remove(this.path(segmentName(segment.seq))),
      );
    this.segments = this.segments.filter((s) => s.seq >= this.resetSeq);
  }

  private replaySegment(
    name: string,
    last: boolean,
    entries: Entry[],
  ): { readonly ok: true; readonly value: undefined } | StorageFailure {
    const seq = segmentSeq(name) as number;
    const path = this.path(name);
    const bytes = this.files.read(path) ?? new Uint8Array(0);
    const { records, goodBytes, badValues } = parseSegment(bytes);
    if (goodBytes < bytes.length) {
      const where = `${path}: bad record at byte ${goodBytes} of ${bytes.length}`;
      if (badValues) return refuse('wal-corrupt', `${where} (checksum good, values out of range)`);
      if (!last) return refuse('wal-corrupt', `${where} (not the last segment)`);
      const later = laterAppendStart(bytes, goodBytes);
      if (later >= 0)
        return refuse(
          'wal-corrupt',
          `${where}, followed by a later append at byte ${later}: damage inside acknowledged state, not a torn write`,
        );
      // A torn tail (power lost mid-append): keep the records that made it, drop the rest.
      this.durable('truncate', path, this.files.writeAtomic(path, bytes.subarray(0, goodBytes)));
      this.counters.add('wal-torn-tail');
    }
    const segment: Segment = { seq, bytes: goodBytes, maxIndex: 0 };
    this.segments.push(segment);
    for (const record of records) {
      if (record.kind === 'hard') {
        this.hardState = record.hs;
        this.durableHard = record.hs;
        continue;
      }
      const entry = record.entry;
      segment.maxIndex = Math.max(segment.maxIndex, entry.index);
      if (seq < this.resetSeq || entry.index <= this.snapshotIndex) continue;
      const expected = (entries[0]?.index ?? this.snapshotIndex + 1) + entries.length;
      if (entry.index > expected) return refuse('wal-gap', `${path}: entry ${entry.index} follows ${expected - 1}`);
      entries.length -= Math.max(0, expected - entry.index);
      const prevTerm = entries[entries.length - 1]?.term ?? 0;
      if (entry.term < prevTerm)
        return refuse('wal-corrupt', `${path}: entry ${entry.index} has term ${entry.term} after term ${prevTerm}`);
      entries.push(entry);
    }
    return ok(undefined);
  }

  /**
   * A new segment always starts with a hard state record (older segments may be removed later). It is created
   * with an atomic write, which also fsyncs the directory: append alone would not make the new name durable.
   */
  private startSegment(seq: number, records: readonly Uint8Array[]): void {
    const bytes = concatBytes(records.length > 0 ? records : [hardStateRecord(this.hardState, kindAppendStart)]);
    this.durable('write', this.path(segmentName(seq)), this.files.writeAtomic(this.path(segmentName(seq)), bytes));
    this.segments.push({ seq, bytes: bytes.length, maxIndex: 0 });
    this.durableHard = this.hardState;
    this.bytesWritten += bytes.length;
    this.appends++;
  }

  private current(): Segment {
    return this.segments[this.segments.length - 1] as Segment;
  }

  private appendToCurrent(bytes: Uint8Array): void {
    const segment = this.current();
    this.durableHard = this.hardState;
    this.durable(
      'append',
      this.path(segmentName(segment.seq)),
      this.files.append(this.path(segmentName(segment.seq)), bytes),
    );
    segment.bytes += bytes.length;
    this.bytesWritten += bytes.length;
    this.appends++;
  }

  /** Persists what a Ready asks for: at most one snapshot file write and one append (one fsync) for the rest. */
  save(rd: Ready): void {
    // Only term and vote must be durable before we answer anyone; the commit index is re-learned from the
    // leader after a restart. So a Ready that only moves commit costs no write (and no fsync): the new commit
    // rides along with the next record.
    const hs = rd.hardState;
    const mustWriteHard = hs !== null && (hs.term !== this.durableHard.term || hs.vote !== this.durableHard.vote);
    if (hs !== null) this.hardState = hs;
    if (rd.snapshot !== null) this.saveReceivedSnapshot(rd.snapshot);
    if (!mustWriteHard && rd.entries.length === 0) {
      if (hs !== null) this.counters.add('commit-only-skipped');
      return;
    }
    // Term and vote go first (no entry without the term that wrote it); a new commit index goes last (no commit
    // without the entries it covers): a torn append keeps a prefix of these records (simulator seed 243).
    const records: Uint8Array[] = [
      hardStateRecord({ ...this.hardState, commit: this.durableHard.commit }, kindAppendStart),
    ];
    for (const entry of rd.entries) records.push(entryRecord(entry));
    if (this.hardState.commit !== this.durableHard.commit) records.push(hardStateRecord(this.hardState));
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (this.current().bytes >= segmentBytesMax) this.startSegment(this.current().seq + 1, records);
    else this.appendToCurrent(concatBytes(records));
    if (lastEntry !== undefined) this.current().maxIndex = Math.max(this.current().maxIndex, lastEntry.index);
  }

  /** A snapshot from the leader replaces the whole log: entries in segments before the new one are void. */
  private saveReceivedSnapshot(snapshot: Snapshot): void {
    const seq = this.current().seq + 1;
    this.writeSnapshot(snapshot, seq);
    const old = this.segments;
    this.segments = [];
    this.startSegment(seq, []);
    for (const segment of old)
      this.durable(
        'remove',
        this.path(segmentName(segment.seq)),
        this.files.remove(this.path(segmentName(segment.seq))),
      );
  }

  /** Our own compaction: the snapshot covers entries up to its index; segments holding only those go. */
  saveSnapshot(snapshot: Snapshot): void {
    this.writeSnapshot(snapshot, this.resetSeq);
    const keep = this.segments.filter((s, i) => i === this.segments.length - 1 || s.maxIndex > snapshot.meta.index);
    for (const segment of this.segments)
      if (!keep.includes(segment))
        this.durable(
          'remove',
          this.path(segmentName(segment.seq)),
          this.files.remove(this.path(segmentName(segment.seq))),
        );
    this.segments = keep;
  }

  private writeSnapshot(snapshot: Snapshot, resetSeq: number): void {
    const bytes = encodeSnapshot(snapshot, resetSeq);
    this.durable('write', this.path('snapshot'), this.files.writeAtomic(this.path('snapshot'), bytes));
    this.bytesWritten += bytes.length;
    this.resetSeq = resetSeq;
    this.snapshotIndex = snapshot.meta.index;
    this.counters.add('snapshot-saved');
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /**
   * Offline (restore, force-new-cluster): makes dir hold exactly `snapshot`, with `previous` the hard state dir held.
   * Writing the snapshot is the one moment the state changes. First a new segment with the hard state (term at
   * least the snapshot's; the vote kept only within the same term): on its own it leaves the old state loadable.
   * Then the snapshot, naming that segment as the first live one, which voids every older segment; they are
   * removed last (an open would drop them anyway). Null when done, else what failed and where.
   */
  static install(files: Files, dir: string, snapshot: Snapshot, previous: HardState): StorageFailure | null {
    const made = files.mkdirp(dir);
    if (made !== null) return refuse('dir-unusable', `cannot create ${dir}: ${made}`);
    const names = files.list(dir).filter((n) => segmentSeq(n) !== null);
    const oldSnapshot = files.read(`${dir}/snapshot`);
    const oldReset = oldSnapshot === null ? 0 : (decodeSnapshot(oldSnapshot)?.resetSeq ?? 0);
    const seq = Math.max(oldReset, ...names.map((n) => segmentSeq(n) as number)) + 1;
    const term = Math.max(previous.term, snapshot.meta.term);
    const hs = { term, vote: term === previous.term ? previous.vote : 0, commit: previous.commit };
    const steps: Array<[string, () => string | null]> = [
      [segmentName(seq), () => files.writeAtomic(`${dir}/${segmentName(seq)}`, hardStateRecord(hs, kindAppendStart))],
      ['snapshot', () => files.writeAtomic(`${dir}/snapshot`, encodeSnapshot(snapshot, seq))],
      ...names.map((n): [string, () => string | null] => [n, () => files.remove(`${dir}/${n}`)]),
    ];
    for (const [name, step] of steps) {
      const errno = step();
      if (errno !== null) return refuse('dir-unusable', `cannot write ${dir}/${name}: ${errno}`);
    }
    return null;
  }
}
