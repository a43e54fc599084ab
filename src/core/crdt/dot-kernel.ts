// The dot kernel (Almeida et al. §6): key -> {dot -> value} plus a causal context. Removing a key forgets its
// dots but keeps them in the context, which compresses to a version vector: removals leave no tombstones.
// An add-wins OR set is a kernel with null values; an OR map is a kernel whose values carry an HLC.
import { assert } from './assert.js';
import { CausalContext, dotKey, type CausalWire, type Dot } from './causal.js';
import { compareStrings, isArray, isId, isKey, isPositive } from './check.js';
import type { Codec } from './codec.js';
import { limits } from './limits.js';

interface Slot<V> {
  readonly dot: Dot;
  readonly value: V;
}

export type KernelWire = [entries: Array<[string, Array<[string, number, unknown]>]>, cc: CausalWire];

export class DotKernel<V> {
  readonly entries = new Map<string, Map<string, Slot<V>>>();
  cc = new CausalContext();

  /** Delta of writing `value` at `key`: the new dot, and every dot of the key we observed (now replaced). */
  add(replica: string, key: string, value: V): DotKernel<V> {
    const delta = this.remove(key);
    const dot = this.cc.next(replica);
    delta.slots(key).set(dotKey(dot), { dot, value });
    delta.cc.add(dot);
    this.merge(delta);
    return delta;
  }

  /** Delta of removing `key`: only a causal context naming the observed dots. */
  remove(key: string): DotKernel<V> {
    const delta = new DotKernel<V>();
    for (const slot of this.entries.get(key)?.values() ?? []) delta.cc.add(slot.dot);
    this.merge(delta);
    return delta;
  }

  values(key: string): V[] {
    return [...(this.entries.get(key)?.values() ?? [])].map((slot) => slot.value);
  }

  /** Joins `other` into this kernel; returns the keys whose set of dots changed. */
  merge(other: DotKernel<V>): string[] {
    const changed: string[] = [];
    const keys = new Set([...this.entries.keys(), ...other.entries.keys()]);
    for (const key of keys) if (this.mergeKey(key, other)) changed.push(key);
    this.cc.merge(other.cc);
    return changed;
  }

  clone(): DotKernel<V> {
    const copy = new DotKernel<V>();
    for (const [key, slots] of this.entries) copy.entries.set(key, new Map(slots));
    copy.cc = this.cc.clone();
    return copy;
  }

  toWire(codec: Codec<V>): KernelWire {
    const keys = [...this.entries.keys()].sort(compareStrings);
    const entries = keys.map((key): [string, Array<[string, number, unknown]>] => {
      const slots = [...(this.entries.get(key) as Map<string, Slot<V>>).values()];
      slots.sort((a, b) => compareStrings(a.dot[0], b.dot[0]) || a.dot[1] - b.dot[1]);
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
      if (!isArray(entry, 2) || entry.length !== 2 || !isKey(entry[0]) || !isArray(entry[1], limits.replicasMax)) return null;
      if (kernel.entries.has(entry[0]) || entry[1].length === 0) return null;
      if (!kernel.slotsFromWire(entry[0], entry[1], codec)) return null;
    }
    return kernel;
  }

  private slotsFromWire(key: string, wire: unknown[], codec: Codec<V>): boolean {
    const slots = this.slots(key);
    for (const s of wire) {
      if (!isArray(s, 3) || s.length !== 3 || !isId(s[0]) || !isPositive(s[1])) return false;
      const dot: Dot = [s[0], s[1]];
      const value = codec.fromWire(s[2]);
      // A live dot must be covered by the context that travels with it (the kernel's invariant).
      if ((value === null && s[2] !== null) || !this.cc.has(dot) || slots.has(dotKey(dot))) return false;
      slots.set(dotKey(dot), { dot, value: value as V });
    }
    return true;
  }

  private slots(key: string): Map<string, Slot<V>> {
    let slots = this.entries.get(key);
    if (slots === undefined) this.entries.set(key, (slots = new Map()));
    return slots;
  }

  private mergeKey(key: string, other: DotKernel<V>): boolean {
    const mine = this.entries.get(key);
    const theirs = other.entries.get(key);
    let changed = false;
    // Keep our dot if they have it too, or if they have never seen it (not removed on their side).
    for (const [k, slot] of mine ?? []) {
      if (theirs?.has(k) || !other.cc.has(slot.dot)) continue;
      mine?.delete(k);
      changed = true;
    }
    // Take their dot unless we have seen it already (and so removed it).
    for (const [k, slot] of theirs ?? []) {
      if (mine?.has(k) || this.cc.has(slot.dot)) continue;
      this.slots(key).set(k, slot);
      changed = true;
    }
    if (this.entries.get(key)?.size === 0) this.entries.delete(key);
    assert(!this.entries.has(key) || (this.entries.get(key) as Map<string, Slot<V>>).size > 0, 'no empty keys');
    return changed;
  }
}
