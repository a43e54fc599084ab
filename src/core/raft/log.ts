// The in-memory Raft log: a snapshot base (index, term, conf) followed by entries. It tracks what is
// committed, applied and stable (persisted by the caller), and the configuration at the tail. The caller's
// storage holds the durable copy; on restart the log is rebuilt from it.
import { assertThat } from '../result.js';
import { decodeConf } from './conf.js';
import type { ConfState, Entry, Snapshot } from './types.js';

const entryOverheadBytes = 16;

export function entryBytes(entry: Entry): number {
  return entry.data.length + entryOverheadBytes;
}

export class RaftLog {
  private entries: Entry[] = [];
  /** Latest snapshot (ours or received); its index is the log's base. */
  snapshot: Snapshot;
  committed: number;
  applied: number;
  /** Entries up to here are persisted by the caller. */
  stable: number;
  /** Indexes of conf entries in `entries`, ascending, with their decoded configuration. */
  private confs: { index: number; conf: ConfState }[] = [];

  constructor(snapshot: Snapshot, entries: readonly Entry[]) {
    this.snapshot = snapshot;
    this.committed = snapshot.meta.index;
    this.applied = snapshot.meta.index;
    this.stable = snapshot.meta.index;
    this.appendUnchecked(entries);
    this.stable = this.lastIndex();
  }

  get firstIndex(): number {
    return this.snapshot.meta.index + 1;
  }

  lastIndex(): number {
    return this.snapshot.meta.index + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) as number;
  }

  /** The term at index, or undefined when it is compacted away or past the end. */
  term(index: number): number | undefined {
    const base = this.snapshot.meta.index;
    if (index === base) return this.snapshot.meta.term;
    if (index < base || index > this.lastIndex()) return undefined;
    return (this.entries[index - base - 1] as Entry).term;
  }

  entry(index: number): Entry | undefined {
    return this.entries[index - this.snapshot.meta.index - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft §5.4.1: the candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /** The configuration in force at the tail of the log (a conf entry takes effect once appended). */
  conf(): ConfState {
    const last = this.confs[this.confs.length - 1];
    return last === undefined ? this.snapshot.meta.conf : last.conf;
  }

  confAt(index: number): ConfState {
    let conf = this.snapshot.meta.conf;
    for (const c of this.confs) if (c.index <= index) conf = c.conf;
    return conf;
  }

  /** Index of the last conf entry (or the snapshot's index when there is none after it). */
  lastConfIndex(): number {
    return this.confs[this.confs.length - 1]?.index ?? this.snapshot.meta.index;
  }

  /** Entries in [lo, hi) up to maxBytes (at least one entry if any). */
  slice(lo: number, hi: number, maxBytes: number, maxCount: number): Entry[] {
    assertThat(lo >= this.firstIndex, `slice: ${lo} is compacted (first ${this.firstIndex})`);
    assertThat(hi <= this.lastIndex() + 1, `slice: ${hi} is past the end ${this.lastIndex()}`);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi && out.length < maxCount; i++) {
      const entry = this.entry(i) as Entry;
      bytes += entryBytes(entry);
      if (bytes > maxBytes && out.length > 0) break;
      out.push(entry);
    }
    return out;
  }

  unstableEntries(): Entry[] {
    if (this.stable >= this.lastIndex()) return [];
    return this.entries.slice(this.stable - this.snapshot.meta.index);
  }

  /** Committed, stable, not yet applied entries (up to maxBytes, at least one). */
  nextCommitted(maxBytes: number): Entry[] {
    const hi = Math.min(this.committed, this.stable);
    if (this.applied >= hi) return [];
    return this.slice(this.applied + 1, hi + 1, maxBytes, Number.MAX_SAFE_INTEGER);
  }

  /** Leader append: entries follow the tail. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    assertThat((entries[0] as Entry).index === this.lastIndex() + 1, 'append: entries do not follow the tail');
    this.appendUnchecked(entries);
  }

  /**
   * Follower append (Raft §5.3): if our entry at prevIndex has prevTerm, drop what conflicts and append the rest.
   * Returns the index of the last new entry, or null when prevIndex/prevTerm does not match.
   */
  maybeAppend(prevIndex: number, prevTerm: number, committed: number, entries: readonly Entry[]): number | null {
    if (!this.matchTerm(prevIndex, prevTerm)) return null;
    const lastNew = prevIndex + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      assertThat(conflict > this.committed, `maybeAppend: conflict at ${conflict} is committed (${this.committed})`);
      this.truncateAndAppend(entries.slice(conflict - prevIndex - 1));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /** The first entry whose term differs from ours (or that we lack); 0 when all match. */
  private findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    return 0;
  }

  /**
   * Fast backtracking: the largest index <= index whose term is <= term (etcd-raft's findConflictByTerm). A
   * leader uses it on a rejection hint to skip a whole term of mismatching entries per round trip.
   */
  findConflictByTerm(index: number, term: number): number {
    let i = Math.min(index, this.lastIndex());
    const base = this.snapshot.meta.index;
    while (i > base) {
      const t = this.term(i) as number;
      if (t <= term) return i;
      i--;
    }
    return i;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assertThat(index <= this.lastIndex(), `commitTo: ${index} is past the end ${this.lastIndex()}`);
    this.committed = index;
  }

  appliedTo(index: number): void {
    assertThat(index >= this.applied, `appliedTo: ${index} < applied ${this.applied}`);
    assertThat(index <= this.committed, `appliedTo: ${index} > committed ${this.committed}`);
    this.applied = index;
  }

  stableTo(index: number, term: number): void {
    // Entries may have been replaced since the Ready was made; only a matching term proves these are persisted.
    if (this.matchTerm(index, term) && index > this.stable) this.stable = index;
  }

  /** Replaces the whole log with a received snapshot (the caller checked that we lack its last entry). */
  restore(snapshot: Snapshot): void {
    const meta = snapshot.meta;
    assertThat(meta.index > this.committed, `restore: snapshot ${meta.index} is not past committed ${this.committed}`);
    assertThat(!this.matchTerm(meta.index, meta.term), "restore: we already have the snapshot's last entry");
    this.entries = [];
    this.confs = [];
    this.snapshot = snapshot;
    this.committed = meta.index;
    this.applied = meta.index;
    this.stable = meta.index;
  }

  /** Drops entries up to snapshot.meta.index (which must be applied) and makes the snapshot the new base. */
  compactTo(snapshot: Snapshot): void {
    const index = snapshot.meta.index;
    assertThat(index <= this.lastIndex(), `compact: ${index} is past the end ${this.lastIndex()}`);
    assertThat(index >= this.snapshot.meta.index, `compact: ${index} is before the base ${this.snapshot.meta.index}`);
    this.entries = this.entries.slice(index - this.snapshot.meta.index);
    this.confs = this.confs.filter((c) => c.index > index);
    this.snapshot = snapshot;
    if (this.stable < index) this.stable = index;
    if (this.applied < index) this.applied = index;
  }

  private truncateAndAppend(entries: readonly Entry[]): void {
    const first = (entries[0] as Entry).index;
    assertThat(first > this.snapshot.meta.index, 'truncateAndAppend: before the base');
    this.entries.length = first - this.snapshot.meta.index - 1;
    this.confs = this.confs.filter((c) => c.index < first);
    if (this.stable >= first) this.stable = first - 1;
    this.appendUnchecked(entries);
  }

  private appendUnchecked(entries: readonly Entry[]): void {
    for (const entry of entries) {
      assertThat(entry.index === this.lastIndex() + 1, `log: entry ${entry.index} does not follow ${this.lastIndex()}`);
      assertThat(entry.term >= this.lastTerm(), `log: term ${entry.term} goes back from ${this.lastTerm()}`);
      this.entries.push(entry);
      if (entry.type === 'conf') {
        const conf = decodeConf(entry.data);
        assertThat(conf !== null, `log: malformed conf entry at ${entry.index}`);
        this.confs.push({ index: entry.index, conf });
      }
    }
  }
}
