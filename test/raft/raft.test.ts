// Unit tests of the pure Raft core, one per feature, on a scripted network (engine-neutral, kept small: they
// also run inside x0-runtime).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeConf } from '../../src/core/raft/conf.js';
import { defaultConfig, validateConfig, type RaftConfig } from '../../src/core/raft/config.js';
import { Raft } from '../../src/core/raft/raft.js';
import type { Entry, Message, Stored } from '../../src/core/raft/types.js';
import { bytes, TestNet } from './net.js';

const conf3 = encodeConf({ voters: [1, 2, 3], learners: [] });
const confEntry: Entry = { term: 1, index: 1, type: 'conf', data: conf3 };
const entries = (from: number, to: number, term: number): Entry[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    term,
    index: from + i,
    type: 'normal' as const,
    data: bytes(`e${from + i}t${term}`),
  }));
const stored = (term: number, log: Entry[]): Stored => ({
  hardState: { term, vote: 0, commit: 1 },
  snapshot: null,
  entries: [confEntry, ...log],
});

test('a single voter elects itself and commits its proposals', () => {
  const net = new TestNet([1]);
  const leader = net.elect();
  assert.is(leader.id, 1);
  assert.ok(leader.propose(bytes('x')).ok);
  net.deliver();
  const applied = net.nodes.get(1)?.applied ?? [];
  assert.equal(applied[applied.length - 1]?.data, bytes('x'));
});

test('three voters elect one leader and replicate a proposal to all', () => {
  const net = new TestNet([1, 2, 3]);
  const leader = net.elect();
  assert.is([...net.nodes.values()].filter((n) => n.raft.role === 'leader').length, 1);
  const index = leader.propose(bytes('hello'));
  assert.ok(index.ok);
  net.tick(2);
  for (const node of net.nodes.values()) {
    assert.ok(
      node.applied.some((e) => e.index === (index.ok ? index.value : -1)),
      `node ${node.raft.id} applied it`,
    );
  }
});

test('PreVote: a partitioned voter rejoining neither raises terms nor deposes the leader', () => {
  const net = new TestNet([1, 2, 3]);
  const leader = net.elect();
  const term = leader.term;
  const outsider = [1, 2, 3].find((id) => id !== leader.id) as number;
  net.isolate(outsider);
  net.tick(60);
  assert.is(net.node(outsider).term, term, 'pre-votes never win, so the term stays');
  assert.ok(net.node(outsider).counters.get('campaign-not-voter') === 0);
  net.heal();
  net.tick(5);
  assert.is(net.leader()?.id, leader.id);
  assert.is(net.leader()?.term, term);
});

test('CheckQuorum: a leader that hears from no quorum steps down', () => {
  const net = new TestNet([1, 2, 3]);
  const leader = net.elect();
  net.isolate(leader.id);
  // Within two election timeouts: the first check may still count answers from before the cut.
  net.tick(21, [leader.id]);
  assert.is(leader.role, 'follower');
  assert.is(leader.counters.get('leader-lost-quorum'), 1);
});

test('a voter refuses a candidate whose log is behind its own (§5.4.1) unless the unsafe hook is on', () => {
  for (const unsafe of [false, true]) {
    const tweak = (c: RaftConfig): RaftConfig => ({ ...c, ...(unsafe ? { unsafe: { skipVoteLogCheck: true } } : {}) });
    const voter = new Raft(tweak(defaultConfig(1, () => 0.5, null)), stored(2, entries(2, 5, 2)));
    voter.step({ type: 'vote', term: 3, from: 2, to: 1, lastIndex: 3, lastTerm: 2, transfer: false });
    const reply = voter.ready().messages.find((m) => m.type === 'vote-resp') as Extract<
      Message,
      { type: 'prevote-resp' | 'vote-resp' }
    >;
    assert.is(reply.reject, !unsafe);
  }
});

function figure8(unsafe: boolean): Raft {
  // Node 1 holds an entry of term 2 that nobody else has; it wins term 3 and appends its no-op at index 3.
  const tweak = (c: RaftConfig): RaftConfig => ({
    ...c,
    appendEntriesMax: 1,
    ...(unsafe ? { unsafe: { commitPreviousTerm: true } } : {}),
  });
  const net = new TestNet([], tweak);
  const one = net.add(1, null, tweak, {
    hardState: { term: 2, vote: 0, commit: 1 },
    snapshot: null,
    entries: [confEntry, ...entries(2, 2, 2)],
  });
  net.add(2, null, tweak, stored(2, []));
  net.add(3, null, tweak, stored(2, []));
  // Entry 2 (term 2) reaches the others; the no-op of term 3 never does (once it could be accepted).
  net.drop = (m) => m.type === 'app' && m.entries.some((e) => e.index === 3) && net.node(m.to).log.lastIndex() >= 2;
  one.raft.campaignNow();
  net.deliver();
  assert.is(one.raft.role, 'leader');
  net.tick(3);
  return one.raft;
}

test('a leader commits by counting replicas only for entries of its own term (§5.4.2)', () => {
  const safe = figure8(false);
  assert.is(safe.progressOf(2)?.match, 2, 'a majority holds entry 2');
  assert.is(safe.log.committed, 1, 'but it is of an earlier term, so it is not committed by counting');
  const unsafe = figure8(true);
  assert.is(unsafe.log.committed, 2, 'the unsafe hook commits it (what Figure 8 shows to be wrong)');
});

test('fast backtracking repairs a long divergent follower log in a few round trips', () => {
  const net = new TestNet([]);
  net.add(1, null, undefined, stored(3, entries(2, 51, 3)));
  net.add(2, null, undefined, stored(3, entries(2, 51, 3)));
  net.add(3, null, undefined, stored(2, entries(2, 151, 2)));
  net.node(1).campaignNow();
  net.deliver();
  net.tick(2);
  const leader = net.node(1);
  assert.is(leader.role, 'leader');
  const rejections = net.sent.filter((m) => m.type === 'app-resp' && m.from === 3 && m.reject).length;
  assert.ok(rejections <= 3, `${rejections} rejections`);
  assert.is(net.node(3).log.lastIndex(), leader.log.lastIndex());
  assert.is(net.node(3).log.term(51), 3);
});

test('the in-flight window bounds appends to a follower that does not answer', () => {
  const net = new TestNet([1, 2, 3], (c) => ({ ...c, inflightMessagesMax: 4, appendEntriesMax: 1 }));
  const leader = net.elect();
  const silent = [1, 2, 3].find((id) => id !== leader.id) as number;
  net.drop = (m) => m.from === silent;
  const before = net.sent.length;
  for (let i = 0; i < 20; i++) {
    assert.ok(leader.propose(bytes(`p${i}`)).ok);
    net.deliver();
  }
  const appends = net.sent
    .slice(before)
    .filter((m) => m.type === 'app' && m.to === silent && m.entries.length > 0).length;
  assert.ok(appends <= 4, `${appends} appends in flight`);
});

test('a lost append with nothing after it is resent after two heartbeats (found by the simulator, lossy seed 1)', () => {
  const net = new TestNet([1, 2, 3]);
  const leader = net.elect();
  net.tick(2);
  const follower = [1, 2, 3].find((id) => id !== leader.id) as number;
  // A burst of loss towards the follower swallows the append and the commit that followed it.
  net.drop = (m) => m.to === follower;
  const index = leader.propose(bytes('lonely'));
  net.deliver();
  net.heal();
  assert.ok(net.node(follower).log.lastIndex() < (index.ok ? index.value : 0));
  net.tick(3);
  assert.is(net.node(follower).log.lastIndex(), index.ok ? index.value : -1);
  assert.is(leader.counters.get('replication-stalled'), 1);
});

test('a follower behind a compacted log receives a chunked snapshot and catches up', () => {
  const net = new TestNet([1, 2, 3], (c) => ({ ...c, snapshotChunkBytes: 4096 }));
  const leader = net.elect();
  const lagging = [1, 2, 3].find((id) => id !== leader.id) as number;
  net.isolate(lagging);
  for (let i = 0; i < 30; i++) leader.propose(bytes(`w${i}`));
  net.tick(2);
  const image = new Uint8Array(10_000).map((_, i) => i & 0xff);
  const snapshot = leader.compact(leader.log.applied, image);
  assert.ok(snapshot !== null);
  net.heal();
  net.tick(4);
  const follower = net.node(lagging);
  assert.is(follower.counters.get('snapshot-installed'), 1);
  assert.equal(follower.log.snapshot.data, image);
  assert.ok(net.sent.filter((m) => m.type === 'snap' && m.to === lagging).length >= 3, 'sent in chunks');
  assert.is(follower.log.committed, leader.log.committed);
});

test('a learner gets the log, never votes or campaigns, and is promoted once caught up', () => {
  const net = new TestNet([1, 2, 3], undefined, [4]);
  const leader = net.elect();
  leader.propose(bytes('x'));
  net.tick(2);
  const learner = net.node(4);
  assert.is(learner.log.committed, leader.log.committed);
  assert.ok(!net.sent.some((m) => (m.type === 'prevote' || m.type === 'vote') && m.from === 4));
  net.isolate(4);
  net.tick(40, [4]);
  assert.is(learner.role, 'follower');
  assert.is(learner.counters.get('campaign-not-voter'), 0, 'a learner does not even try');
  net.heal();
  net.tick(2);
  const promoted = leader.proposeConfChange({ op: 'add-voter', node: 4 });
  assert.ok(promoted.ok);
  assert.equal(leader.proposeConfChange({ op: 'remove', node: 2 }), { ok: false, reason: 'conf-pending' });
  net.tick(2);
  assert.equal(learner.conf().voters, [1, 2, 3, 4]);
  assert.equal(leader.proposeConfChange({ op: 'remove', node: leader.id }), {
    ok: false,
    reason: 'conf-remove-leader',
  });
});

test('leadership transfer hands over to an up-to-date voter; proposals wait meanwhile', () => {
  const net = new TestNet([1, 2, 3]);
  const leader = net.elect();
  const target = [1, 2, 3].find((id) => id !== leader.id) as number;
  assert.ok(leader.transferLeadership(target).ok);
  assert.equal(leader.propose(bytes('during')), { ok: false, reason: 'transfer-in-progress' });
  net.deliver();
  assert.is(net.leader()?.id, target);
  assert.is(net.node(target).term, leader.term);
  assert.is(leader.role, 'follower');
});

test('a leadership transfer whose TimeoutNow is lost is retried at the next heartbeat, not after an election timeout', () => {
  const net = new TestNet([1, 2, 3]);
  const leader = net.elect();
  net.tick(2);
  const target = [1, 2, 3].find((id) => id !== leader.id) as number;
  let lost = 0;
  net.drop = (m) => m.type === 'timeout-now' && lost++ < 2;
  assert.ok(leader.transferLeadership(target).ok);
  net.deliver();
  assert.is(lost, 1, 'the first TimeoutNow was lost');
  assert.is(leader.role, 'leader');
  net.tick(5);
  assert.is(net.leader()?.id, target, 'moved within a few heartbeats (the election timeout is 10+ ticks)');
  assert.ok((leader.counters.get('transfer-timeout-now-resent') ?? 0) >= 2);
});

test('a transfer target that lags behind a lossy link gets the missing entries again every heartbeat', () => {
  const net = new TestNet([1, 2, 3]);
  const leader = net.elect();
  net.tick(2);
  const target = [1, 2, 3].find((id) => id !== leader.id) as number;
  // The target misses an entry, and none of its heartbeat answers come back (the usual repair waits for two).
  net.drop = (m) => (m.type === 'app' && m.to === target) || (m.type === 'heartbeat-resp' && m.from === target);
  assert.ok(leader.propose(bytes('missed')).ok);
  net.deliver();
  assert.ok(leader.transferLeadership(target).ok);
  net.deliver();
  assert.is(leader.role, 'leader', 'nothing reached the target yet');
  // The link lets appends through again, heartbeat answers still lost.
  net.drop = (m) => m.type === 'heartbeat-resp' && m.from === target;
  net.tick(1);
  net.deliver();
  net.tick(1);
  net.deliver();
  assert.ok((leader.counters.get('transfer-append-resent') ?? 0) >= 1);
  assert.is(net.leader()?.id, target, 'caught up and moved within two heartbeats (the election timeout is 10+)');
});

test('a candidate whose vote requests are lost sends them again each heartbeat, not after an election timeout', () => {
  const net = new TestNet([1, 2, 3]);
  const leader = net.elect();
  net.tick(2);
  const target = [1, 2, 3].find((id) => id !== leader.id) as number;
  // The transfer's campaign (a real vote, as after TimeoutNow): both requests of its first round are lost.
  let lost = 0;
  net.drop = (m) => m.type === 'vote' && lost < 2 && ++lost > 0;
  const term = leader.term;
  assert.ok(leader.transferLeadership(target).ok);
  net.deliver();
  assert.is(lost, 2, 'both vote requests of the first round were lost');
  const candidate = net.node(target);
  assert.is(candidate.role, 'candidate', 'still campaigning');
  net.tick(1, [target]);
  net.deliver();
  assert.is(candidate.counters.get('vote-request-resent'), 1, 'the requests went out again at the next tick');
  assert.is(net.leader()?.id, target, 'the transfer completed a tick later (the election timeout is 10+ ticks)');
  assert.is(candidate.term, term + 1);
  net.tick(5);
  net.deliver();
  assert.is(candidate.counters.get('vote-request-resent'), 1, 'a leader requests no more votes');
});

test('ReadIndex: answered after a heartbeat quorum, forwarded from followers, refused by a deposed leader', () => {
  const net = new TestNet([1, 2, 3]);
  const leader = net.elect();
  net.tick(2);
  const follower = [1, 2, 3].find((id) => id !== leader.id) as number;
  assert.ok(leader.readIndex(7).ok);
  assert.ok(net.node(follower).readIndex(8).ok);
  net.flush();
  assert.is(net.nodes.get(leader.id)?.reads.length, 0, 'not before the heartbeat round');
  net.deliver();
  assert.equal(net.nodes.get(leader.id)?.reads, [{ id: 7, index: leader.log.committed }]);
  assert.equal(net.nodes.get(follower)?.reads, [{ id: 8, index: leader.log.committed }]);
  net.isolate(leader.id);
  assert.ok(leader.readIndex(9).ok);
  net.tick(21, [leader.id]);
  assert.is(leader.role, 'follower');
  assert.equal(net.nodes.get(leader.id)?.reads.slice(1), [{ id: 9, index: null }], 'refused, never answered');
});

test('a leader cut off from the quorum answers no read once another leader has written, even if configured for lease reads', () => {
  // Lease reads (readMode 'lease') were removed: with them this deposed leader answered at once with a stale
  // index. The option is now ignored, and every read takes ReadIndex's heartbeat round.
  const net = new TestNet([1, 2, 3], (c) => ({ ...c, readMode: 'lease' }) as RaftConfig);
  const old = net.elect();
  net.tick(2);
  net.isolate(old.id);
  const others = [1, 2, 3].filter((id) => id !== old.id);
  let next = net.leader();
  for (let i = 0; i < 40 && (next === null || next.id === old.id); i++) {
    net.tick(1, others);
    next = [...others].map((id) => net.node(id)).find((r) => r.role === 'leader') ?? null;
  }
  assert.ok(next !== null && next.id !== old.id, 'the majority elected a new leader');
  assert.ok(next?.propose(bytes('newer')).ok);
  net.tick(1, others);
  assert.is(old.role, 'leader', 'the old leader has not noticed yet');
  assert.ok(old.readIndex(3).ok);
  net.flush();
  assert.equal(
    net.nodes.get(old.id)?.reads.filter((r) => r.index !== null),
    [],
    'no answer from the deposed leader',
  );
  net.tick(20, [old.id]);
  assert.equal(net.nodes.get(old.id)?.reads, [{ id: 3, index: null }], 'refused once it stepped down');
});

test('a node restarts from its disk with term, vote and log intact', () => {
  const net = new TestNet([1, 2, 3]);
  const leader = net.elect();
  leader.propose(bytes('durable'));
  net.tick(2);
  const id = leader.id;
  const before = { term: leader.term, last: leader.log.lastIndex(), vote: leader.vote };
  const restarted = net.restart(id);
  assert.is(restarted.term, before.term);
  assert.is(restarted.vote, before.vote);
  assert.is(restarted.log.lastIndex(), before.last);
  assert.is(restarted.role, 'follower');
});

test('configuration is validated once, with a reason for each refusal', () => {
  const base = defaultConfig(1, () => 0, null);
  assert.ok(validateConfig(base).ok);
  assert.equal(validateConfig({ ...base, id: 0 }), { ok: false, reason: 'config-bad-id' });
  assert.equal(validateConfig({ ...base, electionTicks: 1 }), {
    ok: false,
    reason: 'config-election-not-above-heartbeat',
  });
  assert.equal(validateConfig({ ...base, bootstrap: { voters: [], learners: [] } }), {
    ok: false,
    reason: 'config-bad-bootstrap',
  });
  assert.throws(() => new Raft({ ...base, electionTicks: 0 }, null), /invalid config/);
});

test.run();
