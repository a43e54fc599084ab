// Result values, reason counters and invariant checks shared by every component. An assertion failure is a
// bug in our code (the test or the process dies loudly); outside input never reaches one: it becomes a
// Result with a stable reason code, counted, that tests, logs and status share.

export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

export function assertThat(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export type Result<T, R extends string = string> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: R };

export const ok = <T>(value: T): { readonly ok: true; readonly value: T } => ({ ok: true, value });
export const fail = <R extends string>(reason: R): { readonly ok: false; readonly reason: R } => ({
  ok: false,
  reason,
});

/** Rejections and failures counted by reason code. */
export class Counters {
  private readonly counts = new Map<string, number>();

  add(reason: string, n = 1): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + n);
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
