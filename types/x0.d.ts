// The native modules of x0-runtime (src/native/): x0:net, x0:crypto, x0:fs.
// Convention: an operating error is a returned value { error: 'ENAME' } (errno name, e.g. 'ECONNREFUSED';
// 'EAGAIN' and 'EINPROGRESS' are ordinary results of non-blocking calls). A bad argument (wrong type,
// wrong length, out-of-range number, non-numeric host) throws a TypeError or RangeError.

declare module 'x0:net' {
  export interface X0Error {
    readonly error: string;
  }
  /** A numeric IPv4/IPv6 address (no DNS) and a port, or a Unix socket path. */
  export type SockAddr = { readonly host: string; readonly port: number } | { readonly path: string };
  export type Bytes = Uint8Array | ArrayBuffer;
  export type SocketOption =
    | 'SO_REUSEADDR'
    | 'SO_BROADCAST'
    | 'SO_KEEPALIVE'
    | 'SO_RCVBUF'
    | 'SO_SNDBUF'
    | 'TCP_NODELAY'
    | 'IPV6_V6ONLY';

  /** A non-blocking, close-on-exec socket. */
  export function socket(family: 'inet' | 'inet6' | 'unix', type: 'stream' | 'dgram'): number | X0Error;
  export function bind(fd: number, address: SockAddr): X0Error | null;
  /** backlog in [1, 4096]. */
  export function listen(fd: number, backlog: number): X0Error | null;
  /** The accepted socket is non-blocking and close-on-exec too. { error: 'EAGAIN' } when none is waiting. */
  export function accept(fd: number): { fd: number; peer: SockAddr } | X0Error;
  /** { error: 'EINPROGRESS' } for a TCP connect under way: wait for writability, then getsockopt(fd, 'SO_ERROR'). */
  export function connect(fd: number, address: SockAddr): X0Error | null;
  /** Bytes handed to the kernel (may be fewer than asked on a stream). Never raises SIGPIPE: EPIPE instead. */
  export function send(fd: number, data: Bytes, offset?: number, length?: number): number | X0Error;
  export function sendto(
    fd: number,
    data: Bytes,
    address: SockAddr,
    offset?: number,
    length?: number,
  ): number | X0Error;
  /** maxBytes in [1, RECV_BYTES_MAX]; an empty array means the peer closed the stream. */
  export function recv(fd: number, maxBytes: number): Uint8Array | X0Error;
  export function recvfrom(fd: number, maxBytes: number): { data: Uint8Array; from: SockAddr } | X0Error;
  export function getsockname(fd: number): SockAddr | X0Error;
  export function getpeername(fd: number): SockAddr | X0Error;
  /** SO_ERROR: the pending error's name, or null when there is none (the connect succeeded). */
  export function getsockopt(fd: number, option: 'SO_ERROR'): string | null | X0Error;
  export function getsockopt(fd: number, option: SocketOption): number | X0Error;
  export function setsockopt(fd: number, option: SocketOption, value: number | boolean): X0Error | null;
  export function shutdown(fd: number, how: 'read' | 'write' | 'both'): X0Error | null;
  export function close(fd: number): X0Error | null;
  export const RECV_BYTES_MAX: number;
}

declare module 'x0:crypto' {
  export type Bytes = Uint8Array | ArrayBuffer;
  export interface KeyPair {
    publicKey: Uint8Array;
    secretKey: Uint8Array;
  }
  export const backend: 'libsodium';
  /** length in [0, 1 MiB]. */
  export function randomBytes(length: number): Uint8Array;
  /** Ed25519: publicKey 32 bytes, secretKey 64 bytes (seed || publicKey). */
  export function signKeypair(): KeyPair;
  export function signSeedKeypair(seed: Bytes): KeyPair;
  /** Detached 64-byte signature. */
  export function sign(message: Bytes, secretKey: Bytes): Uint8Array;
  export function verify(message: Bytes, signature: Bytes, publicKey: Bytes): boolean;
  /** X25519: 32-byte keys. */
  export function boxKeypair(): KeyPair;
  export function scalarmultBase(secretKey: Bytes): Uint8Array;
  /** null when publicKey is a low-order point (the shared secret would be all zeros). */
  export function scalarmult(secretKey: Bytes, publicKey: Bytes): Uint8Array | null;
  /** XSalsa20-Poly1305, tag first (== tweetnacl.box); null when publicKey is a low-order point. */
  export function box(message: Bytes, nonce: Bytes, publicKey: Bytes, secretKey: Bytes): Uint8Array | null;
  /** null when the box does not authenticate (or is shorter than its tag). */
  export function boxOpen(box: Bytes, nonce: Bytes, publicKey: Bytes, secretKey: Bytes): Uint8Array | null;
  export function secretbox(message: Bytes, nonce: Bytes, key: Bytes): Uint8Array;
  export function secretboxOpen(box: Bytes, nonce: Bytes, key: Bytes): Uint8Array | null;
  export function sha512(data: Bytes): Uint8Array;
  /** RFC 2104 HMAC-SHA-512, any key length, 64-byte output. */
  export function hmacSha512(key: Bytes, data: Bytes): Uint8Array;
}

declare module 'x0:fs' {
  export interface X0Error {
    readonly error: string;
  }
  export function fsync(fd: number): X0Error | null;
  export function fdatasync(fd: number): X0Error | null;
  /** mode in [0, 0o7777]; unlike open()'s mode, not filtered by the umask. */
  export function fchmod(fd: number, mode: number): X0Error | null;
  /** The name of an errno value ('ENOENT'); qjs:os's negative return values are accepted as they are. */
  export function errnoName(errno: number): string;
}

declare module 'x0:tls' {
  /** A failure: a stable reason (cert-untrusted, cert-expired, cert-not-yet-valid, hostname-mismatch,
   * handshake-failed, tls-ca-invalid, tls-cert-invalid, tls-key-invalid, tls-unavailable, or a socket's errno
   * name) and mbedtls' own text. */
  export interface TlsError {
    readonly error: string;
    readonly detail: string;
  }
  export type Want = 'want-read' | 'want-write';
  /** An mbedtls session over a connected socket (src/native/tls.c). */
  export interface Connection {
    readonly __brand: 'x0:tls connection';
  }
  export interface ClientOptions {
    /** CA certificates (PEM or DER) the server's chain must lead to. */
    readonly ca: Uint8Array;
    /** Our certificate chain and its key (PEM or DER), both or neither. */
    readonly cert?: Uint8Array;
    readonly key?: Uint8Array;
    /** A DNS name (sent as SNI, checked against the certificate's DNS names or CN) or an address (its IP names). */
    readonly serverName: string;
  }
  /** false when x0-runtime was built without mbedtls (TLS=0): client() then returns tls-unavailable. */
  export const available: boolean;
  /** 'mbed TLS 2.28.3', or 'none'. */
  export const library: string;
  export function client(fd: number, options: ClientOptions): Connection | TlsError;
  /** null once the handshake is done (the server's certificate verified). */
  export function handshake(conn: Connection): null | Want | TlsError;
  /** maxBytes in [1, 1 MiB]; an empty array means the peer closed (close_notify or end of stream). */
  export function read(conn: Connection, maxBytes: number): Uint8Array | Want | TlsError;
  /** Bytes taken; after a Want, call again with the same data. */
  export function write(conn: Connection, data: Uint8Array): number | Want | TlsError;
  /** Decrypted bytes buffered in the session: readable without the socket being readable. */
  export function pending(conn: Connection): number;
  /** Sends close_notify (best effort) and frees the session; the fd stays open. */
  export function close(conn: Connection): null;
}
