// A node's sealed channel over UDP or TCP: opens the transport, feeds messages, disconnects and ticks to
// the pure ChannelEndpoint, sends what it returns. Behind `x0 channel`, the small command that proves the
// path end to end (tests run several of these as separate processes, on Node and on x0-runtime).
import type { HostPort, Platform } from '../platform/types.js';
import { ChannelEndpoint, type Now, type Output } from '../core/channel/endpoint.js';
import type { TrustBundle } from '../core/identity/chain.js';
import { Registrar } from '../core/identity/registrar.js';
import { RenewalClient, RenewalMessage, RenewalService } from '../core/identity/renewal.js';
import { toHex } from '../core/wire/hex.js';
import {
  caFiles,
  loadBundle,
  loadIssuer,
  loadNodeIdentity,
  loadRevocations,
  nodeFiles,
  saveNodeIdentity,
} from '../identity/store.js';
import { openTcpTransport } from './tcp-transport.js';
import {
  addressOf,
  openUdpTransport,
  type ChannelTransport,
  type TransportEvents,
  type TransportName,
} from './transport.js';

export interface ChannelNodeOptions {
  readonly dir: string;
  readonly transport: TransportName;
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
  /** Renew this node's certificate at half its lifetime from the registrar at this peer. */
  readonly renewFrom?: HostPort | null;
  /** Serve renewals to authenticated peers with the CA (or anchor intermediate) in this directory. */
  readonly registrarDir?: string | null;
}

export interface ChannelNodeResult {
  readonly ok: boolean;
  readonly established: string[];
  readonly received: string[];
  readonly counters: Record<string, number>;
  /** Half-open state left when the node stopped (it must be 0 initiators and 0 responders). */
  readonly pending: { initiators: number; responders: number; sessions: number };
}

/** A running channel node: the endpoint and its transport wired together. */
export interface ChannelNode {
  readonly endpoint: ChannelEndpoint;
  readonly transport: ChannelTransport;
  readonly established: string[];
  readonly received: string[];
  tick(): void;
  close(): void;
  renewalCounters(): Record<string, number>;
}

interface Loaded {
  readonly endpoint: ChannelEndpoint;
  readonly bundle: TrustBundle;
  readonly client: RenewalClient | null;
  readonly service: RenewalService | null;
}

function load(
  platform: Platform,
  options: Pick<ChannelNodeOptions, 'dir' | 'renewFrom' | 'registrarDir'>,
): Loaded | string {
  const identity = loadNodeIdentity(platform, options.dir);
  if (!identity.ok) return `cannot load the identity in ${options.dir}: ${identity.reason}`;
  const { keys, chain, bundle } = identity.value;
  const revocations = loadRevocations(platform, nodeFiles(options.dir).revocations, bundle);
  if (typeof revocations === 'string') return revocations;
  const endpoint = new ChannelEndpoint({
    crypto: platform.crypto,
    identity: { chain, signSecretKey: keys.sign.secretKey },
    bundle,
    revocations,
  });
  const client = options.renewFrom ? new RenewalClient(platform.crypto, { keys, chain }) : null;
  if (!options.registrarDir) return { endpoint, bundle, client, service: null };
  const files = caFiles(options.registrarDir);
  const issuer = loadIssuer(platform, options.registrarDir);
  if (typeof issuer === 'string') return issuer;
  const caBundle = loadBundle(platform, files.bundle);
  if (!caBundle.ok) return `cannot load ${files.bundle}: ${caBundle.reason}`;
  const caRevocations = loadRevocations(platform, files.revocations, caBundle.value);
  if (typeof caRevocations === 'string') return caRevocations;
  return {
    endpoint,
    bundle,
    client,
    service: new RenewalService(new Registrar(platform.crypto, issuer, caBundle.value, caRevocations)),
  };
}

/** Payloads of `x0 channel` start with a service byte: 0 text, else a renewal message (renewal.ts). */
const textService = 0;

/** Loads the identity in `dir`, opens the transport, and dials every peer. */
export async function openChannelNode(
  platform: Platform,
  options: Omit<ChannelNodeOptions, 'expect' | 'timeoutMs' | 'tickMs' | 'lingerMs'>,
): Promise<ChannelNode | string> {
  const loaded = load(platform, options);
  if (typeof loaded === 'string') return loaded;
  const { endpoint, client, service } = loaded;
  const renewAddress = options.renewFrom ? addressOf(options.renewFrom) : null;
  const established: string[] = [];
  const received: string[] = [];
  const now = (): Now => ({ monoMs: platform.monotonicMs(), wallMs: platform.wallClockMs() });
  let transport: ChannelTransport | null = null;

  const handle = (out: Output): void => {
    for (const s of out.send) {
      // send() returns null on success: `transport?.send(...) ?? 'no-transport'` reported every success as a failure.
      const error = transport === null ? 'no-transport' : transport.send(s.to, s.bytes);
      if (error !== null) platform.stderr(`channel: send to ${s.to} failed: ${error}\n`);
    }
    for (const e of out.events) {
      platform.stdout(
        `${e.type} ${e.address} ${'peerId' in e ? e.peerId : ''} ${'reason' in e ? e.reason : 'role' in e ? e.role : ''}\n`,
      );
      // Over a stream, a failed handshake or an ended session leaves nothing worth keeping open.
      if (e.type !== 'established') transport?.hangUp(e.address);
      if (e.type !== 'established') continue;
      established.push(e.peerId);
      for (const text of options.messages)
        send(e.address, Uint8Array.from([textService, ...new TextEncoder().encode(text)]));
    }
    for (const d of out.delivered) deliver(d.from, d.peerId, d.data);
  };
  const send = (address: string, payload: Uint8Array): void => {
    const sent = endpoint.send(address, payload, now());
    if (sent.ok) handle(sent.value);
    else platform.stderr(`channel: send to ${address} refused: ${sent.reason}\n`);
  };
  const deliver = (from: string, peerId: string, data: Uint8Array): void => {
    if (data[0] === textService) {
      const text = new TextDecoder().decode(data.subarray(1));
      received.push(`${peerId} ${text}`);
      platform.stdout(`received ${peerId} ${text}\n`);
    } else if (data[0] === RenewalMessage.Request && service !== null) {
      const answer = service.handle(peerId, data, platform.wallClockMs());
      if (answer !== null) send(from, answer);
    } else if (client !== null && from === renewAddress) {
      renewed(client.accept(data, loaded.bundle, platform.wallClockMs()));
    }
  };
  const renewed = (result: ReturnType<RenewalClient['accept']>): void => {
    if (!result.ok) return platform.stdout(`renewal refused ${result.reason}\n`);
    const leaf = result.value.chain[0]!;
    // Not stored, not used: the old certificate stays in force, and renewal asks again at its next tick.
    const failed = saveNodeIdentity(platform, options.dir, result.value.keys, result.value.chain);
    if (failed !== null) return platform.stdout(`renewal not stored: ${failed}\n`);
    endpoint.setTrust({ identity: { chain: result.value.chain, signSecretKey: result.value.keys.sign.secretKey } });
    platform.stdout(
      `renewed ${leaf.subject} serial ${toHex(leaf.serial)} until ${new Date(leaf.notAfterMs).toISOString()}\n`,
    );
    handle(endpoint.refresh(now()));
  };
  const renewTick = (): void => {
    // Ask only over an established session: the registrar knows who asks because the channel says so.
    if (client === null || renewAddress === null || endpoint.sessionFor(renewAddress) === undefined) return;
    const request = client.tick(platform.wallClockMs());
    if (request !== null) send(renewAddress, request);
  };

  const events: TransportEvents = {
    onMessage: (address, bytes) => handle(endpoint.receive(address, bytes, now())),
    onConnected: (address) => handle(endpoint.connect(address, now())),
    onDisconnected: (address, reason) =>
      handle(endpoint.disconnected(address, now(), reason === 'stream-closed' ? 'stream-closed' : 'stream-broken')),
  };
  transport =
    options.transport === 'tcp'
      ? await openTcpTransport(platform, options.listen, events)
      : await openUdpTransport(platform, options.listen, events);
  for (const peer of options.peers) transport.dial(peer);
  const live = transport;
  return {
    endpoint,
    transport: live,
    established,
    received,
    tick: () => {
      handle(endpoint.tick(now()));
      renewTick();
      live.tick(platform.monotonicMs(), (address) => endpoint.sessionFor(address) !== undefined);
    },
    close: () => live.close(),
    renewalCounters: () => ({ ...client?.counters.snapshot(), ...service?.counters.snapshot() }),
  };
}

export async function runChannelNode(
  platform: Platform,
  options: ChannelNodeOptions,
): Promise<ChannelNodeResult | string> {
  const node = await openChannelNode(platform, options);
  if (typeof node === 'string') return node;
  const goalSet = options.peers.length > 0 || options.expect > 0;
  const goal = () =>
    goalSet && node.established.length >= options.peers.length && node.received.length >= options.expect;
  const started = platform.monotonicMs();
  let goalAt: number | null = null;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      node.tick();
      const t = platform.monotonicMs();
      if (goalAt === null && goal()) goalAt = t;
      if ((goalAt !== null && t - goalAt >= options.lingerMs) || t - started >= options.timeoutMs) return resolve();
      platform.setTimer(options.tickMs, tick);
    };
    platform.setTimer(options.tickMs, tick);
  });
  node.close();
  const counters = {
    ...node.endpoint.counters.snapshot(),
    ...node.transport.counters.snapshot(),
    ...node.renewalCounters(),
  };
  return {
    ok: goalSet ? goalAt !== null : true,
    established: node.established,
    received: node.received,
    counters,
    pending: node.endpoint.pendingCounts(),
  };
}
