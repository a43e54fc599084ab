// Invariant checks and result values for the identity and channel cores. An assertion failure is a bug
// (the test or the process dies loudly); outside input never reaches one: it becomes a Refusal with a reason.

export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(`identity: ${message}`);
}

export type Result<T, R extends string = string> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: R };

export const ok = <T>(value: T): { readonly ok: true; readonly value: T } => ({ ok: true, value });
export const fail = <R extends string>(reason: R): { readonly ok: false; readonly reason: R } => ({ ok: false, reason });

/** Refusals counted by reason code: the same strings appear in tests, logs and metrics. */
export class Counters {
  private readonly counts = new Map<string, number>();

  add(reason: string): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
  }

  get(reason: string): number {
    return this.counts.get(reason) ?? 0;
  }

  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [reason, count] of [...this.counts].sort(([a], [b]) => (a < b ? -1 : 1))) out[reason] = count;
    return out;
  }
}
