// Limits of the Raft node runner: storage on flash, the transport, client requests.

/** A log segment is closed and a new one started past this size. */
export const segmentBytesMax = 1024 * 1024;
/** One record in a segment (an entry is at most entryBytesMax plus framing). */
export const recordBytesMax = 64 * 1024;
/** Segments kept on flash (older ones are removed after a snapshot); past it the node compacts. */
export const segmentsMax = 64;
/** Compact the log into a snapshot after this many applied entries since the last one. */
export const compactEveryEntries = 10_000;
/** Largest Raft or client datagram (loopback and mesh links both carry 64 KiB UDP). */
export const datagramBytesMax = 60 * 1024;
/** Client requests in flight from one client tool. */
export const clientRetriesMax = 20;
/** A remote watch lapses unless renewed within this many ticks (30 s at 100 ms ticks). */
export const watchLeaseTicks = 300;
