// Every bound of the CRDT and gossip capability, with its unit. Relationships between them are
// asserted once, in validateLimits(), which the gossip engine calls at construction.
import { assert } from './assert.js';

export const limits = {
  // --- wire ---
  /** One gossip datagram, CBOR-encoded; below the 1280-byte IPv6 minimum MTU minus headers. */
  datagramBytesMax: 1200,
  /** A persisted snapshot or log record decoded from flash. */
  snapshotBytesMax: 4 * 1024 * 1024,
  /** Node and stream ids, keys, version strings. */
  idCharsMax: 64,
  keyCharsMax: 64,
  stringCharsMax: 64,

  // --- CRDT state ---
  /** Entries in one LWW map, OR map or OR set (per section). */
  mapEntriesMax: 256,
  /** Dots kept outside the version vector (out-of-order arrivals) per causal context. */
  cloudDotsMax: 256,
  /** Replicas named in one causal context or PN counter. */
  replicasMax: 64,
  /** Sections (one per node) in the mesh document. */
  sectionsMax: 4096,
  /** Signed document payload (e.g. the revocation list); must fit one datagram with its envelope. */
  signedPayloadBytesMax: 900,
  /** One section's full state, CBOR-encoded; sent as up to sectionChunksMax chunks when a peer needs it. */
  sectionBytesMax: 16 * 1024,
  sectionChunkBytes: 900,
  sectionChunksMax: 20,
  /** Per section (one node's share of the mesh document): neighbours, component versions, named counters. */
  neighboursMax: 16,
  versionsMax: 16,
  countersMax: 16,
  /** Revoked node ids listed in the revocation document. */
  revokedIdsMax: 256,

  // --- hybrid logical clock ---
  /** Wall clock below this (2024-01-01T00:00:00Z) means "not yet set by NTP". */
  wallClockFloorMs: 1_704_067_200_000,
  /** A synced node refuses timestamps further ahead of its wall clock than this. */
  clockAheadMsMax: 5 * 60 * 1000,
  /** An unsynced node (clock below the floor) accepts timestamps up to floor + this. */
  unsyncedHorizonMs: 5 * 365 * 24 * 3600 * 1000,
  /** HLC logical counter; on overflow the clock moves 1 ms ahead instead. */
  hlcCounterMax: 0xffff,

  // --- anti-entropy ---
  /** Streams (node incarnations) tracked in the version vector. */
  streamsMax: 8192,
  /** Out-of-order sequence numbers remembered per stream before refusing further gaps. */
  streamGapMax: 64,
  /** Neighbours we gossip with. */
  peersMax: 16,
  /** Peers contacted per anti-entropy round. */
  gossipFanout: 2,
  /** Peers a fresh delta is pushed to on the next tick. */
  pushFanout: 3,
  /** Ticks between anti-entropy rounds. */
  roundTicks: 10,
  /** Bytes this node may send per round (all messages). */
  roundBytesMax: 64 * 1024,
  /** Digest buckets (stream id hash mod this). */
  digestBuckets: 64,
  /** Rounds between two garbage collections of confirmed deltas. */
  gcRounds: 5,
  /** Retained deltas for peers that have not confirmed them; oldest dropped past this. */
  retainedDeltasMax: 4096,
  /** Section state transfers being reassembled at once. */
  pendingStatesMax: 64,
  /** Items in one DELTAS message (each must also fit the datagram). */
  batchItemsMax: 64,
  /** Encoded size of one delta; a local operation producing a larger one is refused. */
  deltaBytesMax: 1000,

  // --- persistence (flash wear) ---
  /** Minimum time between two appends to the delta log. */
  persistFlushMs: 30_000,
  /** Minimum time between two full snapshots. */
  snapshotIntervalMs: 10 * 60 * 1000,
  /** Delta log size that triggers a snapshot (once the interval allows it). */
  deltaLogBytesMax: 256 * 1024,
  /** Local deltas buffered between flushes; past this they are flushed early (still one write). */
  persistBufferMax: 1024,
} as const;

export type Limits = typeof limits;

/** Relationships between limits; a violation is a programmer error. */
export function validateLimits(l: Limits = limits): void {
  assert(l.deltaBytesMax < l.datagramBytesMax, 'a delta must fit one datagram');
  assert(l.signedPayloadBytesMax + 200 < l.datagramBytesMax, 'the signed document must fit one datagram');
  assert(l.gossipFanout <= l.peersMax, 'fanout bounded by peers');
  assert(l.pushFanout <= l.peersMax, 'push fanout bounded by peers');
  assert(l.roundBytesMax >= l.datagramBytesMax * (l.gossipFanout + l.pushFanout), 'a round can carry a datagram per peer');
  assert(l.sectionChunkBytes * l.sectionChunksMax >= l.sectionBytesMax, 'a section fits its chunks');
  assert(l.sectionChunkBytes + 200 < l.datagramBytesMax, 'a chunk fits one datagram with its envelope');
  assert(l.snapshotIntervalMs >= l.persistFlushMs, 'snapshots are rarer than log flushes');
}
