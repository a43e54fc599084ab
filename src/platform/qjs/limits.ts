// Limits of the QuickJS-ng platform adapter: every queue, buffer and wait it keeps is bounded by one of these.

/** Largest datagram we read (the UDP maximum); longer ones are truncated by the kernel. */
export const datagramBytesMax = 65_535;
/** Datagrams / stream reads / accepts handled per readiness callback, so one busy fd cannot starve the loop. */
export const readsPerWakeupMax = 32;
/** One recv() from a stream. */
export const streamReadBytes = 65_536;
/** Bytes a stream may queue for the kernel; past it the stream is closed with 'write-queue-overflow'. */
export const streamQueueBytesMax = 8 * 1024 * 1024;
/** A connect that has not completed by then fails with ETIMEDOUT. */
export const connectTimeoutMs = 10_000;
/** A TLS handshake that has not verified the server by then fails with 'handshake-timeout' (after the connect). */
export const handshakeTimeoutMs = 10_000;
/** close() with queued output waits this long for the peer to take it, then drops it. */
export const closeLingerMs = 5_000;
export const listenBacklog = 128;

/** Largest file files.read() loads. */
export const fileReadBytesMax = 64 * 1024 * 1024;
export const fileChunkBytes = 65_536;
/** Path components mkdirp walks. */
export const pathDepthMax = 64;

/** Default cap on each of an exec'd child's stdout and stderr. */
export const execOutputBytesDefault = 1024 * 1024;
/** waitpid(WNOHANG) polling interval for exec'd children. */
export const execPollMs = 5;
/** After the child exits, how often we look whether its pipes reached EOF (output still being read). */
export const execDrainMs = 200;
/**
 * Looks before the pipes are closed unread (grandchildren holding them): 25 × 200 ms = 5 s. The event loop polls
 * descriptors only when no timer is due, so on a starved router a child's output may still be unread when it exits.
 */
export const execDrainRoundsMax = 25;
/** Writes to a child's stdin stay at most PIPE_BUF, so that the (blocking) pipe never blocks the loop. */
export const pipeWriteBytes = 4096;
/** A spawned child whose stdout ended is looked for (waitpid) this often, and SIGKILLed after this many looks. */
export const spawnReapMs = 20;
export const spawnReapRoundsMax = 100;
