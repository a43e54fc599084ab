// The sealed link (src/channel/link.ts) on the listen port: every node-to-node message of the agent (gossip, Raft)
// goes through it, so each one is acted on only if it comes from an enrolled, unrevoked node of this mesh that may
// send it: Raft only from anchors, gossip from its peers (configured, or found through batman-adv: a dial to one
// expects that node's certificate in the handshake, so an announcement alone names nobody). Needs the node's certificate: before enrolment
// it is down with reason not-enrolled, and gossip and Raft wait for it.
import { SealedLink, type LinkPeer, type LinkService } from '../../channel/link.js';
import { loadRevocations, nodeFiles } from '../../identity/store.js';
import type { RevocationStore } from '../../core/identity/revocation.js';
import type { HostPort, Platform } from '../../platform/types.js';
import { discoveryLimits } from '../../batman/discovery.js';
import { degraded, down, up, type Component } from '../component.js';
import { allPeers, effectiveAnchors, gossipPort, peerId, raftPort, type AgentContext } from '../context.js';
import type { Health } from '../supervisor.js';

/** No session with any peer for this long after start: the link is degraded (peers unreachable or refusing us). */
const lonelyAfterMs = 5_000;

export class LinkComponent implements Component {
  readonly name = 'link';
  private link: SealedLink | null = null;
  private startedMs = 0;
  /** The newest list given by revoke(). */
  private latest: RevocationStore | null = null;

  constructor(private readonly ctx: AgentContext) {}

  async start(): Promise<Health> {
    const { platform, config, journal } = this.ctx;
    const identity = this.ctx.identity;
    if (identity === null) return down('not-enrolled');
    const revocations = loadRevocations(platform, nodeFiles(config.stateDir).revocations, identity.bundle);
    if (typeof revocations === 'string') return down(`revocations: ${revocations}`);
    const newest = this.latest !== null && this.latest.version > revocations.version ? this.latest : revocations;
    const anchors = new Set(effectiveAnchors(config).map((a) => a.name));
    const peers = linkPeers(this.ctx);
    this.link = await SealedLink.open(platform, {
      listen: config.listen,
      chain: identity.chain,
      signSecretKey: identity.keys.sign.secretKey,
      bundle: identity.bundle,
      revocations: newest,
      peers,
      // Only a listed peer's messages are delivered at all (configured or found: `setPeers` keeps the list).
      allow: (service: LinkService, peer: string) => (service === 'raft' ? anchors.has(peer) : true),
      ...(config.meshInterface === null
        ? {}
        : { onUnknownPeer: (name: string, from: string) => this.inbound(name, from) }),
    });
    this.ctx.link = this.link;
    this.startedMs = platform.monotonicMs();
    journal.record('info', this.name, 'started', {
      listen: `${config.listen.host}:${config.listen.port}`,
      peers: peers.length,
    });
    return up;
  }

  /**
   * With batman-adv, a node that reached us first (it has us in its file or found us; we have no entry for it yet)
   * is listed at once under the name its certificate proved, at the address its session came from: the next
   * messages are delivered, and gossip takes it as a peer at its next round (src/agent/components/gossip.ts).
   */
  private inbound(name: string, from: string): void {
    const { ctx } = this;
    const colon = from.lastIndexOf(':');
    const port = Number(from.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535 || name === ctx.config.nodeName) return;
    if (!ctx.inbound.has(name) && ctx.inbound.size >= discoveryLimits.discoveredPeersMax) return;
    const known = ctx.inbound.has(name);
    ctx.inbound.set(name, { address: { host: from.slice(0, colon), port }, seenMs: ctx.platform.monotonicMs() });
    if (known) return;
    this.link?.setPeers(linkPeers(ctx));
    ctx.journal.record('info', this.name, 'peer-inbound', { peer: name, address: from });
  }

  /**
   * A newer revocation list (from the mesh document): sessions with the nodes it names end, new ones are refused.
   * Kept for the next start too, in case that reads the list file before gossip has written this one there.
   */
  revoke(list: RevocationStore): void {
    if (this.latest !== null && list.version <= this.latest.version) return;
    this.latest = list;
    this.link?.setRevocations(list);
  }

  stop(): void {
    this.link?.close();
    this.link = null;
    this.ctx.link = null;
  }

  health(): Health {
    const link = this.link;
    if (link === null) return down('not-running');
    if (allPeers(this.ctx).length === 0) return up;
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

/** The sealed link's peers: every configured and discovered one, each dial expecting that node's certificate. */
export function linkPeers(ctx: AgentContext): LinkPeer[] {
  return allPeers(ctx).map((p) => ({
    name: p.name,
    link: p.address,
    services: {
      gossip: { host: p.address.host, port: gossipPort(p.address.port) },
      raft: { host: p.address.host, port: raftPort(p.address.port) },
    },
    expectedId: peerId(ctx.config, p.name),
  }));
}

/** The platform a component sees when its datagrams go over the sealed link: udpBind gives the service's socket. */
export function overLink(platform: Platform, link: SealedLink, service: LinkService): Platform {
  return {
    ...platform,
    net: { ...platform.net, udpBind: async (local: HostPort, handlers) => link.socket(service, handlers, local) },
  };
}
