// The one interface through which the core reaches the outside world.
// Two adapters implement it (src/platform/qjs for the router, src/platform/node for the Node twin)
// and tests use a simulated one (src/sim). The core imports these *types* only, never an adapter.

export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

export type CryptoBackendName = 'native' | 'node' | 'tweetnacl';

// Wire-compatible with tweetnacl / libsodium: Ed25519 secret keys are 64 bytes (seed || public key),
// signatures are detached 64-byte values, box and secretbox are XSalsa20-Poly1305 with 24-byte nonces
// and the 16-byte tag in front (NaCl's "easy" layout, as tweetnacl produces).
export interface Crypto {
  readonly backend: CryptoBackendName;
  signKeyPair(): KeyPair;
  signKeyPairFromSeed(seed: Uint8Array): KeyPair;
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  /** false (never a throw) for a wrong signature, key or size. */
  verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean;
  boxKeyPair(): KeyPair;
  boxKeyPairFromSecretKey(secretKey: Uint8Array): KeyPair;
  /** X25519: shared point of our secret scalar and their public key (32 bytes). */
  scalarMult(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  box(message: Uint8Array, nonce: Uint8Array, theirPublicKey: Uint8Array, mySecretKey: Uint8Array): Uint8Array;
  /** Returns null when the box does not authenticate. */
  boxOpen(box: Uint8Array, nonce: Uint8Array, theirPublicKey: Uint8Array, mySecretKey: Uint8Array): Uint8Array | null;
  secretbox(message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array;
  /** Returns null when the box does not authenticate. */
  secretboxOpen(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null;
  sha512(data: Uint8Array): Uint8Array;
  hmacSha512(key: Uint8Array, data: Uint8Array): Uint8Array;
  randomBytes(length: number): Uint8Array;
}

export interface TimerHandle {
  readonly id: number;
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface UdpSocket {
  /** The bound local address (port resolved when 0 was asked for). */
  readonly local: HostPort;
  /** Fire-and-forget; an error (e.g. EMSGSIZE) is returned as an errno name, null on success. */
  send(data: Uint8Array, to: HostPort): string | null;
  close(): void;
}

export interface UdpHandlers {
  onMessage(data: Uint8Array, from: HostPort): void;
  onError?(errno: string): void;
}

export interface StreamHandlers {
  onData(chunk: Uint8Array): void;
  /** reason is null for an orderly close by the peer, else an errno name or a reason code. */
  onClose(reason: string | null): void;
}

/** A connected byte stream (TCP or Unix). Writes are queued; the adapter drains them. */
export interface ByteStream {
  write(data: Uint8Array): void;
  /** Bytes queued but not yet handed to the kernel. Callers bound their own output with it. */
  readonly queuedBytes: number;
  close(): void;
}

export interface StreamListener {
  /** For TCP: the bound address; for Unix sockets: { host: path, port: 0 }. */
  readonly local: HostPort;
  close(): void;
}

/**
 * TLS on a TCP stream (Node: node:tls; x0-runtime: x0:tls, mbedtls). The server's certificate must chain to a
 * CA in caFile, be valid now, and name serverName; connect() resolves only after that. Refusals reject with a
 * reason code as the Error's message: cert-untrusted, cert-expired, cert-not-yet-valid, hostname-mismatch,
 * handshake-failed; tls-ca-unreadable / tls-cert-unreadable / tls-key-unreadable (a file missing or unreadable),
 * tls-ca-invalid / tls-cert-invalid / tls-key-invalid (not a certificate or key), tls-unavailable (an x0-runtime
 * built without TLS).
 */
export interface TlsOptions {
  /** PEM (or DER) file of the CA certificates to trust: only these, never the system's store. */
  readonly caFile: string;
  /** Our client certificate (chain) and its private key, PEM; both or neither. */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** A DNS name (sent as SNI, matched against the certificate's DNS names) or an address (matched against its IP
   * address names); default: the target's host. */
  readonly serverName?: string;
}

export type StreamTarget =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly tls?: TlsOptions }
  | { readonly kind: 'unix'; readonly path: string };

export interface Net {
  udpBind(local: HostPort, handlers: UdpHandlers): Promise<UdpSocket>;
  /** Resolves once connected (with TLS: once the handshake verified the server); rejects with an Error whose
   * message is an errno name (ECONNREFUSED, ...) or a TLS reason code (TlsOptions). */
  connect(target: StreamTarget, handlers: StreamHandlers): Promise<ByteStream>;
  listen(
    target: StreamTarget,
    onAccept: (stream: ByteStream, peer: HostPort) => StreamHandlers,
  ): Promise<StreamListener>;
}

/** An errno name (EACCES, ENOSPC, ...) as a file operation reports it. */
export type FileErrno = string;

export interface Files {
  /** null when the file does not exist. */
  read(path: string): Uint8Array | null;
  readText(path: string): string | null;
  // Writes are operating errors, not bugs (a full or read-only flash, a missing directory): each returns null on
  // success or the errno name (ENOSPC, EROFS, EACCES, ENOENT, ...), as a socket's send does, and never throws.
  // Each caller decides what a failed write means for it (Raft asserts, gossip counts and retries, MQTT counts).
  /** temp file + fsync + rename: a reader sees the old or the new content, never a torn one. */
  writeAtomic(path: string, data: Uint8Array | string, mode?: number): FileErrno | null;
  /** Appends and fsyncs (log segments). */
  append(path: string, data: Uint8Array): FileErrno | null;
  /** File names in dir (not paths), sorted; [] when dir does not exist. */
  list(dir: string): string[];
  /** A file that is not there is removed already (null). */
  remove(path: string): FileErrno | null;
  mkdirp(path: string): FileErrno | null;
  exists(path: string): boolean;
}

export interface ExecOptions {
  readonly stdin?: Uint8Array | string;
  readonly timeoutMs?: number;
  /** Cap on captured stdout/stderr each; output past it is dropped and `truncated` is set. */
  readonly maxOutputBytes?: number;
}

export interface ExecResult {
  /** Exit code, or null when killed by a signal / the timeout. */
  readonly code: number | null;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  readonly timedOut: boolean;
  readonly truncated: boolean;
}

/** What a long-running child (Platform.spawn) hands back. */
export interface ChildHandlers {
  /** Bytes the child wrote to stdout, as they come (the caller frames and bounds them). */
  onStdout(chunk: Uint8Array): void;
  /** The child is gone, once: its exit code, null when a signal ended it, 127 when it could not be started. */
  onExit(code: number | null): void;
}

export interface Child {
  /**
   * Writes to the child's stdin, at most PIPE_BUF (4096) bytes at once, so a write is atomic and never blocks
   * the loop while the child reads; false when the child is gone or the text is longer (nothing written).
   */
  write(text: string): boolean;
  /** Closes its stdin and SIGKILLs it; onExit follows. Safe to call when it is gone. */
  kill(): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

export interface Platform {
  readonly name: 'qjs' | 'node' | 'sim';
  /** Monotonic milliseconds; never goes backwards, unrelated to the wall clock. */
  monotonicMs(): number;
  /** Wall clock (ms since the epoch); may jump, may start at 1970 on a router before NTP. */
  wallClockMs(): number;
  setTimer(delayMs: number, callback: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  randomBytes(length: number): Uint8Array;
  readonly crypto: Crypto;
  readonly net: Net;
  readonly files: Files;
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /**
   * Starts a child that keeps running: stdin and stdout piped, stderr discarded (its answers say what went wrong;
   * an unread stderr would stop it). For helpers that answer many requests, one per line (x0-xdp serve).
   * Optional: a platform without it leaves callers to exec.
   */
  spawn?(argv: readonly string[], handlers: ChildHandlers): Child;
  readonly logger: Logger;
  readonly argv: readonly string[];
  env(name: string): string | undefined;
  /** Writes text to stdout / stderr without adding a newline. */
  stdout(text: string): void;
  stderr(text: string): void;
  exit(code: number): never;
  /** Calls handler on each SIGHUP / SIGTERM / SIGINT (replacing the default action); optional for simulated platforms. */
  onSignal?(signal: SignalName, handler: () => void): void;
}

export type SignalName = 'SIGHUP' | 'SIGTERM' | 'SIGINT';
