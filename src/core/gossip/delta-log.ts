// The deltas a node retains to forward (eager push to neighbours, and anti-entropy answers), and what it
// knows each peer already has. An entry is dropped once every current peer is known to have it (garbage
// collection); past retainedDeltasMax the oldest go even unconfirmed, and a peer that still needs one gets
// the section's full state instead (gossip.ts, stateItems).
import { assert } from './assert.js';
import { limits } from './limits.js';
import type { Item } from './messages.js';

export interface Entry {
  readonly stream: string;
  readonly seq: number;
  /** One delta, or the chunks of a section state covering the stream up to seq. */
  readonly items: readonly Item[];
  /** Arrival order: a peer whose digest matched ours when we were at index i has every entry <= i. */
  readonly index: number;
  /** Peers known to have this entry (they sent it, or their version vector covers it). */
  readonly known: string[];
}

export class DeltaLog {
  private readonly byStream = new Map<string, Map<number, Entry>>();
  private nextIndex = 1;
  /** Per peer: the last entry index at which its digest equalled ours. */
  private readonly syncedIndex = new Map<string, number>();
  private fresh: Entry[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  retain(stream: string, seq: number, items: readonly Item[], knownBy: readonly string[]): void {
    assert(seq > 0, 'sequence numbers start at 1');
    let entries = this.byStream.get(stream);
    if (entries === undefined) this.byStream.set(stream, (entries = new Map()));
    if (!entries.has(seq)) this.count += 1;
    const entry: Entry = { stream, seq, items, index: this.nextIndex++, known: [...knownBy] };
    entries.set(seq, entry);
    // Fresh entries wait for the next tick's push; a burst beyond the log's own bound is left to anti-entropy.
    if (this.fresh.length < limits.freshDeltasMax) this.fresh.push(entry);
    assert(this.get(stream, seq) === entry, 'a retained delta can be found');
    assert(this.fresh.length <= limits.freshDeltasMax, 'fresh deltas are bounded');
  }

  get(stream: string, seq: number): Entry | undefined {
    return this.byStream.get(stream)?.get(seq);
  }

  /** Forgets a stream (its node restarted with a new incarnation, or was revoked). */
  dropStream(stream: string): void {
    const entries = this.byStream.get(stream);
    if (entries === undefined) return;
    this.count -= entries.size;
    this.byStream.delete(stream);
    this.fresh = this.fresh.filter((e) => e.stream !== stream);
    assert(this.count >= 0, 'retained count stays consistent');
  }

  takeFresh(): Entry[] {
    const fresh = this.fresh;
    this.fresh = [];
    return fresh;
  }

  isKnown(e: Entry, peer: string): boolean {
    return e.index <= (this.syncedIndex.get(peer) ?? 0) || e.known.includes(peer);
  }

  /** The peer has every entry of `stream` up to `upTo` (its contiguous version vector entry). */
  markKnownUpTo(peer: string, stream: string, upTo: number): void {
    for (const [seq, e] of this.byStream.get(stream) ?? [])
      if (seq <= upTo && !this.isKnown(e, peer)) e.known.push(peer);
  }

  markKnown(peer: string, stream: string, seq: number): void {
    const e = this.get(stream, seq);
    if (e !== undefined && !this.isKnown(e, peer)) e.known.push(peer);
  }

  /** The peer's digest equals ours: it has everything we retain so far. */
  markAllKnown(peer: string): void {
    this.syncedIndex.set(peer, this.nextIndex - 1);
  }

  /** Drops entries every peer has; past `max`, unconfirmed ones too. Returns how many unconfirmed went. */
  collect(peers: readonly string[], max: number): number {
    assert(max >= 0, 'the retention bound is not negative');
    let over = this.count - max;
    let evicted = 0;
    for (const [stream, entries] of this.byStream) {
      for (const [seq, e] of entries) {
        const confirmed = peers.every((p) => this.isKnown(e, p));
        if (!confirmed && over <= 0) continue;
        if (!confirmed) evicted += 1;
        entries.delete(seq);
        this.count -= 1;
        over -= 1;
      }
      if (entries.size === 0) this.byStream.delete(stream);
    }
    for (const peer of this.syncedIndex.keys()) if (!peers.includes(peer)) this.syncedIndex.delete(peer);
    assert(this.count >= 0, 'retained count stays consistent');
    assert(this.count <= max, 'collection brings the log within its bound');
    return evicted;
  }
}
