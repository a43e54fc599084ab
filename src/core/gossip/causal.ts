// Causal context: the set of dots (replica, counter) a replica has seen, compressed to a version vector
// (every counter up to vv[r] seen) plus a cloud of dots seen out of order (Almeida et al., "Delta State
// Replicated Data Types", §4). Compaction moves cloud dots into the vector as soon as they are contiguous.
import { assert } from './assert.js';
import { compareStrings, isArray, isId, isNat, isPositive } from './check.js';
import { limits } from './limits.js';

export type Dot = readonly [replica: string, counter: number];

/** [replica, contiguous max, out-of-order counters] sorted by replica: the wire and canonical form. */
export type CausalWire = Array<[string, number, number[]]>;

export class CausalContext {
  private readonly vv = new Map<string, number>();
  // Usually empty (dots arrive in order within a section): allocated on first use to keep states small.
  private cloudMap: Map<string, Set<number>> | null = null;

  private get cloud(): Map<string, Set<number>> {
    return (this.cloudMap ??= new Map());
  }

  has(dot: Dot): boolean {
    const [replica, counter] = dot;
    if (counter <= (this.vv.get(replica) ?? 0)) return true;
    return this.cloudMap?.get(replica)?.has(counter) ?? false;
  }

  /** The next dot for a local event of `replica`. */
  next(replica: string): Dot {
    const counter = (this.vv.get(replica) ?? 0) + 1;
    assert(!this.cloudMap?.get(replica)?.has(counter), 'compaction keeps the cloud above vv + 1');
    assert(!this.has([replica, counter]), 'the next dot is one not seen yet');
    return [replica, counter];
  }

  add(dot: Dot): void {
    const [replica, counter] = dot;
    assert(counter > 0, 'dot counters start at 1');
    assert(Number.isSafeInteger(counter), 'dot counters are integers');
    const max = this.vv.get(replica) ?? 0;
    if (counter <= max) return;
    if (counter === max + 1) {
      this.vv.set(replica, counter);
      this.compact(replica);
    } else {
      let set = this.cloud.get(replica);
      if (set === undefined) this.cloud.set(replica, (set = new Set()));
      set.add(counter);
    }
    assert(this.has(dot), 'an added dot is seen');
  }

  merge(other: CausalContext): void {
    for (const [replica, max] of other.vv) {
      if (max > (this.vv.get(replica) ?? 0)) {
        this.vv.set(replica, max);
        this.compact(replica);
      }
      assert((this.vv.get(replica) ?? 0) >= max, 'the join covers the other version vector');
    }
    for (const [replica, set] of other.cloudMap ?? []) for (const counter of set) this.add([replica, counter]);
  }

  /** Dots outside the version vector: bounded by the caller against limits.cloudDotsMax. */
  get cloudSize(): number {
    let n = 0;
    for (const set of this.cloudMap?.values() ?? []) n += set.size;
    return n;
  }

  get replicaCount(): number {
    const names = new Set([...this.vv.keys(), ...(this.cloudMap?.keys() ?? [])]);
    return names.size;
  }

  clone(): CausalContext {
    const copy = new CausalContext();
    for (const [replica, max] of this.vv) copy.vv.set(replica, max);
    for (const [replica, set] of this.cloudMap ?? []) copy.cloud.set(replica, new Set(set));
    return copy;
  }

  toWire(): CausalWire {
    const names = [...new Set([...this.vv.keys(), ...(this.cloudMap?.keys() ?? [])])].sort(compareStrings);
    return names.map((r) => [r, this.vv.get(r) ?? 0, [...(this.cloudMap?.get(r) ?? [])].sort((a, b) => a - b)]);
  }

  static fromWire(x: unknown): CausalContext | null {
    if (!isArray(x, limits.replicasMax)) return null;
    const cc = new CausalContext();
    let cloudDots = 0;
    for (const entry of x) {
      if (!isArray(entry, 3) || entry.length !== 3) return null;
      const [replica, max, extra] = entry;
      if (!isId(replica) || !isNat(max) || !isArray(extra, limits.cloudDotsMax)) return null;
      if (cc.vv.has(replica) || cc.cloudMap?.has(replica)) return null;
      cloudDots += extra.length;
      if (cloudDots > limits.cloudDotsMax) return null;
      if (max > 0) cc.vv.set(replica, max);
      for (const counter of extra) {
        if (!isPositive(counter)) return null;
        cc.add([replica, counter]);
      }
    }
    return cc;
  }

  private compact(replica: string): void {
    const set = this.cloudMap?.get(replica);
    if (set === undefined) return;
    const before = this.vv.get(replica) ?? 0;
    let max = before;
    // Bounded by the cloud's size: each pass removes one dot.
    for (const counter of [...set]) if (counter <= max) set.delete(counter);
    while (set.delete(max + 1)) max += 1;
    this.vv.set(replica, max);
    if (set.size === 0) this.cloud.delete(replica);
    assert(max >= before, 'compaction never lowers the version vector');
    assert(!set.has(max + 1), 'compaction leaves no contiguous dot in the cloud');
  }
}

export const sameDot = (a: Dot, b: Dot): boolean => a[1] === b[1] && a[0] === b[0];
