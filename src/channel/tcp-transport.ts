// The channel over TCP: each message is one frame on a stream (src/core/channel/framing.ts), the handshake
// and the records are the same bytes as over UDP. One stream per peer; an inbound stream is named by the
// peer's "host:port", an outbound one by the address dialled. Every bound comes from channel limits:
// frame size, open streams, queued bytes per stream, and the time a stream may stay without a session.
// A broken stream (oversized length, empty frame, truncated frame at close) is closed and counted, and the
// node is told, so the endpoint drops whatever handshake or session ran over it.
import type { ByteStream, HostPort, Platform, StreamListener } from '../platform/types.js';
import { frameMessage, StreamFramer } from '../core/channel/framing.js';
import { channelLimits, type ChannelLimits } from '../core/channel/limits.js';
import { Counters } from '../core/identity/result.js';
import { addressOf, type ChannelTransport, type TransportEvents } from './transport.js';

/** A refused or failed connect is retried this often, this many times (the peer may start later). */
export const dialRetryMs = 500;
export const dialAttemptsMax = 20;

interface Conn {
  readonly stream: ByteStream;
  readonly framer: StreamFramer;
  readonly openedMs: number;
  readonly inbound: boolean;
}

interface Dial {
  readonly peer: HostPort;
  attempts: number;
  nextAttemptMs: number;
  inFlight: boolean;
}

type StreamLimits = Pick<
  ChannelLimits,
  'datagramBytesMax' | 'streamsMax' | 'streamQueuedBytesMax' | 'streamHandshakeMs'
>;

export class TcpTransport implements ChannelTransport {
  readonly counters = new Counters();
  private readonly conns = new Map<string, Conn>();
  private readonly dials = new Map<string, Dial>();
  private listener: StreamListener | null = null;
  private closed = false;
  /** Which addresses have an established session: the node's view, as given to the last tick(). */
  private established: (address: string) => boolean = () => true;

  constructor(
    private readonly platform: Platform,
    private readonly events: TransportEvents,
    private readonly limits: StreamLimits = channelLimits,
  ) {}

  get local(): HostPort {
    return this.listener?.local ?? { host: '', port: 0 };
  }

  get streamCount(): number {
    return this.conns.size;
  }

  async listen(local: HostPort): Promise<void> {
    this.listener = await this.platform.net.listen(
      { kind: 'tcp', host: local.host, port: local.port },
      (stream, peer) => this.accept(stream, addressOf(peer)),
    );
  }

  private accept(stream: ByteStream, address: string) {
    if (!this.closed && this.conns.size >= this.limits.streamsMax && !this.conns.has(address)) this.evictIdle();
    if (this.closed || this.conns.size >= this.limits.streamsMax || this.conns.has(address)) {
      this.counters.add('stream-limit');
      stream.close();
      return { onData: () => {}, onClose: () => {} };
    }
    return this.adopt(stream, address, true);
  }

  /**
   * Every slot taken: the oldest inbound stream without a session makes room. Refusing the new one instead
   * would let a trickle of idle connections (streamsMax per streamHandshakeMs) keep every new peer out.
   */
  private evictIdle(): void {
    for (const [address, conn] of this.conns) {
      if (!conn.inbound || this.established(address)) continue;
      this.drop(address, 'stream-evicted');
      return;
    }
  }

  /** Registers a connected stream and returns its handlers. */
  private adopt(stream: ByteStream, address: string, inbound: boolean) {
    const conn: Conn = {
      stream,
      framer: new StreamFramer(this.limits.datagramBytesMax),
      openedMs: this.platform.monotonicMs(),
      inbound,
    };
    this.conns.set(address, conn);
    return {
      onData: (chunk: Uint8Array) => this.onData(conn, address, chunk),
      onClose: (reason: string | null) => this.onClose(conn, address, reason),
    };
  }

  private onData(conn: Conn, address: string, chunk: Uint8Array): void {
    if (this.conns.get(address) !== conn) return; // already hung up: late bytes are ignored
    const out = conn.framer.push(chunk);
    for (const message of out.messages) this.events.onMessage(address, message);
    if (out.error !== null && this.conns.get(address) === conn) this.drop(address, out.error);
  }

  private onClose(conn: Conn, address: string, reason: string | null): void {
    if (this.conns.get(address) !== conn) return; // we closed it ourselves and said so already
    const truncated = conn.framer.end();
    this.drop(address, truncated ?? (reason === null ? 'stream-closed' : `stream-error-${reason}`));
  }

  /** Forgets and closes a stream, counts why, and tells the node (once per stream). */
  private drop(address: string, reason: string): void {
    const conn = this.conns.get(address);
    if (conn === undefined) return;
    this.conns.delete(address);
    this.counters.add(reason);
    conn.stream.close();
    this.events.onDisconnected(address, reason);
  }

  dial(peer: HostPort): void {
    const address = addressOf(peer);
    if (this.conns.has(address) || this.dials.has(address)) return;
    this.dials.set(address, { peer, attempts: 0, nextAttemptMs: this.platform.monotonicMs(), inFlight: false });
    this.tryDials(this.platform.monotonicMs());
  }

  private tryDials(nowMs: number): void {
    for (const [address, dial] of this.dials) {
      if (dial.inFlight || nowMs < dial.nextAttemptMs) continue;
      if (dial.attempts >= dialAttemptsMax) {
        this.dials.delete(address);
        this.counters.add('dial-failed');
        continue;
      }
      dial.attempts++;
      dial.inFlight = true;
      let handlers: ReturnType<TcpTransport['adopt']> | null = null;
      this.platform.net
        .connect(
          { kind: 'tcp', host: dial.peer.host, port: dial.peer.port },
          {
            onData: (chunk) => handlers?.onData(chunk),
            onClose: (reason) => handlers?.onClose(reason),
          },
        )
        .then(
          (stream) => {
            dial.inFlight = false;
            if (this.closed || this.conns.size >= this.limits.streamsMax) {
              this.counters.add('stream-limit');
              return stream.close();
            }
            this.dials.delete(address);
            handlers = this.adopt(stream, address, false);
            this.events.onConnected(address);
          },
          () => {
            dial.inFlight = false;
            dial.nextAttemptMs = this.platform.monotonicMs() + dialRetryMs;
          },
        );
    }
  }

  send(address: string, bytes: Uint8Array): string | null {
    const conn = this.conns.get(address);
    if (conn === undefined) return 'not-connected';
    const frame = frameMessage(bytes, this.limits.datagramBytesMax);
    // A stalled reader must not grow our memory: past the bound the record is dropped, as a datagram
    // would be, and the channel's retransmission and replay window cope.
    if (conn.stream.queuedBytes + frame.length > this.limits.streamQueuedBytesMax) {
      this.counters.add('stream-backpressure');
      return 'stream-backpressure';
    }
    conn.stream.write(frame);
    return null;
  }

  hangUp(address: string): void {
    const conn = this.conns.get(address);
    if (conn === undefined) return;
    this.conns.delete(address);
    conn.stream.close();
  }

  tick(nowMs: number, established: (address: string) => boolean): void {
    this.established = established;
    this.tryDials(nowMs);
    for (const [address, conn] of [...this.conns]) {
      if (nowMs - conn.openedMs >= this.limits.streamHandshakeMs && !established(address))
        this.drop(address, 'stream-no-session');
    }
  }

  close(): void {
    this.closed = true;
    this.dials.clear();
    for (const address of [...this.conns.keys()]) this.hangUp(address);
    this.listener?.close();
  }
}

export async function openTcpTransport(
  platform: Platform,
  listen: HostPort,
  events: TransportEvents,
  limits?: StreamLimits,
): Promise<TcpTransport> {
  const transport = new TcpTransport(platform, events, limits);
  await transport.listen(listen);
  return transport;
}
