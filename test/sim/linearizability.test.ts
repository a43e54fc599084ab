// The linearizability checker on hand-made KV histories: it accepts what a linearizable store may answer and
// refuses what none can (a stale read, a lost write, a cas that ignored the value).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  checkLinearizable,
  kvModel,
  type KvInput,
  type KvOutput,
  type Operation,
} from '../../src/sim/linearizability.js';

const op = (
  client: number,
  callMs: number,
  returnMs: number,
  input: KvInput,
  output: KvOutput | null,
): Operation<KvInput, KvOutput> => ({ client, callMs, returnMs, input, output });
const put = (key: string, value: string) => ({ op: 'put' as const, key, value });
const get = (key: string) => ({ op: 'get' as const, key });

test('a sequential history that follows the model is linearizable', () => {
  const history = [
    op(1, 0, 1, put('a', '1'), { ok: true, prev: null }),
    op(1, 2, 3, get('a'), { value: '1' }),
    op(2, 4, 5, { op: 'cas', key: 'a', expected: '1', value: '2' }, { ok: true, prev: '1' }),
    op(1, 6, 7, { op: 'del', key: 'a' }, { ok: true, prev: '2' }),
    op(2, 8, 9, get('a'), { value: null }),
  ];
  assert.equal(checkLinearizable(kvModel, history), { result: 'ok' });
});

test('overlapping operations may take effect in either order', () => {
  const history = [
    op(1, 0, 10, put('a', '1'), { ok: true, prev: null }),
    op(2, 1, 9, get('a'), { value: '1' }),
    op(3, 2, 8, get('a'), { value: null }),
  ];
  assert.equal(checkLinearizable(kvModel, history), { result: 'ok' });
});

test('a stale read after a completed write is a violation', () => {
  const history = [
    op(1, 0, 1, put('a', '1'), { ok: true, prev: null }),
    op(1, 2, 3, put('a', '2'), { ok: true, prev: '1' }),
    op(2, 4, 5, get('a'), { value: '1' }),
  ];
  const outcome = checkLinearizable(kvModel, history);
  assert.is(outcome.result, 'violation');
  assert.is(outcome.result === 'violation' ? outcome.partition : '', 'a');
});

test('a write with an unknown outcome may have happened, or not', () => {
  const maybe = op(1, 0, Infinity, put('a', 'x'), null);
  assert.equal(checkLinearizable(kvModel, [maybe, op(2, 5, 6, get('a'), { value: 'x' })]), { result: 'ok' });
  assert.equal(checkLinearizable(kvModel, [maybe, op(2, 5, 6, get('a'), { value: null })]), { result: 'ok' });
  assert.is(checkLinearizable(kvModel, [maybe, op(2, 5, 6, get('a'), { value: 'y' })]).result, 'violation');
});

test('keys are checked independently, and a wrong cas answer is caught', () => {
  const history = [
    op(1, 0, 1, put('a', '1'), { ok: true, prev: null }),
    op(2, 0, 1, put('b', '1'), { ok: true, prev: null }),
    op(1, 2, 3, { op: 'cas', key: 'b', expected: '1', value: '2' }, { ok: false, prev: '1' }),
  ];
  assert.equal(checkLinearizable(kvModel, history), {
    result: 'violation',
    partition: 'b',
    operations: history.filter((o) => o.input.key === 'b'),
  });
});

const overBudget = (key: string): Operation<KvInput, KvOutput>[] => [
  ...Array.from({ length: 14 }, (_, i) => op(i, 0, 100, put(key, String(i)), null)),
  op(99, 200, 201, get(key), { value: 'nope' }),
];

test('a search past its budget answers unknown (never a false alarm), naming every key it could not finish', () => {
  const outcome = checkLinearizable(kvModel, [...overBudget('a'), ...overBudget('c')], 50);
  assert.is(outcome.result, 'unknown');
  assert.equal(outcome.result === 'unknown' ? outcome.partitions : [], ['a', 'c']);
});

test('a key over its budget does not hide a violation in a later key', () => {
  const stale = [op(1, 0, 1, put('b', '1'), { ok: true, prev: null }), op(2, 2, 3, get('b'), { value: null })];
  const outcome = checkLinearizable(kvModel, [...overBudget('a'), ...stale], 50);
  assert.is(outcome.result, 'violation');
  assert.is(outcome.result === 'violation' ? outcome.partition : '', 'b');
});

test.run();
