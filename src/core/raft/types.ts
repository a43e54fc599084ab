// The Raft core's values: log entries, configurations, snapshots, messages and the Ready it hands out.
// Terms and indexes are non-negative integers (safe integers in JS); node id 0 means "none".

export type NodeId = number;

/** Who votes and who only follows. A node in neither set is not a member. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/**
 * 'normal' entries carry application commands (empty data: the leader's no-op); 'conf' entries carry the whole
 * new ConfState, encoded by encodeConf, which takes effect as soon as it is in a node's log (Raft thesis §4.1).
 */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: 'normal' | 'conf';
  readonly data: Uint8Array;
}

export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly conf: ConfState;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

interface Header {
  readonly term: number;
  readonly from: NodeId;
  readonly to: NodeId;
}

export type Message =
  | (Header & {
      readonly type: 'prevote' | 'vote';
      readonly lastIndex: number;
      readonly lastTerm: number;
      readonly transfer: boolean;
    })
  | (Header & { readonly type: 'prevote-resp' | 'vote-resp'; readonly reject: boolean })
  | (Header & {
      readonly type: 'app';
      readonly prevIndex: number;
      readonly prevTerm: number;
      readonly entries: readonly Entry[];
      readonly commit: number;
    })
  | (Header & {
      readonly type: 'app-resp';
      readonly index: number;
      readonly reject: boolean;
      readonly hintIndex: number;
      readonly hintTerm: number;
    })
  | (Header & { readonly type: 'heartbeat'; readonly commit: number; readonly ctx: number })
  | (Header & { readonly type: 'heartbeat-resp'; readonly ctx: number })
  | (Header & {
      readonly type: 'snap';
      readonly meta: SnapshotMeta;
      readonly offset: number;
      readonly total: number;
      readonly chunk: Uint8Array;
    })
  | (Header & { readonly type: 'snap-resp'; readonly index: number; readonly offset: number; readonly reject: boolean })
  | (Header & { readonly type: 'timeout-now' })
  | (Header & { readonly type: 'read-index'; readonly id: number })
  | (Header & {
      readonly type: 'read-index-resp';
      readonly id: number;
      readonly index: number;
      readonly reject: boolean;
    });

export type MessageType = Message['type'];

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

export interface SoftState {
  readonly lead: NodeId;
  readonly role: Role;
}

/** The answer to a ReadIndex request: once applied >= index, a read of the state machine is linearizable. */
export interface ReadState {
  readonly id: number;
  /** null when the request was refused (no leader, leader not ready, lost leadership): retry. */
  readonly index: number | null;
}

/**
 * What the caller must do, in this order: persist hardState, snapshot and entries (entries[0].index and above
 * replace what the log had there), durably; only then send messages (except those sendBeforePersist allows);
 * restore the state machine from snapshot; apply committedEntries; answer readStates once applied; then call
 * advance(ready).
 */
export interface Ready {
  readonly softState: SoftState | null;
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
}

/** What a restarting node read back from its storage. */
export interface Stored {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
}

export const emptyHardState: HardState = { term: 0, vote: 0, commit: 0 };
export const emptyConf: ConfState = { voters: [], learners: [] };

/**
 * A leader's appends, heartbeats and snapshot chunks may go out before its own write is durable (thesis
 * §10.2.1): the leader counts itself toward commit only after advance(), so an entry it loses in a crash was
 * never counted as on its disk. Every other message (votes, acknowledgements) waits for the fsync.
 */
export function sendBeforePersist(m: Message): boolean {
  return m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap';
}
