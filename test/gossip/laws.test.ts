// CRDT laws for every type (fast-check): join is commutative, associative and idempotent over reachable
// states; joining all deltas, in any order and with duplicates, equals joining the full states.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { allKinds, makeReplicas, opArb, type Kind, type Op } from './kinds.js';

const RUNS = 60;

interface Step {
  readonly replica: number;
  readonly op: Op;
  /** Replica whose full state is joined in before the operation (-1: none): builds shared history. */
  readonly syncFrom: number;
}

const stepArb = fc.record({ replica: fc.nat(2), op: opArb, syncFrom: fc.integer({ min: -1, max: 2 }) });

function play<S>(kind: Kind<S>, steps: readonly Step[]): { states: S[]; deltas: S[] } {
  const replicas = makeReplicas(3);
  const states = replicas.map(() => kind.empty());
  const deltas: S[] = [];
  for (const step of steps) {
    const state = states[step.replica] as S;
    if (step.syncFrom >= 0 && step.syncFrom !== step.replica) kind.merge(state, states[step.syncFrom] as S);
    deltas.push(kind.apply(state, replicas[step.replica]!, step.op));
  }
  return { states, deltas };
}

function join<S>(kind: Kind<S>, a: S, b: S): S {
  const out = kind.clone(a);
  kind.merge(out, b);
  return out;
}

for (const kind of allKinds) {
  test(`${kind.name}: join is commutative, associative and idempotent`, () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 25 }), (steps) => {
        const { states } = play(kind, steps);
        const [a, b, c] = states;
        assert.equal(kind.wire(join(kind, a, b)), kind.wire(join(kind, b, a)), 'commutative');
        assert.equal(
          kind.wire(join(kind, join(kind, a, b), c)),
          kind.wire(join(kind, a, join(kind, b, c))),
          'associative',
        );
        assert.equal(kind.wire(join(kind, a, a)), kind.wire(a), 'idempotent');
        assert.equal(kind.wire(join(kind, a, kind.empty())), kind.wire(a), 'empty is the identity');
      }),
      { numRuns: RUNS },
    );
  });

  test(`${kind.name}: joining deltas in any order with duplicates equals joining full states`, () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 25 }), fc.infiniteStream(fc.nat()), (steps, shuffle) => {
        const { states, deltas } = play(kind, steps);
        const full = states.reduce((acc, s) => join(kind, acc, s), kind.empty());
        const delivered = [...deltas, ...deltas.filter((_, i) => i % 3 === 0)];
        const order = shuffle.take(delivered.length);
        const keyed = delivered.map((d, i) => ({ d, k: (order.next().value as number) + i * 1e-6 }));
        keyed.sort((x, y) => x.k - y.k);
        const fromDeltas = kind.empty();
        for (const { d } of keyed) kind.merge(fromDeltas, d);
        assert.equal(kind.wire(fromDeltas), kind.wire(full));
      }),
      { numRuns: RUNS },
    );
  });
}

test.run();
