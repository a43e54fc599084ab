// Last-writer-wins register and map ordered by HLC timestamps. Timestamps are unique per write (the
// replica id is part of them), so "greater timestamp wins" is a total order and the join is a max.
import { compareHlc, isHlc, type Hlc } from './hlc.js';
import { compareStrings, isArray, isKey } from './check.js';
import type { Codec } from './codec.js';
import { limits } from './limits.js';

export class LwwRegister<V> {
  constructor(
    readonly codec: Codec<V>,
    public ts: Hlc | null = null,
    public value: V | undefined = undefined,
  ) {}

  set(value: V, ts: Hlc): LwwRegister<V> {
    const delta = new LwwRegister(this.codec, ts, value);
    this.merge(delta);
    return delta;
  }

  merge(other: LwwRegister<V>): boolean {
    if (other.ts === null || (this.ts !== null && compareHlc(other.ts, this.ts) <= 0)) return false;
    this.ts = other.ts;
    this.value = other.value;
    return true;
  }

  clone(): LwwRegister<V> {
    return new LwwRegister(this.codec, this.ts, this.value);
  }

  toWire(): unknown {
    return this.ts === null ? null : [this.ts, this.codec.toWire(this.value as V)];
  }

  static fromWire<V>(x: unknown, codec: Codec<V>): LwwRegister<V> | null {
    if (x === null) return new LwwRegister(codec);
    if (!isArray(x, 2) || x.length !== 2 || !isHlc(x[0])) return null;
    const value = codec.fromWire(x[1]);
    return value === null ? null : new LwwRegister(codec, x[0], value);
  }
}

interface LwwEntry<V> {
  readonly ts: Hlc;
  /** undefined marks a removal (a tombstone that must win over older writes). */
  readonly value: V | undefined;
}

/**
 * LWW map. Removals are tombstones (LWW needs them to beat older writes); pruneTombstones() drops those
 * older than a horizon the caller chooses, trading a resurrection risk for a replica partitioned longer than
 * the horizon against unbounded growth. Where removals are frequent, use AWORMap instead (no tombstones).
 */
export class LwwMap<V> {
  readonly entries = new Map<string, LwwEntry<V>>();

  constructor(readonly codec: Codec<V>) {}

  get(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  keys(): string[] {
    return [...this.entries]
      .filter(([, e]) => e.value !== undefined)
      .map(([k]) => k)
      .sort(compareStrings);
  }

  set(key: string, value: V, ts: Hlc): LwwMap<V> {
    return this.write(key, { ts, value });
  }

  remove(key: string, ts: Hlc): LwwMap<V> {
    return this.write(key, { ts, value: undefined });
  }

  merge(other: LwwMap<V>): string[] {
    const changed: string[] = [];
    for (const [key, entry] of other.entries) {
      const mine = this.entries.get(key);
      if (mine !== undefined && compareHlc(entry.ts, mine.ts) <= 0) continue;
      this.entries.set(key, entry);
      changed.push(key);
    }
    return changed;
  }

  /** Drops tombstones written before `beforeMs` (HLC logical time). */
  pruneTombstones(beforeMs: number): number {
    let pruned = 0;
    for (const [key, entry] of this.entries) {
      if (entry.value !== undefined || entry.ts[0] >= beforeMs) continue;
      this.entries.delete(key);
      pruned += 1;
    }
    return pruned;
  }

  clone(): LwwMap<V> {
    const copy = new LwwMap(this.codec);
    for (const [key, entry] of this.entries) copy.entries.set(key, entry);
    return copy;
  }

  toWire(): unknown {
    const keys = [...this.entries.keys()].sort(compareStrings);
    return keys.map((key) => {
      const e = this.entries.get(key) as LwwEntry<V>;
      return e.value === undefined ? [key, e.ts] : [key, e.ts, this.codec.toWire(e.value)];
    });
  }

  static fromWire<V>(x: unknown, codec: Codec<V>): LwwMap<V> | null {
    if (!isArray(x, limits.mapEntriesMax)) return null;
    const map = new LwwMap(codec);
    for (const e of x) {
      if (!isArray(e, 3) || e.length < 2 || !isKey(e[0]) || !isHlc(e[1]) || map.entries.has(e[0])) return null;
      const value = e.length === 3 ? codec.fromWire(e[2]) : undefined;
      if (value === null) return null;
      map.entries.set(e[0], { ts: e[1], value });
    }
    return map;
  }

  private write(key: string, entry: LwwEntry<V>): LwwMap<V> {
    const delta = new LwwMap(this.codec);
    delta.entries.set(key, entry);
    this.merge(delta);
    return delta;
  }
}
