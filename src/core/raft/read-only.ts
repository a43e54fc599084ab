// ReadIndex (Raft thesis §6.4): a leader remembers its commit index when a read arrives, confirms it is still
// leader with one heartbeat round (acks from a quorum of voters), then answers with that index. Reads queue in
// order; an ack for a later round confirms every earlier one too.
import { assertThat } from '../result.js';
import { quorum } from './conf.js';
import type { ConfState, NodeId } from './types.js';

export interface PendingRead {
  readonly id: number;
  /** Who asked: this node, or a follower that forwarded its read. */
  readonly from: NodeId;
  readonly index: number;
  readonly ctx: number;
  readonly acks: Set<NodeId>;
}

export class ReadOnlyQueue {
  private reads: PendingRead[] = [];
  private lastCtx = 0;

  constructor(private readonly max: number) {}

  get length(): number {
    return this.reads.length;
  }

  /** The last context handed out: an ack for a later one answers no round this leader started. */
  get issuedCtx(): number {
    return this.lastCtx;
  }

  get latestCtx(): number {
    return this.reads.length === 0 ? 0 : this.lastCtx;
  }

  /** Queues a read; returns its heartbeat context, or null when the queue is full. */
  add(id: number, from: NodeId, index: number, self: NodeId): number | null {
    if (this.reads.length >= this.max) return null;
    const ctx = ++this.lastCtx;
    this.reads.push({ id, from, index, ctx, acks: new Set([self]) });
    return ctx;
  }

  /** Records an ack of round `ctx` from a node and returns the reads now confirmed, in order. */
  ack(from: NodeId, ctx: number, conf: ConfState): PendingRead[] {
    if (!conf.voters.includes(from)) return [];
    for (const read of this.reads) {
      if (read.ctx > ctx) break;
      read.acks.add(from);
    }
    const need = quorum(conf);
    let released = 0;
    while (released < this.reads.length && voterAcks(this.reads[released] as PendingRead, conf) >= need) released++;
    const out = this.reads.splice(0, released);
    for (let i = 1; i < out.length; i++)
      assertThat((out[i] as PendingRead).index >= (out[i - 1] as PendingRead).index, 'reads: index went back');
    return out;
  }

  /** Leadership lost: every pending read is refused. */
  drain(): PendingRead[] {
    return this.reads.splice(0, this.reads.length);
  }
}

function voterAcks(read: PendingRead, conf: ConfState): number {
  let n = 0;
  for (const id of read.acks) if (conf.voters.includes(id)) n++;
  return n;
}
