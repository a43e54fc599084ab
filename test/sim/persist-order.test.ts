// Persist before answering (Raft's Figure 2): a vote may leave a node only once it is durable. Scripted: node 3
// grants node 1 its vote, and crashes before the fsync; it restarts from its disk and node 2 asks for its vote
// in the same term. The harness sends only what `sendBeforePersist` allows before the write, as the server and
// the simulator do: if a vote went out early, node 3 votes twice and two leaders share the term, which the
// simulator's invariant checker catches. This scenario kills the 'vote-before-persist' mutant (npm run mutate)
// every time; the simulator's 'vote-crash' mix kills it in about 1 seed in 20 of that mix. Engine-neutral.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Raft } from '../../src/core/raft/raft.js';
import { defaultConfig, type RaftConfig } from '../../src/core/raft/config.js';
import { sendBeforePersist, type Message, type NodeId } from '../../src/core/raft/types.js';
import { SimDisk } from './disk.js';
import { Invariants } from './invariants.js';

const voters = [1, 2, 3];
const config = (id: NodeId): RaftConfig => ({
  ...defaultConfig(id, () => 0, { voters, learners: [] }),
  preVote: false,
  checkQuorum: false,
});

class Node {
  raft: Raft;
  readonly disk = new SimDisk();
  constructor(readonly id: NodeId) {
    this.raft = new Raft(config(id), null);
    this.persistAll();
  }

  /** Takes the Ready; persists it (or crashes first) and returns the messages that left the node. */
  ready(crashBeforeFsync = false): Message[] {
    const rd = this.raft.ready();
    const early = rd.messages.filter(sendBeforePersist);
    if (crashBeforeFsync) {
      this.raft = new Raft(config(this.id), this.disk.load());
      return early;
    }
    this.disk.persist(rd);
    this.raft.advance(rd);
    return [...rd.messages];
  }

  persistAll(): Message[] {
    const out: Message[] = [];
    for (let i = 0; i < 10 && this.raft.hasReady(); i++) out.push(...this.ready());
    return out;
  }
}

function scenario(): { leaders: Map<number, NodeId[]>; error: unknown } {
  const nodes = new Map(voters.map((id) => [id, new Node(id)]));
  const invariants = new Invariants();
  const node = (id: NodeId): Node => nodes.get(id) as Node;
  const deliver = (messages: readonly Message[], filter: (m: Message) => boolean): Message[] => {
    const out: Message[] = [];
    for (const m of messages.filter(filter)) {
      node(m.to).raft.step(m);
      invariants.afterStep(node(m.to).raft);
      out.push(...node(m.to).persistAll());
    }
    return out;
  };
  const leaders = new Map<number, NodeId[]>();
  try {
    node(1).raft.campaignNow();
    const asks = node(1).persistAll();
    node(3).raft.step(asks.find((m) => m.to === 3) as Message);
    const answered = node(3).ready(true); // crash before the vote is durable
    deliver(answered, (m) => m.to === 1);
    node(2).raft.campaignNow();
    const asks2 = node(2).persistAll();
    deliver(
      deliver(asks2, (m) => m.to === 3),
      (m) => m.to === 2,
    );
    for (const n of nodes.values()) {
      invariants.afterStep(n.raft);
      if (n.raft.role === 'leader') leaders.set(n.raft.term, [...(leaders.get(n.raft.term) ?? []), n.id]);
    }
    return { leaders, error: null };
  } catch (error) {
    return { leaders, error };
  }
}

test('a vote that was not yet durable never left the node: one leader per term after a crash before the fsync', () => {
  const { leaders, error } = scenario();
  assert.is(error, null, String((error as Error | null)?.message));
  for (const [term, ids] of leaders) assert.is(ids.length, 1, `term ${term} has leaders ${ids.join(', ')}`);
  assert.ok(leaders.size > 0, 'node 2 won with the restarted node 3');
});

test.run();
