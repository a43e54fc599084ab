// Add-wins observed-remove set and map on the dot kernel. A concurrent add and remove keep the element
// (the add's dot is not in the remover's context); removed dots live on only as version-vector counters.
import { compareHlc, isHlc, type Hlc } from './hlc.js';
import type { Codec } from './codec.js';
import { nullCodec } from './codec.js';
import { DotKernel } from './dot-kernel.js';
import { compareStrings, isArray } from './check.js';
import { limits } from './limits.js';

export class AWORSet {
  constructor(readonly kernel: DotKernel<null> = new DotKernel()) {}

  has(element: string): boolean {
    return this.kernel.entries.has(element);
  }

  elements(): string[] {
    return [...this.kernel.entries.keys()].sort(compareStrings);
  }

  get size(): number {
    return this.kernel.entries.size;
  }

  add(replica: string, element: string): AWORSet {
    return new AWORSet(this.kernel.add(replica, element, null));
  }

  remove(element: string): AWORSet {
    return new AWORSet(this.kernel.remove(element));
  }

  merge(other: AWORSet): string[] {
    return this.kernel.merge(other.kernel);
  }

  clone(): AWORSet {
    return new AWORSet(this.kernel.clone());
  }

  toWire(): unknown {
    return this.kernel.toWire(nullCodec);
  }

  static fromWire(x: unknown): AWORSet | null {
    const kernel = DotKernel.fromWire(x, nullCodec);
    return kernel === null ? null : new AWORSet(kernel);
  }
}

/** A value written with its HLC timestamp: concurrent writes to one key resolve to the latest. */
export interface Stamped<V> {
  readonly ts: Hlc;
  readonly v: V;
}

// One stamped codec per value codec: every OR map of the same value type shares it.
const stampedCodecs = new WeakMap<Codec<unknown>, Codec<Stamped<unknown>>>();

export function stampedCodec<V>(inner: Codec<V>): Codec<Stamped<V>> {
  const cached = stampedCodecs.get(inner as Codec<unknown>);
  if (cached !== undefined) return cached as Codec<Stamped<V>>;
  const codec: Codec<Stamped<V>> = {
    toWire: (s) => [s.ts, inner.toWire(s.v)],
    fromWire: (x) => {
      if (!isArray(x, 2) || x.length !== 2 || !isHlc(x[0])) return null;
      const v = inner.fromWire(x[1]);
      return v === null ? null : { ts: x[0], v };
    },
  };
  stampedCodecs.set(inner as Codec<unknown>, codec as Codec<Stamped<unknown>>);
  return codec;
}

export class AWORMap<V> {
  constructor(
    readonly valueCodec: Codec<V>,
    readonly kernel: DotKernel<Stamped<V>> = new DotKernel(),
  ) {}

  private get codec(): Codec<Stamped<V>> {
    return stampedCodec(this.valueCodec);
  }

  get(key: string): V | undefined {
    let best: Stamped<V> | undefined;
    for (const s of this.kernel.values(key)) if (best === undefined || compareHlc(s.ts, best.ts) > 0) best = s;
    return best?.v;
  }

  keys(): string[] {
    return [...this.kernel.entries.keys()].sort(compareStrings);
  }

  get size(): number {
    return this.kernel.entries.size;
  }

  set(replica: string, key: string, value: V, ts: Hlc): AWORMap<V> {
    return new AWORMap(this.valueCodec, this.kernel.add(replica, key, { ts, v: value }));
  }

  remove(key: string): AWORMap<V> {
    return new AWORMap(this.valueCodec, this.kernel.remove(key));
  }

  merge(other: AWORMap<V>): string[] {
    return this.kernel.merge(other.kernel);
  }

  clone(): AWORMap<V> {
    return new AWORMap(this.valueCodec, this.kernel.clone());
  }

  toWire(): unknown {
    return this.kernel.toWire(this.codec);
  }

  static fromWire<V>(x: unknown, valueCodec: Codec<V>): AWORMap<V> | null {
    const kernel = DotKernel.fromWire(x, stampedCodec(valueCodec));
    if (kernel === null || kernel.entries.size > limits.mapEntriesMax) return null;
    return new AWORMap(valueCodec, kernel);
  }
}
