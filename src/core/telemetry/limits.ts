// Every limit of the telemetry capability (signed MQTT payloads), with its unit.

/** One signed message (COSE_Sign1 with a 3-certificate chain and a telemetry body fits easily). */
export const messageBytesMax = 16 * 1024;
/** Nesting of a payload we build (our own values) and accept (the wire decoder's depth is bounded by decodeDepthMax). */
export const payloadDepthMax = 8;
/** Nodes a consumer tracks (verified keys, freshness, sequence numbers); the oldest is forgotten. */
export const nodesMax = 4096;
/** Telemetry and events older than this (by the node's wall clock) are refused as stale. */
export const staleMsMax = 15 * 60 * 1000;
/** A message stamped further ahead of the consumer's wall clock is refused (remembered, it would outrank the next boot). */
export const clockAheadMsMax = 5 * 60 * 1000;
/** Timestamps are ms since 1970 as non-negative integers below this (2^48 ms: year 10889). */
export const atMsMax = 2 ** 48;
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
/** Self-healing trace events (journal events with a trace id) carried by one telemetry message, newest kept. */
export const traceEventsPerMessageMax = 16;
/** Fields of one trace event, the characters of one field's text, and of a key or name. */
export const traceFieldsMax = 8;
export const traceTextCharsMax = 160;
export const traceNameCharsMax = 32;
/** The trace events' share of one message (their JSON in UTF-8 bytes, a bit above their CBOR), inside messageBytesMax. */
export const traceBytesMax = 6 * 1024;
