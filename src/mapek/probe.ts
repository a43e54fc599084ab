// The liveness probe's path: sealed datagrams to a neighbour's IPv6 link-local address on one hard interface
// (fe80::EUI-64%IFACE), so a probe tests exactly the direct link batman-adv uses to that neighbour, never bat0
// (which would route around a dead link and keep answering). The probe uses the same channel protocol, identity,
// trust bundle and revocation list as the sealed link (src/channel/link.ts, docs/protocol/channel.md), on a
// socket of its own: the sealed link's socket is IPv4 on bat0 addresses of configured peers, a probe needs IPv6
// scoped to one interface and answers any enrolled, unrevoked member of the mesh (the neighbours are found in
// batman-adv's table, not in the configuration). Anything else (a forged, replayed or foreign datagram) is dropped
// and counted by the channel endpoint.
import { ChannelEndpoint, type Now, type Output } from '../core/channel/endpoint.js';
import type { RevocationView, TrustBundle } from '../core/identity/chain.js';
import type { Certificate } from '../core/identity/cert.js';
import { channelLimits } from '../core/channel/limits.js';
import { decodeProbe, encodeProbe, probePayloadBytes } from '../core/mapek/liveness.js';
import { Counters } from '../core/result.js';
import type { HostPort, Platform, TimerHandle } from '../platform/types.js';
import { addressOf, openUdpTransport, type ChannelTransport } from '../channel/transport.js';

/** A probe on the wire: payload + sealed record + UDP (8) + IPv6 (40) + Ethernet (14). */
export const probeWireBytes = probePayloadBytes + channelLimits.recordOverheadBytes + 8 + 40 + 14;

/** The EUI-64 link-local address of a MAC (RFC 4291 app. A): what Linux gives an interface by default. */
export function linkLocalOf(mac: string): string | null {
  const bytes = mac.split(':').map((h) => Number.parseInt(h, 16));
  if (bytes.length !== 6 || bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) return null;
  const [a, b, c, d, e, f] = bytes as [number, number, number, number, number, number];
  return ipv6Text([0xfe80, 0, 0, 0, ((a ^ 2) << 8) | b, (c << 8) | 0xff, 0xfe00 | d, (e << 8) | f]);
}

/** RFC 5952 text of eight 16-bit groups (what inet_ntop prints, so a source address matches the one we dialled). */
export function ipv6Text(groups: readonly number[]): string {
  let bestAt = -1;
  let bestLen = 1; // a single zero group is not compressed (RFC 5952 §4.2.2)
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLen) [bestAt, bestLen] = [i, j - i];
    i = j;
  }
  const text = groups.map((g) => g.toString(16));
  if (bestAt < 0) return text.join(':');
  return `${text.slice(0, bestAt).join(':')}::${text.slice(bestAt + bestLen).join(':')}`;
}

export interface ProbeOptions {
  /** The UDP port every node's probe listens on (the agent: listen port + 3). */
  readonly port: number;
  readonly chain: readonly Certificate[];
  readonly signSecretKey: Uint8Array;
  readonly bundle: TrustBundle;
  readonly revocations: RevocationView;
  /** An echo of our probe `seq` came back from `address`. */
  readonly onReply: (address: string, seq: number) => void;
}

export class ProbeLink {
  readonly counters = new Counters();
  private readonly endpoint: ChannelEndpoint;
  private transport: ChannelTransport | null = null;
  private timer: TimerHandle | null = null;
  private closed = false;
  /** The peer (SPIFFE ID) behind each address that answered, for status. */
  private readonly peerOf = new Map<string, string>();

  private constructor(
    private readonly platform: Platform,
    private readonly options: ProbeOptions,
  ) {
    this.endpoint = new ChannelEndpoint({
      crypto: platform.crypto,
      identity: { chain: options.chain, signSecretKey: options.signSecretKey },
      bundle: options.bundle,
      revocations: options.revocations,
    });
  }

  static async open(platform: Platform, options: ProbeOptions): Promise<ProbeLink> {
    const probe = new ProbeLink(platform, options);
    probe.transport = await openUdpTransport(
      platform,
      { host: '::', port: options.port },
      {
        onMessage: (address, bytes) => probe.handle(probe.endpoint.receive(address, bytes, probe.now())),
        onConnected: (address) => probe.handle(probe.endpoint.connect(address, probe.now())),
        onDisconnected: () => {},
      },
    );
    probe.timer = platform.setTimer(50, function tick() {
      if (probe.closed) return;
      probe.handle(probe.endpoint.tick(probe.now()));
      probe.timer = platform.setTimer(50, tick);
    });
    return probe;
  }

  /** The address a neighbour's probe answers on: its link-local address on `iface`. */
  static addressOf(mac: string, iface: string, port: number): HostPort | null {
    const ll = linkLocalOf(mac);
    return ll === null ? null : { host: `${ll}%${iface}`, port };
  }

  /** Sends probe `seq` to `to`; without a session yet it starts the handshake and this probe is lost (counted). */
  request(to: HostPort, seq: number): void {
    const address = addressOf(to);
    if (this.endpoint.sessionFor(address) === undefined) {
      this.counters.add('no-session');
      this.transport?.dial(to);
      return;
    }
    this.sendRecord(address, encodeProbe('request', seq));
  }

  /** Ends the session over a path (the neighbour left batman-adv's table for good). */
  forget(to: HostPort): void {
    const address = addressOf(to);
    this.peerOf.delete(address);
    this.handle(this.endpoint.close(address, this.now()));
  }

  peer(to: HostPort): string | null {
    return this.peerOf.get(addressOf(to)) ?? null;
  }

  sessions(): number {
    return this.endpoint.peers().length;
  }

  channelCounters(): Record<string, number> {
    return this.endpoint.counters.snapshot();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) this.platform.clearTimer(this.timer);
    this.transport?.close();
  }

  private now(): Now {
    return { monoMs: this.platform.monotonicMs(), wallMs: this.platform.wallClockMs() };
  }

  private sendRecord(address: string, payload: Uint8Array): void {
    const sent = this.endpoint.send(address, payload, this.now());
    if (sent.ok) this.handle(sent.value);
    else this.counters.add(`send-${sent.reason}`);
  }

  private handle(out: Output): void {
    for (const s of out.send) {
      const error = this.transport?.send(s.to, s.bytes) ?? 'no-transport';
      if (error !== null) this.counters.add(`udp-send-${error}`);
    }
    for (const e of out.events) this.counters.add(`channel-${e.type}`);
    for (const d of out.delivered) {
      const probe = decodeProbe(d.data);
      if (probe === null) {
        this.counters.add('malformed');
        continue;
      }
      this.peerOf.set(d.from, d.peerId);
      if (probe.kind === 'request') {
        this.counters.add('requests-answered');
        this.sendRecord(d.from, encodeProbe('reply', probe.seq));
      } else {
        this.counters.add('replies');
        this.options.onReply(d.from, probe.seq);
      }
    }
  }
}
