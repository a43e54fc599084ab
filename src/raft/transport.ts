// Moving Raft messages between nodes: the core hands out Message values; this encodes each into one datagram
// and sends it over a PacketLink. The link is an interface (UDP today), so the sealed channel of
// src/core/channel can carry the same packets later without Raft knowing.
import type { Counters } from '../core/result.js';
import type { Message, NodeId } from '../core/raft/types.js';
import type { HostPort, Platform, UdpSocket } from '../platform/types.js';
import { datagramBytesMax } from './limits.js';
import { decodePacket, encodeRaftPacket, type Packet } from './protocol.js';

/** Best-effort delivery of one packet to an address (Raft tolerates loss, duplication and reordering). */
export interface PacketLink {
  readonly local: HostPort;
  send(to: HostPort, bytes: Uint8Array): void;
  close(): void;
}

export type PacketHandler = (packet: Packet, from: HostPort) => void;

/** A PacketLink over one UDP socket; malformed packets are counted by reason and dropped. */
export async function udpLink(
  platform: Platform,
  listen: HostPort,
  onPacket: PacketHandler,
  counters: Counters,
): Promise<PacketLink> {
  const socket: UdpSocket = await platform.net.udpBind(listen, {
    onMessage(data, from) {
      const packet = decodePacket(data);
      if (!packet.ok) counters.add(packet.reason);
      else onPacket(packet.value, from);
    },
    onError(errno) {
      counters.add(`udp-${errno}`);
    },
  });
  return {
    local: socket.local,
    send(to, bytes) {
      if (bytes.length > datagramBytesMax) {
        counters.add('packet-too-large-to-send');
        return;
      }
      const error = socket.send(bytes, to);
      if (error !== null) counters.add(`udp-send-${error}`);
    },
    close: () => socket.close(),
  };
}

export class RaftTransport {
  constructor(
    private readonly link: PacketLink,
    private readonly peers: ReadonlyMap<NodeId, HostPort>,
    private readonly counters: Counters,
  ) {}

  send(m: Message): void {
    const to = this.peers.get(m.to);
    if (to === undefined) {
      this.counters.add('transport-unknown-peer');
      return;
    }
    this.link.send(to, encodeRaftPacket(m));
  }
}
