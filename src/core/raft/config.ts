// Configuration of one Raft node, checked once by validateConfig (like etcd-raft's Config.validate()): a bad
// configuration is refused with a reason before a node exists, and the relations between limits hold after.
import { fail, ok, type Result } from '../result.js';
import type { ConfState, NodeId } from './types.js';
import * as limits from './limits.js';

export interface RaftConfig {
  readonly id: NodeId;
  /** Ticks without hearing from a leader before a follower campaigns (randomized in [n, 2n)). */
  readonly electionTicks: number;
  /** Ticks between a leader's heartbeats; must be well below electionTicks. */
  readonly heartbeatTicks: number;
  /** Run a pre-vote round first so a partitioned node rejoining cannot depose a healthy leader (§9.6). */
  readonly preVote: boolean;
  /** A leader steps down when it has not heard from a quorum for an election timeout. */
  readonly checkQuorum: boolean;
  readonly appendBytesMax: number;
  readonly appendEntriesMax: number;
  readonly inflightMessagesMax: number;
  readonly uncommittedBytesMax: number;
  readonly applyBytesMax: number;
  readonly snapshotChunkBytes: number;
  /** The initial configuration, used only when storage is empty: it becomes log entry 1 (term 1). */
  readonly bootstrap: ConfState | null;
  /** Random source for election timeouts, injected (the core owns no randomness): uniform in [0, 1). */
  readonly random: () => number;
  /** Test hooks that break safety on purpose, to prove the simulator catches it. Never set outside tests. */
  readonly unsafe?: UnsafeHooks;
}

export interface UnsafeHooks {
  /** Count replicas of entries from earlier terms toward commit (violates §5.4.2 / Figure 8). */
  readonly commitPreviousTerm?: boolean;
  /** Grant votes without the "candidate's log is at least as up-to-date" check (violates §5.4.1). */
  readonly skipVoteLogCheck?: boolean;
}

export type ConfigReason =
  | 'config-bad-id'
  | 'config-bad-heartbeat'
  | 'config-election-not-above-heartbeat'
  | 'config-bad-batch'
  | 'config-bad-inflight'
  | 'config-bad-apply-bytes'
  | 'config-bad-uncommitted-bytes'
  | 'config-bad-chunk'
  | 'config-bad-bootstrap';

export function defaultConfig(id: NodeId, random: () => number, bootstrap: ConfState | null): RaftConfig {
  return {
    id,
    electionTicks: limits.electionTicksDefault,
    heartbeatTicks: limits.heartbeatTicksDefault,
    preVote: true,
    checkQuorum: true,
    appendBytesMax: limits.appendBytesMax,
    appendEntriesMax: limits.appendEntriesMax,
    inflightMessagesMax: limits.inflightMessagesMax,
    uncommittedBytesMax: limits.uncommittedBytesMax,
    applyBytesMax: limits.applyBytesMax,
    snapshotChunkBytes: limits.snapshotChunkBytes,
    bootstrap,
    random,
  };
}

const positiveInt = (n: number): boolean => Number.isSafeInteger(n) && n > 0;

export function validNodeId(id: unknown): id is NodeId {
  return typeof id === 'number' && Number.isInteger(id) && id > 0 && id <= limits.nodeIdMax;
}

export function validConf(conf: ConfState): boolean {
  const all = [...conf.voters, ...conf.learners];
  if (all.length > limits.membersMax) return false;
  if (!all.every(validNodeId)) return false;
  return new Set(all).size === all.length;
}

export function validateConfig(config: RaftConfig): Result<RaftConfig, ConfigReason> {
  if (!validNodeId(config.id)) return fail('config-bad-id');
  if (!positiveInt(config.heartbeatTicks)) return fail('config-bad-heartbeat');
  // Followers must hear several heartbeats per election timeout, or a single lost datagram starts an election.
  if (!positiveInt(config.electionTicks) || config.electionTicks < 2 * config.heartbeatTicks)
    return fail('config-election-not-above-heartbeat');
  if (!positiveInt(config.appendBytesMax) || config.appendBytesMax < limits.entryBytesMax)
    return fail('config-bad-batch');
  if (!positiveInt(config.appendEntriesMax)) return fail('config-bad-batch');
  if (!positiveInt(config.inflightMessagesMax)) return fail('config-bad-inflight');
  if (!positiveInt(config.applyBytesMax) || config.applyBytesMax < limits.entryBytesMax)
    return fail('config-bad-apply-bytes');
  if (!positiveInt(config.uncommittedBytesMax) || config.uncommittedBytesMax < limits.entryBytesMax)
    return fail('config-bad-uncommitted-bytes');
  if (!positiveInt(config.snapshotChunkBytes) || config.snapshotChunkBytes > limits.appendBytesMax)
    return fail('config-bad-chunk');
  if (config.bootstrap !== null && (!validConf(config.bootstrap) || config.bootstrap.voters.length === 0))
    return fail('config-bad-bootstrap');
  return ok(config);
}
