// Raft's safety properties (Figure 3 of the paper), checked by the simulator after every step of every node.
// A violation throws: the simulation stops at the first broken property with what broke and where.
import type { Raft } from '../../src/core/raft/raft.js';
import type { Entry, Message, NodeId, Snapshot } from '../../src/core/raft/types.js';
import { termJumpMax } from '../../src/core/raft/limits.js';

export class Violation extends Error {
  override readonly name = 'Violation';
  constructor(
    readonly property: string,
    detail: string,
  ) {
    super(`${property}: ${detail}`);
  }
}

export function entryHash(entry: Pick<Entry, 'type' | 'data'>): number {
  let h = entry.type === 'conf' ? 0x811c9dc5 ^ 1 : 0x811c9dc5;
  for (const byte of entry.data) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h >>> 0;
}

interface Recorded {
  readonly term: number;
  readonly hash: number;
}

export class Invariants {
  /** Election safety: at most one leader per term. */
  private readonly leaders = new Map<number, NodeId>();
  /** Log matching: every (index, term) ever in a log has one content and one predecessor term. */
  private readonly logged = new Map<string, { hash: number; prevTerm: number }>();
  /** State machine safety: what was applied at each index, by any node. */
  private readonly applied = new Map<number, Recorded>();
  /** The highest index known committed, with its term. */
  committedIndex = 0;
  private committedTerm = 0;
  checks = 0;

  /**
   * Around one input to a node (a message, or a tick when m is null), the rules about terms:
   * - §5.1: a node that sees a later term adopts it (except where PreVote and CheckQuorum's lease say to ignore
   *   it: a (pre-)vote request, or a granted pre-vote answer, which carries the term a pre-candidate would use);
   * - §9.6: becoming a pre-candidate changes neither term nor vote.
   */
  around(raft: Raft, m: Message | null, input: () => void): void {
    const term = raft.term;
    const vote = raft.vote;
    const role = raft.role;
    input();
    if (m !== null && m.term > term && m.term <= term + termJumpMax && raft.term < m.term) {
      const exempt = m.type === 'prevote' || m.type === 'vote' || (m.type === 'prevote-resp' && !m.reject);
      if (!exempt)
        throw new Violation(
          'term adoption',
          `node ${raft.id} (${role}, term ${term}) stepped a ${m.type} of term ${m.term} from ${m.from} and stayed at term ${raft.term}`,
        );
    }
    if (raft.role === 'pre-candidate' && (raft.term !== term || (role !== 'pre-candidate' && raft.vote !== vote))) {
      throw new Violation(
        'prevote',
        `node ${raft.id} became a pre-candidate and moved from term ${term} vote ${vote} to term ${raft.term} vote ${raft.vote}`,
      );
    }
  }

  /** After every input to a node: election safety, leader completeness, commit knowledge. */
  afterStep(raft: Raft): void {
    this.checks++;
    if (raft.role === 'leader') this.checkLeader(raft);
    const committed = raft.log.committed;
    if (committed > this.committedIndex && committed <= raft.log.lastIndex()) {
      const term = raft.log.term(committed);
      if (term !== undefined) {
        this.committedIndex = committed;
        this.committedTerm = term;
      }
    }
  }

  private checkLeader(raft: Raft): void {
    const other = this.leaders.get(raft.term);
    if (other !== undefined && other !== raft.id)
      throw new Violation('election safety', `nodes ${other} and ${raft.id} both lead term ${raft.term}`);
    if (other === undefined) {
      this.leaders.set(raft.term, raft.id);
      this.checkCompleteness(raft);
    }
  }

  /** Leader completeness: a new leader's log holds every committed entry (checking the last one suffices, by log matching). */
  private checkCompleteness(raft: Raft): void {
    const index = this.committedIndex;
    if (index === 0 || index <= raft.log.snapshot.meta.index) return;
    const term = raft.log.term(index);
    if (term !== this.committedTerm) {
      throw new Violation(
        'leader completeness',
        `node ${raft.id} leads term ${raft.term} without committed entry ${index} (term ${this.committedTerm}; it has ${term ?? 'nothing'})`,
      );
    }
  }

  /** Entries a node is about to persist (from its Ready). */
  entriesAppended(raft: Raft, entries: readonly Entry[]): void {
    for (const entry of entries) {
      const prevTerm = raft.log.term(entry.index - 1);
      if (prevTerm === undefined) continue;
      const key = `${entry.index}:${entry.term}`;
      const seen = this.logged.get(key);
      const hash = entryHash(entry);
      if (seen === undefined) this.logged.set(key, { hash, prevTerm });
      else if (seen.hash !== hash || seen.prevTerm !== prevTerm) {
        throw new Violation(
          'log matching',
          `node ${raft.id} has entry ${key} with different ${seen.hash !== hash ? 'content' : 'predecessor'}`,
        );
      }
    }
  }

  /** Entries a node applies to its state machine. */
  entriesApplied(id: NodeId, entries: readonly Entry[]): void {
    for (const entry of entries) this.record(id, entry.index, { term: entry.term, hash: entryHash(entry) });
  }

  snapshotRestored(id: NodeId, snapshot: Snapshot): void {
    const seen = this.applied.get(snapshot.meta.index);
    if (seen !== undefined && seen.term !== snapshot.meta.term) {
      throw new Violation(
        'state machine safety',
        `node ${id} restored a snapshot at ${snapshot.meta.index} term ${snapshot.meta.term}, others applied term ${seen.term}`,
      );
    }
  }

  private record(id: NodeId, index: number, entry: Recorded): void {
    const seen = this.applied.get(index);
    if (seen === undefined) this.applied.set(index, entry);
    else if (seen.term !== entry.term || seen.hash !== entry.hash) {
      throw new Violation(
        'state machine safety',
        `node ${id} applied a different entry at ${index} (term ${entry.term} vs ${seen.term})`,
      );
    }
    if (index > this.committedIndex) {
      this.committedIndex = index;
      this.committedTerm = entry.term;
    }
  }
}
