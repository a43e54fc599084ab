// Configurations: encoding of conf entries, quorum arithmetic, and the single-server changes a leader accepts.
import { decodeLimited, encodeCbor } from '../wire/cbor.js';
import { fail, ok, type Result } from '../result.js';
import type { ConfState, NodeId } from './types.js';
import { validConf, validNodeId } from './config.js';
import { membersMax } from './limits.js';

export type ConfChange =
  | { readonly op: 'add-learner'; readonly node: NodeId }
  | { readonly op: 'add-voter'; readonly node: NodeId }
  | { readonly op: 'remove'; readonly node: NodeId };

export type ConfChangeReason = 'conf-bad-node' | 'conf-no-change' | 'conf-too-many-members' | 'conf-last-voter';

const sorted = (ids: Iterable<NodeId>): NodeId[] => [...ids].sort((a, b) => a - b);

export function encodeConf(conf: ConfState): Uint8Array {
  return encodeCbor([sorted(conf.voters), sorted(conf.learners)]);
}

/** Conf entries come from the leader's log; a malformed one is a bug upstream, so this returns null to assert on. */
export function decodeConf(data: Uint8Array): ConfState | null {
  const decoded = decodeLimited<unknown>(data, 4096);
  if (!decoded.ok || !Array.isArray(decoded.value) || decoded.value.length !== 2) return null;
  const [voters, learners] = decoded.value as unknown[];
  if (!Array.isArray(voters) || !Array.isArray(learners)) return null;
  const conf: ConfState = { voters: voters as NodeId[], learners: learners as NodeId[] };
  return validConf(conf) ? conf : null;
}

export function isVoter(conf: ConfState, id: NodeId): boolean {
  return conf.voters.includes(id);
}

export function isMember(conf: ConfState, id: NodeId): boolean {
  return conf.voters.includes(id) || conf.learners.includes(id);
}

export function quorum(conf: ConfState): number {
  return Math.floor(conf.voters.length / 2) + 1;
}

/** The highest index that a quorum of voters has: the median of their match indexes. */
export function quorumIndex(conf: ConfState, matchOf: (id: NodeId) => number): number {
  const matches = conf.voters.map(matchOf).sort((a, b) => b - a);
  return matches[quorum(conf) - 1] ?? 0;
}

/** 'won' / 'lost' once a quorum of voters answered the same way, else 'pending'. */
export function tally(conf: ConfState, votes: ReadonlyMap<NodeId, boolean>): 'won' | 'lost' | 'pending' {
  let granted = 0;
  let rejected = 0;
  for (const id of conf.voters) {
    const vote = votes.get(id);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const q = quorum(conf);
  if (granted >= q) return 'won';
  if (rejected > conf.voters.length - q) return 'lost';
  return 'pending';
}

/**
 * One server at a time (Raft thesis §4.1): voters change by at most one member, so any two consecutive
 * configurations share a quorum. Adding a learner or promoting one changes voters by one.
 */
export function applyConfChange(conf: ConfState, change: ConfChange): Result<ConfState, ConfChangeReason> {
  if (!validNodeId(change.node)) return fail('conf-bad-node');
  const voters = new Set(conf.voters);
  const learners = new Set(conf.learners);
  const node = change.node;
  if (change.op === 'add-learner') {
    if (voters.has(node) || learners.has(node)) return fail('conf-no-change');
    learners.add(node);
  } else if (change.op === 'add-voter') {
    if (voters.has(node)) return fail('conf-no-change');
    learners.delete(node);
    voters.add(node);
  } else {
    if (!voters.has(node) && !learners.has(node)) return fail('conf-no-change');
    if (voters.has(node) && voters.size === 1) return fail('conf-last-voter');
    voters.delete(node);
    learners.delete(node);
  }
  if (voters.size + learners.size > membersMax) return fail('conf-too-many-members');
  return ok({ voters: sorted(voters), learners: sorted(learners) });
}
