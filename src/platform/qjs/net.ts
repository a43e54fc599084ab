// Net over x0:net: non-blocking sockets driven by os.setReadHandler / os.setWriteHandler; TLS over x0:tls
// (mbedtls), the same stream class reading and writing through the TLS session instead of the socket.
// Errors reach callers as errno names ('ECONNREFUSED'), or as the adapter's own reason codes
// ('write-queue-overflow'), as the Platform interface says.
import * as os from 'qjs:os';
import * as sock from 'x0:net';
import * as tls from 'x0:tls';
import type {
  ByteStream,
  HostPort,
  Net,
  StreamHandlers,
  StreamListener,
  StreamTarget,
  TlsOptions,
  UdpHandlers,
  UdpSocket,
} from '../types.js';
import {
  closeLingerMs,
  connectTimeoutMs,
  datagramBytesMax,
  handshakeTimeoutMs,
  listenBacklog,
  readsPerWakeupMax,
  streamQueueBytesMax,
  streamReadBytes,
} from './limits.js';
import { loadTlsMaterial } from '../tls.js';
import { qjsFiles } from './files.js';

type Result<T> = T | sock.X0Error;

function isError(value: unknown): value is sock.X0Error {
  return typeof value === 'object' && value !== null && typeof (value as sock.X0Error).error === 'string';
}

// 'localhost' is the one name we resolve: everything else must be a numeric address (no DNS on the router's path).
function numericHost(host: string): string {
  return host === 'localhost' ? '127.0.0.1' : host;
}

function inetAddress(host: string, port: number): sock.SockAddr {
  return { host: numericHost(host), port };
}

function familyOf(host: string): 'inet' | 'inet6' {
  return numericHost(host).includes(':') ? 'inet6' : 'inet';
}

// x0:net throws TypeError/RangeError for a malformed address; at this edge that is an EINVAL result.
function attempt<T>(call: () => Result<T>): Result<T> {
  try {
    return call();
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) return { error: 'EINVAL' };
    throw error;
  }
}

function toHostPort(address: Result<sock.SockAddr>, fallback: HostPort): HostPort {
  if (isError(address) || !('host' in address)) return fallback;
  return { host: address.host, port: address.port };
}

function openSocket(family: 'inet' | 'inet6' | 'unix', type: 'stream' | 'dgram'): number {
  const fd = sock.socket(family, type);
  if (isError(fd)) throw new Error(fd.error);
  return fd;
}

function udpBind(local: HostPort, handlers: UdpHandlers): Promise<UdpSocket> {
  const fd = sock.socket(familyOf(local.host), 'dgram');
  if (isError(fd)) return Promise.reject(new Error(fd.error));
  const bound = attempt(() => sock.bind(fd, inetAddress(local.host, local.port)));
  if (bound !== null) {
    sock.close(fd);
    return Promise.reject(new Error(bound.error));
  }
  let closed = false;
  os.setReadHandler(fd, () => {
    for (let i = 0; i < readsPerWakeupMax && !closed; i++) {
      const got = sock.recvfrom(fd, datagramBytesMax);
      if (isError(got)) {
        // ECONNREFUSED here is an ICMP port-unreachable for an earlier send: worth reporting, not fatal.
        if (got.error !== 'EAGAIN') handlers.onError?.(got.error);
        return;
      }
      handlers.onMessage(got.data, toHostPort(got.from, { host: '', port: 0 }));
    }
  });
  return Promise.resolve({
    local: toHostPort(sock.getsockname(fd), local),
    send(data: Uint8Array, to: HostPort): string | null {
      if (closed) return 'EBADF';
      const sent = attempt(() => sock.sendto(fd, data, inetAddress(to.host, to.port)));
      return isError(sent) ? sent.error : null;
    },
    close(): void {
      if (closed) return;
      closed = true;
      os.setReadHandler(fd, null);
      sock.close(fd);
    },
  });
}

/** What a stream reads and writes through: the socket itself, or a TLS session over it. 'again': would block. */
interface StreamIo {
  read(maxBytes: number): Uint8Array | 'again' | { readonly error: string };
  write(data: Uint8Array): number | 'again' | { readonly error: string };
  /** Bytes already read from the socket and buffered (TLS): readable without the fd being readable. */
  pending(): number;
  /** Before the fd is closed: TLS sends close_notify and frees its session. */
  close(): void;
}

function plainIo(fd: number): StreamIo {
  const again = <T>(r: T | sock.X0Error): T | 'again' | sock.X0Error =>
    isError(r) && r.error === 'EAGAIN' ? 'again' : r;
  return {
    read: (maxBytes) => again(sock.recv(fd, maxBytes)),
    write: (data) => again(sock.send(fd, data)),
    pending: () => 0,
    close: () => {},
  };
}

function tlsIo(conn: tls.Connection): StreamIo {
  const again = <T>(r: T | tls.Want | tls.TlsError): T | 'again' | tls.TlsError =>
    r === 'want-read' || r === 'want-write' ? 'again' : r;
  return {
    read: (maxBytes) => again(tls.read(conn, maxBytes)),
    write: (data) => again(tls.write(conn, data)),
    pending: () => tls.pending(conn),
    close: () => tls.close(conn),
  };
}

// One connected stream: reads on readability, queues what the kernel does not take, drains on writability.
class QjsStream implements ByteStream {
  private handlers: StreamHandlers | null = null;
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private closed = false;
  private closing = false;
  private lingerTimer: number | null = null;

  constructor(
    private readonly fd: number,
    private readonly io: StreamIo = plainIo(fd),
  ) {}

  get queuedBytes(): number {
    return this.queued;
  }

  attach(handlers: StreamHandlers): void {
    this.handlers = handlers;
    if (this.closed) return;
    os.setReadHandler(this.fd, () => this.onReadable());
    // TLS may hold records it read with the handshake's last flight: deliver them without waiting for the fd.
    if (this.io.pending() > 0) os.setTimeout(() => this.onReadable(), 0);
  }

  write(data: Uint8Array): void {
    if (this.closed || this.closing || data.length === 0) return;
    let offset = 0;
    while (this.queue.length === 0 && offset < data.length) {
      const sent = this.io.write(offset === 0 ? data : data.subarray(offset));
      if (sent === 'again') break;
      if (isError(sent)) return this.finish(sent.error);
      offset += sent;
    }
    if (offset === data.length) return;
    if (this.queued + data.length - offset > streamQueueBytesMax) return this.finish('write-queue-overflow');
    // A copy: the caller may reuse its buffer once write() returns.
    this.queue.push(data.slice(offset));
    this.queued += data.length - offset;
    os.setWriteHandler(this.fd, () => this.onWritable());
  }

  close(): void {
    if (this.closed || this.closing) return;
    if (this.queue.length === 0) return this.finish(null);
    // Let the queued bytes go out first, for a while: a peer that stops reading does not keep us open.
    this.closing = true;
    os.setReadHandler(this.fd, null);
    this.lingerTimer = os.setTimeout(() => this.finish(null), closeLingerMs);
  }

  private onReadable(): void {
    for (let i = 0; i < readsPerWakeupMax && !this.closed; i++) {
      const got = this.io.read(streamReadBytes);
      if (got === 'again') return;
      if (isError(got)) return this.finish(got.error);
      if (got.length === 0) return this.finish(null);
      this.handlers?.onData(got);
    }
    // The bound was reached: what TLS holds already decrypted would wait for the fd; go on at the next turn.
    if (!this.closed && this.io.pending() > 0) os.setTimeout(() => this.onReadable(), 0);
  }

  private onWritable(): void {
    while (this.queue.length > 0 && !this.closed) {
      const head = this.queue[0] as Uint8Array;
      // After 'again', TLS wants the same bytes again (it keeps the record it started): the head is unchanged.
      const sent = this.io.write(head);
      if (sent === 'again') return;
      if (isError(sent)) return this.finish(sent.error);
      this.queued -= sent;
      if (sent < head.length) {
        this.queue[0] = head.subarray(sent);
        continue;
      }
      this.queue.shift();
    }
    if (this.closed) return;
    os.setWriteHandler(this.fd, null);
    if (this.closing) this.finish(null);
  }

  /** Closes the fd once and tells the handlers once; later calls do nothing. */
  finish(reason: string | null): void {
    if (this.closed) return;
    this.closed = true;
    if (this.lingerTimer !== null) os.clearTimeout(this.lingerTimer);
    os.setReadHandler(this.fd, null);
    os.setWriteHandler(this.fd, null);
    this.io.close();
    sock.close(this.fd);
    this.queue.length = 0;
    this.queued = 0;
    // Asynchronously, as on Node: a close() inside a handler does not re-enter the caller.
    const handlers = this.handlers;
    Promise.resolve().then(() => handlers?.onClose(reason));
  }
}

function targetAddress(target: StreamTarget): { family: 'inet' | 'inet6' | 'unix'; address: sock.SockAddr } {
  if (target.kind === 'unix') return { family: 'unix', address: { path: target.path } };
  return { family: familyOf(target.host), address: inetAddress(target.host, target.port) };
}

/**
 * The TLS client handshake over a connected fd, driven by the fd's readiness; resolves with the session's io
 * once the server's certificate is verified. On failure the fd is closed and the reason is the Error's message.
 */
function handshake(fd: number, host: string, options: TlsOptions): Promise<StreamIo> {
  return new Promise((resolve, reject) => {
    const fail = (reason: string, conn: tls.Connection | null) => {
      os.setReadHandler(fd, null);
      os.setWriteHandler(fd, null);
      if (conn !== null) tls.close(conn);
      sock.close(fd);
      reject(new Error(reason));
    };
    if (!tls.available) return fail('tls-unavailable', null);
    const material = loadTlsMaterial(qjsFiles.read, options, host);
    if (!material.ok) return fail(material.reason, null);
    const { ca, cert, key, serverName } = material.value;
    const conn = tls.client(fd, { ca, serverName, ...(cert && key ? { cert, key } : {}) });
    if ('error' in conn) return fail(conn.error, null);
    const timer = os.setTimeout(() => fail('handshake-timeout', conn), handshakeTimeoutMs);
    const step = (): void => {
      const state = tls.handshake(conn);
      if (state === 'want-read' || state === 'want-write') {
        os.setReadHandler(fd, state === 'want-read' ? step : null);
        os.setWriteHandler(fd, state === 'want-write' ? step : null);
        return;
      }
      os.clearTimeout(timer);
      if (state !== null) return fail(state.error, conn);
      os.setReadHandler(fd, null);
      os.setWriteHandler(fd, null);
      resolve(tlsIo(conn));
    };
    step();
  });
}

function connect(target: StreamTarget, handlers: StreamHandlers): Promise<ByteStream> {
  return new Promise((resolve, reject) => {
    const { family, address } = targetAddress(target);
    const fd = openSocket(family, 'stream');
    const fail = (reason: string) => {
      os.setWriteHandler(fd, null);
      sock.close(fd);
      reject(new Error(reason));
    };
    const established = () => {
      if (target.kind === 'tcp' && target.tls !== undefined)
        return void handshake(fd, target.host, target.tls).then((io) => {
          const stream = new QjsStream(fd, io);
          stream.attach(handlers);
          resolve(stream);
        }, reject);
      const stream = new QjsStream(fd);
      stream.attach(handlers);
      resolve(stream);
    };
    const started = attempt(() => sock.connect(fd, address));
    if (started === null) return established();
    if (started.error !== 'EINPROGRESS') return fail(started.error);
    const timer = os.setTimeout(() => fail('ETIMEDOUT'), connectTimeoutMs);
    os.setWriteHandler(fd, () => {
      os.clearTimeout(timer);
      os.setWriteHandler(fd, null);
      const pending = sock.getsockopt(fd, 'SO_ERROR');
      if (pending === null) return established();
      fail(typeof pending === 'string' ? pending : pending.error);
    });
  });
}

function listen(
  target: StreamTarget,
  onAccept: (stream: ByteStream, peer: HostPort) => StreamHandlers,
): Promise<StreamListener> {
  const { family, address } = targetAddress(target);
  let fd: number;
  try {
    fd = openSocket(family, 'stream');
  } catch (error) {
    return Promise.reject(error);
  }
  if (family !== 'unix') sock.setsockopt(fd, 'SO_REUSEADDR', true);
  const failed = attempt(() => sock.bind(fd, address)) ?? sock.listen(fd, listenBacklog);
  if (failed !== null) {
    sock.close(fd);
    return Promise.reject(new Error(failed.error));
  }
  const local: HostPort =
    target.kind === 'unix'
      ? { host: target.path, port: 0 }
      : toHostPort(sock.getsockname(fd), { host: target.host, port: target.port });
  let closed = false;
  os.setReadHandler(fd, () => {
    for (let i = 0; i < readsPerWakeupMax && !closed; i++) {
      const conn = sock.accept(fd);
      // EAGAIN: drained. EMFILE and the like: the connection stays in the backlog for the next wakeup.
      if (isError(conn)) return;
      const peer = target.kind === 'unix' ? { host: 'unix', port: 0 } : toHostPort(conn.peer, { host: '', port: 0 });
      const stream = new QjsStream(conn.fd);
      stream.attach(onAccept(stream, peer));
    }
  });
  return Promise.resolve({
    local,
    close(): void {
      if (closed) return;
      closed = true;
      os.setReadHandler(fd, null);
      sock.close(fd);
      // As Node does: the socket file goes with the listener, so the next listen() on the path succeeds.
      if (target.kind === 'unix') os.remove(target.path);
    },
  });
}

export function createQjsNet(): Net {
  return { udpBind, connect, listen };
}
