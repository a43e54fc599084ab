// What the agent's components share, owned by the composition root: the platform, the current configuration,
// the journal, and each running component's handle (null while it is not running). Components read each other
// only through this object, never by importing one another.
import type { KeyFile } from '../identity/store.js';
import type { Certificate } from '../core/identity/cert.js';
import type { TrustBundle } from '../core/identity/chain.js';
import type { MeshView } from '../batman/batctl.js';
import type { DiscoveredPeer } from '../batman/discovery.js';
import { nodeId } from '../core/identity/spiffe.js';
import type { GossipNode } from '../gossip/node.js';
import type { RaftServer } from '../raft/server.js';
import type { SealedLink } from '../channel/link.js';
import type { Platform } from '../platform/types.js';
import type { AgentConfig } from './config.js';
import type { Journal } from './events.js';

export interface NodeIdentity {
  readonly keys: KeyFile;
  readonly chain: readonly Certificate[];
  readonly bundle: TrustBundle;
}

export interface AgentContext {
  readonly platform: Platform;
  config: AgentConfig;
  readonly journal: Journal;
  readonly startedAtMs: number;
  identity: NodeIdentity | null;
  gossip: GossipNode | null;
  raft: RaftServer | null;
  /** The sealed link every node-to-node message goes through; null before enrolment. */
  link: SealedLink | null;
  /** batman-adv's last view of the mesh (neighbours with TQ, originators); null without batman-adv. */
  mesh: MeshView | null;
  /** Peers found through batman-adv (docs/agent.md, "Peers"), besides the configured ones; [] without batman-adv. */
  discovered: readonly DiscoveredPeer[];
  /**
   * Nodes that opened an authenticated session to us before we knew them (with batman-adv: a node finds an anchor
   * from its file, the anchor has no file entry for it), by name: where the session came from, and when (monotonic
   * ms). Peers like the discovered ones; bounded, forgotten when no session was seen for a while.
   */
  readonly inbound: Map<string, { address: { host: string; port: number }; seenMs: number }>;
  /** MACs the XDP data plane should drop: each revoked node's MACs (what it announced, no other node claims). */
  readonly revokedMacs: Map<string, string>;
  /** Telemetry messages sent and when the last one went (wall clock), for status and peers. */
  uplink: { sent: number; lastSentMs: number | null; connected: boolean };
}

/** Every node named in the configuration (anchors and static peers), this one excluded, without duplicates. */
export function configuredPeers(config: AgentConfig): { name: string; address: { host: string; port: number } }[] {
  const seen = new Set<string>([config.nodeName]);
  const out: { name: string; address: { host: string; port: number } }[] = [];
  for (const p of [...config.anchors, ...config.staticPeers]) {
    if (seen.has(p.name)) continue;
    seen.add(p.name);
    out.push({ name: p.name, address: { host: p.address.host, port: p.address.port } });
  }
  return out;
}

export interface PeerEntry {
  readonly name: string;
  readonly address: { host: string; port: number };
  /** `config` (anchor or static_peer), `batman` (found through batman-adv) or `inbound` (its session came first). */
  readonly source: 'config' | 'batman' | 'inbound';
}

/** The configured peers, then those found through batman-adv (a configured name keeps its configured address). */
export function allPeers(ctx: Pick<AgentContext, 'config' | 'discovered' | 'inbound'>): PeerEntry[] {
  const out: PeerEntry[] = configuredPeers(ctx.config).map((p) => ({ ...p, source: 'config' }));
  const seen = new Set<string>([ctx.config.nodeName, ...out.map((p) => p.name)]);
  for (const p of ctx.discovered) {
    if (seen.has(p.name)) continue;
    seen.add(p.name);
    out.push({ name: p.name, address: { host: p.address.host, port: p.address.port }, source: 'batman' });
  }
  for (const [name, p] of ctx.inbound) {
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ name, address: { host: p.address.host, port: p.address.port }, source: 'inbound' });
  }
  return out;
}

/** The SPIFFE ID a peer must present in the sealed link's handshake. */
export const peerId = (config: AgentConfig, name: string): string => nodeId(config.trustDomain, name);

/**
 * Ports a node uses, from its one configured port: the sealed link (UDP) on PORT carries gossip and Raft; their
 * addresses below are only the names each service's socket gives a peer (nothing binds them). Enrolment: TCP PORT+2.
 */
export const gossipPort = (port: number): number => port;
export const raftPort = (port: number): number => port + 1;
/** Anchors serve enrolment (TCP) on PORT+2. */
export const enrolPort = (port: number): number => port + 2;

/** The Raft voters: the configured anchors, or this node alone when it is an anchor and names none. */
export function effectiveAnchors(
  config: AgentConfig,
): readonly { name: string; address: { host: string; port: number } }[] {
  if (config.anchors.length > 0) return config.anchors;
  return config.role === 'anchor' ? [{ name: config.nodeName, address: config.listen }] : [];
}
