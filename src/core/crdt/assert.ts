// Invariant checks for the core: a failure is a bug, so it throws and the test (or process) dies loudly.
// Outside input never reaches an assert: it is validated first and refused with a reason code.

export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(`crdt: ${message}`);
}

/** An operating error or a refusal: a value with a stable reason code, never an exception. */
export type Result<T, R extends string = string> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: R };

export const ok = <T>(value: T): { readonly ok: true; readonly value: T } => ({ ok: true, value });
export const fail = <R extends string>(reason: R): { readonly ok: false; readonly reason: R } => ({ ok: false, reason });
