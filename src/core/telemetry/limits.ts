// Every limit of the telemetry capability (signed MQTT payloads), with its unit.

/** One signed message (COSE_Sign1 with a 3-certificate chain and a telemetry body fits easily). */
export const messageBytesMax = 16 * 1024;
/** Nesting of a payload we build (our own values) and accept (cbor-x depth is bounded by size). */
export const payloadDepthMax = 8;
/** Nodes a consumer tracks (verified keys, freshness, sequence numbers); the oldest is forgotten. */
export const nodesMax = 4096;
/** Telemetry and events older than this (by the node's wall clock) are refused as stale. */
export const staleMsMax = 15 * 60 * 1000;
/** Commands must be signed within this window of the node's wall clock, either way. */
export const commandSkewMsMax = 5 * 60 * 1000;
/** Command ids remembered against replay (commands older than the skew window are refused anyway). */
export const commandIdsMax = 1024;
/** Neighbours reported in one telemetry message. */
export const neighboursMax = 64;
/** The chain rides along with telemetry every this many messages (and always on status). */
export const chainEveryMessages = 10;
/** Operator keys a node accepts commands from. */
export const operatorKeysMax = 16;
/** Short ASCII strings whose CBOR encoding the writer keeps (keys, names), and their longest length. */
export const textCacheEntriesMax = 256;
export const textCacheCharsMax = 32;
/** The CBOR scratch buffer is let go after a use that grew it past this (a rare big value does not stay in memory). */
export const cborScratchBytesKept = 64 * 1024;
