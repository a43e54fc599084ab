// The sealed link (src/channel/link.ts) on the listen port: every node-to-node message of the agent (gossip, Raft)
// goes through it, so each one is acted on only if it comes from an enrolled, unrevoked node of this mesh that may
// send it: Raft only from anchors, gossip from configured members. Needs the node's certificate: before enrolment
// it is down with reason not-enrolled, and gossip and Raft wait for it.
import { SealedLink, type LinkPeer, type LinkService } from '../../channel/link.js';
import { loadRevocations, nodeFiles } from '../../identity/store.js';
import type { HostPort, Platform } from '../../platform/types.js';
import { degraded, down, up, type Component } from '../component.js';
import { configuredPeers, effectiveAnchors, gossipPort, raftPort, type AgentContext } from '../context.js';
import type { Health } from '../supervisor.js';

/** No session with any peer for this long after start: the link is degraded (peers unreachable or refusing us). */
const lonelyAfterMs = 5_000;

export class LinkComponent implements Component {
  readonly name = 'link';
  private link: SealedLink | null = null;
  private startedMs = 0;

  constructor(private readonly ctx: AgentContext) {}

  async start(): Promise<Health> {
    const { platform, config, journal } = this.ctx;
    const identity = this.ctx.identity;
    if (identity === null) return down('not-enrolled');
    const revocations = loadRevocations(platform, nodeFiles(config.stateDir).revocations, identity.bundle);
    if (typeof revocations === 'string') return down(`revocations: ${revocations}`);
    const anchors = new Set(effectiveAnchors(config).map((a) => a.name));
    const members = new Set(configuredPeers(config).map((p) => p.name));
    const peers: LinkPeer[] = configuredPeers(config).map((p) => ({
      name: p.name,
      link: p.address,
      services: {
        gossip: { host: p.address.host, port: gossipPort(p.address.port) },
        raft: { host: p.address.host, port: raftPort(p.address.port) },
      },
    }));
    this.link = await SealedLink.open(platform, {
      listen: config.listen,
      chain: identity.chain,
      signSecretKey: identity.keys.sign.secretKey,
      bundle: identity.bundle,
      revocations,
      peers,
      allow: (service: LinkService, peer: string) => (service === 'raft' ? anchors.has(peer) : members.has(peer)),
    });
    this.ctx.link = this.link;
    this.startedMs = platform.monotonicMs();
    journal.record('info', this.name, 'started', {
      listen: `${config.listen.host}:${config.listen.port}`,
      peers: peers.length,
    });
    return up;
  }

  stop(): void {
    this.link?.close();
    this.link = null;
    this.ctx.link = null;
  }

  health(): Health {
    const link = this.link;
    if (link === null) return down('not-running');
    if (configuredPeers(this.ctx.config).length === 0) return up;
    if (link.established().length === 0 && this.ctx.platform.monotonicMs() - this.startedMs > lonelyAfterMs)
      return degraded('no-session');
    return up;
  }

  metrics(): Record<string, number> {
    const c = this.link?.counters.snapshot() ?? {};
    const channel = this.link?.channelCounters() ?? {};
    const refused =
      Object.entries(c)
        .filter(([k]) => k.endsWith('-not-allowed') || k === 'from-unknown-node')
        .reduce((n, [, v]) => n + v, 0) +
      Object.entries(channel)
        .filter(([k]) => !k.startsWith('closed'))
        .reduce((n, [, v]) => n + v, 0);
    return {
      sessions: this.link?.established().length ?? 0,
      handshakes: c['channel-established'] ?? 0,
      handshake_failures: c['channel-handshake-failed'] ?? 0,
      refused,
    };
  }
}

/** The platform a component sees when its datagrams go over the sealed link: udpBind gives the service's socket. */
export function overLink(platform: Platform, link: SealedLink, service: LinkService): Platform {
  return {
    ...platform,
    net: { ...platform.net, udpBind: async (local: HostPort, handlers) => link.socket(service, handlers, local) },
  };
}
