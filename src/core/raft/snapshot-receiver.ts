// A follower's side of chunked InstallSnapshot: chunks arrive in order (offset = bytes so far); anything else is
// answered with the offset we have so the leader resumes from there. Memory is bounded by snapshotBytesMax.
import { concatBytes } from '../wire/hex.js';
import { snapshotBytesMax } from './limits.js';
import type { Snapshot, SnapshotMeta } from './types.js';

export type ChunkOutcome =
  | { readonly kind: 'need'; readonly offset: number }
  | { readonly kind: 'done'; readonly snapshot: Snapshot }
  | { readonly kind: 'reject'; readonly reason: 'snapshot-too-large' | 'snapshot-overrun' };

export class SnapshotReceiver {
  private meta: SnapshotMeta | null = null;
  private total = 0;
  private received = 0;
  private chunks: Uint8Array[] = [];

  accept(meta: SnapshotMeta, offset: number, total: number, chunk: Uint8Array): ChunkOutcome {
    if (total > snapshotBytesMax || total <= 0) return { kind: 'reject', reason: 'snapshot-too-large' };
    if (!this.sameSnapshot(meta, total)) {
      this.reset();
      if (offset !== 0) return { kind: 'need', offset: 0 };
      this.meta = meta;
      this.total = total;
    }
    if (offset !== this.received) return { kind: 'need', offset: this.received };
    if (this.received + chunk.length > total) {
      this.reset();
      return { kind: 'reject', reason: 'snapshot-overrun' };
    }
    this.chunks.push(chunk);
    this.received += chunk.length;
    if (this.received < total) return { kind: 'need', offset: this.received };
    const snapshot = { meta, data: concatBytes(this.chunks) };
    this.reset();
    return { kind: 'done', snapshot };
  }

  private sameSnapshot(meta: SnapshotMeta, total: number): boolean {
    return this.meta !== null && this.meta.index === meta.index && this.meta.term === meta.term && this.total === total;
  }

  private reset(): void {
    this.meta = null;
    this.total = 0;
    this.received = 0;
    this.chunks = [];
  }
}
