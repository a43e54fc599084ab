// How channel messages reach a peer: UDP datagrams (one message per datagram) or TCP streams (one frame per
// message, src/channel/tcp-transport.ts). The channel endpoint is the same for both; it names peers by an
// opaque address, which a transport maps to a socket address ("host:port") or a connection.
import type { HostPort, Platform, UdpSocket } from '../platform/types.js';
import { Counters } from '../core/identity/result.js';

export type TransportName = 'udp' | 'tcp';

export interface TransportEvents {
  onMessage(address: string, bytes: Uint8Array): void;
  /** A path to a peer is usable: UDP at once, TCP once the outbound connection is up. */
  onConnected(address: string): void;
  /** Stream transports only: the connection to `address` closed or broke (reason code). */
  onDisconnected(address: string, reason: string): void;
}

export interface ChannelTransport {
  readonly local: HostPort;
  readonly counters: Counters;
  /** Opens a path to a peer; onConnected(address) follows (TCP retries a refused connect). */
  dial(peer: HostPort): void;
  /** null on success, else an errno name or a reason code (the caller logs; the channel retransmits). */
  send(address: string, bytes: Uint8Array): string | null;
  /** Drops the path to `address` (TCP: closes the stream) after its handshake failed or its session ended. */
  hangUp(address: string): void;
  /** Periodic housekeeping; `established` says whether an address has a live session. */
  tick(nowMs: number, established: (address: string) => boolean): void;
  close(): void;
}

export const addressOf = (p: HostPort): string => `${p.host}:${p.port}`;

/** Source addresses a UDP transport remembers (spoofed sources must not grow it without bound). */
export const udpAddressesMax = 4096;

export async function openUdpTransport(
  platform: Platform,
  listen: HostPort,
  events: TransportEvents,
): Promise<ChannelTransport> {
  const counters = new Counters();
  const addresses = new Map<string, HostPort>();
  const socket: UdpSocket = await platform.net.udpBind(listen, {
    onMessage(data, from) {
      const address = addressOf(from);
      addresses.delete(address); // re-insert: the Map's first key is the one heard from longest ago
      if (addresses.size >= udpAddressesMax) addresses.delete(addresses.keys().next().value as string);
      addresses.set(address, from);
      events.onMessage(address, data);
    },
  });
  return {
    local: socket.local,
    counters,
    dial(peer) {
      addresses.set(addressOf(peer), peer);
      events.onConnected(addressOf(peer));
    },
    send(address, bytes) {
      const to = addresses.get(address);
      return to === undefined ? 'no-address' : socket.send(bytes, to);
    },
    hangUp: () => {}, // datagrams have no connection to drop
    tick: () => {},
    close: () => socket.close(),
  };
}
