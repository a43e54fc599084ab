// Every bound of the CRDT and gossip capability, with its unit. Relationships between them are
// asserted once, in validateLimits(), which the gossip engine calls at construction.
import { assert } from './assert.js';

export const limits = {
  // --- wire ---
  /** One gossip datagram, CBOR-encoded; below the 1280-byte IPv6 minimum MTU minus headers. */
  datagramBytesMax: 1200,
  /** A persisted snapshot decoded from flash. */
  snapshotBytesMax: 4 * 1024 * 1024,
  /** One record of the persisted delta log. */
  logRecordBytesMax: 40 * 1024,
  /** Stream ids (`node~incarnation`), replica ids in dots and timestamps. */
  idCharsMax: 64,
  /** Node ids: short enough that `node~incarnation` fits idCharsMax. */
  nodeIdCharsMax: 48,
  /** Incarnations (one per start): 10 decimal digits in a stream id. */
  incarnationMax: 0xffff_ffff,
  /**
   * Restarts a node may make past its wall clock's seconds. A memory-only node's first incarnation is the wall
   * clock in seconds, a persisted node's counts its starts from 1: a peer's incarnation above the clock's
   * horizon in seconds plus this is refused (incarnation-future), so one datagram cannot push a node to the
   * end of its incarnation space (where it could never start again).
   */
  incarnationRestartsMax: 2 ** 20,
  /** Sequence numbers of one stream (one delta per write): 2^40 is 35,000 years at 1,000 writes a second. */
  seqMax: 2 ** 40,
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
  /** One section's full state, CBOR-encoded; sent as chunks when a peer needs it. */
  sectionBytesMax: 16 * 1024,
  /** A chunk of a section state or signed document: fits one datagram with its envelope. */
  chunkBytes: 900,
  sectionChunksMax: 20,
  /** A signed document (e.g. the revocation list) with its envelope, CBOR-encoded; sent in chunks. */
  signedDocBytesMax: 32 * 1024,
  signedDocChunksMax: 40,
  /** Per section (one node's share of the mesh document): neighbours, component versions, named counters. */
  neighboursMax: 16,
  versionsMax: 16,
  countersMax: 16,
  /** One local counter step (either sign): far below 2^53, so a counter stays exact for years of steps. */
  counterStepMax: 2 ** 40,

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
  /** Streams (one current incarnation per node) tracked in the version vector. */
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
  /** Bytes this node may send per round (all messages but the naive full-state baseline). */
  roundBytesMax: 64 * 1024,
  /** Digest buckets (stream id hash mod this). */
  digestBuckets: 64,
  /** Rounds between two garbage collections of confirmed deltas. */
  gcRounds: 5,
  /** Retained deltas for peers that have not confirmed them; oldest dropped past this. */
  retainedDeltasMax: 4096,
  /** Deltas waiting for the next tick's eager push; a burst beyond this is left to anti-entropy. */
  freshDeltasMax: 1024,
  /** Section states and signed documents being reassembled at once. */
  pendingStatesMax: 64,
  pendingDocsMax: 4,
  /** Items in one DELTAS message (each must also fit the datagram). */
  batchItemsMax: 64,
  /** Encoded size of one delta; a local operation producing a larger one is a bug (limits prevent it). */
  deltaBytesMax: 1000,

  // --- writers (writer.ts) ---
  /** A writer's certificate chain as gossip carries it (one datagram; a node and an intermediate are ~510). */
  writerChainBytesMax: 1024,
  /** An attestation on its item, CBOR-encoded: two 32-byte hashes and a 64-byte signature with headers. */
  attestationBytesMax: 140,

  // --- persistence (flash wear) ---
  /** Minimum time between two appends to the delta log: at most 3600 / 30 = 120 appends per hour. */
  persistFlushMs: 30_000,
  /** Minimum time between two snapshots: at most 6 per hour (plus one per start). */
  snapshotIntervalMs: 10 * 60 * 1000,
  /** Delta log size that calls for a snapshot (once the interval allows it). */
  deltaLogBytesMax: 256 * 1024,
  /**
   * Bytes buffered between two appends. Past it, deltas of other nodes are dropped from the buffer (the
   * mesh still has them; anti-entropy brings them back after a restart); our own deltas never are.
   */
  persistBufferBytesMax: 32 * 1024,
} as const;

export type Limits = typeof limits;

/** Relationships between limits; a violation is a programmer error. */
export function validateLimits(l: Limits = limits): void {
  assert(l.deltaBytesMax < l.datagramBytesMax, 'a delta must fit one datagram');
  assert(
    l.nodeIdCharsMax + 1 + String(l.incarnationMax).length <= l.idCharsMax,
    'a stream id (node~incarnation) fits an id',
  );
  assert(l.gossipFanout <= l.peersMax, 'fanout bounded by peers');
  assert(l.pushFanout <= l.peersMax, 'push fanout bounded by peers');
  assert(
    l.roundBytesMax >= l.datagramBytesMax * (l.gossipFanout + l.pushFanout),
    'a round can carry a datagram per peer',
  );
  assert(l.chunkBytes * l.sectionChunksMax >= l.sectionBytesMax, 'a section fits its chunks');
  assert(l.chunkBytes * l.signedDocChunksMax >= l.signedDocBytesMax, 'a signed document fits its chunks');
  assert(l.chunkBytes + 200 < l.datagramBytesMax, 'a chunk fits one datagram with its envelope');
  // Envelope: type, sender id and array headers (16 + id); an item adds its stream id, seq, part and parts (~30).
  const envelope = 16 + l.nodeIdCharsMax;
  assert(
    // A delta's attestation has no delta hash: 34 bytes less than a chunk's.
    l.deltaBytesMax + l.attestationBytesMax - 34 + envelope <= l.datagramBytesMax,
    'a signed delta fits one datagram',
  );
  assert(
    l.chunkBytes + l.attestationBytesMax + l.idCharsMax + 30 + envelope <= l.datagramBytesMax,
    "a state's signed first chunk fits one datagram",
  );
  assert(l.writerChainBytesMax + l.idCharsMax + 10 + envelope <= l.datagramBytesMax, 'a chain fits one datagram');
  assert(l.sectionBytesMax <= l.logRecordBytesMax, 'a section state fits one log record');
  assert(l.signedDocBytesMax <= l.logRecordBytesMax, 'a signed document fits one log record');
  assert(l.snapshotIntervalMs >= l.persistFlushMs, 'snapshots are rarer than log flushes');
  assert(l.freshDeltasMax <= l.retainedDeltasMax, 'a fresh delta is also retained');
  assert(l.counterStepMax < Number.MAX_SAFE_INTEGER, 'a counter step is a safe integer');
  assert(
    (l.wallClockFloorMs + l.unsyncedHorizonMs) / 1000 + l.incarnationRestartsMax < l.incarnationMax,
    'incarnations from clocks still within the horizon fit the incarnation space',
  );
  assert(l.seqMax + l.streamGapMax < Number.MAX_SAFE_INTEGER, 'sequence arithmetic stays exact');
}
