// The sealed channel over UDP: binds a socket, feeds datagrams and ticks to the pure ChannelEndpoint, sends
// what it returns. Also `x0 channel`, a small command that proves the path end to end (tests run two or
// three of these as separate processes).
import type { HostPort, Platform, UdpSocket } from '../platform/types.js';
import { ChannelEndpoint, type Now, type Output } from '../core/channel/endpoint.js';
import { RevocationStore } from '../core/identity/revocation.js';
import { loadNodeIdentity, nodeFiles } from './store.js';

export interface ChannelNodeOptions {
  readonly dir: string;
  readonly listen: HostPort;
  readonly peers: readonly HostPort[];
  /** Sent to every peer once its session is established. */
  readonly messages: readonly string[];
  /** Payloads to receive (in total) before the goal is met. */
  readonly expect: number;
  readonly timeoutMs: number;
  readonly tickMs: number;
  /** After the goal: keep serving this long (retransmissions, the peer's last messages). */
  readonly lingerMs: number;
}

export interface ChannelNodeResult {
  readonly ok: boolean;
  readonly established: string[];
  readonly received: string[];
  readonly counters: Record<string, number>;
}

const key = (p: HostPort) => `${p.host}:${p.port}`;

export async function runChannelNode(platform: Platform, options: ChannelNodeOptions): Promise<ChannelNodeResult | string> {
  const identity = loadNodeIdentity(platform, options.dir);
  if (!identity.ok) return `cannot load the identity in ${options.dir}: ${identity.reason}`;
  const revocations = new RevocationStore();
  const listBytes = platform.files.read(nodeFiles(options.dir).revocations);
  if (listBytes !== null) {
    const offered = revocations.offerBytes(platform.crypto, listBytes, identity.value.bundle);
    if (!offered.ok) return `revocation list refused: ${offered.reason}`;
  }
  const endpoint = new ChannelEndpoint({ crypto: platform.crypto, identity: { chain: identity.value.chain, signSecretKey: identity.value.keys.sign.secretKey }, bundle: identity.value.bundle, revocations });
  const addresses = new Map<string, HostPort>(options.peers.map((p) => [key(p), p]));
  const established: string[] = [];
  const received: string[] = [];
  const now = (): Now => ({ monoMs: platform.monotonicMs(), wallMs: platform.wallClockMs() });
  let socket: UdpSocket | null = null;

  const handle = (out: Output): void => {
    for (const s of out.send) {
      const to = addresses.get(s.to);
      const error = to === undefined ? 'no-address' : socket?.send(s.bytes, to) ?? null;
      if (error !== null) platform.stderr(`channel: send to ${s.to} failed: ${error}\n`);
    }
    for (const e of out.events) {
      platform.stdout(`${e.type} ${e.address} ${'peerId' in e ? e.peerId : ''} ${'reason' in e ? e.reason : 'role' in e ? e.role : ''}\n`);
      if (e.type === 'established') {
        established.push(e.peerId);
        for (const text of options.messages) {
          const sent = endpoint.send(e.address, new TextEncoder().encode(text), now());
          if (sent.ok) handle(sent.value);
        }
      }
    }
    for (const d of out.delivered) {
      const text = new TextDecoder().decode(d.data);
      received.push(`${d.peerId} ${text}`);
      platform.stdout(`received ${d.peerId} ${text}\n`);
    }
  };

  socket = await platform.net.udpBind(options.listen, {
    onMessage(data, from) {
      addresses.set(key(from), from);
      handle(endpoint.receive(key(from), data, now()));
    },
  });
  for (const peer of options.peers) handle(endpoint.connect(key(peer), now()));
  const goalSet = options.peers.length > 0 || options.expect > 0;
  const goal = () => goalSet && established.length >= options.peers.length && received.length >= options.expect;
  const started = platform.monotonicMs();
  let goalAt: number | null = null;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      handle(endpoint.tick(now()));
      const t = platform.monotonicMs();
      if (goalAt === null && goal()) goalAt = t;
      if ((goalAt !== null && t - goalAt >= options.lingerMs) || t - started >= options.timeoutMs) return resolve();
      platform.setTimer(options.tickMs, tick);
    };
    platform.setTimer(options.tickMs, tick);
  });
  socket.close();
  return { ok: goalSet ? goalAt !== null : true, established, received, counters: endpoint.counters.snapshot() };
}
