// A scripted network for unit tests of the Raft core: nodes whose Readys are persisted to memory, messages
// delivered in order until the network is quiet, with filters that drop messages (partitions, losses).
// Engine-neutral and deterministic.
import { Raft } from '../../src/core/raft/raft.js';
import { defaultConfig, type RaftConfig } from '../../src/core/raft/config.js';
import type { ConfState, Entry, Message, NodeId, Ready, ReadState, Stored } from '../../src/core/raft/types.js';
import { Rng } from '../../src/core/rng.js';
import { decodeMessage, encodeMessage } from '../../src/core/raft/codec.js';
import { SimDisk } from '../sim/disk.js';
import type { Invariants } from '../sim/invariants.js';

export interface TestNode {
  raft: Raft;
  readonly disk: SimDisk;
  readonly applied: Entry[];
  readonly reads: ReadState[];
}

export type Filter = (m: Message) => boolean;

export class TestNet {
  readonly nodes = new Map<NodeId, TestNode>();
  /** Messages sent and not yet delivered, oldest first. */
  queue: Message[] = [];
  /** Every message sent, for assertions about traffic. */
  readonly sent: Message[] = [];
  drop: Filter = () => false;
  /** When set, Raft's safety properties are checked after every step (as in the simulator). */
  invariants: Invariants | null = null;
  /** When true, every delivered message goes through the real codec; what does not decode is dropped and counted. */
  wire = false;
  undecodable = 0;
  private readonly rng = new Rng(7);

  constructor(
    voters: readonly NodeId[],
    tweak: (c: RaftConfig) => RaftConfig = (c) => c,
    learners: readonly NodeId[] = [],
  ) {
    const conf: ConfState = { voters, learners };
    for (const id of [...voters, ...learners]) this.add(id, conf, tweak);
  }

  add(
    id: NodeId,
    bootstrap: ConfState | null,
    tweak: (c: RaftConfig) => RaftConfig = (c) => c,
    stored: Stored | null = null,
  ): TestNode {
    const rng = this.rng.fork();
    const raft = new Raft(tweak(defaultConfig(id, () => rng.next(), bootstrap)), stored);
    const node = { raft, disk: new SimDisk(), applied: [] as Entry[], reads: [] as ReadState[] };
    this.nodes.set(id, node);
    return node;
  }

  node(id: NodeId): Raft {
    return (this.nodes.get(id) as TestNode).raft;
  }

  /** Persists and collects each node's Ready; messages go to the queue. */
  flush(): void {
    for (const node of this.nodes.values()) {
      for (let i = 0; i < 10 && node.raft.hasReady(); i++) this.handle(node, node.raft.ready());
    }
  }

  private handle(node: TestNode, rd: Ready): void {
    this.invariants?.entriesAppended(node.raft, rd.entries);
    this.invariants?.entriesApplied(node.raft.id, rd.committedEntries);
    node.disk.persist(rd);
    for (const m of rd.messages) {
      this.sent.push(m);
      this.queue.push(m);
    }
    node.applied.push(...rd.committedEntries);
    node.reads.push(...rd.readStates);
    node.raft.advance(rd);
  }

  /** Delivers queued messages (and the ones they cause) until quiet or maxSteps deliveries. */
  deliver(maxSteps = 10_000): number {
    let steps = 0;
    this.flush();
    while (this.queue.length > 0 && steps < maxSteps) {
      const m = this.queue.shift() as Message;
      steps++;
      const to = this.nodes.get(m.to);
      if (to === undefined || this.drop(m)) continue;
      const decoded = this.wire ? decodeMessage(encodeMessage(m)) : { ok: true as const, value: m };
      if (!decoded.ok) {
        this.undecodable++;
        continue;
      }
      to.raft.step(decoded.value);
      this.invariants?.afterStep(to.raft);
      this.flush();
    }
    return steps;
  }

  /** Ticks every node n times, delivering after each round. */
  tick(n: number, only?: readonly NodeId[]): void {
    for (let i = 0; i < n; i++) {
      for (const [id, node] of this.nodes) if (only === undefined || only.includes(id)) node.raft.tick();
      this.deliver();
    }
  }

  /** Ticks until some node leads (or gives up after maxTicks). */
  elect(maxTicks = 100): Raft {
    for (let i = 0; i < maxTicks; i++) {
      const leader = this.leader();
      if (leader !== null) return leader;
      this.tick(1);
    }
    throw new Error('no leader elected');
  }

  leader(): Raft | null {
    let best: Raft | null = null;
    for (const node of this.nodes.values())
      if (node.raft.role === 'leader' && (best === null || node.raft.term > best.term)) best = node.raft;
    return best;
  }

  isolate(id: NodeId): void {
    this.drop = (m) => m.from === id || m.to === id;
  }

  heal(): void {
    this.drop = () => false;
  }

  /** Restarts a node from what its disk holds. */
  restart(id: NodeId, tweak: (c: RaftConfig) => RaftConfig = (c) => c): Raft {
    const old = this.nodes.get(id) as TestNode;
    const rng = this.rng.fork();
    const raft = new Raft(tweak(defaultConfig(id, () => rng.next(), null)), old.disk.load());
    old.raft = raft;
    return raft;
  }
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
