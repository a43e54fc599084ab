// What a leader knows about each follower (etcd-raft's tracker.Progress): how far its log matches, what to send
// next, and a bounded window of append messages in flight.
import { assertThat } from '../result.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe: one append is out and unanswered; wait for its answer (or the next heartbeat). */
  probeSent = false;
  /** Last index of each append in flight (replicate state), oldest first. */
  readonly inflight: number[] = [];
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** Heartbeat answers seen in replicate state with entries in flight and no progress (datagrams get lost). */
  stalledBeats = 0;
  /** Snapshot state: the snapshot index being sent, bytes sent and bytes the follower confirmed. */
  snapshotIndex = 0;
  snapshotSent = 0;
  snapshotAcked = 0;

  constructor(
    next: number,
    readonly inflightMax: number,
  ) {
    this.next = next;
  }

  /**
   * A heartbeat answer arrived. Over a lossy transport an append can vanish with nothing after it to expose the
   * gap; after two answers without progress the leader falls back to probing from match + 1. True if it did.
   */
  heartbeatAnswered(): boolean {
    if (this.state !== 'replicate' || this.inflight.length === 0) return false;
    if (++this.stalledBeats < 2) return false;
    this.becomeProbe();
    return true;
  }

  becomeProbe(): void {
    // After a snapshot, the follower has at least the snapshot's last entry.
    const floor = this.state === 'snapshot' ? Math.max(this.match, this.snapshotIndex) : this.match;
    this.state = 'probe';
    this.probeSent = false;
    this.stalledBeats = 0;
    this.next = floor + 1;
    this.inflight.length = 0;
    this.snapshotIndex = 0;
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.probeSent = false;
    this.next = this.match + 1;
    this.inflight.length = 0;
  }

  becomeSnapshot(index: number): void {
    this.state = 'snapshot';
    this.probeSent = false;
    this.inflight.length = 0;
    this.snapshotIndex = index;
    this.snapshotSent = 0;
    this.snapshotAcked = 0;
  }

  /** An append succeeded up to index. Returns false for a stale answer. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (index > this.match) {
      this.match = index;
      updated = true;
      this.probeSent = false;
      this.stalledBeats = 0;
    }
    if (this.next < index + 1) this.next = index + 1;
    while (this.inflight.length > 0 && (this.inflight[0] as number) <= index) this.inflight.shift();
    return updated;
  }

  /**
   * An append at `rejected` failed; `probe` is where to try next (from the follower's hint). Returns false when
   * the rejection is stale (answers an older message).
   */
  maybeDecrTo(rejected: number, probe: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, probe + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  sentEntries(lastIndex: number): void {
    if (this.state === 'replicate') {
      assertThat(this.inflight.length < this.inflightMax, 'progress: inflight window overflow');
      this.next = lastIndex + 1;
      this.inflight.push(lastIndex);
    } else {
      this.probeSent = true;
    }
  }

  /** Whether an append may be sent now. */
  canSend(): boolean {
    if (this.state === 'probe') return !this.probeSent;
    if (this.state === 'replicate') return this.inflight.length < this.inflightMax;
    return false;
  }
}
