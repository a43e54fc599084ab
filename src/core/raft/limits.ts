// Limits of the Raft core. Everything that grows with outside input (a peer's messages, client proposals,
// snapshot chunks, pending reads) is bounded by one of these. Ticks are the caller's unit of time.

/** Defaults for a wireless mesh: 100 ms ticks, a heartbeat every tick, elections after 1-2 s of silence. */
export const tickMsDefault = 100;
export const heartbeatTicksDefault = 1;
export const electionTicksDefault = 10;

/** Bytes of entries in one append message (batching; also keeps a message within one UDP datagram). */
export const appendBytesMax = 32 * 1024;
/** Entries in one append message. */
export const appendEntriesMax = 512;
/** Append messages in flight to one follower in the replicate state. */
export const inflightMessagesMax = 64;
/** One proposal's data. */
export const entryBytesMax = 16 * 1024;
/** Proposed but not yet committed bytes on a leader; past it proposals are dropped ('proposal-overload'). */
export const uncommittedBytesMax = 4 * 1024 * 1024;
/** Bytes of committed entries handed to the application in one Ready. */
export const applyBytesMax = 256 * 1024;
/** One snapshot (state machine image). */
export const snapshotBytesMax = 16 * 1024 * 1024;
/** One InstallSnapshot chunk. */
export const snapshotChunkBytes = 16 * 1024;
/** InstallSnapshot chunks in flight to one follower. */
export const snapshotChunksInflightMax = 4;
/** ReadIndex requests waiting for a heartbeat quorum on a leader. */
export const pendingReadsMax = 1024;
/** Voters plus learners in one configuration. */
export const membersMax = 64;
/** Node ids are small positive integers. */
export const nodeIdMax = 0xffff;

/**
 * Terms and log indexes on the wire and on disk, at most 2^52 - 1 (a term per election, an index per entry: a
 * router never comes near either). The gap to 2^53 keeps `term + 1` and `index + n` exact in a double. A node
 * whose term or log reaches these stops campaigning and proposing (counted) instead of overflowing.
 */
export const termMax = 2 ** 52 - 1;
export const indexMax = 2 ** 52 - 1;
/**
 * A message whose term is more than this above ours is dropped ('msg-term-jump'): 2^32 elections never happen
 * while a node is away, so only a forged or corrupted message jumps that far, and one datagram cannot push a
 * node's durable term near termMax (it would then have 2^20 such jumps to go).
 */
export const termJumpMax = 2 ** 32;
/** ReadIndex request ids and heartbeat contexts (counters a node keeps): same bound as indexes. */
export const counterMax = 2 ** 52 - 1;

/** Replicated KV: one key, one value, keys in the store, results of one prefix list. */
export const kvKeyBytesMax = 256;
export const kvValueBytesMax = 8 * 1024;
export const kvKeysMax = 100_000;
export const kvListMax = 1000;
/** Client sessions kept for deduplication; the least recently used is forgotten past it. */
export const kvSessionsMax = 1024;
/** Local watchers on one node. */
export const kvWatchersMax = 64;
/** Client requests a node holds waiting for commit or a ReadIndex answer. */
export const kvPendingMax = 4096;
