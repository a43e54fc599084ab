// Convergence of every CRDT type under random interleavings of operations and deliveries, over a channel
// that loses, duplicates and reorders messages. Replicas ship delta intervals (Almeida et al., Alg. 2):
// each message is the join of the deltas a peer has not acknowledged; acks travel the same lossy channel.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { allKinds, makeReplicas, opArb, type Kind } from './kinds.js';

const REPLICAS = 3;

interface Message<S> {
  readonly from: number;
  readonly to: number;
  readonly delta: S | null;
  /** Index in the sender's delta log the delta covers up to (for the ack). */
  readonly upTo: number;
  readonly ack: boolean;
}

interface Node<S> {
  state: S;
  log: S[];
  acked: number[];
}

const eventArb = fc.oneof(
  fc.record({ kind: fc.constant('op' as const), replica: fc.nat(REPLICAS - 1), op: opArb }),
  fc.record({ kind: fc.constant('send' as const), from: fc.nat(REPLICAS - 1), to: fc.nat(REPLICAS - 1) }),
  fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat(), loss: fc.boolean(), duplicate: fc.boolean() }),
);

function send<S>(kind: Kind<S>, nodes: Node<S>[], from: number, to: number, queue: Message<S>[]): void {
  const node = nodes[from] as Node<S>;
  const start = node.acked[to] as number;
  if (from === to || start >= node.log.length) return;
  const delta = kind.empty();
  for (let i = start; i < node.log.length; i++) kind.merge(delta, node.log[i] as S);
  queue.push({ from, to, delta, upTo: node.log.length, ack: false });
}

function receive<S>(kind: Kind<S>, nodes: Node<S>[], m: Message<S>, queue: Message<S>[]): void {
  const node = nodes[m.to] as Node<S>;
  if (m.ack) {
    node.acked[m.from] = Math.max(node.acked[m.from] as number, m.upTo);
    return;
  }
  kind.merge(node.state, m.delta as S);
  // Received deltas are forwarded too (transitive propagation); the ack is sent back.
  node.log.push(m.delta as S);
  queue.push({ from: m.to, to: m.from, delta: null, upTo: m.upTo, ack: true });
}

for (const kind of allKinds) {
  test(`${kind.name}: replicas converge despite loss, duplication and reordering`, () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 60 }), (events) => {
        const replicas = makeReplicas(REPLICAS);
        const nodes: Node<any>[] = replicas.map(() => ({
          state: kind.empty(),
          log: [],
          acked: new Array(REPLICAS).fill(0),
        }));
        const queue: Message<any>[] = [];
        for (const e of events) {
          if (e.kind === 'op')
            nodes[e.replica]!.log.push(kind.apply(nodes[e.replica]!.state, replicas[e.replica]!, e.op));
          else if (e.kind === 'send') send(kind, nodes, e.from, e.to, queue);
          else if (queue.length > 0) {
            const [m] = queue.splice(e.pick % queue.length, 1);
            if (e.duplicate) queue.push(m!);
            if (!e.loss) receive(kind, nodes, m!, queue);
          }
        }
        // Quiescence: the channel heals; rounds of all-pairs sends and in-order delivery until nothing moves.
        queue.length = 0;
        for (let round = 0; round < 4; round++) {
          for (let f = 0; f < REPLICAS; f++) for (let t = 0; t < REPLICAS; t++) send(kind, nodes, f, t, queue);
          for (let i = 0; i < queue.length && i < 1000; i++) receive(kind, nodes, queue[i]!, queue);
          queue.length = 0;
        }
        const first = kind.wire(nodes[0]!.state);
        for (const n of nodes) assert.equal(kind.wire(n.state), first);
      }),
      { numRuns: 60 },
    );
  });
}

test.run();
