// Client requests on one node: writes are proposed on the leader and answered when their entry applies; reads
// (get, list) go through ReadIndex (from any node) and are answered once the state machine has caught up.
// Pure like the rest of the core: the runner (real or simulated) hands requests in and delivers replies.
import type { Entry, NodeId, ReadState } from './types.js';
import type { Raft } from './raft.js';
import { encodeRequest, validCommand, type KvCommand, type KvRequest, type KvResult, type KvStore } from './kv.js';
import { kvListMax, kvPendingMax } from './limits.js';

export type ClientOp =
  | {
      readonly op: 'write';
      readonly client: number;
      readonly seq: number;
      readonly command: KvCommand;
      readonly encoded?: Uint8Array;
    }
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'list'; readonly prefix: string; readonly limit: number };

export type ClientReply =
  | { readonly ok: true; readonly write: KvResult }
  | { readonly ok: true; readonly value: string | null; readonly index: number }
  | { readonly ok: true; readonly items: readonly [string, string][]; readonly index: number }
  | { readonly ok: false; readonly reason: ServiceReason; readonly leader: NodeId };

export type ServiceReason =
  | 'not-leader'
  | 'no-leader'
  | 'overload'
  | 'leadership-lost'
  | 'read-failed'
  | 'bad-request'
  | 'proposal-refused';

interface PendingWrite {
  readonly term: number;
  /** Set when the command arrived already decoded: applying it here needs no second decode. */
  readonly request: KvRequest | undefined;
  readonly reply: (r: ClientReply) => void;
}

interface PendingRead {
  readonly op: Extract<ClientOp, { op: 'get' | 'list' }>;
  readonly reply: (r: ClientReply) => void;
  index: number | null;
  ageTicks: number;
}

export class KvService {
  private readonly writes = new Map<number, PendingWrite>();
  private readonly reads = new Map<number, PendingRead>();
  private nextReadId = 1;

  constructor(
    private readonly raft: Raft,
    readonly kv: KvStore,
  ) {}

  get pending(): number {
    return this.writes.size + this.reads.size;
  }

  submit(op: ClientOp, reply: (r: ClientReply) => void): void {
    if (this.pending >= kvPendingMax) return reply(this.refusal('overload'));
    if (op.op === 'write') this.submitWrite(op, reply);
    else this.submitRead(op, reply);
  }

  private refusal(reason: ServiceReason): ClientReply {
    return { ok: false, reason, leader: this.raft.lead };
  }

  private submitWrite(op: Extract<ClientOp, { op: 'write' }>, reply: (r: ClientReply) => void): void {
    if (!validCommand(op.command) || !(op.client > 0) || !(op.seq > 0)) return reply(this.refusal('bad-request'));
    if (this.raft.role !== 'leader') return reply(this.refusal(this.raft.lead === 0 ? 'no-leader' : 'not-leader'));
    // A request that arrived already encoded (and was validated by decoding it) goes into the log as is.
    const proposed = this.raft.propose(
      op.encoded ?? encodeRequest({ client: op.client, seq: op.seq, command: op.command }),
    );
    if (!proposed.ok) return reply(this.refusal(proposed.reason === 'not-leader' ? 'not-leader' : 'proposal-refused'));
    const request = op.encoded === undefined ? undefined : { client: op.client, seq: op.seq, command: op.command };
    this.writes.set(proposed.value, { term: this.raft.term, request, reply });
  }

  private submitRead(op: Extract<ClientOp, { op: 'get' | 'list' }>, reply: (r: ClientReply) => void): void {
    const id = this.nextReadId++;
    const started = this.raft.readIndex(id);
    if (!started.ok) return reply(this.refusal(started.reason === 'no-leader' ? 'no-leader' : 'read-failed'));
    this.reads.set(id, { op, reply, index: null, ageTicks: 0 });
  }

  /** After restoring a snapshot: the state machine jumped ahead. */
  restored(): void {
    this.answerReads();
  }

  /** Applies committed entries to the store and answers the writes waiting for them. */
  apply(entries: readonly Entry[]): void {
    for (const entry of entries) {
      const waiting = this.writes.get(entry.index);
      const decoded = waiting?.term === entry.term ? waiting.request : undefined;
      const result =
        entry.type === 'normal'
          ? this.kv.apply(entry.index, entry.data, decoded)
          : ((this.kv.appliedIndex = entry.index), null);
      if (waiting === undefined) continue;
      this.writes.delete(entry.index);
      // Another leader's entry took this index: ours was lost; the client retries (with the same sequence).
      if (waiting.term !== entry.term || result === null) waiting.reply(this.refusal('leadership-lost'));
      else waiting.reply({ ok: true, write: result });
    }
    this.answerReads();
  }

  readStates(states: readonly ReadState[]): void {
    for (const state of states) {
      const read = this.reads.get(state.id);
      if (read === undefined) continue;
      if (state.index === null) {
        this.reads.delete(state.id);
        read.reply(this.refusal('read-failed'));
      } else {
        read.index = state.index;
      }
    }
    this.answerReads();
  }

  /** Leadership changed: writes waiting here may never be answered by this node, so refuse them now. */
  roleChanged(): void {
    if (this.raft.role === 'leader') return;
    for (const [index, waiting] of this.writes) {
      this.writes.delete(index);
      waiting.reply(this.refusal('leadership-lost'));
    }
  }

  /** Call once per Raft tick: a read whose ReadIndex answer never came (a lost message) is refused in time. */
  tick(readTimeoutTicks: number): void {
    for (const [id, read] of this.reads) {
      if (++read.ageTicks < readTimeoutTicks) continue;
      this.reads.delete(id);
      read.reply(this.refusal('read-failed'));
    }
  }

  private answerReads(): void {
    for (const [id, read] of this.reads) {
      if (read.index === null || read.index > this.kv.appliedIndex) continue;
      this.reads.delete(id);
      const index = this.kv.appliedIndex;
      if (read.op.op === 'get') read.reply({ ok: true, value: this.kv.get(read.op.key), index });
      else read.reply({ ok: true, items: this.kv.list(read.op.prefix, Math.min(read.op.limit, kvListMax)), index });
    }
  }
}
