// Gossip and anti-entropy as a pure state machine: tick(wallMs) and receive(bytes, wallMs) return the
// datagrams to send; the caller does the I/O. Each round, a node sends a digest (the root of its stream
// clock) to `gossipFanout` peers; on a mismatch the peers narrow it down by bucket and exchange only the
// deltas the other lacks (push-pull). Fresh deltas are also pushed on the next tick to a few neighbours that
// have not confirmed them. Deltas are kept until every current peer has confirmed them (garbage collection),
// then dropped; a peer that needs a dropped delta gets the section's full state instead, in parts.
import { decodeLimited, encodeCbor } from '../wire/cbor.js';
import { assert } from './assert.js';
import { isArray, isId } from './check.js';
import { HlcClock, hlcAcceptLimitMs } from './hlc.js';
import { limits, validateLimits } from './limits.js';
import { checkSectionDelta, MeshDoc, sectionToWire, type Section } from './mesh-doc.js';
import { decodeMessage, encodeMessage, itemToWire, type Item, type Message } from './messages.js';
import { signedDocFromWire, signedDocToWire } from './signed-doc.js';
import { StreamClock } from './stream-clock.js';
import { streamId, streamNode } from './stream.js';

export type MemberState = 'member' | 'unknown' | 'revoked';
export type Membership = (nodeId: string) => MemberState;

export interface GossipOptions {
  readonly nodeId: string;
  /** Persisted and incremented before each start (see stream.ts). */
  readonly incarnation: number;
  readonly doc: MeshDoc;
  readonly membership: Membership;
  /** Uniform 32-bit integers: peer choice (the platform's randomness, or a seeded Rng in simulation). */
  readonly random: () => number;
  /** 'full' is naive full-state gossip, kept only to measure delta gossip against it. */
  readonly mode?: 'delta' | 'full';
}

export interface Outgoing {
  readonly to: string;
  readonly bytes: Uint8Array;
}

interface Entry {
  readonly item: Item;
  /** Local arrival order: a peer whose digest matched ours when we were at index i has every entry <= i. */
  readonly index: number;
  /** Peers known to have this delta (they sent it, or their version vector covers it). */
  readonly known: string[];
}

// Encoded size of an item, computed once: batching needs it for every send of a retained delta.
const itemSizes = new WeakMap<Item, number>();
function itemBytes(item: Item): number {
  let size = itemSizes.get(item);
  if (size === undefined) itemSizes.set(item, (size = encodeCbor(itemToWire(item)).length));
  return size;
}

export type Refusal =
  | 'cbor-too-large' | 'cbor-malformed' | 'message-malformed' | 'message-type-unknown'
  | 'sender-unknown' | 'sender-revoked' | 'origin-unknown' | 'origin-revoked' | 'delta-wrong-section'
  | 'delta-own-stream' | 'delta-malformed' | 'delta-wrong-writer' | 'delta-too-many-entries' | 'clock-future' | 'seq-gap-too-large'
  | 'streams-full' | 'signed-doc-malformed' | 'signed-doc-kind' | 'signed-doc-too-large' | 'signature-invalid';

export class Gossip {
  readonly stream: string;
  readonly clock: HlcClock;
  readonly vv = new StreamClock();
  readonly counters: Record<string, number> = {};
  readonly doc: MeshDoc;
  seq = 0;
  private peers: string[] = [];
  private readonly log = new Map<string, Map<number, Entry>>();
  private retained = 0;
  private nextIndex = 1;
  /** Per peer: the last entry index at which its digest equalled ours. */
  private readonly syncedIndex = new Map<string, number>();
  private fresh: Entry[] = [];
  private readonly pending = new Map<string, Array<Uint8Array | undefined>>();
  private revoked = new Set<string>();
  private ticks = 0;
  private rounds = 0;
  private budgetBytes: number = limits.roundBytesMax;
  private out: Outgoing[] = [];

  constructor(private readonly options: GossipOptions) {
    validateLimits();
    assert(isId(options.nodeId) && !options.nodeId.includes('~'), 'node ids are short and have no ~');
    this.doc = options.doc;
    this.stream = streamId(options.nodeId, options.incarnation);
    this.clock = new HlcClock(this.stream);
    this.doc.subscribe((c) => { if (c.field === 'revocations') this.revoked = revokedIds(this.doc); });
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  get retainedDeltas(): number {
    return this.retained;
  }

  /** The neighbours to gossip with (from batman-adv, or the simulated topology). */
  setPeers(peers: readonly string[]): void {
    this.peers = peers.filter((p) => p !== this.nodeId).slice(0, limits.peersMax);
  }

  count(name: string, n = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + n;
  }

  /** Commits a local section delta (built by local.ts) as the next delta of our stream. */
  commit(delta: Section): void {
    const wire = sectionToWire(delta);
    this.seq += 1;
    const item: Item = { stream: this.stream, seq: this.seq, section: this.nodeId, wire, part: 0, parts: 0 };
    const bytes = itemBytes(item);
    // Limits on entries and string lengths keep every local delta within one datagram.
    assert(bytes <= limits.deltaBytesMax, `local delta of ${bytes} bytes exceeds deltaBytesMax`);
    this.doc.apply(this.nodeId, delta);
    this.vv.add(this.stream, this.seq);
    this.retain(item, []);
  }

  tick(wallMs: number): Outgoing[] {
    this.out = [];
    this.ticks += 1;
    if ((this.ticks - 1) % limits.roundTicks === 0) this.round();
    if (this.options.mode !== 'full') this.pushFresh();
    return this.out;
  }

  receive(bytes: Uint8Array, wallMs: number): Outgoing[] {
    this.out = [];
    this.count('rx-bytes', bytes.length);
    const refusal = this.handle(bytes, wallMs);
    if (refusal !== null) this.count(`refused:${refusal}`);
    return this.out;
  }

  private handle(bytes: Uint8Array, wallMs: number): Refusal | null {
    const decoded = decodeMessage(bytes);
    if (!decoded.ok) return decoded.reason;
    const m = decoded.value;
    const sender = this.memberState(m.from);
    if (sender !== 'member') return sender === 'revoked' ? 'sender-revoked' : 'sender-unknown';
    switch (m.type) {
      case 1: return this.onSyn(m.from, m.root, m.sigVersion);
      case 2: return this.onBuckets(m.from, m.root, m.sigVersion, m.hashes);
      case 3: return this.onVv(m.from, m.buckets, m.entries, m.reply);
      case 4: return this.onItems(m.from, m.items, wallMs);
      case 6: return this.onSignedDoc(m.doc);
      case 7: return this.onFull(m.sections, wallMs);
    }
  }

  private memberState(nodeId: string): MemberState {
    return this.revoked.has(nodeId) ? 'revoked' : this.options.membership(nodeId);
  }

  // --- rounds -------------------------------------------------------------------------------------------

  private round(): void {
    this.budgetBytes = limits.roundBytesMax;
    this.rounds += 1;
    // Garbage collection is not urgent: every gcRounds rounds, or at once when over the retention limit.
    if (this.rounds % limits.gcRounds === 0 || this.retained > limits.retainedDeltasMax) this.collectGarbage();
    const targets = this.pickPeers(limits.gossipFanout, () => true);
    for (const to of targets) {
      if (this.options.mode === 'full') this.sendFull(to);
      else this.send(to, { type: 1, from: this.nodeId, root: this.vv.root(), sigVersion: this.doc.revocations.version });
    }
  }

  private pickPeers(n: number, wanted: (peer: string) => boolean): string[] {
    const candidates = this.peers.filter(wanted);
    // Partial Fisher-Yates: n draws, bounded by peersMax.
    for (let i = 0; i < Math.min(n, candidates.length); i++) {
      const j = i + (this.options.random() % (candidates.length - i));
      [candidates[i], candidates[j]] = [candidates[j] as string, candidates[i] as string];
    }
    return candidates.slice(0, n);
  }

  private pushFresh(): void {
    if (this.fresh.length === 0) return;
    const fresh = this.fresh;
    this.fresh = [];
    const lacking = (peer: string) => fresh.some((e) => !this.isKnown(e, peer));
    for (const to of this.pickPeers(limits.pushFanout, lacking)) {
      this.sendItems(to, fresh.filter((e) => !this.isKnown(e, to)).map((e) => e.item));
    }
  }

  // --- anti-entropy handlers ----------------------------------------------------------------------------

  private onSyn(from: string, root: number, sigVersion: number): null {
    const mine = this.doc.revocations.version;
    if (sigVersion < mine) this.send(from, { type: 6, from: this.nodeId, doc: signedDocToWire(this.doc.revocations.doc) });
    if (root === this.vv.root()) {
      this.markAllKnown(from);
      if (sigVersion <= mine) return null;
    }
    const hashes = root === this.vv.root() ? [] : [...this.vv.bucketsA];
    this.send(from, { type: 2, from: this.nodeId, root: this.vv.root(), sigVersion: mine, hashes });
    return null;
  }

  private onBuckets(from: string, root: number, sigVersion: number, hashes: readonly number[]): null {
    if (sigVersion < this.doc.revocations.version) this.send(from, { type: 6, from: this.nodeId, doc: signedDocToWire(this.doc.revocations.doc) });
    if (hashes.length === 0 || root === this.vv.root()) return null;
    const differing = new Set<number>();
    for (let i = 0; i < limits.digestBuckets; i++) if (hashes[i] !== this.vv.bucketsA[i]) differing.add(i);
    // Roots differ but no bucket does: a 32-bit collision in a bucket; compare everything.
    if (differing.size === 0) for (let i = 0; i < limits.digestBuckets; i++) differing.add(i);
    this.sendVv(from, differing, true);
    return null;
  }

  private onVv(from: string, buckets: readonly number[], entries: ReadonlyArray<readonly [string, number]>, reply: boolean): null {
    const theirs = new Map(entries);
    const covered = new Set(buckets);
    let weLack = false;
    for (const [stream, max] of theirs) {
      this.markKnown(from, stream, Math.min(max, this.vv.max(stream)));
      if (max > this.vv.max(stream)) weLack = true;
    }
    const items: Item[] = [];
    for (const [stream, mine] of this.vv.entriesIn(covered)) {
      const have = theirs.get(stream) ?? 0;
      if (mine > have) items.push(...this.itemsFor(stream, have, mine));
    }
    this.sendItems(from, items);
    if (reply && weLack) this.sendVv(from, covered, false);
    return null;
  }

  private sendVv(to: string, buckets: ReadonlySet<number>, reply: boolean): void {
    const entries = this.vv.entriesIn(buckets);
    entries.sort((x, y) => this.vv.bucketOf(x[0]) - this.vv.bucketOf(y[0]));
    // A vector too large for one datagram is split; each chunk names the buckets it carries entries of,
    // and the first also names the buckets where we have no stream at all.
    const chunks = chunkEntries(entries, this.nodeId.length);
    const withEntries = new Set(entries.map(([st]) => this.vv.bucketOf(st)));
    chunks.forEach((chunk, i) => {
      const named = new Set(chunk.map(([st]) => this.vv.bucketOf(st)));
      if (i === 0) for (const b of buckets) if (!withEntries.has(b)) named.add(b);
      const list = [...named].sort((a, b) => a - b);
      this.send(to, { type: 3, from: this.nodeId, buckets: list, entries: chunk, reply });
    });
  }

  /** Deltas (have, mine] of a stream from the log, or the section's state when the log no longer has them. */
  private itemsFor(stream: string, have: number, mine: number): Item[] {
    const entries = this.log.get(stream);
    const items: Item[] = [];
    for (let seq = have + 1; seq <= mine && items.length <= limits.retainedDeltasMax; seq++) {
      const e = entries?.get(seq);
      if (e === undefined) return this.stateItems(stream, mine);
      items.push(e.item);
    }
    return items;
  }

  private stateItems(stream: string, seq: number): Item[] {
    const section = streamNode(stream) as string;
    const state = this.doc.sections.get(section);
    const bytes = encodeCbor(state === undefined ? {} : sectionToWire(state));
    // Bounded by construction (entries per section, string lengths); checked again on reassembly.
    assert(bytes.length <= limits.sectionBytesMax, `section ${section} is ${bytes.length} bytes`);
    this.count('state-transfers');
    const parts = Math.max(1, Math.ceil(bytes.length / limits.sectionChunkBytes));
    return Array.from({ length: parts }, (_, part) => {
      const wire = bytes.subarray(part * limits.sectionChunkBytes, (part + 1) * limits.sectionChunkBytes);
      return { stream, seq, section, wire, part, parts };
    });
  }

  // --- receiving deltas ---------------------------------------------------------------------------------

  /** Each item is accepted or refused on its own (and counted); the message itself was well-formed. */
  private onItems(from: string, items: readonly Item[], wallMs: number): null {
    for (const item of items) {
      const refusal = this.acceptItem(from, item, wallMs);
      if (refusal !== null) this.count(`refused:${refusal}`);
    }
    return null;
  }

  private acceptItem(from: string, item: Item, wallMs: number): Refusal | null {
    const origin = streamNode(item.stream);
    if (origin === null || origin !== item.section) return 'delta-wrong-section';
    const state = this.memberState(origin);
    if (state !== 'member') return state === 'revoked' ? 'origin-revoked' : 'origin-unknown';
    // Our own current stream is ours alone: nobody can have a delta of it we have not written.
    if (item.stream === this.stream && item.seq > this.seq) return 'delta-own-stream';
    // A state chunk is stale only if the contiguous part already covers it (out-of-order dots do not).
    if (item.parts === 0 ? this.vv.has(item.stream, item.seq) : item.seq <= this.vv.max(item.stream)) {
      if (item.parts === 0) this.markKnown(from, item.stream, item.seq);
      this.count('duplicates');
      return null;
    }
    if (!this.vv.known(item.stream) && this.vv.size >= limits.streamsMax) return 'streams-full';
    if (item.parts > 0) return this.collectChunk(item, wallMs);
    if (item.seq > this.vv.max(item.stream) + limits.streamGapMax || this.vv.gapCount(item.stream) >= limits.streamGapMax) return 'seq-gap-too-large';
    const refusal = this.applySection(item.section, item.wire, wallMs);
    if (refusal !== null) return refusal;
    this.vv.add(item.stream, item.seq);
    this.retain(item, [from]);
    return null;
  }

  private applySection(section: string, wire: unknown, wallMs: number): Refusal | null {
    const checked = checkSectionDelta(section, wire, hlcAcceptLimitMs(wallMs));
    if (!checked.ok) return checked.reason;
    if (checked.value.newest !== null) this.clock.observe(checked.value.newest, wallMs);
    this.doc.apply(section, checked.value.section);
    return null;
  }

  /** Chunks of a section state are reassembled, decoded and merged once all arrived; then the clock moves. */
  private collectChunk(item: Item, wallMs: number): Refusal | null {
    const key = `${item.stream}\u0000${item.seq}\u0000${item.parts}`;
    let chunks = this.pending.get(key);
    if (chunks === undefined) {
      if (this.pending.size >= limits.pendingStatesMax) this.pending.delete(this.pending.keys().next().value as string);
      this.pending.set(key, (chunks = new Array(item.parts).fill(undefined)));
    }
    chunks[item.part] = item.wire as Uint8Array;
    if (chunks.some((c) => c === undefined)) return null;
    this.pending.delete(key);
    const whole = concat(chunks as Uint8Array[]);
    const decoded = decodeLimited<unknown>(whole, limits.sectionBytesMax);
    if (!decoded.ok) return 'delta-malformed';
    const refusal = this.applySection(item.section, decoded.value, wallMs);
    if (refusal !== null) return refusal;
    this.vv.raise(item.stream, item.seq);
    this.count('states-adopted');
    return null;
  }

  private onSignedDoc(wire: unknown): Refusal | null {
    const parsed = signedDocFromWire(wire);
    if (!parsed.ok) return parsed.reason;
    if (parsed.value === null) return null;
    const offered = this.doc.revocations.offer(parsed.value);
    if (!offered.ok) return offered.reason;
    if (offered.value) this.doc.emit({ section: '', field: 'revocations', keys: [] });
    return null;
  }

  // --- naive full-state gossip (benchmark baseline) -----------------------------------------------------

  private sendFull(to: string): void {
    let batch: Array<[string, unknown]> = [];
    let size = 16 + this.nodeId.length;
    for (const [id, section] of this.doc.sections) {
      const wire = sectionToWire(section);
      const bytes = encodeCbor([id, wire]).length;
      // The baseline keeps it simple: it supports sections up to one datagram (the benchmark's are small).
      assert(bytes + 16 + this.nodeId.length <= limits.datagramBytesMax, 'full-state baseline: section fits a datagram');
      if (size + bytes > limits.datagramBytesMax || batch.length >= limits.batchItemsMax) {
        this.send(to, { type: 7, from: this.nodeId, sections: batch }, true);
        batch = [];
        size = 16 + this.nodeId.length;
      }
      batch.push([id, wire]);
      size += bytes;
    }
    if (batch.length > 0) this.send(to, { type: 7, from: this.nodeId, sections: batch }, true);
  }

  private onFull(sections: ReadonlyArray<readonly [string, unknown]>, wallMs: number): Refusal | null {
    for (const [id, wire] of sections) {
      const state = this.memberState(id);
      if (state !== 'member') return state === 'revoked' ? 'origin-revoked' : 'origin-unknown';
      const refusal = this.applySection(id, wire, wallMs);
      if (refusal !== null) return refusal;
    }
    return null;
  }

  // --- bookkeeping --------------------------------------------------------------------------------------

  private retain(item: Item, known: string[]): void {
    const entry: Entry = { item, index: this.nextIndex++, known };
    let byStream = this.log.get(item.stream);
    if (byStream === undefined) this.log.set(item.stream, (byStream = new Map()));
    byStream.set(item.seq, entry);
    this.retained += 1;
    this.fresh.push(entry);
  }

  private isKnown(e: Entry, peer: string): boolean {
    return e.index <= (this.syncedIndex.get(peer) ?? 0) || e.known.includes(peer);
  }

  private markKnown(peer: string, stream: string, upTo: number): void {
    for (const [seq, e] of this.log.get(stream) ?? []) if (seq <= upTo && !this.isKnown(e, peer)) e.known.push(peer);
  }

  private markAllKnown(peer: string): void {
    this.syncedIndex.set(peer, this.nextIndex - 1);
  }

  /** Drops deltas every current peer has; past retainedDeltasMax, unconfirmed ones go too (oldest streams first). */
  private collectGarbage(): void {
    let over = this.retained - limits.retainedDeltasMax;
    for (const [stream, byStream] of this.log) {
      for (const [seq, e] of byStream) {
        const confirmed = this.peers.every((p) => this.isKnown(e, p));
        if (!confirmed && over <= 0) continue;
        if (!confirmed) this.count('deltas-evicted');
        byStream.delete(seq);
        this.retained -= 1;
        over -= 1;
      }
      if (byStream.size === 0) this.log.delete(stream);
    }
    for (const peer of this.syncedIndex.keys()) if (!this.peers.includes(peer)) this.syncedIndex.delete(peer);
    assert(this.retained >= 0, 'retained count stays consistent');
  }

  // --- sending ------------------------------------------------------------------------------------------

  private sendItems(to: string, items: readonly Item[]): void {
    let batch: Item[] = [];
    let size = 16 + this.nodeId.length;
    for (const item of items) {
      const bytes = itemBytes(item);
      if ((size + bytes > limits.datagramBytesMax || batch.length >= limits.batchItemsMax) && batch.length > 0) {
        if (!this.send(to, { type: 4, from: this.nodeId, items: batch })) return;
        batch = [];
        size = 16 + this.nodeId.length;
      }
      batch.push(item);
      size += bytes;
    }
    if (batch.length > 0) this.send(to, { type: 4, from: this.nodeId, items: batch });
  }

  /** Queues one datagram; false when the round's byte budget is spent (the next round retries). */
  private send(to: string, message: Message, unbudgeted = false): boolean {
    const bytes = encodeMessage(message);
    assert(bytes.length <= limits.datagramBytesMax, `message type ${message.type} of ${bytes.length} bytes exceeds the datagram`);
    if (!unbudgeted && bytes.length > this.budgetBytes) {
      this.count('budget-exhausted');
      return false;
    }
    if (!unbudgeted) this.budgetBytes -= bytes.length;
    this.count('tx-bytes', bytes.length);
    this.count('tx-datagrams');
    this.out.push({ to, bytes });
    return true;
  }
}

function chunkEntries(entries: Array<[string, number]>, fromChars: number): Array<Array<[string, number]>> {
  const chunks: Array<Array<[string, number]>> = [[]];
  let size = 24 + fromChars + limits.digestBuckets * 2;
  for (const e of entries) {
    const bytes = e[0].length + 12;
    if (size + bytes > limits.datagramBytesMax) {
      chunks.push([]);
      size = 24 + fromChars + limits.digestBuckets * 2;
    }
    (chunks[chunks.length - 1] as Array<[string, number]>).push(e);
    size += bytes;
  }
  return chunks;
}

/** Node ids in the revocation document's payload (a CBOR array of strings); [] when it has none. */
export function revokedIds(doc: MeshDoc): Set<string> {
  const payload = doc.revocations.doc?.payload;
  if (payload === undefined) return new Set();
  const decoded = decodeLimited<unknown>(payload, limits.signedPayloadBytesMax);
  if (!decoded.ok || !isArray(decoded.value, limits.revokedIdsMax)) return new Set();
  return new Set(decoded.value.filter(isId));
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
