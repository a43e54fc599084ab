// A linearizability checker for client histories (Wing & Gong's search with Lowe's memoization, as in
// Porcupine): is there a total order of the operations, consistent with real time (an operation that returned
// before another was called comes first), in which each one gives the answer the sequential model gives?
// Histories are split per partition (a KV model: per key) and each part is searched alone (P-compositionality).

export interface Operation<I, O> {
  readonly client: number;
  readonly callMs: number;
  /** Infinity when the outcome is unknown (timed out): it may take effect at any time after the call, or never. */
  readonly returnMs: number;
  readonly input: I;
  /** null when the outcome is unknown. */
  readonly output: O | null;
}

export interface Model<S, I, O> {
  readonly init: () => S;
  /** The new state if `input` in `state` may produce `output` (any output when it is null), else undefined. */
  readonly step: (state: S, input: I, output: O | null) => S | undefined;
  readonly key: (state: S) => string;
  readonly partition?: (input: I) => string;
}

export type CheckOutcome<I, O> =
  | { readonly result: 'ok' }
  | {
      readonly result: 'unknown';
      readonly partition: string;
      readonly partitions: readonly string[];
      readonly operations: number;
    }
  | { readonly result: 'violation'; readonly partition: string; readonly operations: readonly Operation<I, O>[] };

interface Event<I, O> {
  readonly op: number;
  readonly isCall: boolean;
  readonly timeMs: number;
  prev: Event<I, O> | null;
  next: Event<I, O> | null;
  match: Event<I, O> | null;
  readonly operation: Operation<I, O>;
}

/**
 * Searches at most stepsMax states per partition; a partition past that is 'unknown' (never a false alarm). Every
 * partition is checked: a violation in any wins, and 'unknown' names all that did not finish. 'unknown' is not a
 * pass: a caller must treat it as a failure to check (the simulator fails the seed).
 */
export function checkLinearizable<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  stepsMax = 1_000_000,
): CheckOutcome<I, O> {
  const parts = new Map<string, Operation<I, O>[]>();
  for (const op of history) {
    const key = model.partition?.(op.input) ?? '';
    const list = parts.get(key) ?? [];
    list.push(op);
    parts.set(key, list);
  }
  const unknown: string[] = [];
  let unknownOps = 0;
  for (const [key, ops] of [...parts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const outcome = checkPart(model, ops, stepsMax);
    if (outcome === 'violation') return { result: 'violation', partition: key, operations: ops };
    if (outcome === 'unknown') {
      unknown.push(key);
      unknownOps += ops.length;
    }
  }
  if (unknown.length > 0)
    return { result: 'unknown', partition: unknown[0] as string, partitions: unknown, operations: unknownOps };
  return { result: 'ok' };
}

function buildEvents<I, O>(ops: readonly Operation<I, O>[]): Event<I, O> {
  const events: Event<I, O>[] = [];
  ops.forEach((operation, op) => {
    const call: Event<I, O> = {
      op,
      isCall: true,
      timeMs: operation.callMs,
      prev: null,
      next: null,
      match: null,
      operation,
    };
    const ret: Event<I, O> = {
      op,
      isCall: false,
      timeMs: operation.returnMs,
      prev: null,
      next: null,
      match: null,
      operation,
    };
    call.match = ret;
    events.push(call, ret);
  });
  // At equal times a return comes first: a reply delivered at t happened before a call made at t.
  events.sort((a, b) => a.timeMs - b.timeMs || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? 1 : -1));
  const head: Event<I, O> = {
    op: -1,
    isCall: false,
    timeMs: -Infinity,
    prev: null,
    next: null,
    match: null,
    operation: null as never,
  };
  let last = head;
  for (const event of events) {
    last.next = event;
    event.prev = last;
    last = event;
  }
  return head;
}

function lift<I, O>(call: Event<I, O>): void {
  const ret = call.match as Event<I, O>;
  (call.prev as Event<I, O>).next = call.next;
  if (call.next !== null) call.next.prev = call.prev;
  (ret.prev as Event<I, O>).next = ret.next;
  if (ret.next !== null) ret.next.prev = ret.prev;
}

function unlift<I, O>(call: Event<I, O>): void {
  const ret = call.match as Event<I, O>;
  (ret.prev as Event<I, O>).next = ret;
  if (ret.next !== null) ret.next.prev = ret;
  (call.prev as Event<I, O>).next = call;
  if (call.next !== null) call.next.prev = call;
}

function checkPart<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  stepsMax: number,
): 'ok' | 'violation' | 'unknown' {
  const head = buildEvents(ops);
  const linearized = new Uint8Array(ops.length);
  const seen = new Set<string>();
  const stack: { call: Event<I, O>; state: S }[] = [];
  let state = model.init();
  let entry = head.next;
  let steps = 0;
  while (head.next !== null) {
    if (++steps > stepsMax) return 'unknown';
    if (entry === null) return 'violation';
    if (!entry.isCall) {
      // A return before its call was placed: undo the latest choice and try the next candidate.
      const top = stack.pop();
      if (top === undefined) return 'violation';
      state = top.state;
      linearized[top.call.op] = 0;
      unlift(top.call);
      entry = top.call.next;
      continue;
    }
    const next = model.step(state, entry.operation.input, entry.operation.output);
    if (next !== undefined) {
      linearized[entry.op] = 1;
      const key = `${bitsKey(linearized)}|${model.key(next)}`;
      if (!seen.has(key)) {
        seen.add(key);
        stack.push({ call: entry, state });
        state = next;
        lift(entry);
        entry = head.next;
        continue;
      }
      linearized[entry.op] = 0;
    }
    entry = entry.next;
  }
  return 'ok';
}

function bitsKey(bits: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bits.length; i += 16) {
    let word = 0;
    for (let j = 0; j < 16 && i + j < bits.length; j++) word |= (bits[i + j] as number) << j;
    out += String.fromCharCode(word);
  }
  return out;
}

// ---- the key-value model: single-key operations, partitioned by key

export type KvInput =
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'del'; readonly key: string }
  | { readonly op: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string | null };

/** get: the value read; put/del: the previous value; cas: whether it swapped and the previous value. */
export type KvOutput = { readonly value: string | null } | { readonly ok: boolean; readonly prev: string | null };

export const kvModel: Model<string | null, KvInput, KvOutput> = {
  init: () => null,
  partition: (input) => input.key,
  key: (state) => (state === null ? '\u0000' : `=${state}`),
  step(state, input, output) {
    if (input.op === 'get') {
      if (output === null) return state;
      return 'value' in output && output.value === state ? state : undefined;
    }
    const prevOk = output === null || ('prev' in output && output.prev === state);
    if (!prevOk) return undefined;
    if (input.op === 'put') return input.value;
    if (input.op === 'del') return null;
    const swapped = state === input.expected;
    if (output !== null && 'ok' in output && output.ok !== swapped) return undefined;
    return swapped ? input.value : state;
  },
};
