// What a node has of each stream: the contiguous sequence number (a version vector entry) plus the numbers
// received out of order (dots), and a digest of the contiguous part: per bucket (hash of the stream id mod
// digestBuckets) the XOR of two 32-bit hashes of (stream, seq), updated incrementally. Equal roots mean, with
// overwhelming probability, equal version vectors; unequal buckets say where to look.
import { assert } from './assert.js';
import { limits } from './limits.js';

interface StreamEntry {
  max: number;
  /** Sequence numbers above max + 1 received out of order; absent when none. */
  gaps?: Set<number>;
  readonly bucket: number;
  readonly hash: number;
}

function fnv1a(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function mix(h: number, n: number, salt: number): number {
  // murmur3's finaliser over the stream hash combined with the sequence number (both halves of n).
  let z = (h ^ Math.imul(n >>> 0, 0x9e3779b1) ^ Math.imul(Math.floor(n / 0x1_0000_0000), 0x85ebca6b) ^ salt) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

export class StreamClock {
  private readonly streams = new Map<string, StreamEntry>();
  /** Streams per bucket: a digest exchange reads only the buckets that differ. */
  private readonly byBucket = Array.from({ length: limits.digestBuckets }, () => new Set<string>());
  /** Two independent 32-bit digests per bucket. */
  readonly bucketsA = new Array<number>(limits.digestBuckets).fill(0);
  private readonly bucketsB = new Array<number>(limits.digestBuckets).fill(0);
  private cachedRoot: number | null = null;

  get size(): number {
    return this.streams.size;
  }

  max(stream: string): number {
    return this.streams.get(stream)?.max ?? 0;
  }

  has(stream: string, seq: number): boolean {
    const e = this.streams.get(stream);
    return e !== undefined && (seq <= e.max || (e.gaps?.has(seq) ?? false));
  }

  known(stream: string): boolean {
    return this.streams.has(stream);
  }

  gapCount(stream: string): number {
    return this.streams.get(stream)?.gaps?.size ?? 0;
  }

  /** Records seq; the caller has checked the stream limit and the gap bound. */
  add(stream: string, seq: number): void {
    assert(seq > 0, 'sequence numbers start at 1');
    assert(Number.isSafeInteger(seq), 'sequence numbers are integers');
    const e = this.entry(stream);
    if (seq <= e.max) return;
    if (seq > e.max + 1) {
      (e.gaps ??= new Set()).add(seq);
    } else {
      let max = seq;
      while (e.gaps?.delete(max + 1)) max += 1;
      if (e.gaps?.size === 0) delete e.gaps;
      this.setMax(e, max);
    }
    assert(this.has(stream, seq), 'an added sequence number is held');
  }

  /** Raises the contiguous part to `seq` (a state transfer covered everything up to it). */
  raise(stream: string, seq: number): void {
    const e = this.entry(stream);
    if (seq <= e.max) return;
    let max = seq;
    for (const g of [...(e.gaps ?? [])]) if (g <= max) e.gaps?.delete(g);
    while (e.gaps?.delete(max + 1)) max += 1;
    if (e.gaps?.size === 0) delete e.gaps;
    this.setMax(e, max);
    assert(this.max(stream) >= seq, 'raising covers the sequence number');
    assert(!(e.gaps?.has(e.max + 1) ?? false), 'no gap is contiguous with the maximum');
  }

  /** Forgets a stream (an older incarnation, or a revoked node): its digest contribution goes with it. */
  retire(stream: string): void {
    const e = this.streams.get(stream);
    if (e === undefined) return;
    this.setMax(e, 0);
    this.streams.delete(stream);
    this.byBucket[e.bucket]?.delete(stream);
    assert(!this.known(stream), 'a retired stream is forgotten');
  }

  /** Out-of-order sequence numbers held for a stream, sorted (persisted with the snapshot). */
  gaps(stream: string): number[] {
    return [...(this.streams.get(stream)?.gaps ?? [])].sort((a, b) => a - b);
  }

  /** Every stream, including those with only out-of-order numbers (max 0). */
  streamIds(): string[] {
    return [...this.streams.keys()];
  }

  bucketOf(stream: string): number {
    return this.streams.get(stream)?.bucket ?? fnv1a(stream, 0x811c9dc5) % limits.digestBuckets;
  }

  /** 53-bit root over both digests: safe as one CBOR integer, equal on both engines. */
  root(): number {
    if (this.cachedRoot !== null) return this.cachedRoot;
    let a = 0x12345678;
    let b = 0x9abcdef0;
    for (let i = 0; i < limits.digestBuckets; i++) {
      a = mix(a, this.bucketsA[i] as number, i);
      b = mix(b, this.bucketsB[i] as number, i + 0x55);
    }
    this.cachedRoot = (a >>> 0) * 0x200000 + (b & 0x1fffff);
    return this.cachedRoot;
  }

  /** Version vector entries of the given buckets, sorted by stream id. */
  entriesIn(buckets: ReadonlySet<number>): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    for (const b of buckets) {
      for (const stream of this.byBucket[b] ?? []) {
        const max = this.max(stream);
        if (max > 0) out.push([stream, max]);
      }
    }
    return out.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  }

  entries(): Array<[string, number]> {
    return this.entriesIn(new Set(Array.from({ length: limits.digestBuckets }, (_, i) => i)));
  }

  private entry(stream: string): StreamEntry {
    let e = this.streams.get(stream);
    if (e === undefined) {
      const hash = fnv1a(stream, 0x811c9dc5);
      e = { max: 0, bucket: hash % limits.digestBuckets, hash };
      this.streams.set(stream, e);
      this.byBucket[e.bucket]?.add(stream);
    }
    return e;
  }

  private setMax(e: StreamEntry, max: number): void {
    // XOR out the old (stream, max) and XOR in the new one; max 0 contributes nothing.
    const i = e.bucket;
    this.cachedRoot = null;
    if (e.max > 0) {
      this.bucketsA[i] = ((this.bucketsA[i] as number) ^ mix(e.hash, e.max, 1)) >>> 0;
      this.bucketsB[i] = ((this.bucketsB[i] as number) ^ mix(e.hash, e.max, 2)) >>> 0;
    }
    e.max = max;
    if (max > 0) {
      this.bucketsA[i] = ((this.bucketsA[i] as number) ^ mix(e.hash, max, 1)) >>> 0;
      this.bucketsB[i] = ((this.bucketsB[i] as number) ^ mix(e.hash, max, 2)) >>> 0;
    }
  }
}
