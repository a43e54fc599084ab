// The sealed link: one channel endpoint (mutual certificates, X25519, XSalsa20-Poly1305; docs/protocol/channel.md)
// over one UDP socket carries every node-to-node message of the agent, each prefixed by a service byte. A component
// gets a datagram socket of its own service (`socket(service)`, the shape of platform.net's UdpSocket), so gossip
// and Raft run over it unchanged; but what arrives on it comes from an authenticated identity: its sender address
// is the one configured for that node's name, derived from the certificate, not from the packet's source. Messages
// longer than one record (Raft's appends, snapshots) travel in fragments, reassembled within bounds. Who may use
// which service is the caller's `allow` rule; everything else is dropped and counted by reason.
import { ChannelEndpoint, type Now, type Output } from '../core/channel/endpoint.js';
import type { RevocationView, TrustBundle } from '../core/identity/chain.js';
import type { Certificate } from '../core/identity/cert.js';
import { parseSubject } from '../core/identity/spiffe.js';
import { assertThat, Counters } from '../core/result.js';
import type { HostPort, Platform, TimerHandle, UdpHandlers, UdpSocket } from '../platform/types.js';
import { addressOf, openUdpTransport, type ChannelTransport } from './transport.js';

export type LinkService = 'gossip' | 'raft';
const serviceCode: Record<LinkService, number> = { gossip: 1, raft: 2 };
const serviceOf = new Map<number, LinkService>([
  [1, 'gossip'],
  [2, 'raft'],
]);

export const linkLimits = {
  /** Fragment header: service 1, message id 2, index 1, count 1. */
  fragmentHeaderBytes: 5,
  /** Fragments of one message: 64 × ~1.4 KB covers Raft's 60 KiB datagrams. */
  fragmentsMax: 64,
  /** Messages being reassembled at once, per peer. */
  reassemblyPerPeerMax: 8,
  /** A message whose fragments have not all arrived within this is dropped. */
  reassemblyMs: 2_000,
  /** Messages waiting for a session to a peer (the handshake takes a round trip or two); more are dropped. */
  queuedPerPeerMax: 32,
  /** How often the endpoint's timers run (handshake retries, session upkeep). */
  tickMs: 50,
} as const;

export interface LinkPeer {
  readonly name: string;
  /** Where the peer's sealed link listens. */
  readonly link: HostPort;
  /** The address each service uses for the peer (what that service's socket reports as the sender). */
  readonly services: Readonly<Record<LinkService, HostPort>>;
  /** The SPIFFE ID a dial to `link` must find in the handshake (another one is refused); null: any of ours. */
  readonly expectedId?: string | null;
}

export interface LinkOptions {
  readonly listen: HostPort;
  readonly chain: readonly Certificate[];
  readonly signSecretKey: Uint8Array;
  readonly bundle: TrustBundle;
  readonly revocations: RevocationView;
  readonly peers: readonly LinkPeer[];
  /** May this node (by name) use this service? */
  readonly allow: (service: LinkService, peer: string) => boolean;
  /**
   * A node of ours that is not a listed peer sent over an authenticated session (its certificate checked: enrolled,
   * unrevoked, this trust domain) from `address` (host:port). The message is dropped and counted; the caller may
   * list the node (setPeers) so that its next ones are delivered.
   */
  readonly onUnknownPeer?: (name: string, address: string) => void;
}

interface Reassembly {
  readonly parts: (Uint8Array | undefined)[];
  received: number;
  readonly startedMs: number;
}

export class SealedLink {
  readonly counters = new Counters();
  private readonly endpoint: ChannelEndpoint;
  private transport: ChannelTransport | null = null;
  private timer: TimerHandle | null = null;
  private readonly handlers = new Map<LinkService, UdpHandlers>();
  private readonly byName = new Map<string, LinkPeer>();
  /** Service address ("host:port") of each peer, per service: how a component names the peer it sends to. */
  private readonly byServiceAddress = new Map<string, LinkPeer>();
  /** Each peer by the address its sealed link listens on: a dial there expects that peer's certificate. */
  private readonly byLinkAddress = new Map<string, LinkPeer>();
  private readonly queued = new Map<string, Uint8Array[]>();
  private readonly reassembly = new Map<string, Reassembly>();
  private nextMessageId = 0;
  private closed = false;

  private constructor(
    private readonly platform: Platform,
    private readonly options: LinkOptions,
  ) {
    this.endpoint = new ChannelEndpoint({
      crypto: platform.crypto,
      identity: { chain: options.chain, signSecretKey: options.signSecretKey },
      bundle: options.bundle,
      revocations: options.revocations,
    });
    this.index(options.peers);
  }

  private index(peers: readonly LinkPeer[]): void {
    this.byName.clear();
    this.byServiceAddress.clear();
    this.byLinkAddress.clear();
    for (const p of peers) {
      this.byName.set(p.name, p);
      this.byLinkAddress.set(addressOf(p.link), p);
      for (const service of Object.keys(serviceCode) as LinkService[])
        this.byServiceAddress.set(`${service}/${addressOf(p.services[service])}`, p);
    }
  }

  /**
   * The peers change (found through batman-adv, or gone): sessions with a peer no longer listed, or listed at
   * another address, end; messages from a name not listed are dropped (counted `from-unknown-node`).
   */
  setPeers(peers: readonly LinkPeer[]): void {
    const before = new Map(this.byName);
    this.index(peers);
    for (const [name, old] of before) {
      const now = this.byName.get(name);
      if (now !== undefined && addressOf(now.link) === addressOf(old.link)) continue;
      const address = addressOf(old.link);
      this.queued.delete(address);
      this.handle(this.endpoint.close(address, this.now(), 'peer-removed'));
    }
  }

  static async open(platform: Platform, options: LinkOptions): Promise<SealedLink> {
    const link = new SealedLink(platform, options);
    link.transport = await openUdpTransport(platform, options.listen, {
      onMessage: (address, bytes) => link.handle(link.endpoint.receive(address, bytes, link.now())),
      onConnected: (address) =>
        link.handle(link.endpoint.connect(address, link.now(), link.byLinkAddress.get(address)?.expectedId ?? null)),
      onDisconnected: () => {},
    });
    link.schedule();
    return link;
  }

  get local(): HostPort {
    assertThat(this.transport !== null, 'link: open() bound the transport');
    return this.transport.local;
  }

  /** The channel endpoint's counters: handshakes, sessions, and every refusal by reason (forged, replayed, foreign). */
  channelCounters(): Record<string, number> {
    return this.endpoint.counters.snapshot();
  }

  /** A new revocation list: handshakes refuse revoked certificates, and live sessions with a revoked peer end now. */
  setRevocations(view: RevocationView): void {
    this.handle(this.endpoint.setRevocations(view, this.now()));
  }

  /** Peers with an established session, by name. */
  established(): string[] {
    return this.endpoint
      .peers()
      .map((p) => nameOf(p.peerId))
      .filter((n): n is string => n !== null);
  }

  /** Starts a handshake with every peer that has no session yet (without waiting for a message to send to it):
   * `x0 channel --config` checks the link alone. The endpoint retries an unanswered handshake on its own. */
  dialAll(): void {
    const up = new Set(this.established());
    for (const peer of this.byName.values()) {
      if (up.has(peer.name) || this.endpoint.sessionFor(addressOf(peer.link)) !== undefined) continue;
      this.transport?.dial(peer.link);
    }
  }

  /** A datagram socket of one service over the link: what platform.net.udpBind would give, sealed. */
  socket(service: LinkService, handlers: UdpHandlers, local: HostPort): UdpSocket {
    assertThat(!this.handlers.has(service), `link: one socket per service (${service})`);
    this.handlers.set(service, handlers);
    return {
      local,
      send: (data, to) => this.send(service, data, to),
      close: () => {
        this.handlers.delete(service);
      },
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) this.platform.clearTimer(this.timer);
    for (const p of this.byName.values()) this.handle(this.endpoint.close(addressOf(p.link), this.now()));
    this.transport?.close();
  }

  private now(): Now {
    return { monoMs: this.platform.monotonicMs(), wallMs: this.platform.wallClockMs() };
  }

  private schedule(): void {
    this.timer = this.platform.setTimer(linkLimits.tickMs, () => {
      if (this.closed) return;
      this.handle(this.endpoint.tick(this.now()));
      this.expireReassembly();
      this.schedule();
    });
  }

  private send(service: LinkService, data: Uint8Array, to: HostPort): string | null {
    const peer = this.byServiceAddress.get(`${service}/${addressOf(to)}`);
    if (peer === undefined) {
      this.counters.add(`${service}-send-unknown-peer`);
      return 'EHOSTUNREACH';
    }
    const fragments = this.fragment(service, data);
    if (fragments === null) return 'EMSGSIZE';
    const address = addressOf(peer.link);
    if (this.endpoint.sessionFor(address) === undefined) {
      // No session yet: queue (bounded) and start the handshake; the queue goes out once it is established.
      const queue = this.queued.get(address) ?? [];
      if (queue.length + fragments.length > linkLimits.queuedPerPeerMax) {
        this.counters.add('send-queue-full');
        return null;
      }
      this.queued.set(address, [...queue, ...fragments]);
      this.transport?.dial(peer.link);
      return null;
    }
    for (const f of fragments) this.sendRecord(address, f);
    return null;
  }

  private sendRecord(address: string, record: Uint8Array): void {
    const sent = this.endpoint.send(address, record, this.now());
    if (sent.ok) this.handle(sent.value);
    else this.counters.add(`send-${sent.reason}`);
  }

  private fragment(service: LinkService, data: Uint8Array): Uint8Array[] | null {
    const room = this.endpoint.limits.payloadBytesMax - linkLimits.fragmentHeaderBytes;
    const count = Math.max(1, Math.ceil(data.length / room));
    if (count > linkLimits.fragmentsMax) {
      this.counters.add(`${service}-message-too-large`);
      return null;
    }
    const id = (this.nextMessageId = (this.nextMessageId + 1) & 0xffff);
    const out: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const chunk = data.subarray(i * room, Math.min(data.length, (i + 1) * room));
      const record = new Uint8Array(linkLimits.fragmentHeaderBytes + chunk.length);
      record.set([serviceCode[service], id >> 8, id & 0xff, i, count]);
      record.set(chunk, linkLimits.fragmentHeaderBytes);
      out.push(record);
    }
    return out;
  }

  private handle(out: Output): void {
    for (const s of out.send) {
      // send() returns null on success (`?? 'no-transport'` would count every success as a failure).
      const transport = this.transport;
      const error = transport === null ? 'no-transport' : transport.send(s.to, s.bytes);
      if (error !== null) this.counters.add(`udp-send-${error}`);
    }
    for (const e of out.events) {
      this.counters.add(`channel-${e.type}`);
      if (e.type !== 'established') {
        if (e.type === 'handshake-failed') this.queued.delete(e.address);
        continue;
      }
      const waiting = this.queued.get(e.address) ?? [];
      this.queued.delete(e.address);
      for (const record of waiting) this.sendRecord(e.address, record);
    }
    // The sender is who the certificate says, not the datagram's source address.
    for (const d of out.delivered) this.deliver(d.peerId, d.data, d.from);
  }

  private deliver(peerId: string, data: Uint8Array, from: string): void {
    const name = nameOf(peerId);
    const peer = name === null ? undefined : this.byName.get(name);
    if (peer === undefined) {
      this.counters.add('from-unknown-node');
      if (name !== null) this.options.onUnknownPeer?.(name, from);
      return;
    }
    if (data.length < linkLimits.fragmentHeaderBytes) return this.counters.add('fragment-malformed');
    const service = serviceOf.get(data[0] as number);
    if (service === undefined) return this.counters.add('service-unknown');
    if (!this.options.allow(service, peer.name)) return this.counters.add(`${service}-not-allowed`);
    const id = ((data[1] as number) << 8) | (data[2] as number);
    const index = data[3] as number;
    const count = data[4] as number;
    if (count === 0 || count > linkLimits.fragmentsMax || index >= count)
      return this.counters.add('fragment-malformed');
    const body = data.subarray(linkLimits.fragmentHeaderBytes);
    const message =
      count === 1 ? body : this.reassemble(`${peer.name}/${service}/${id}/${count}`, peer.name, index, count, body);
    if (message === null) return;
    this.handlers.get(service)?.onMessage(message, peer.services[service]);
  }

  private reassemble(key: string, peer: string, index: number, count: number, body: Uint8Array): Uint8Array | null {
    let r = this.reassembly.get(key);
    if (r === undefined) {
      const open = [...this.reassembly.keys()].filter((k) => k.startsWith(`${peer}/`)).length;
      if (open >= linkLimits.reassemblyPerPeerMax) {
        this.counters.add('reassembly-full');
        return null;
      }
      r = { parts: new Array<Uint8Array | undefined>(count), received: 0, startedMs: this.platform.monotonicMs() };
      this.reassembly.set(key, r);
    }
    if (r.parts[index] !== undefined) return null;
    r.parts[index] = body;
    r.received++;
    if (r.received < count) return null;
    this.reassembly.delete(key);
    const total = r.parts.reduce((n, p) => n + (p as Uint8Array).length, 0);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const p of r.parts) {
      out.set(p as Uint8Array, offset);
      offset += (p as Uint8Array).length;
    }
    return out;
  }

  private expireReassembly(): void {
    const now = this.platform.monotonicMs();
    for (const [key, r] of this.reassembly) {
      if (now - r.startedMs < linkLimits.reassemblyMs) continue;
      this.reassembly.delete(key);
      this.counters.add('reassembly-expired');
    }
  }
}

/** The node name of a SPIFFE ID of ours (`spiffe://TD/node/NAME`); null for anything else. */
function nameOf(peerId: string): string | null {
  const subject = parseSubject(peerId);
  return subject.ok && subject.value.kind === 'node' ? subject.value.name : null;
}
