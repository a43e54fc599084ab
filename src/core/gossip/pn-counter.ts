// PN counter: per replica, a grow-only count of increments and of decrements; the join is a pointwise max.
import { assert } from './assert.js';
import { compareStrings, isArray, isId, isNat } from './check.js';
import { limits } from './limits.js';

export class PnCounter {
  readonly counts = new Map<string, { readonly p: number; readonly n: number }>();

  get value(): number {
    let total = 0;
    for (const { p, n } of this.counts.values()) total += p - n;
    return total;
  }

  /** Delta of adding `amount` (may be negative) on behalf of `replica`: that replica's new entry. */
  add(replica: string, amount: number): PnCounter {
    assert(Number.isSafeInteger(amount), 'counter amounts are integers');
    const mine = this.counts.get(replica) ?? { p: 0, n: 0 };
    const next = amount >= 0 ? { p: mine.p + amount, n: mine.n } : { p: mine.p, n: mine.n - amount };
    assert(Number.isSafeInteger(next.p), 'counter increments stay a safe integer');
    assert(Number.isSafeInteger(next.n), 'counter decrements stay a safe integer');
    const delta = new PnCounter();
    delta.counts.set(replica, next);
    this.merge(delta);
    assert(this.counts.get(replica)?.p === next.p, 'the replica holds its new increments');
    assert(this.counts.get(replica)?.n === next.n, 'the replica holds its new decrements');
    return delta;
  }

  merge(other: PnCounter): boolean {
    let changed = false;
    for (const [replica, theirs] of other.counts) {
      const mine = this.counts.get(replica);
      if (mine !== undefined && mine.p >= theirs.p && mine.n >= theirs.n) continue;
      this.counts.set(replica, { p: Math.max(mine?.p ?? 0, theirs.p), n: Math.max(mine?.n ?? 0, theirs.n) });
      changed = true;
    }
    return changed;
  }

  /** The same value held by one replica: every entry's increments and decrements summed under `replica`. */
  folded(replica: string): PnCounter {
    let p = 0;
    let n = 0;
    // Each entry is a safe integer (checked at decode), but their sum need not be: saturate rather than assert,
    // since the entries may have come from the network.
    for (const e of this.counts.values()) {
      p = Math.min(Number.MAX_SAFE_INTEGER, p + e.p);
      n = Math.min(Number.MAX_SAFE_INTEGER, n + e.n);
    }
    assert(Number.isSafeInteger(p), 'folded increments stay a safe integer');
    assert(Number.isSafeInteger(n), 'folded decrements stay a safe integer');
    const out = new PnCounter();
    out.counts.set(replica, { p, n });
    return out;
  }

  clone(): PnCounter {
    const copy = new PnCounter();
    for (const [r, e] of this.counts) copy.counts.set(r, e);
    return copy;
  }

  toWire(): unknown {
    return [...this.counts.keys()].sort(compareStrings).map((r) => {
      const e = this.counts.get(r) as { p: number; n: number };
      return [r, e.p, e.n];
    });
  }

  static fromWire(x: unknown): PnCounter | null {
    if (!isArray(x, limits.replicasMax)) return null;
    const counter = new PnCounter();
    for (const e of x) {
      if (!isArray(e, 3) || e.length !== 3 || !isId(e[0]) || !isNat(e[1]) || !isNat(e[2])) return null;
      if (counter.counts.has(e[0])) return null;
      counter.counts.set(e[0], { p: e[1], n: e[2] });
    }
    return counter;
  }
}
