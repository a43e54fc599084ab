// The mesh document over gossip: every node runs it. Peers are the configured anchors and static peers; this
// node's own section carries its status, its batman-adv neighbours (TQ), component versions and, on anchors,
// the Raft leader, so every node sees every node.
import type { SealedLink } from '../../channel/link.js';
import { GossipNode } from '../../gossip/node.js';
import { overLink } from './link.js';
import { identityRevocations, noRevocationAuthority } from '../../gossip/identity-revocations.js';
import { limits } from '../../core/gossip/limits.js';
import { agentVersion } from '../../version.js';
import { degraded, down, up, type Component } from '../component.js';
import { configuredPeers, effectiveAnchors, gossipPort, type AgentContext } from '../context.js';
import type { Health } from '../supervisor.js';

/** A peer not heard from for this long counts as unreachable in status and peers. */
export const peerSilentMs = 5_000;
/** How often the node's own section is refreshed (uptime, neighbours). */
export const publishEveryMs = 2_000;
const tickMs = 100;

export class GossipComponent implements Component {
  readonly name = 'gossip';
  private node: GossipNode | null = null;
  private link: SealedLink | null = null;
  private timer: ReturnType<AgentContext['platform']['setTimer']> | null = null;
  private published = new Map<string, string>();

  constructor(private readonly ctx: AgentContext) {}

  async start(): Promise<Health> {
    const { platform, config } = this.ctx;
    const link = this.ctx.link;
    if (link === null) return down('no-link');
    this.link = link;
    // The engine gossips with at most limits.peersMax of them (the first it is given) and accepts datagrams from
    // all: anchors first, the rest in an order of this node's own, so that the nodes' gossip graph is connected.
    const all = configuredPeers(config).map((p) => ({ name: p.name, address: { host: p.address.host, port: gossipPort(p.address.port) } }));
    const anchorNames = new Set(effectiveAnchors(config).map((a) => a.name));
    const peers = [...all.filter((p) => anchorNames.has(p.name)), ...shuffled(all.filter((p) => !anchorNames.has(p.name)), () => platform.randomBytes(1)[0] as number)];
    if (peers.length > limits.peersMax) this.ctx.journal.record('info', this.name, 'peers-capped', { configured: peers.length, gossip_with: limits.peersMax });
    const bundle = this.ctx.identity?.bundle;
    this.node = await GossipNode.open(overLink(platform, link, 'gossip'), {
      nodeId: config.nodeName,
      listen: { host: config.listen.host, port: gossipPort(config.listen.port) },
      peers,
      members: [config.nodeName, ...peers.map((p) => p.name)],
      stateDir: `${config.stateDir}/gossip`,
      revocationCheck: bundle === undefined ? noRevocationAuthority : identityRevocations(platform.crypto, bundle),
      tickMs,
    });
    this.ctx.gossip = this.node;
    this.published.clear();
    this.node.setVersion('agent', agentVersion);
    this.publish();
    this.ctx.journal.record('info', this.name, 'started', { listen: `${config.listen.host}:${gossipPort(config.listen.port)}`, peers: peers.map((p) => p.name).join(',') || 'none' });
    return this.health();
  }

  stop(): void {
    if (this.timer !== null) this.ctx.platform.clearTimer(this.timer);
    this.timer = null;
    this.node?.close();
    this.node = null;
    this.ctx.gossip = null;
  }

  health(): Health {
    const node = this.node;
    if (node === null) return down('not-running');
    if (this.ctx.link !== this.link) return down('link-restarted');
    const peers = configuredPeers(this.ctx.config);
    if (peers.length === 0) return up;
    const now = this.ctx.platform.monotonicMs();
    const heard = peers.filter((p) => { const t = node.lastHeardMs(p.name); return t !== null && now - t < peerSilentMs; });
    return heard.length > 0 ? up : degraded('no-peer-heard');
  }

  metrics(): Record<string, number> {
    const c = this.node?.allCounters() ?? {};
    const refused = Object.entries(c).filter(([k]) => k.startsWith('refused:')).reduce((sum, [, v]) => sum + v, 0);
    return { sections: this.node?.doc.sections.size ?? 0, refused, flash_bytes: c['flash-bytes'] ?? 0 };
  }

  /** Writes what changed in this node's own section, then again every publishEveryMs. */
  private publish(): void {
    const node = this.node;
    if (node === null) return;
    const { platform } = this.ctx;
    node.setStatus({ online: true, uptimeS: Math.floor((platform.monotonicMs() - this.ctx.startedAtMs) / 1000), loadMilli: 0 });
    const neighbours = this.ctx.mesh?.neighbours ?? [];
    const kept = new Set<string>();
    for (const n of neighbours) {
      if (n.tq === null) continue;
      kept.add(n.neighbour);
      if (this.published.get(`nb:${n.neighbour}`) === String(n.tq)) continue;
      if (node.setNeighbour(n.neighbour, { tq: n.tq, rttMs: 0 }).ok) this.published.set(`nb:${n.neighbour}`, String(n.tq));
    }
    for (const key of [...this.published.keys()]) {
      if (!key.startsWith('nb:') || kept.has(key.slice(3))) continue;
      node.removeNeighbour(key.slice(3));
      this.published.delete(key);
    }
    const mac = this.ctx.mesh?.primaryMac ?? null;
    if (mac !== null && this.published.get('mac') !== mac && node.setVersion('batman.mac', mac).ok) this.published.set('mac', mac);
    const raft = this.ctx.raft?.status();
    if (raft !== undefined) {
      const leader = effectiveAnchors(this.ctx.config)[raft.lead - 1]?.name ?? '';
      const text = `${leader}/${raft.term}`;
      if (this.published.get('raft') !== text && node.setVersion('raft', text).ok) this.published.set('raft', text);
    }
    this.timer = platform.setTimer(publishEveryMs, () => this.publish());
  }
}

/** Fisher-Yates with a byte source (bounded: one pass over the list). */
function shuffled<T>(items: readonly T[], byte: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = ((byte() << 8) | byte()) % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
