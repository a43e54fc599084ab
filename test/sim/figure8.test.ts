// Raft's Figure 8, scripted: a leader that counts replicas of an entry from an earlier term toward commit
// (the unsafe hook) commits something a later leader overwrites. The same invariant checker the simulator uses
// must catch it; with the rule kept (§5.4.2) the same script is safe.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeConf } from '../../src/core/raft/conf.js';
import type { RaftConfig } from '../../src/core/raft/config.js';
import type { Entry, Stored } from '../../src/core/raft/types.js';
import { TestNet, bytes } from '../raft/net.js';
import { Invariants } from './invariants.js';

const confEntry: Entry = {
  term: 1,
  index: 1,
  type: 'conf',
  data: encodeConf({ voters: [1, 2, 3, 4, 5], learners: [] }),
};
const at = (term: number, log: Entry[]): Stored => ({
  hardState: { term, vote: 0, commit: 1 },
  snapshot: null,
  entries: [confEntry, ...log],
});

function figure8(unsafe: boolean): { net: TestNet; error: unknown } {
  // Plain Raft elections (no pre-vote lease) so the script controls who wins; one entry per append.
  const tweak = (c: RaftConfig): RaftConfig => ({
    ...c,
    preVote: false,
    checkQuorum: false,
    appendEntriesMax: 1,
    ...(unsafe ? { unsafe: { commitPreviousTerm: true } } : {}),
  });
  const net = new TestNet([], tweak);
  net.invariants = new Invariants();
  net.add(1, null, tweak, at(3, [{ term: 2, index: 2, type: 'normal', data: bytes('from term 2') }]));
  for (const id of [2, 3, 4]) net.add(id, null, tweak, at(3, []));
  net.add(5, null, tweak, at(3, [{ term: 3, index: 2, type: 'normal', data: bytes('from term 3') }]));
  try {
    // S1 wins term 4 without S5 and copies its term-2 entry to a majority; its own no-op (index 3) gets lost.
    net.drop = (m) =>
      m.from === 5 ||
      m.to === 5 ||
      (m.type === 'app' && m.entries.some((e) => e.index === 3) && net.node(m.to).log.lastIndex() >= 2);
    net.node(1).campaignNow();
    net.deliver();
    net.tick(2, [1]);
    // S1 crashes. S5, whose last entry has the higher term, wins term 5 and replaces index 2 everywhere.
    net.drop = (m) => m.from === 1 || m.to === 1;
    net.node(5).campaignNow();
    net.deliver();
    net.node(5).campaignNow();
    net.deliver();
    net.tick(3, [5]);
    return { net, error: null };
  } catch (error) {
    return { net, error };
  }
}

test('the checker catches a leader that commits an entry of an earlier term by counting replicas', () => {
  const { net, error } = figure8(true);
  assert.is(net.node(1).log.committed, 2, 'the broken leader committed the term-2 entry');
  assert.instance(error, Error);
  assert.match(String((error as Error).message), /leader completeness|state machine safety/);
});

test('with the rule kept, the same script violates nothing', () => {
  const { net, error } = figure8(false);
  assert.is(error, null);
  assert.is(net.node(1).log.committed, 1);
  assert.is(net.leader()?.id, 5);
  assert.is(net.node(2).log.term(2), 3, 'the uncommitted term-2 entry was safely replaced');
});

test.run();
