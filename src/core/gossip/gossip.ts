// Gossip and anti-entropy as a pure state machine: tick(wallMs) and receive(bytes, wallMs) return the
// datagrams to send; the caller does the I/O. Each round, a node sends a digest (the root of its stream
// clock and the stamp of its revocation list) to `gossipFanout` peers; on a mismatch the peers narrow it
// down by bucket and exchange only the deltas the other lacks (push-pull). Fresh deltas are also pushed on
// the next tick to a few neighbours that have not confirmed them. Deltas are retained until every current
// peer has confirmed them (delta-log.ts), then dropped; a peer that needs a dropped delta gets the
// section's full state instead, in chunks. Every message fits one datagram and a round's sends fit a byte
// budget. Protocol and claimed properties: docs/protocol/gossip.md.
import { decodeLimited, encodeCbor } from '../wire/cbor.js';
import { Counters } from '../result.js';
import { assert } from './assert.js';
import { isId } from './check.js';
import { concatBytes } from './codec.js';
import { DeltaLog } from './delta-log.js';
import { HlcClock, hlcAcceptLimitMs } from './hlc.js';
import { limits, validateLimits } from './limits.js';
import { checkSectionDelta, type MeshDoc, rebaseSection, sectionToWire, type Section } from './mesh-doc.js';
import { decodeMessage, encodeMessage, itemToWire, type DocStamp, type Item, type Message } from './messages.js';
import type { LogRecord } from './persist.js';
import { signedDocFingerprint, signedDocFromWire, signedDocToWire, type SignedDoc } from './signed-doc.js';
import { StreamClock } from './stream-clock.js';
import { incarnationAcceptLimit, parseStream, streamId } from './stream.js';
import {
  attest,
  bytesEqual,
  onItem,
  verifyAttestation,
  type Attestation,
  type WireAttestation,
  type WriterAuth,
} from './writer.js';

export type MemberState = 'member' | 'unknown' | 'revoked';
/** Who may write to and relay the mesh document: the hook for the identity layer (known, revoked nodes). */
export type Membership = (nodeId: string) => MemberState;

export interface GossipOptions {
  readonly nodeId: string;
  /** Greater than every incarnation this node used before (persisted before first use; see stream.ts). */
  readonly incarnation: number;
  readonly doc: MeshDoc;
  readonly membership: Membership;
  /** Uniform 32-bit integers: peer choice (the platform's randomness, or a seeded Rng in simulation). */
  readonly random: () => number;
  /** 'full' is naive full-state gossip, kept only to measure delta gossip against it. */
  readonly mode?: 'delta' | 'full';
  /** Receives every accepted delta, state and revocation list, to persist (see persist.ts). */
  readonly onRecord?: (record: LogRecord, own: boolean) => void;
  /**
   * Writers sign their section (writer.ts): every delta and state this node sends of its own section carries its
   * signature, and every one it accepts of another must carry a valid one by that node's certificate. Without
   * it (simulations, benchmarks) sections travel unsigned.
   */
  readonly writers?: WriterAuth;
}

export interface Outgoing {
  readonly to: string;
  readonly bytes: Uint8Array;
}

export type Refusal =
  | 'cbor-too-large'
  | 'cbor-malformed'
  | 'message-malformed'
  | 'message-type-unknown'
  | 'sender-unknown'
  | 'sender-revoked'
  | 'sender-mismatch'
  | 'origin-unknown'
  | 'origin-revoked'
  | 'delta-bad-stream'
  | 'delta-own-stream'
  | 'own-incarnation-ahead'
  | 'delta-malformed'
  | 'delta-wrong-writer'
  | 'delta-too-many-entries'
  | 'clock-future'
  | 'seq-gap-too-large'
  | 'streams-full'
  | 'sections-full'
  | 'state-too-large'
  | 'signed-doc-malformed'
  | 'signed-doc-kind'
  | 'signed-doc-too-large'
  | 'signature-invalid'
  | 'full-state-refused'
  | 'incarnation-future'
  | 'delta-unsigned'
  | 'delta-signature-invalid'
  | 'state-unsigned'
  | 'state-hash-mismatch'
  | 'state-signature-invalid'
  | 'writer-chain-changed'
  | 'writers-off'
  | (string & {});

// Encoded size of an item, computed once: batching needs it for every send of a retained delta.
const itemSizes = new WeakMap<Item, number>();
function itemBytes(item: Item): number {
  let size = itemSizes.get(item);
  if (size === undefined) itemSizes.set(item, (size = encodeCbor(itemToWire(item)).length));
  return size;
}

/** Their stamp is newer than ours, or names another document of the same version. */
const docAhead = (theirs: DocStamp, mine: DocStamp): boolean =>
  theirs[0] > mine[0] || (theirs[0] === mine[0] && theirs[1] !== mine[1]);

/** Message envelope overhead: type, sender id, array headers. */
const envelopeBytes = (from: string) => 16 + from.length;

export class Gossip {
  readonly stream: string;
  readonly incarnation: number;
  readonly clock: HlcClock;
  readonly vv = new StreamClock();
  readonly counters = new Counters();
  readonly doc: MeshDoc;
  seq = 0;
  /**
   * The highest incarnation of our own node seen from peers. Above ours, the mesh remembers a later life of
   * this node (its flash was lost or rolled back): the caller restarts with a greater one (see GossipNode).
   */
  ownIncarnationSeen = 0;
  private started = false;
  private peers: string[] = [];
  private readonly log = new DeltaLog();
  /** The one stream per node the version vector holds (its current incarnation). */
  private readonly streamOf = new Map<string, string>();
  private readonly pendingStates = new Map<
    string,
    { chunks: Array<Uint8Array | undefined>; att: WireAttestation | undefined }
  >();
  /** Per stream: its writer's checked chain and signing key (null for our own: we do not check ourselves). */
  private readonly writerKeys = new Map<string, { chain: Uint8Array; key: Uint8Array | null }>();
  /** Per stream: the newest writer attestation we checked (for ours, made); a state is sent only under one. */
  private readonly attestations = new Map<string, Attestation>();
  private readonly pendingDocs = new Map<string, Array<Uint8Array | undefined>>();
  private readonly peerDigests = new Map<string, { root: number; doc: DocStamp }>();
  private docChunks: { doc: SignedDoc; chunks: Uint8Array[] } | null = null;
  private readonly toldThisRound = new Set<string>();
  /** A revocation list adopted since the last tick: pushed to every peer on the next one (revocation is urgent). */
  private docPushPending = false;
  private ticks = 0;
  private rounds = 0;
  private budgetBytes: number = limits.roundBytesMax;
  private out: Outgoing[] = [];

  constructor(private readonly options: GossipOptions) {
    validateLimits();
    assert(isId(options.nodeId), 'node ids are ids');
    assert(options.nodeId.length <= limits.nodeIdCharsMax, 'node ids are short enough for a stream id');
    assert(!options.nodeId.includes('~'), 'node ids have no ~');
    assert(Number.isSafeInteger(options.incarnation), 'incarnations are integers');
    assert(options.incarnation > 0, 'incarnations start at 1');
    assert(options.incarnation <= limits.incarnationMax, 'incarnations fit 32 bits');
    this.doc = options.doc;
    this.incarnation = options.incarnation;
    this.stream = streamId(options.nodeId, options.incarnation);
    this.clock = new HlcClock(this.stream);
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  get retainedDeltas(): number {
    return this.log.size;
  }

  get peerList(): readonly string[] {
    return this.peers;
  }

  /** The neighbours to gossip with (from batman-adv, or the simulated topology). */
  setPeers(peers: readonly string[]): void {
    this.peers = [...new Set(peers)].filter((p) => p !== this.nodeId).slice(0, limits.peersMax);
  }

  count(name: string, n = 1): void {
    this.counters.add(name, n);
  }

  /** The last digest `peer` sent us equals ours: as far as we know, it holds the same document. */
  isSyncedWith(peer: string): boolean {
    const theirs = this.peerDigests.get(peer);
    return (
      theirs !== undefined &&
      theirs.root === this.vv.root() &&
      !docAhead(theirs.doc, this.docStamp()) &&
      !docAhead(this.docStamp(), theirs.doc)
    );
  }

  /**
   * Starts this incarnation: our section (restored from flash, or empty) is rebased into it and becomes the
   * stream's first entry, a state that replaces any older incarnation's section everywhere (including writes
   * this node made but lost in a crash). Only a first incarnation with nothing restored has no older one to
   * replace, and starts with an empty stream.
   */
  start(wallMs: number): void {
    assert(!this.started, 'started once');
    assert(this.incarnation > this.doc.incarnation(this.nodeId), 'a new incarnation is greater than the restored one');
    this.started = true;
    const auth = this.options.writers;
    if (auth !== undefined) this.writerKeys.set(this.stream, { chain: auth.chain, key: null });
    if (this.incarnation === 1 && this.doc.incarnation(this.nodeId) === 0) return;
    const base = rebaseSection(this.doc.sections.get(this.nodeId) ?? {}, this.stream, () => this.clock.now(wallMs));
    const bytes = encodeCbor(sectionToWire(base));
    assert(bytes.length <= limits.sectionBytesMax, `own section of ${bytes.length} bytes exceeds sectionBytesMax`);
    this.doc.apply(this.nodeId, this.incarnation, base, 'state');
    this.seq = 1;
    this.track(this.nodeId, this.stream);
    this.vv.add(this.stream, 1);
    // The state is its own delta: a receiver checks it by the state hash.
    const att = auth === undefined ? undefined : this.attested(this.stream, attest(auth, this.stream, 1, bytes, bytes));
    this.log.retain(this.stream, 1, chunkState(this.stream, 1, bytes, att), []);
    this.options.onRecord?.({ kind: 'state', stream: this.stream, seq: 1, bytes, att: att && onItem(att, true) }, true);
    assert(this.vv.max(this.stream) === 1, "the rebased section is our stream's first entry");
    assert(this.doc.incarnation(this.nodeId) === this.incarnation, 'our section carries this incarnation');
  }

  /** This node is on the revocation list: it writes nothing more (peers would refuse it anyway). */
  get revoked(): boolean {
    return this.doc.revoked.has(this.nodeId);
  }

  /** Commits a local section delta (built by local.ts) as the next delta of our stream. */
  commit(delta: Section): void {
    assert(this.started, 'start() before commit()');
    assert(!this.revoked, 'a revoked node does not commit (local.ts refuses first)');
    assert(this.vv.max(this.stream) === this.seq, 'our stream holds every delta we committed, and no other');
    this.seq += 1;
    const wire = sectionToWire(delta);
    const unsigned: Item = { stream: this.stream, seq: this.seq, wire, part: 0, parts: 0 };
    const bytes = itemBytes(unsigned);
    // Limits on entries and string lengths keep every local delta within one datagram.
    assert(bytes <= limits.deltaBytesMax, `local delta of ${bytes} bytes exceeds deltaBytesMax`);
    const outcome = this.doc.apply(this.nodeId, this.incarnation, delta, this.seq === 1 ? 'state' : 'delta');
    assert(outcome !== 'stale', 'our own delta is not stale');
    assert(outcome !== 'ahead', 'our own delta is not ahead of our section');
    if (this.seq === 1) this.track(this.nodeId, this.stream);
    this.vv.add(this.stream, this.seq);
    // Signed after the join: the attestation names the section as it now is.
    const auth = this.options.writers;
    const att =
      auth === undefined
        ? undefined
        : onItem(
            this.attested(
              this.stream,
              attest(auth, this.stream, this.seq, this.sectionBytes(this.nodeId), encodeCbor(wire)),
            ),
            false,
          );
    const item: Item = att === undefined ? unsigned : { ...unsigned, att };
    this.log.retain(this.stream, this.seq, [item], []);
    this.options.onRecord?.({ kind: 'delta', stream: this.stream, seq: this.seq, wire, att }, true);
    assert(this.vv.max(this.stream) === this.seq, 'the committed delta is the tip of our stream');
  }

  /** Offers a revocation list from outside the mesh (the operator's CLI, the CA); it then spreads. */
  offerDoc(doc: SignedDoc): string | null {
    const offered = this.doc.offerRevocations(doc);
    if (!offered.ok) return offered.reason;
    if (offered.value) this.adoptedDoc(doc);
    return null;
  }

  /** One tick of the node's timer (the wall clock is not needed yet: rounds count ticks). */
  tick(_wallMs?: number): Outgoing[] {
    assert(this.started || this.options.mode === 'full', 'start() before tick()');
    this.out = [];
    this.ticks += 1;
    const roundTick = (this.ticks - 1) % limits.roundTicks === 0;
    if (roundTick) this.beginRound();
    // Fresh deltas go before the digests, so a digest does not start an exchange the push makes moot.
    if (this.options.mode !== 'full') this.pushFresh();
    if (this.docPushPending) this.pushDoc();
    if (roundTick) this.sendDigests();
    return this.out;
  }

  /**
   * One datagram from outside. `transportSender` is the node the transport vouches for (the peer whose
   * address it came from; later, the secure channel's authenticated peer): a message claiming to be from
   * anyone else is refused.
   */
  receive(bytes: Uint8Array, wallMs: number, transportSender?: string): Outgoing[] {
    this.out = [];
    this.count('rx-bytes', bytes.length);
    this.count('rx-datagrams');
    const refusal = this.handle(bytes, wallMs, transportSender);
    if (refusal !== null) this.count(`refused:${refusal}`);
    return this.out;
  }

  /** Re-applies a persisted record at load (before start): the same checks, but no clock horizon. */
  replay(record: LogRecord): string | null {
    assert(!this.started, 'replay before start()');
    if (record.kind === 'doc') {
      const parsed = signedDocFromWire(record.wire);
      if (!parsed.ok || parsed.value === null) return parsed.ok ? 'signed-doc-malformed' : parsed.reason;
      return this.offerDoc(parsed.value);
    }
    const parsed = parseStream(record.stream);
    if (parsed === null) return 'delta-bad-stream';
    const state = this.memberState(parsed.node);
    if (state !== 'member') return state === 'revoked' ? 'origin-revoked' : 'origin-unknown';
    if (record.kind === 'chain') return this.onChain('', record.stream, record.bytes);
    if (record.kind === 'state')
      return this.adoptState('', record.stream, record.seq, parsed, record.bytes, Infinity, record.att);
    const item: Item = { stream: record.stream, seq: record.seq, wire: record.wire, part: 0, parts: 0 };
    return this.acceptDelta('', record.att === undefined ? item : { ...item, att: record.att }, parsed, Infinity);
  }

  /** Restores one stream's version vector entry from a snapshot (after its section). */
  restoreStream(stream: string, max: number, gaps: readonly number[]): boolean {
    const parsed = parseStream(stream);
    if (parsed === null || this.doc.incarnation(parsed.node) !== parsed.incarnation || this.vv.known(stream))
      return false;
    if (this.vv.size >= limits.streamsMax || gaps.length > limits.streamGapMax) return false;
    this.track(parsed.node, stream);
    this.vv.raise(stream, max);
    for (const seq of gaps) if (seq > max + 1) this.vv.add(stream, seq);
    return true;
  }

  private handle(bytes: Uint8Array, wallMs: number, transportSender: string | undefined): Refusal | null {
    const decoded = decodeMessage(bytes);
    if (!decoded.ok) return decoded.reason;
    const m = decoded.value;
    if (transportSender !== undefined && m.from !== transportSender) return 'sender-mismatch';
    const sender = this.memberState(m.from);
    if (sender === 'revoked') return this.tellRevoked(m.from);
    if (sender !== 'member') return 'sender-unknown';
    if (m.from === this.nodeId) return 'sender-unknown';
    switch (m.type) {
      case 1:
        return this.onSyn(m.from, m.root, m.doc);
      case 2:
        return this.onBuckets(m.from, m.root, m.doc, m.hashes);
      case 3:
        return this.onVv(m.from, m.buckets, m.entries, m.reply);
      case 4:
        return this.onItems(m.from, m.items, wallMs);
      case 6:
        return this.onDocChunk(m.from, m.version, m.part, m.parts, m.chunk);
      case 8:
        return this.onChain(m.from, m.stream, m.chain);
      case 7:
        // The naive full-state baseline exists to measure delta gossip against: a delta node refuses it (it
        // would bypass the stream, sequence and incarnation checks deltas get, and anti-entropy cannot see it).
        return this.options.mode === 'full' ? this.onFull(m.sections, wallMs) : 'full-state-refused';
    }
  }

  /** A revoked node still talking gets the list that revokes it (once per round), so it can go quiet. */
  private tellRevoked(node: string): Refusal {
    if (!this.toldThisRound.has(node)) {
      this.toldThisRound.add(node);
      this.sendDoc(node);
    }
    return 'sender-revoked';
  }

  private memberState(nodeId: string): MemberState {
    return this.doc.revoked.has(nodeId) ? 'revoked' : this.options.membership(nodeId);
  }

  private docStamp(): DocStamp {
    const doc = this.doc.revocations.doc;
    return [doc?.version ?? 0, signedDocFingerprint(doc)];
  }

  // --- rounds -------------------------------------------------------------------------------------------

  private beginRound(): void {
    this.budgetBytes = limits.roundBytesMax;
    this.rounds += 1;
    this.toldThisRound.clear();
    // Garbage collection is not urgent: every gcRounds rounds, or at once when over the retention limit.
    if (this.rounds % limits.gcRounds === 0 || this.log.size > limits.retainedDeltasMax) {
      const evicted = this.log.collect(this.peers, limits.retainedDeltasMax);
      if (evicted > 0) this.count('deltas-evicted', evicted);
    }
  }

  private sendDigests(): void {
    // A revoked node goes quiet: its peers refuse everything it sends.
    if (this.revoked) return;
    for (const to of this.pickPeers(limits.gossipFanout, () => true)) {
      if (this.options.mode === 'full') this.sendFull(to);
      else this.send(to, { type: 1, from: this.nodeId, root: this.vv.root(), doc: this.docStamp() });
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
    const fresh = this.log.takeFresh();
    if (fresh.length === 0 || this.revoked) return;
    const lacking = (peer: string) => fresh.some((e) => !this.log.isKnown(e, peer));
    for (const to of this.pickPeers(limits.pushFanout, lacking)) {
      this.sendItems(
        to,
        fresh.filter((e) => !this.log.isKnown(e, to)).flatMap((e) => e.items),
      );
    }
  }

  // --- anti-entropy handlers ----------------------------------------------------------------------------

  private onSyn(from: string, root: number, doc: DocStamp): null {
    this.peerDigests.set(from, { root, doc });
    const mine = this.docStamp();
    if (docAhead(mine, doc)) this.sendDoc(from);
    const equal = root === this.vv.root();
    if (equal) this.log.markAllKnown(from);
    // A reply names our digest: the buckets when the roots differ, and our stamp so a newer list comes back.
    if (!equal || docAhead(doc, mine))
      this.send(from, {
        type: 2,
        from: this.nodeId,
        root: this.vv.root(),
        doc: mine,
        hashes: equal ? [] : [...this.vv.bucketsA],
      });
    return null;
  }

  private onBuckets(from: string, root: number, doc: DocStamp, hashes: readonly number[]): null {
    this.peerDigests.set(from, { root, doc });
    if (docAhead(this.docStamp(), doc)) this.sendDoc(from);
    if (root === this.vv.root()) this.log.markAllKnown(from);
    if (hashes.length === 0 || root === this.vv.root()) return null;
    const differing = new Set<number>();
    for (let i = 0; i < limits.digestBuckets; i++) if (hashes[i] !== this.vv.bucketsA[i]) differing.add(i);
    // Roots differ but no bucket does: a 32-bit collision in a bucket; compare everything.
    if (differing.size === 0) for (let i = 0; i < limits.digestBuckets; i++) differing.add(i);
    this.sendVv(from, differing, true);
    return null;
  }

  private onVv(
    from: string,
    buckets: readonly number[],
    entries: ReadonlyArray<readonly [string, number]>,
    reply: boolean,
  ): null {
    const theirs = new Map(entries);
    const covered = new Set(buckets);
    let weLack = false;
    for (const [stream, max] of theirs) {
      this.log.markKnownUpTo(from, stream, Math.min(max, this.vv.max(stream)));
      if (max > this.vv.max(stream) && this.wanted(stream)) weLack = true;
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

  /** A stream we would accept deltas of: a member's current or newer incarnation. */
  private wanted(stream: string): boolean {
    const parsed = parseStream(stream);
    return (
      parsed !== null &&
      parsed.incarnation >= this.doc.incarnation(parsed.node) &&
      this.memberState(parsed.node) === 'member'
    );
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

  /**
   * Deltas (have, mine] of a stream from the log; the section's state instead when the peer has nothing of
   * the stream (it may hold an older incarnation, which only a state replaces) or the log no longer has them.
   */
  private itemsFor(stream: string, have: number, mine: number): Item[] {
    if (have === 0) return this.stateItems(stream, mine);
    const items: Item[] = [];
    // Bounded by the log: the loop ends at the first delta the log no longer holds.
    for (let seq = have + 1; seq <= mine; seq++) {
      const e = this.log.get(stream, seq);
      if (e === undefined) return this.stateItems(stream, mine);
      items.push(...e.items);
    }
    return items;
  }

  private stateItems(stream: string, seq: number): Item[] {
    const parsed = parseStream(stream);
    const state = parsed === null ? undefined : this.doc.sections.get(parsed.node);
    if (parsed === null || state === undefined || this.doc.incarnation(parsed.node) !== parsed.incarnation) return [];
    const bytes = encodeCbor(sectionToWire(state));
    // Bounded by construction (entries per section, string lengths); checked again on reassembly.
    assert(bytes.length <= limits.sectionBytesMax, `section ${parsed.node} is ${bytes.length} bytes`);
    // With signing writers, a state goes only under its writer's signature: ours at our tip, or the newest one
    // we checked when our state is exactly what it signed (a gap, or a delta beyond it, and we send deltas only).
    const auth = this.options.writers;
    const att = this.attestations.get(stream);
    if (auth !== undefined && (att === undefined || att.seq !== seq || !bytesEqual(auth.hash(bytes), att.stateHash))) {
      this.count('state-unattested');
      return [];
    }
    this.count('state-transfers');
    return chunkState(stream, seq, bytes, auth === undefined ? undefined : att);
  }

  // --- receiving deltas and states ----------------------------------------------------------------------

  /** Each item is accepted or refused on its own (and counted); the message itself was well-formed. */
  private onItems(from: string, items: readonly Item[], wallMs: number): null {
    for (const item of items) {
      const refusal = this.acceptItem(from, item, wallMs);
      if (refusal !== null) this.count(`refused:${refusal}`);
    }
    return null;
  }

  private acceptItem(from: string, item: Item, wallMs: number): Refusal | null {
    const parsed = parseStream(item.stream);
    if (parsed === null) return 'delta-bad-stream';
    if (parsed.incarnation > incarnationAcceptLimit(wallMs)) return 'incarnation-future';
    const state = this.memberState(parsed.node);
    if (state !== 'member') return state === 'revoked' ? 'origin-revoked' : 'origin-unknown';
    if (parsed.node === this.nodeId) return this.ownItem(from, item, parsed.incarnation);
    if (parsed.incarnation < this.doc.incarnation(parsed.node)) return this.stale('stream-retired');
    return item.parts > 0
      ? this.stateChunk(from, item, parsed, wallMs)
      : this.acceptDelta(from, item, parsed, hlcAcceptLimitMs(wallMs));
  }

  /** Our own stream comes back from peers: nobody can have a delta of it we have not written. */
  private ownItem(from: string, item: Item, incarnation: number): Refusal | null {
    if (incarnation < this.incarnation) return this.stale('stream-retired');
    if (incarnation > this.incarnation) {
      this.ownIncarnationSeen = Math.max(this.ownIncarnationSeen, incarnation);
      return 'own-incarnation-ahead';
    }
    if (item.seq > this.seq) return 'delta-own-stream';
    this.log.markKnown(from, item.stream, item.seq);
    this.count('duplicates');
    return null;
  }

  private stale(reason: string): null {
    this.count(`stale:${reason}`);
    return null;
  }

  /** Not refused, not taken: anti-entropy brings what it waits for (a state, a chain). */
  private deferred(reason: string): null {
    this.count(`deferred:${reason}`);
    return null;
  }

  // --- writers (writer.ts) ------------------------------------------------------------------------------

  /** Keeps the newest checked attestation of a stream; returns the one given. */
  private attested(stream: string, att: Attestation): Attestation {
    const held = this.attestations.get(stream);
    if (held === undefined || held.seq <= att.seq) this.attestations.set(stream, att);
    return att;
  }

  private sectionBytes(node: string): Uint8Array {
    return encodeCbor(sectionToWire(this.doc.sections.get(node) ?? {}));
  }

  /**
   * A writer's chain for one of its streams. The first checked chain of a stream stays: a relay cannot swap in
   * another key for it (it could only make that node's writes fail here). The writer itself may replace it.
   */
  private onChain(from: string, stream: string, chain: Uint8Array): Refusal | null {
    const auth = this.options.writers;
    if (auth === undefined) return 'writers-off';
    const parsed = parseStream(stream);
    if (parsed === null) return 'delta-bad-stream';
    const state = this.memberState(parsed.node);
    if (state !== 'member') return state === 'revoked' ? 'origin-revoked' : 'origin-unknown';
    if (parsed.node === this.nodeId) return this.stale('own-chain');
    if (parsed.incarnation < this.doc.incarnation(parsed.node)) return this.stale('stream-retired');
    const known = this.writerKeys.get(stream);
    if (known !== undefined && bytesEqual(known.chain, chain)) {
      this.count('duplicates');
      return null;
    }
    const key = auth.checkChain(parsed.node, chain);
    if (!key.ok) return `writer-${key.reason}`;
    if (known !== undefined && from !== parsed.node && from !== '') return 'writer-chain-changed';
    // One chain per node waits for its stream's state: a newer stream's replaces it, so the map stays within
    // the sections we hold plus one per member.
    for (const other of [...this.writerKeys.keys()]) {
      const o = parseStream(other);
      if (o?.node === parsed.node && other !== stream && !this.vv.known(other)) this.writerKeys.delete(other);
    }
    if (known === undefined && this.writerKeys.size >= limits.streamsMax + limits.sectionsMax) return 'writers-full';
    this.writerKeys.set(stream, { chain, key: key.value });
    this.options.onRecord?.({ kind: 'chain', stream, bytes: chain }, false);
    return null;
  }

  /** Writers' chains and attestations of the streams we hold, for a snapshot: [stream, chain, attestation | null]. */
  writersToWire(): Array<[string, Uint8Array, unknown[] | null]> {
    const out: Array<[string, Uint8Array, unknown[] | null]> = [];
    for (const stream of this.vv.streamIds().sort()) {
      const writer = this.writerKeys.get(stream);
      if (writer === undefined || writer.key === null) continue;
      const att = this.attestations.get(stream);
      out.push([
        stream,
        writer.chain,
        att === undefined ? null : [att.seq, att.stateHash, att.deltaHash, att.signature],
      ]);
    }
    return out;
  }

  /** Restores one writer from a snapshot (after the streams): its chain and attestation are checked again. */
  restoreWriter(stream: string, chain: Uint8Array, att: Attestation | null): boolean {
    const auth = this.options.writers;
    const parsed = parseStream(stream);
    if (auth === undefined || parsed === null || !this.vv.known(stream) || parsed.node === this.nodeId) return false;
    const key = auth.checkChain(parsed.node, chain);
    if (!key.ok) return false;
    this.writerKeys.set(stream, { chain, key: key.value });
    if (att !== null && verifyAttestation(auth, stream, att, key.value)) this.attested(stream, att);
    return true;
  }

  private acceptDelta(
    from: string,
    item: Item,
    parsed: { node: string; incarnation: number },
    acceptUpToMs: number,
  ): Refusal | null {
    const current = this.doc.incarnation(parsed.node);
    if (parsed.incarnation < current) return this.stale('stream-retired');
    // A delta of a newer incarnation than the section we hold waits: anti-entropy brings its state first
    // (joining the delta alone would drop the rest of the section until then). A new section needs no wait.
    if (parsed.incarnation > current && current > 0) return this.deferred('incarnation-ahead');
    if (this.vv.has(item.stream, item.seq)) {
      if (from !== '') this.log.markKnown(from, item.stream, item.seq);
      this.count('duplicates');
      return null;
    }
    if (current === 0 && this.doc.sections.size >= limits.sectionsMax) return 'sections-full';
    if (!this.vv.known(item.stream) && this.vv.size >= limits.streamsMax) return 'streams-full';
    if (
      item.seq > this.vv.max(item.stream) + limits.streamGapMax ||
      this.vv.gapCount(item.stream) >= limits.streamGapMax
    )
      return 'seq-gap-too-large';
    const checked = checkSectionDelta(item.stream, item.wire, acceptUpToMs);
    if (!checked.ok) return checked.reason;
    let att: Attestation | undefined;
    // Our own flash is not checked against ourselves: a replayed delta of an older life of ours.
    const auth = from === '' && parsed.node === this.nodeId ? undefined : this.options.writers;
    if (auth !== undefined) {
      if (item.att === undefined) return 'delta-unsigned';
      const key = this.writerKeys.get(item.stream)?.key;
      // No chain for the stream yet: anti-entropy brings the chain with the section's state.
      if (key == null) return this.deferred('writer-unknown');
      att = {
        seq: item.seq,
        stateHash: item.att.stateHash,
        deltaHash: auth.hash(encodeCbor(item.wire)),
        signature: item.att.signature,
      };
      if (!verifyAttestation(auth, item.stream, att, key)) return 'delta-signature-invalid';
    }
    this.doc.apply(parsed.node, parsed.incarnation, checked.value, current === 0 ? 'state' : 'delta');
    this.track(parsed.node, item.stream);
    this.vv.add(item.stream, item.seq);
    if (att !== undefined) this.attested(item.stream, att);
    this.log.retain(item.stream, item.seq, [item], from === '' ? [] : [from]);
    this.options.onRecord?.(
      { kind: 'delta', stream: item.stream, seq: item.seq, wire: item.wire, att: item.att },
      false,
    );
    return null;
  }

  /** Chunks of a section state are reassembled, then decoded and adopted as one value. */
  private stateChunk(
    from: string,
    item: Item,
    parsed: { node: string; incarnation: number },
    wallMs: number,
  ): Refusal | null {
    if (parsed.incarnation === this.doc.incarnation(parsed.node) && item.seq <= this.vv.max(item.stream)) {
      this.count('duplicates');
      return null;
    }
    const key = `${item.stream}\u0000${item.seq}\u0000${item.parts}`;
    let pending = this.pendingStates.get(key);
    if (pending === undefined) {
      if (this.pendingStates.size >= limits.pendingStatesMax)
        this.pendingStates.delete(this.pendingStates.keys().next().value as string);
      pending = { chunks: new Array<Uint8Array | undefined>(item.parts).fill(undefined), att: undefined };
      this.pendingStates.set(key, pending);
    }
    pending.chunks[item.part] = item.wire as Uint8Array;
    if (item.part === 0 && item.att !== undefined) pending.att = item.att;
    if (pending.chunks.some((c) => c === undefined)) return null;
    this.pendingStates.delete(key);
    const whole = concatBytes(pending.chunks as Uint8Array[]);
    if (whole.length > limits.sectionBytesMax) return 'state-too-large';
    return this.adoptState(from, item.stream, item.seq, parsed, whole, hlcAcceptLimitMs(wallMs), pending.att);
  }

  private adoptState(
    from: string,
    stream: string,
    seq: number,
    parsed: { node: string; incarnation: number },
    bytes: Uint8Array,
    acceptUpToMs: number,
    wireAtt?: WireAttestation,
  ): Refusal | null {
    const current = this.doc.incarnation(parsed.node);
    if (parsed.incarnation < current) return this.stale('stream-retired');
    if (current === 0 && this.doc.sections.size >= limits.sectionsMax) return 'sections-full';
    if (!this.vv.known(stream) && this.vv.size >= limits.streamsMax) return 'streams-full';
    let att: Attestation | undefined;
    const auth = from === '' && parsed.node === this.nodeId ? undefined : this.options.writers;
    if (auth !== undefined) {
      if (wireAtt?.deltaHash === undefined) return 'state-unsigned';
      const key = this.writerKeys.get(stream)?.key;
      if (key == null) return this.deferred('writer-unknown');
      if (!bytesEqual(auth.hash(bytes), wireAtt.stateHash)) return 'state-hash-mismatch';
      att = { seq, stateHash: wireAtt.stateHash, deltaHash: wireAtt.deltaHash, signature: wireAtt.signature };
      if (!verifyAttestation(auth, stream, att, key)) return 'state-signature-invalid';
    }
    const decoded = decodeLimited<unknown>(bytes, limits.sectionBytesMax);
    if (!decoded.ok) return 'delta-malformed';
    const checked = checkSectionDelta(stream, decoded.value, acceptUpToMs);
    if (!checked.ok) return checked.reason;
    this.doc.apply(parsed.node, parsed.incarnation, checked.value, 'state');
    this.track(parsed.node, stream);
    this.vv.raise(stream, seq);
    if (att !== undefined) this.attested(stream, att);
    this.log.retain(stream, seq, chunkState(stream, seq, bytes, att), from === '' ? [] : [from]);
    this.options.onRecord?.({ kind: 'state', stream, seq, bytes, att: att && onItem(att, true) }, false);
    this.count('states-adopted');
    return null;
  }

  /** `stream` is now the node's only stream: an older incarnation's is retired everywhere we hold it. */
  private track(node: string, stream: string): void {
    const old = this.streamOf.get(node);
    if (old === stream) return;
    if (old !== undefined) this.forgetStream(old);
    this.streamOf.set(node, stream);
  }

  private forgetStream(stream: string): void {
    this.vv.retire(stream);
    this.log.dropStream(stream);
    this.writerKeys.delete(stream);
    this.attestations.delete(stream);
    for (const key of [...this.pendingStates.keys()])
      if (key.startsWith(`${stream}\u0000`)) this.pendingStates.delete(key);
  }

  // --- the revocation list ------------------------------------------------------------------------------

  private sendDoc(to: string): void {
    const doc = this.doc.revocations.doc;
    if (doc === null) return;
    if (this.docChunks?.doc !== doc)
      this.docChunks = { doc, chunks: chunkBytes(encodeCbor(signedDocToWire(doc)), limits.chunkBytes) };
    const { chunks } = this.docChunks;
    chunks.forEach((chunk, part) =>
      this.send(to, { type: 6, from: this.nodeId, version: doc.version, part, parts: chunks.length, chunk }),
    );
  }

  private onDocChunk(from: string, version: number, part: number, parts: number, chunk: Uint8Array): Refusal | null {
    if (version < this.doc.revocations.version) return this.stale('doc-version');
    const key = `${from}\u0000${version}\u0000${parts}`;
    let chunks = this.pendingDocs.get(key);
    if (chunks === undefined) {
      if (this.pendingDocs.size >= limits.pendingDocsMax)
        this.pendingDocs.delete(this.pendingDocs.keys().next().value as string);
      this.pendingDocs.set(key, (chunks = new Array<Uint8Array | undefined>(parts).fill(undefined)));
    }
    chunks[part] = chunk;
    if (chunks.some((c) => c === undefined)) return null;
    this.pendingDocs.delete(key);
    const decoded = decodeLimited<unknown>(concatBytes(chunks as Uint8Array[]), limits.signedDocBytesMax);
    if (!decoded.ok) return 'signed-doc-malformed';
    const parsed = signedDocFromWire(decoded.value);
    if (!parsed.ok) return parsed.reason;
    if (parsed.value === null || parsed.value.version !== version) return 'signed-doc-malformed';
    return this.offerDoc(parsed.value);
  }

  /**
   * A newly adopted list goes to every peer at once, not only to the round's fanout: each node that adopts it
   * passes it on, so it floods the mesh in one tick per hop (once per version per node: at most peersMax sends).
   */
  private pushDoc(): void {
    this.docPushPending = false;
    for (const peer of this.peers) {
      if (this.doc.revoked.has(peer)) continue;
      this.count('doc-pushes');
      this.sendDoc(peer);
    }
  }

  /** A new revocation list: revoked nodes' sections, streams and retained deltas go. */
  private adoptedDoc(doc: SignedDoc): void {
    this.count('docs-adopted');
    if (this.started) this.docPushPending = true;
    for (const node of this.doc.revoked) {
      const stream = this.streamOf.get(node);
      if (stream !== undefined) this.forgetStream(stream);
      this.streamOf.delete(node);
      this.doc.removeSection(node);
    }
    this.options.onRecord?.({ kind: 'doc', wire: signedDocToWire(doc) }, true);
  }

  // --- naive full-state gossip (benchmark baseline) -----------------------------------------------------

  private sendFull(to: string): void {
    let batch: Array<[string, number, unknown]> = [];
    let size = envelopeBytes(this.nodeId);
    for (const [id, section] of this.doc.sections) {
      const entry: [string, number, unknown] = [id, this.doc.incarnation(id), sectionToWire(section)];
      const bytes = encodeCbor(entry).length;
      // The baseline keeps it simple: it supports sections up to one datagram (the benchmark's are small).
      assert(
        bytes + envelopeBytes(this.nodeId) <= limits.datagramBytesMax,
        'full-state baseline: a section fits a datagram',
      );
      if (size + bytes > limits.datagramBytesMax || batch.length >= limits.batchItemsMax) {
        this.send(to, { type: 7, from: this.nodeId, sections: batch }, true);
        batch = [];
        size = envelopeBytes(this.nodeId);
      }
      batch.push(entry);
      size += bytes;
    }
    if (batch.length > 0) this.send(to, { type: 7, from: this.nodeId, sections: batch }, true);
  }

  private onFull(sections: ReadonlyArray<readonly [string, number, unknown]>, wallMs: number): Refusal | null {
    for (const [id, incarnation, wire] of sections) {
      const state = this.memberState(id);
      if (state !== 'member') return state === 'revoked' ? 'origin-revoked' : 'origin-unknown';
      if (id === this.nodeId) continue; // only we write our section
      if (parseStream(streamId(id, incarnation)) === null) return 'delta-bad-stream';
      if (incarnation > incarnationAcceptLimit(wallMs)) return 'incarnation-future';
      const checked = checkSectionDelta(streamId(id, incarnation), wire, hlcAcceptLimitMs(wallMs));
      if (!checked.ok) return checked.reason;
      this.doc.apply(id, incarnation, checked.value, 'state');
    }
    return null;
  }

  // --- sending ------------------------------------------------------------------------------------------

  private sendItems(to: string, items: readonly Item[]): void {
    // A state may reach a node that has never seen its writer: the writer's chain goes first.
    if (this.options.writers !== undefined)
      for (const item of items) {
        if (item.parts === 0 || item.part !== 0) continue;
        const chain = this.writerKeys.get(item.stream)?.chain;
        if (chain !== undefined && !this.send(to, { type: 8, from: this.nodeId, stream: item.stream, chain })) return;
      }
    let batch: Item[] = [];
    let size = envelopeBytes(this.nodeId);
    for (const item of items) {
      const bytes = itemBytes(item);
      if ((size + bytes > limits.datagramBytesMax || batch.length >= limits.batchItemsMax) && batch.length > 0) {
        if (!this.send(to, { type: 4, from: this.nodeId, items: batch })) return;
        batch = [];
        size = envelopeBytes(this.nodeId);
      }
      batch.push(item);
      size += bytes;
    }
    if (batch.length > 0) this.send(to, { type: 4, from: this.nodeId, items: batch });
  }

  /** Queues one datagram; false when the round's byte budget is spent (the next round retries). */
  private send(to: string, message: Message, unbudgeted = false): boolean {
    const bytes = encodeMessage(message);
    assert(
      bytes.length <= limits.datagramBytesMax,
      `message type ${message.type} of ${bytes.length} bytes exceeds the datagram`,
    );
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

/** A section state's CBOR bytes as chunk items covering `stream` up to `seq`. */
function chunkState(stream: string, seq: number, bytes: Uint8Array, att?: Attestation): Item[] {
  const chunks = chunkBytes(bytes, limits.chunkBytes);
  return chunks.map((wire, part) =>
    part === 0 && att !== undefined
      ? { stream, seq, wire, part, parts: chunks.length, att: onItem(att, true) }
      : { stream, seq, wire, part, parts: chunks.length },
  );
}

function chunkBytes(bytes: Uint8Array, size: number): Uint8Array[] {
  const parts = Math.max(1, Math.ceil(bytes.length / size));
  return Array.from({ length: parts }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
}

function chunkEntries(entries: Array<[string, number]>, fromChars: number): Array<Array<[string, number]>> {
  const chunks: Array<Array<[string, number]>> = [[]];
  const overhead = 24 + fromChars + limits.digestBuckets * 2;
  let size = overhead;
  for (const e of entries) {
    const bytes = e[0].length + 12;
    if (size + bytes > limits.datagramBytesMax) {
      chunks.push([]);
      size = overhead;
    }
    (chunks[chunks.length - 1] as Array<[string, number]>).push(e);
    size += bytes;
  }
  return chunks;
}
