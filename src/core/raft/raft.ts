// The Raft state machine (Ongaro's thesis; etcd-raft's shape). Pure: the caller feeds ticks (tick), messages
// (step) and requests (propose, readIndex, ...), then takes a Ready (what to persist, send, apply), does it,
// and calls advance. No I/O, no clock, no randomness of its own (election jitter comes from config.random).
import { assertThat, Counters, fail, ok, type Result } from '../result.js';
import {
  applyConfChange,
  encodeConf,
  isMember,
  isVoter,
  quorumIndex,
  tally,
  type ConfChange,
  type ConfChangeReason,
} from './conf.js';
import { validateConfig, type RaftConfig } from './config.js';
import { entryBytesMax, indexMax, pendingReadsMax, snapshotChunksInflightMax, termJumpMax, termMax } from './limits.js';
import { entryBytes, RaftLog } from './log.js';
import { Progress } from './progress.js';
import { ReadOnlyQueue, type PendingRead } from './read-only.js';
import { SnapshotReceiver } from './snapshot-receiver.js';
import {
  emptyConf,
  emptyHardState,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type ReadState,
  type Ready,
  type Role,
  type Snapshot,
  type SoftState,
  type Stored,
} from './types.js';

export type ProposeReason =
  | 'not-leader'
  | 'transfer-in-progress'
  | 'entry-too-large'
  | 'proposal-overload'
  | 'log-full';
export type ConfProposeReason =
  | ProposeReason
  | ConfChangeReason
  | 'conf-pending'
  | 'conf-leader-not-ready'
  | 'conf-remove-leader'
  | 'conf-learner-behind';
export type TransferReason = 'not-leader' | 'transfer-to-self' | 'transfer-not-voter';
export type ReadReason = 'no-leader' | 'read-not-ready' | 'read-overload';

type Campaign = 'pre' | 'real' | 'transfer';

type Without<M, K extends keyof M> = M extends unknown ? Omit<M, K> : never;
type Outgoing = Without<Message, 'from' | 'term'> & { readonly term?: number };

const emptySnapshot: Snapshot = { meta: { index: 0, term: 0, conf: emptyConf }, data: new Uint8Array(0) };

export class Raft {
  readonly id: NodeId;
  readonly log: RaftLog;
  readonly counters = new Counters();
  term = 0;
  vote: NodeId = 0;
  lead: NodeId = 0;
  role: Role = 'follower';

  private readonly config: RaftConfig;
  private readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();
  /** The round being campaigned (pre-candidate, candidate): its requests are re-sent to voters yet to answer. */
  private campaignKind: Campaign | null = null;
  private readonly reads = new ReadOnlyQueue(pendingReadsMax);
  private readonly receiver = new SnapshotReceiver();
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private leadTransferee: NodeId = 0;
  private uncommittedBytes = 0;
  private broadcastPending = false;
  private msgs: Message[] = [];
  private readStates: ReadState[] = [];
  private receivedSnapshot: Snapshot | null = null;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private readyOutstanding = false;

  constructor(config: RaftConfig, stored: Stored | null) {
    const valid = validateConfig(config);
    assertThat(valid.ok, `raft: invalid config (${valid.ok ? '' : valid.reason}); validate it first`);
    this.config = config;
    this.id = config.id;
    const from = stored ?? { hardState: emptyHardState, snapshot: null, entries: [] };
    this.log = new RaftLog(from.snapshot ?? emptySnapshot, from.entries);
    this.prevHard = from.hardState;
    this.term = from.hardState.term;
    this.vote = from.hardState.vote;
    assertThat(
      from.hardState.commit <= this.log.lastIndex(),
      `raft: stored commit ${from.hardState.commit} is past the log end ${this.log.lastIndex()}`,
    );
    this.log.commitTo(from.hardState.commit);
    if (this.isEmpty(from) && config.bootstrap !== null) this.bootstrap(config.bootstrap);
    this.becomeFollower(this.term, 0);
    this.prevSoft = this.softState();
  }

  private isEmpty(stored: Stored): boolean {
    return stored.hardState.term === 0 && stored.snapshot === null && stored.entries.length === 0;
  }

  /** Every founding member starts with the same entry 1 (term 1) holding the initial configuration. */
  private bootstrap(conf: ConfState): void {
    this.log.append([{ term: 1, index: 1, type: 'conf', data: encodeConf(conf) }]);
    this.term = 1;
    this.log.commitTo(1);
  }

  // ---- status

  conf(): ConfState {
    return this.log.conf();
  }

  softState(): SoftState {
    return { lead: this.lead, role: this.role };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  progressOf(id: NodeId): { readonly match: number; readonly next: number; readonly state: string } | undefined {
    return this.progress.get(id);
  }

  get transferee(): NodeId {
    return this.leadTransferee;
  }

  private promotable(): boolean {
    return isVoter(this.log.conf(), this.id);
  }

  // ---- roles

  private reset(term: number): void {
    if (term !== this.term) {
      assertThat(term > this.term, `raft: term goes back from ${this.term} to ${term}`);
      this.term = term;
      this.vote = 0;
    }
    this.lead = 0;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout =
      this.config.electionTicks + Math.floor(this.config.random() * this.config.electionTicks);
    this.leadTransferee = 0;
    this.votes.clear();
    this.campaignKind = null;
    this.progress.clear();
    this.uncommittedBytes = 0;
    this.broadcastPending = false;
    for (const read of this.reads.drain()) this.answerRead(read, null);
  }

  private becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.role = 'follower';
    this.lead = lead;
  }

  private becomePreCandidate(): void {
    assertThat(this.role !== 'leader', 'raft: a leader cannot become a pre-candidate');
    // A pre-vote changes neither term nor vote: a node that cannot win disturbs nobody (§9.6).
    this.votes.clear();
    this.lead = 0;
    this.role = 'pre-candidate';
  }

  private becomeCandidate(): void {
    assertThat(this.role !== 'leader', 'raft: a leader cannot become a candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    assertThat(this.role === 'candidate', 'raft: only a candidate becomes leader');
    assertThat(this.promotable(), 'raft: a leader must be a voter');
    this.reset(this.term);
    this.role = 'leader';
    this.lead = this.id;
    this.syncProgress();
    // Raft §8: a no-op from the new term lets the leader commit (and so learn) everything before it.
    this.appendAsLeader([{ type: 'normal', data: new Uint8Array(0) }]);
    this.counters.add('became-leader');
  }

  /** Keeps one Progress per member other than this node (after election or a configuration change). */
  private syncProgress(): void {
    const conf = this.log.conf();
    for (const id of [...conf.voters, ...conf.learners]) {
      if (id === this.id || this.progress.has(id)) continue;
      const pr = new Progress(this.log.lastIndex() + 1, this.config.inflightMessagesMax);
      pr.recentActive = true;
      this.progress.set(id, pr);
    }
    for (const id of [...this.progress.keys()]) if (!isMember(conf, id)) this.progress.delete(id);
  }

  private campaign(kind: Campaign): void {
    if (!this.promotable()) {
      this.counters.add('campaign-not-voter');
      return;
    }
    // At the top of the term or index range a node stops campaigning rather than overflow (limits.ts).
    if (this.term >= termMax || this.log.lastIndex() >= indexMax) {
      this.counters.add('campaign-range-exhausted');
      return;
    }
    if (kind === 'pre') this.becomePreCandidate();
    else this.becomeCandidate();
    this.votes.set(this.id, true);
    if (this.tallyVotes()) return;
    this.campaignKind = kind;
    this.requestVotes();
  }

  /**
   * Sends this round's (pre-)vote request to every voter that has not answered. At the start of a round, and again
   * every heartbeat while it lasts: on a lossy link one lost request used to cost a whole election timeout (the
   * lab's degraded anchor, issue 17). A repeated request is the same message: a voter answers it as before (its
   * vote for this candidate in this term stands; a pre-vote changes nothing).
   */
  private requestVotes(): void {
    const kind = this.campaignKind;
    if (kind === null) return;
    const type = kind === 'pre' ? 'prevote' : 'vote';
    for (const to of this.log.conf().voters) {
      if (to === this.id || this.votes.has(to)) continue;
      this.send({
        type,
        to,
        term: kind === 'pre' ? this.term + 1 : this.term,
        lastIndex: this.log.lastIndex(),
        lastTerm: this.log.lastTerm(),
        transfer: kind === 'transfer',
      });
    }
  }

  /** Acts on the votes so far; true when the round is decided. */
  private tallyVotes(): boolean {
    const outcome = tally(this.log.conf(), this.votes);
    if (outcome === 'pending') return false;
    if (outcome === 'lost') this.becomeFollower(this.term, 0);
    else if (this.role === 'pre-candidate') this.campaign('real');
    else this.becomeLeader();
    return true;
  }

  // ---- time

  tick(): void {
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.campaignKind !== null && this.electionElapsed % this.config.heartbeatTicks === 0) {
      this.counters.add('vote-request-resent');
      this.requestVotes();
    }
    if (!this.promotable() || this.electionElapsed < this.randomizedElectionTimeout) return;
    this.electionElapsed = 0;
    this.campaign(this.config.preVote ? 'pre' : 'real');
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum && !this.quorumActive()) {
        this.counters.add('leader-lost-quorum');
        this.becomeFollower(this.term, 0);
        return;
      }
      if (this.leadTransferee !== 0) {
        this.counters.add('transfer-aborted');
        this.leadTransferee = 0;
      }
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat(this.reads.latestCtx);
      // A transfer is asked for because links are bad: one lost TimeoutNow must not leave it waiting for the
      // whole election timeout. Re-sent every heartbeat while the target is caught up (a stale one is harmless:
      // it carries this term, which the target has left once it campaigned).
      const pr = this.leadTransferee === 0 ? undefined : this.progress.get(this.leadTransferee);
      if (pr !== undefined && pr.match === this.log.lastIndex()) {
        this.counters.add('transfer-timeout-now-resent');
        this.send({ type: 'timeout-now', to: this.leadTransferee });
      } else if (pr !== undefined && pr.state !== 'snapshot') {
        // A target not yet caught up gets what it lacks again every heartbeat, from its last acknowledged entry:
        // over a lossy link the usual repair waits for two heartbeat answers, which rarely come back (the lab's
        // degraded anchor never sent its TimeoutNow). An append sent twice is harmless: the follower keeps one.
        this.counters.add('transfer-append-resent');
        pr.becomeProbe();
        this.sendAppend(this.leadTransferee, pr, true);
      }
    }
  }

  /** CheckQuorum: did a quorum of voters (counting us) answer since the last round? Resets the marks. */
  private quorumActive(): boolean {
    const active = new Map<NodeId, boolean>([[this.id, true]]);
    for (const [id, pr] of this.progress) {
      if (pr.recentActive) active.set(id, true);
      pr.recentActive = false;
    }
    return tally(this.log.conf(), active) === 'won' || this.log.conf().voters.length === 1;
  }

  // ---- messages in

  step(m: Message): void {
    if (m.to !== this.id) {
      this.counters.add('msg-wrong-recipient');
      return;
    }
    if (m.term > this.term + termJumpMax) {
      // Only a forged or corrupted message jumps this far; adopting it would make its term durable (limits.ts).
      this.counters.add('msg-term-jump');
      return;
    }
    if (m.term > this.term && !this.stepHigherTerm(m)) return;
    if (m.term < this.term) {
      this.stepLowerTerm(m);
      return;
    }
    if (m.type === 'prevote' || m.type === 'vote') {
      this.handleVoteRequest(m);
      return;
    }
    if (this.role === 'leader') this.stepLeader(m);
    else if (this.role === 'follower') this.stepFollower(m);
    else this.stepCandidate(m);
  }

  /** A message from a later term. Returns false when it is to be ignored. */
  private stepHigherTerm(m: Message): boolean {
    if (m.type === 'prevote' || m.type === 'vote') {
      const inLease = this.config.checkQuorum && this.lead !== 0 && this.electionElapsed < this.config.electionTicks;
      // CheckQuorum's lease: while we hear from a live leader, nobody else's election disturbs us.
      if (inLease && !(m.type === 'vote' && m.transfer)) {
        this.counters.add('vote-ignored-in-lease');
        return false;
      }
    }
    if (m.type === 'prevote') return true; // a pre-vote never changes our term
    if (m.type === 'prevote-resp' && !m.reject) return true; // granted pre-votes carry the future term
    const fromLeader = m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap';
    this.becomeFollower(m.term, fromLeader ? m.from : 0);
    return true;
  }

  private stepLowerTerm(m: Message): void {
    this.counters.add('msg-stale-term');
    if ((this.config.checkQuorum || this.config.preVote) && (m.type === 'heartbeat' || m.type === 'app')) {
      // A leader cut off by a partition: our answer carries our term, so it steps down.
      this.send({ type: 'app-resp', to: m.from, index: 0, reject: false, hintIndex: 0, hintTerm: 0 });
    } else if (m.type === 'prevote') {
      this.send({ type: 'prevote-resp', to: m.from, reject: true });
    }
  }

  private handleVoteRequest(m: Extract<Message, { type: 'prevote' | 'vote' }>): void {
    const canVote =
      this.vote === m.from || (this.vote === 0 && this.lead === 0) || (m.type === 'prevote' && m.term > this.term);
    const upToDate = this.config.unsafe?.skipVoteLogCheck === true || this.log.isUpToDate(m.lastIndex, m.lastTerm);
    const type = m.type === 'prevote' ? 'prevote-resp' : 'vote-resp';
    if (!(canVote && upToDate)) {
      this.send({ type, to: m.from, reject: true });
      return;
    }
    this.send({ type, to: m.from, term: m.term, reject: false });
    if (m.type === 'vote') {
      this.electionElapsed = 0;
      this.vote = m.from;
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'app':
      case 'heartbeat':
      case 'snap':
        this.becomeFollower(this.term, m.from);
        this.stepFollower(m);
        return;
      case 'prevote-resp':
      case 'vote-resp':
        if ((m.type === 'prevote-resp') !== (this.role === 'pre-candidate')) return;
        this.votes.set(m.from, !m.reject);
        this.tallyVotes();
        return;
      default:
        this.counters.add(`msg-ignored-${m.type}`);
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'app':
        this.heardFromLeader(m.from);
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.heardFromLeader(m.from);
        this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
        this.send({ type: 'heartbeat-resp', to: m.from, ctx: m.ctx });
        return;
      case 'snap':
        this.heardFromLeader(m.from);
        this.handleSnapshotChunk(m);
        return;
      case 'timeout-now':
        this.counters.add('transfer-timeout-now');
        this.campaign('transfer');
        return;
      case 'read-index-resp':
        this.readStates.push({ id: m.id, index: m.reject ? null : m.index });
        return;
      case 'read-index':
        this.send({ type: 'read-index-resp', to: m.from, id: m.id, index: 0, reject: true });
        return;
      default:
        this.counters.add(`msg-ignored-${m.type}`);
    }
  }

  private heardFromLeader(from: NodeId): void {
    this.electionElapsed = 0;
    this.lead = from;
  }

  private handleAppend(m: Extract<Message, { type: 'app' }>): void {
    if (m.prevIndex < this.log.committed) {
      this.send({ type: 'app-resp', to: m.from, index: this.log.committed, reject: false, hintIndex: 0, hintTerm: 0 });
      return;
    }
    const lastNew = this.log.maybeAppend(m.prevIndex, m.prevTerm, m.commit, m.entries);
    if (lastNew !== null) {
      this.send({ type: 'app-resp', to: m.from, index: lastNew, reject: false, hintIndex: 0, hintTerm: 0 });
      return;
    }
    // Hint the last index whose term is <= prevTerm: the leader skips a whole conflicting term at once.
    const hintIndex = this.log.findConflictByTerm(Math.min(m.prevIndex, this.log.lastIndex()), m.prevTerm);
    this.counters.add('append-rejected');
    this.send({
      type: 'app-resp',
      to: m.from,
      index: m.prevIndex,
      reject: true,
      hintIndex,
      hintTerm: this.log.term(hintIndex) ?? 0,
    });
  }

  private handleSnapshotChunk(m: Extract<Message, { type: 'snap' }>): void {
    const meta = m.meta;
    const done = (): void =>
      this.send({ type: 'snap-resp', to: m.from, index: meta.index, offset: m.total, reject: false });
    if (meta.index <= this.log.committed) return done();
    if (this.log.matchTerm(meta.index, meta.term)) {
      // We already hold its last entry: no need to restore, just learn the commit (etcd-raft does the same).
      this.log.commitTo(meta.index);
      return done();
    }
    const outcome = this.receiver.accept(meta, m.offset, m.total, m.chunk);
    if (outcome.kind === 'reject') {
      this.counters.add(outcome.reason);
      this.send({ type: 'snap-resp', to: m.from, index: meta.index, offset: 0, reject: true });
    } else if (outcome.kind === 'need') {
      this.send({ type: 'snap-resp', to: m.from, index: meta.index, offset: outcome.offset, reject: false });
    } else {
      this.log.restore(outcome.snapshot);
      this.receivedSnapshot = outcome.snapshot;
      this.counters.add('snapshot-installed');
      done();
    }
  }

  // ---- leader

  private stepLeader(m: Message): void {
    const pr = this.progress.get(m.from);
    if (m.type === 'read-index') {
      this.handleRead(m.id, m.from);
      return;
    }
    if (pr === undefined) {
      this.counters.add('msg-from-non-member');
      return;
    }
    pr.recentActive = true;
    if (m.type === 'app-resp') this.handleAppendResponse(m, pr);
    else if (m.type === 'heartbeat-resp') this.handleHeartbeatResponse(m, pr);
    else if (m.type === 'snap-resp') this.handleSnapshotResponse(m, pr);
    else this.counters.add(`msg-ignored-${m.type}`);
  }

  private handleAppendResponse(m: Extract<Message, { type: 'app-resp' }>, pr: Progress): void {
    if (m.index > this.log.lastIndex()) {
      // Nobody can hold (or reject) entries past our log in our term: a forged or corrupted answer.
      this.counters.add('msg-index-past-log');
      return;
    }
    if (m.reject) {
      const probe = m.hintTerm > 0 ? this.log.findConflictByTerm(m.hintIndex, m.hintTerm) : m.hintIndex;
      if (!pr.maybeDecrTo(m.index, probe)) return;
      if (pr.state === 'replicate') pr.becomeProbe();
      this.sendAppend(m.from, pr, false);
      return;
    }
    const wasProbe = pr.state === 'probe';
    if (!pr.maybeUpdate(m.index) && !(wasProbe && pr.match === m.index)) return;
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match >= pr.snapshotIndex) pr.becomeProbe();
    if (this.maybeCommit()) this.broadcastPending = true;
    else this.sendAppendLoop(m.from, pr);
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex())
      this.send({ type: 'timeout-now', to: m.from });
  }

  private handleHeartbeatResponse(m: Extract<Message, { type: 'heartbeat-resp' }>, pr: Progress): void {
    pr.probeSent = false;
    if (pr.heartbeatAnswered()) this.counters.add('replication-stalled');
    if (pr.state === 'snapshot') {
      pr.snapshotSent = pr.snapshotAcked;
      this.sendSnapshotChunks(m.from, pr);
    } else if (pr.match < this.log.lastIndex()) {
      this.sendAppend(m.from, pr, false);
    }
    if (m.ctx > this.reads.issuedCtx)
      this.counters.add('msg-ctx-unknown'); // confirms no round we started
    else if (m.ctx > 0)
      for (const read of this.reads.ack(m.from, m.ctx, this.log.conf())) this.answerRead(read, read.index);
  }

  private handleSnapshotResponse(m: Extract<Message, { type: 'snap-resp' }>, pr: Progress): void {
    if (pr.state !== 'snapshot' || m.index !== pr.snapshotIndex) return;
    if (m.reject) {
      this.counters.add('snapshot-rejected');
      pr.snapshotIndex = 0;
      pr.becomeProbe();
      return;
    }
    if (m.offset >= this.log.snapshot.data.length) {
      pr.maybeUpdate(pr.snapshotIndex);
      pr.becomeProbe();
      this.sendAppend(m.from, pr, true);
      return;
    }
    if (m.offset > pr.snapshotAcked) pr.snapshotAcked = m.offset;
    this.sendSnapshotChunks(m.from, pr);
  }

  private maybeCommit(): boolean {
    const conf = this.log.conf();
    const index = quorumIndex(conf, (id) => (id === this.id ? this.log.stable : (this.progress.get(id)?.match ?? 0)));
    if (index <= this.log.committed) return false;
    // Raft §5.4.2: count replicas only for entries of the current term (earlier ones commit with them).
    if (this.log.term(index) !== this.term && this.config.unsafe?.commitPreviousTerm !== true) return false;
    for (let i = this.log.committed + 1; i <= index; i++) {
      const entry = this.log.entry(i) as Entry;
      if (entry.term === this.term) this.uncommittedBytes = Math.max(0, this.uncommittedBytes - entryBytes(entry));
    }
    this.log.commitTo(index);
    return true;
  }

  private broadcastHeartbeat(ctx: number): void {
    for (const [to, pr] of this.progress) {
      this.send({ type: 'heartbeat', to, commit: Math.min(pr.match, this.log.committed), ctx });
    }
  }

  private broadcastAppend(): void {
    for (const [to, pr] of this.progress) {
      this.sendAppend(to, pr, true);
      this.sendAppendLoop(to, pr);
    }
  }

  private sendAppendLoop(to: NodeId, pr: Progress): void {
    for (let i = 0; i < pr.inflightMax && this.sendAppend(to, pr, false); i++);
  }

  /** Sends the next batch of entries (or, with allowEmpty, just the commit index). True when entries went out. */
  private sendAppend(to: NodeId, pr: Progress, allowEmpty: boolean): boolean {
    if (!pr.canSend()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm === undefined || prevIndex < this.log.snapshot.meta.index) {
      this.startSnapshot(to, pr);
      return false;
    }
    const last = this.log.lastIndex();
    const entries =
      pr.next <= last
        ? this.log.slice(pr.next, last + 1, this.config.appendBytesMax, this.config.appendEntriesMax)
        : [];
    if (entries.length === 0 && !allowEmpty && pr.state === 'replicate') return false;
    this.send({ type: 'app', to, prevIndex, prevTerm, entries, commit: this.log.committed });
    const lastSent = entries[entries.length - 1];
    if (lastSent !== undefined) pr.sentEntries(lastSent.index);
    else if (pr.state === 'probe') pr.probeSent = true;
    return lastSent !== undefined;
  }

  private startSnapshot(to: NodeId, pr: Progress): void {
    assertThat(this.log.snapshot.meta.index > 0, 'raft: a compacted log must have a snapshot');
    this.counters.add('snapshot-sent');
    pr.becomeSnapshot(this.log.snapshot.meta.index);
    this.sendSnapshotChunks(to, pr);
  }

  /** Chunked InstallSnapshot with at most snapshotChunksInflightMax chunks unconfirmed. */
  private sendSnapshotChunks(to: NodeId, pr: Progress): void {
    const snapshot = this.log.snapshot;
    if (pr.snapshotIndex !== snapshot.meta.index) pr.becomeSnapshot(snapshot.meta.index); // compacted again meanwhile
    const total = snapshot.data.length;
    const chunkBytes = this.config.snapshotChunkBytes;
    while (pr.snapshotSent < total && pr.snapshotSent - pr.snapshotAcked < chunkBytes * snapshotChunksInflightMax) {
      const chunk = snapshot.data.subarray(pr.snapshotSent, Math.min(total, pr.snapshotSent + chunkBytes));
      this.send({ type: 'snap', to, meta: snapshot.meta, offset: pr.snapshotSent, total, chunk });
      pr.snapshotSent += chunk.length;
    }
  }

  private appendAsLeader(items: readonly { type: Entry['type']; data: Uint8Array }[]): number {
    let index = this.log.lastIndex();
    const entries = items.map((item) => ({ term: this.term, index: ++index, type: item.type, data: item.data }));
    this.log.append(entries);
    for (const entry of entries) this.uncommittedBytes += entryBytes(entry);
    this.broadcastPending = true;
    return index;
  }

  // ---- requests

  /** Appends a command (leader only). Returns the index it will commit at, if it commits. */
  propose(data: Uint8Array): Result<number, ProposeReason> {
    const refused = this.refuseProposal(data.length);
    if (refused !== null) return fail(refused);
    return ok(this.appendAsLeader([{ type: 'normal', data }]));
  }

  private refuseProposal(bytes: number): ProposeReason | null {
    let reason: ProposeReason | null = null;
    if (this.role !== 'leader') reason = 'not-leader';
    else if (this.leadTransferee !== 0) reason = 'transfer-in-progress';
    else if (bytes > entryBytesMax) reason = 'entry-too-large';
    else if (this.log.lastIndex() >= indexMax) reason = 'log-full';
    else if (this.uncommittedBytes + bytes > this.config.uncommittedBytesMax) reason = 'proposal-overload';
    if (reason !== null) this.counters.add(`propose-${reason}`);
    return reason;
  }

  /**
   * A single-server membership change. Safe because: one change at a time (none pending uncommitted), and only
   * once this leader has committed an entry of its own term (the fix to the single-server bug, thesis errata).
   */
  proposeConfChange(change: ConfChange): Result<number, ConfProposeReason> {
    const refused = this.refuseProposal(0);
    if (refused !== null) return fail(refused);
    if (this.log.lastConfIndex() > this.log.committed) return fail('conf-pending');
    if (this.log.term(this.log.committed) !== this.term) return fail('conf-leader-not-ready');
    if (change.op === 'remove' && change.node === this.id) return fail('conf-remove-leader');
    const conf = this.log.conf();
    // Promote a learner only once it has caught up, so the new quorum can still commit.
    if (
      change.op === 'add-voter' &&
      conf.learners.includes(change.node) &&
      (this.progress.get(change.node)?.match ?? 0) < this.log.committed
    )
      return fail('conf-learner-behind');
    const next = applyConfChange(conf, change);
    if (!next.ok) return next;
    const index = this.appendAsLeader([{ type: 'conf', data: encodeConf(next.value) }]);
    this.syncProgress();
    this.counters.add(`conf-${change.op}`);
    return ok(index);
  }

  transferLeadership(target: NodeId): Result<void, TransferReason> {
    if (this.role !== 'leader') return fail('not-leader');
    if (target === this.id) return fail('transfer-to-self');
    const pr = this.progress.get(target);
    if (pr === undefined || !isVoter(this.log.conf(), target)) return fail('transfer-not-voter');
    if (this.leadTransferee === target) return ok(undefined);
    this.leadTransferee = target;
    this.electionElapsed = 0;
    if (pr.match === this.log.lastIndex()) this.send({ type: 'timeout-now', to: target });
    else this.sendAppend(target, pr, true);
    return ok(undefined);
  }

  /** Starts an election now (operators, tests); ignored unless this node is a voter and not leader. */
  campaignNow(): void {
    if (this.role !== 'leader') this.campaign(this.config.preVote ? 'pre' : 'real');
  }

  /**
   * Linearizable read (ReadIndex): the answer arrives as a ReadState with this id; reading the state machine
   * once applied >= its index is linearizable. On a follower the request goes to the leader.
   */
  readIndex(id: number): Result<void, ReadReason> {
    if (this.role === 'leader') {
      const refused = this.handleRead(id, this.id);
      return refused === null ? ok(undefined) : fail(refused);
    }
    if (this.lead === 0) return fail('no-leader');
    this.send({ type: 'read-index', to: this.lead, id });
    return ok(undefined);
  }

  private handleRead(id: number, from: NodeId): ReadReason | null {
    // Until the leader commits in its term it does not know the latest commit index (thesis §6.4 step 1).
    if (this.log.term(this.log.committed) !== this.term) return this.refuseRead(id, from, 'read-not-ready');
    const index = this.log.committed;
    // Reads always confirm leadership with a heartbeat round (lease reads were removed: docs/protocol/raft.md).
    if (this.log.conf().voters.length === 1) {
      this.answerRead({ id, from, index, ctx: 0, acks: new Set() }, index);
      return null;
    }
    const ctx = this.reads.add(id, from, index, this.id);
    if (ctx === null) return this.refuseRead(id, from, 'read-overload');
    this.broadcastHeartbeat(ctx);
    return null;
  }

  private refuseRead(id: number, from: NodeId, reason: ReadReason): ReadReason {
    this.counters.add(reason);
    if (from !== this.id) this.send({ type: 'read-index-resp', to: from, id, index: 0, reject: true });
    return reason;
  }

  private answerRead(read: PendingRead, index: number | null): void {
    if (read.from === this.id) this.readStates.push({ id: read.id, index });
    else this.send({ type: 'read-index-resp', to: read.from, id: read.id, index: index ?? 0, reject: index === null });
  }

  // ---- snapshots of the state machine

  /** Replaces the log up to index (applied) with a snapshot of the state machine taken at index. */
  compact(index: number, data: Uint8Array): Snapshot | null {
    assertThat(index <= this.log.applied, `compact: ${index} is not applied (${this.log.applied})`);
    assertThat(data.length > 0, 'compact: empty snapshot data');
    if (index <= this.log.snapshot.meta.index) return null;
    const snapshot: Snapshot = {
      meta: { index, term: this.log.term(index) as number, conf: this.log.confAt(index) },
      data,
    };
    this.log.compactTo(snapshot);
    return snapshot;
  }

  // ---- Ready / advance

  private send(m: Outgoing): void {
    const out = m as unknown as { from: NodeId; term: number };
    out.from = this.id;
    if (m.term === undefined) out.term = this.term;
    this.msgs.push(out as unknown as Message);
  }

  private flush(): void {
    if (!this.broadcastPending) return;
    this.broadcastPending = false;
    if (this.role === 'leader') {
      this.maybeCommit();
      this.broadcastAppend();
    }
  }

  hasReady(): boolean {
    this.flush();
    const soft = this.softState();
    const hard = this.hardState();
    return (
      soft.lead !== this.prevSoft.lead ||
      soft.role !== this.prevSoft.role ||
      !sameHard(hard, this.prevHard) ||
      this.log.stable < this.log.lastIndex() ||
      this.receivedSnapshot !== null ||
      this.msgs.length > 0 ||
      this.readStates.length > 0 ||
      Math.min(this.log.committed, this.log.stable) > this.log.applied
    );
  }

  ready(): Ready {
    assertThat(!this.readyOutstanding, 'raft: ready() again before advance()');
    this.flush();
    const soft = this.softState();
    const hard = this.hardState();
    const rd: Ready = {
      softState: soft.lead !== this.prevSoft.lead || soft.role !== this.prevSoft.role ? soft : null,
      hardState: sameHard(hard, this.prevHard) ? null : hard,
      entries: this.log.unstableEntries(),
      snapshot: this.receivedSnapshot,
      committedEntries: this.log.nextCommitted(this.config.applyBytesMax),
      messages: this.msgs,
      readStates: this.readStates,
    };
    this.prevSoft = soft;
    this.prevHard = hard;
    this.msgs = [];
    this.readStates = [];
    this.receivedSnapshot = null;
    this.readyOutstanding = true;
    return rd;
  }

  /** The caller persisted, sent and applied what rd held. */
  advance(rd: Ready): void {
    assertThat(this.readyOutstanding, 'raft: advance() without ready()');
    this.readyOutstanding = false;
    const last = rd.entries[rd.entries.length - 1];
    if (last !== undefined) this.log.stableTo(last.index, last.term);
    const applied = rd.committedEntries[rd.committedEntries.length - 1];
    // A snapshot installed while this Ready was out already moved applied past it (sim seed 301, snapshot mix).
    if (applied !== undefined && applied.index > this.log.applied) this.log.appliedTo(applied.index);
    // Our own entries count toward commit only once persisted; that may commit now.
    if (this.role === 'leader' && this.maybeCommit()) this.broadcastPending = true;
  }
}

function sameHard(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
