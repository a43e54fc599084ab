// A simulated disk for one node: what survives a crash. Writes reach it only when the simulated fsync
// completes; a crash before then loses the write or leaves a prefix of its records, in the order the real
// storage (src/raft/storage.ts) writes them.
import type { Entry, HardState, Ready, Snapshot, Stored } from '../../src/core/raft/types.js';
import { emptyHardState } from '../../src/core/raft/types.js';

export class SimDisk {
  private hardState: HardState = emptyHardState;
  private snapshot: Snapshot | null = null;
  private entries: Entry[] = [];

  load(): Stored | null {
    if (this.hardState.term === 0 && this.snapshot === null && this.entries.length === 0) return null;
    const lastIndex = this.entries[this.entries.length - 1]?.index ?? this.snapshot?.meta.index ?? 0;
    // A torn write can leave a commit index ahead of the entries that made it: commit is re-learned.
    const hardState = { ...this.hardState, commit: Math.min(this.hardState.commit, lastIndex) };
    return { hardState, snapshot: this.snapshot, entries: [...this.entries] };
  }

  persist(rd: Ready): void {
    this.persistPrefix(rd, Number.MAX_SAFE_INTEGER);
  }

  /**
   * Persists the first `records` records of the Ready in the order the real storage writes them: received
   * snapshot, hard state with the new term and vote but the old commit, the entries, then the new commit.
   */
  persistPrefix(rd: Ready, records: number): void {
    const steps: (() => void)[] = [];
    const snapshot = rd.snapshot;
    if (snapshot !== null)
      steps.push(() => {
        this.snapshot = snapshot;
        this.entries = [];
      });
    const hs = rd.hardState;
    if (hs !== null)
      steps.push(() => {
        this.hardState = { ...hs, commit: this.hardState.commit };
      });
    for (const entry of rd.entries) steps.push(() => this.appendEntry(entry));
    if (hs !== null)
      steps.push(() => {
        this.hardState = hs;
      });
    for (const step of steps.slice(0, Math.max(0, records))) step();
  }

  private appendEntry(entry: Entry): void {
    const last = this.entries[this.entries.length - 1];
    if (last !== undefined && last.index >= entry.index)
      this.entries = this.entries.filter((e) => e.index < entry.index);
    this.entries.push(entry);
  }

  saveSnapshot(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.entries = this.entries.filter((e) => e.index > snapshot.meta.index);
  }
}
