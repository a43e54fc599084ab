// The dot kernel (Almeida et al. §6): key -> {dot -> value} plus a causal context. Removing a key forgets its
// dots but keeps them in the context, which compresses to a version vector: removals leave no tombstones.
// An add-wins OR set is a kernel with null values; an OR map is a kernel whose values carry an HLC.
import { CausalContext, sameDot, type CausalWire, type Dot } from './causal.js';
import { assert } from './assert.js';
import { compareStrings, isArray, isId, isKey, isPositive } from './check.js';
import type { Codec } from './codec.js';
import { limits } from './limits.js';

export interface Slot<V> {
  readonly dot: Dot;
  readonly value: V;
}

export type KernelWire = [entries: Array<[string, Array<[string, number, unknown]>]>, cc: CausalWire];

// A key usually holds one slot (concurrent writes make more): a small array is lighter than a map.
const holds = <V>(slots: readonly Slot<V>[] | undefined, dot: Dot): boolean =>
  slots?.some((s) => sameDot(s.dot, dot)) ?? false;
const bySlotDot = <V>(a: Slot<V>, b: Slot<V>): number => compareStrings(a.dot[0], b.dot[0]) || a.dot[1] - b.dot[1];

export class DotKernel<V> {
  readonly entries = new Map<string, Slot<V>[]>();
  cc = new CausalContext();

  /** Delta of writing `value` at `key`: the new dot, and every dot of the key we observed (now replaced). */
  add(replica: string, key: string, value: V): DotKernel<V> {
    const delta = this.remove(key);
    const dot = this.cc.next(replica);
    delta.entries.set(key, [{ dot, value }]);
    delta.cc.add(dot);
    this.merge(delta);
    assert(this.entries.get(key)?.length === 1, 'a write replaces every dot of the key it observed');
    assert(this.cc.has(dot), 'the written dot is in the causal context');
    return delta;
  }

  /** Delta of removing `key`: only a causal context naming the observed dots. */
  remove(key: string): DotKernel<V> {
    const delta = new DotKernel<V>();
    for (const slot of this.entries.get(key) ?? []) delta.cc.add(slot.dot);
    this.merge(delta);
    assert(!this.entries.has(key), 'a removed key holds no dot');
    return delta;
  }

  values(key: string): V[] {
    return (this.entries.get(key) ?? []).map((slot) => slot.value);
  }

  /** Joins `other` into this kernel; returns the keys whose set of dots changed. */
  merge(other: DotKernel<V>): string[] {
    const changed: string[] = [];
    for (const key of this.entries.keys()) if (!other.entries.has(key) && this.mergeKey(key, other)) changed.push(key);
    for (const key of other.entries.keys()) if (this.mergeKey(key, other)) changed.push(key);
    this.cc.merge(other.cc);
    for (const key of changed) {
      for (const slot of this.entries.get(key) ?? [])
        assert(this.cc.has(slot.dot), 'every live dot is in the causal context');
    }
    return changed;
  }

  clone(): DotKernel<V> {
    const copy = new DotKernel<V>();
    for (const [key, slots] of this.entries) copy.entries.set(key, [...slots]);
    copy.cc = this.cc.clone();
    return copy;
  }

  toWire(codec: Codec<V>): KernelWire {
    const keys = [...this.entries.keys()].sort(compareStrings);
    const entries = keys.map((key): [string, Array<[string, number, unknown]>] => {
      const slots = [...(this.entries.get(key) as Slot<V>[])].sort(bySlotDot);
      return [key, slots.map((s): [string, number, unknown] => [s.dot[0], s.dot[1], codec.toWire(s.value)])];
    });
    return [entries, this.cc.toWire()];
  }

  static fromWire<V>(x: unknown, codec: Codec<V>): DotKernel<V> | null {
    if (!isArray(x, 2) || x.length !== 2 || !isArray(x[0], limits.mapEntriesMax)) return null;
    const cc = CausalContext.fromWire(x[1]);
    if (cc === null) return null;
    const kernel = new DotKernel<V>();
    kernel.cc = cc;
    for (const entry of x[0]) {
      if (!isArray(entry, 2) || entry.length !== 2 || !isKey(entry[0]) || !isArray(entry[1], limits.replicasMax))
        return null;
      if (kernel.entries.has(entry[0]) || entry[1].length === 0) return null;
      const slots = kernel.slotsFromWire(entry[1], codec);
      if (slots === null) return null;
      kernel.entries.set(entry[0], slots);
    }
    return kernel;
  }

  private slotsFromWire(wire: unknown[], codec: Codec<V>): Slot<V>[] | null {
    const slots: Slot<V>[] = [];
    for (const s of wire) {
      if (!isArray(s, 3) || s.length !== 3 || !isId(s[0]) || !isPositive(s[1])) return null;
      const dot: Dot = [s[0], s[1]];
      const value = codec.fromWire(s[2]);
      // A live dot must be covered by the context that travels with it (the kernel's invariant).
      if ((value === null && s[2] !== null) || !this.cc.has(dot) || holds(slots, dot)) return null;
      slots.push({ dot, value: value as V });
    }
    return slots;
  }

  private mergeKey(key: string, other: DotKernel<V>): boolean {
    const mine = this.entries.get(key);
    const theirs = other.entries.get(key);
    // Keep our dot if they have it too, or if they have never seen it (not removed on their side).
    const kept = (mine ?? []).filter((slot) => holds(theirs, slot.dot) || !other.cc.has(slot.dot));
    // Take their dot unless we have seen it already (and so removed it).
    const added = (theirs ?? []).filter((slot) => !holds(mine, slot.dot) && !this.cc.has(slot.dot));
    const changed = kept.length !== (mine?.length ?? 0) || added.length > 0;
    if (!changed) return false;
    const slots = added.length === 0 ? kept : [...kept, ...added];
    if (slots.length === 0) this.entries.delete(key);
    else this.entries.set(key, slots);
    return true;
  }
}
