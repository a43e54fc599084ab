// The mesh document over gossip: every node runs it. Peers are the configured anchors and static peers, and the
// nodes batman-adv routes to (named by what each announced: src/batman/discovery.ts); this node's own section
// carries its status, its batman-adv neighbours (TQ), its announcement (originator, interface MACs, sealed-link
// address), component versions and, on anchors, the Raft leader, so every node sees every node.
import type { SealedLink } from '../../channel/link.js';
import { GossipNode } from '../../gossip/node.js';
import { identityWriters } from '../../gossip/identity-writers.js';
import type { Certificate } from '../../core/identity/cert.js';
import { overLink } from './link.js';
import {
  encodeIdentityList,
  identityRevocations,
  noRevocationAuthority,
  signedDocFromIdentityList,
} from '../../gossip/identity-revocations.js';
import { RevocationStore } from '../../core/identity/revocation.js';
import { bytesEqual as sameBytes } from '../../core/wire/hex.js';
import { nodeFiles, writePublic } from '../../identity/store.js';
import { limits } from '../../core/gossip/limits.js';
import { agentVersion } from '../../version.js';
import { degraded, down, up, type Component } from '../component.js';
import {
  discoverPeers,
  discoveryLimits,
  encodeMacs,
  formatLinkAddress,
  heldPeers,
  macsOf,
  readAnnouncement,
  type Announcement,
} from '../../batman/discovery.js';
import type { HostPort } from '../../platform/types.js';
import { allPeers, effectiveAnchors, gossipPort, type AgentContext } from '../context.js';
import { linkPeers } from './link.js';
import type { Health } from '../supervisor.js';
import { restoreRevokedMacs, saveRevokedMacs } from '../revoked-macs.js';

/** A peer not heard from for this long counts as unreachable in status and peers. */
export const peerSilentMs = 5_000;
/** How often the node's own section is refreshed (uptime, neighbours). */
export const publishEveryMs = 2_000;
/** How often the operator's revocation list file is looked at (a small read; revocation is urgent). */
export const listFileEveryMs = 500;
const tickMs = 100;

/**
 * What the gossip component tells the composition root about revocation the moment it knows it (src/agent/agent.ts
 * passes each on to the link and XDP components, which this one does not know).
 */
export interface RevocationEvents {
  /** A newer revocation list was adopted (checked against the bundle): end the sessions with the nodes it names. */
  readonly listAdopted: (list: RevocationStore) => void;
  /** ctx.revokedMacs gained MACs (a newly revoked node's, or one learned of a revoked node): block them now. */
  readonly macsRevoked: () => void;
}

export class GossipComponent implements Component {
  readonly name = 'gossip';
  private node: GossipNode | null = null;
  private unsubscribe: (() => void) | null = null;
  /** The version of the operator's list file last offered to the mesh document. */
  private offeredVersion = 0;
  /** The revocation list file as last checked. */
  private lastListFile: Uint8Array | null = null;
  private link: SealedLink | null = null;
  /** The certificate this node's section is signed under (writer.ts). */
  private signedAs: Certificate | null = null;
  private timer: ReturnType<AgentContext['platform']['setTimer']> | null = null;
  private listTimer: ReturnType<AgentContext['platform']['setTimer']> | null = null;
  private published = new Map<string, string>();
  /** What each node announced (originator, interface MACs, address), kept after its section left (revocation). */
  private readonly announced = new Map<string, Announcement>();
  /** The discovered peers as last applied ("name@address,..."). */
  private discoveredKey = '';
  /** When each discovered peer was last in batman-adv's table (monotonic ms): held for a while after it leaves. */
  private readonly discoveredSeenMs = new Map<string, number>();

  constructor(
    private readonly ctx: AgentContext,
    private readonly events: RevocationEvents,
  ) {}

  async start(): Promise<Health> {
    const { platform, config } = this.ctx;
    const link = this.ctx.link;
    if (link === null) return down('no-link');
    this.link = link;
    const peers = this.gossipPeers();
    if (peers.length > limits.peersMax)
      this.ctx.journal.record('info', this.name, 'peers-capped', {
        configured: peers.length,
        gossip_with: limits.peersMax,
      });
    const bundle = this.ctx.identity?.bundle;
    // With batman-adv, peers are found at run time, and a node's section may reach us through any other node before
    // we know it: every node of the trust domain that the sealed link lets in may write its own section. Without
    // batman-adv the members are the configured ones.
    const members = [config.nodeName, ...peers.map((p) => p.name)];
    // Every section travels signed by its writer, so a relay can pass it on but not forge it (writer.ts).
    const identity = this.ctx.identity;
    const writers =
      identity === null
        ? null
        : identityWriters(
            platform.crypto,
            { chain: identity.chain, signSecretKey: identity.keys.sign.secretKey, bundle: identity.bundle },
            () => platform.wallClockMs(),
          );
    if (writers !== null && !writers.ok) return down(`writers: ${writers.reason}`);
    this.signedAs = identity?.chain[0] ?? null;
    this.node = await GossipNode.open(overLink(platform, link, 'gossip'), {
      nodeId: config.nodeName,
      listen: { host: config.listen.host, port: gossipPort(config.listen.port) },
      peers,
      ...(config.meshInterface === null ? { members } : { membership: () => true }),
      stateDir: `${config.stateDir}/gossip`,
      revocationCheck: bundle === undefined ? noRevocationAuthority : identityRevocations(platform.crypto, bundle),
      ...(writers === null ? {} : { writers: writers.value }),
      tickMs,
    });
    this.ctx.gossip = this.node;
    // After a restart the revoked nodes' sections (their announced MACs) are gone: what was persisted stands in.
    const restored = restoreRevokedMacs(this.ctx);
    if (!restored.ok)
      this.ctx.journal.record('warn', this.name, 'revoked-macs-not-restored', { reason: restored.reason });
    this.published.clear();
    this.discoveredKey = '';
    this.unsubscribe = this.node.doc.subscribe((change) => {
      if (change.field === 'revocations') this.revocationsChanged();
    });
    this.revocationsChanged();
    this.node.setVersion('agent', agentVersion);
    this.watchListFile();
    this.publish();
    this.ctx.journal.record('info', this.name, 'started', {
      listen: `${config.listen.host}:${gossipPort(config.listen.port)}`,
      peers: peers.map((p) => p.name).join(',') || 'none',
    });
    return this.health();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer !== null) this.ctx.platform.clearTimer(this.timer);
    this.timer = null;
    if (this.listTimer !== null) this.ctx.platform.clearTimer(this.listTimer);
    this.listTimer = null;
    this.node?.close();
    this.node = null;
    this.ctx.gossip = null;
  }

  health(): Health {
    const node = this.node;
    if (node === null) return down('not-running');
    if (this.ctx.link !== this.link) return down('link-restarted');
    // A renewed certificate: restarted, the node starts a new incarnation whose stream carries the new chain.
    const leaf = this.ctx.identity?.chain[0];
    if (this.signedAs !== null && (leaf === undefined || !sameBytes(leaf.serial, this.signedAs.serial)))
      return down('identity-changed');
    const peers = allPeers(this.ctx);
    if (peers.length === 0) return up;
    const now = this.ctx.platform.monotonicMs();
    const heard = peers.filter((p) => {
      const t = node.lastHeardMs(p.name);
      return t !== null && now - t < peerSilentMs;
    });
    return heard.length > 0 ? up : degraded('no-peer-heard');
  }

  metrics(): Record<string, number> {
    const c = this.node?.allCounters() ?? {};
    const refused = Object.entries(c)
      .filter(([k]) => k.startsWith('refused:'))
      .reduce((sum, [, v]) => sum + v, 0);
    return { sections: this.node?.doc.sections.size ?? 0, refused, flash_bytes: c['flash-bytes'] ?? 0 };
  }

  /**
   * Revocation everywhere: a newer list the operator dropped into STATE_DIR/revocations.cbor (from `x0 ca revoke`,
   * on any one node) is offered to the mesh document, which gossip spreads; a newer list from the document is
   * stored there (the link reads it at start) and told to the composition root at once (events.listAdopted: the link
   * ends every session with a revoked node and refuses new ones), and so are the revoked nodes' MACs (for XDP).
   */
  private revocationsChanged(): void {
    const { platform, config, journal } = this.ctx;
    const node = this.node;
    const bundle = this.ctx.identity?.bundle;
    if (node === null || bundle === undefined) return;
    const path = nodeFiles(config.stateDir).revocations;
    const held = node.doc.revocations.doc;
    if (held !== null && held.version > this.offeredVersion) {
      this.offeredVersion = held.version;
      const bytes = encodeIdentityList(held);
      const store = new RevocationStore();
      const offered = store.offerBytes(platform.crypto, bytes, bundle);
      if (!offered.ok)
        return journal.record('error', this.name, 'revocations-refused', {
          reason: offered.reason,
          version: held.version,
        });
      // Sessions first (no I/O but datagrams), then the data plane; the file last (flash is slow on a router).
      this.events.listAdopted(store);
      journal.record('warn', this.name, 'revocations', {
        version: held.version,
        revoked: [...node.doc.revoked].sort().join(',') || 'none',
      });
      const learned = this.learnRevokedMacs();
      const onDisk = platform.files.read(path);
      const failed = onDisk === null || !sameBytes(onDisk, bytes) ? writePublic(platform, path, bytes) : null;
      if (failed !== null) journal.record('warn', this.name, 'revocations-not-stored', { reason: failed });
      // After the list: at start the MACs are taken only for nodes the stored list names.
      if (learned) this.storeRevokedMacs();
      return;
    }
    this.blockRevoked();
  }

  /** Looks at the operator's list file now and every listFileEveryMs. */
  private watchListFile(): void {
    this.listTimer = null;
    if (this.node === null) return;
    this.offerFromFile();
    this.listTimer = this.ctx.platform.setTimer(listFileEveryMs, () => this.watchListFile());
  }

  /** The operator's list file, if newer than the document's: offered to the mesh (checked against the bundle). */
  private offerFromFile(): void {
    const { platform, config, journal } = this.ctx;
    const node = this.node;
    const bundle = this.ctx.identity?.bundle;
    if (node === null || bundle === undefined) return;
    const bytes = platform.files.read(nodeFiles(config.stateDir).revocations);
    // Checked (a signature verification) only when the file changed, not at every publish.
    if (bytes === null || (this.lastListFile !== null && sameBytes(bytes, this.lastListFile))) return;
    this.lastListFile = bytes;
    const doc = signedDocFromIdentityList(platform.crypto, bytes, bundle);
    if (!doc.ok) {
      if (this.published.get('revocations-file') !== doc.reason)
        journal.record('error', this.name, 'revocations-file-refused', {
          reason: doc.reason,
          path: nodeFiles(config.stateDir).revocations,
        });
      this.published.set('revocations-file', doc.reason);
      return;
    }
    if (doc.value.version <= node.doc.revocations.version) return;
    const refused = node.offerRevocations(doc.value);
    if (refused !== null) journal.record('error', this.name, 'revocations-file-refused', { reason: refused });
    else journal.record('info', this.name, 'revocations-offered', { version: doc.value.version });
  }

  /**
   * Gossip peers, at most limits.peersMax taken by the engine (the first it is given): anchors first, then the
   * nodes batman-adv routes to (direct neighbours first, by TQ) and the inbound ones, then static peers in an order of this node's own,
   * so that the nodes' gossip graph is connected.
   */
  private gossipPeers(): { name: string; address: HostPort }[] {
    const { platform, config } = this.ctx;
    const anchorNames = new Set(effectiveAnchors(config).map((a) => a.name));
    const all = allPeers(this.ctx).map((p) => ({
      name: p.name,
      source: p.source,
      address: { host: p.address.host, port: gossipPort(p.address.port) },
    }));
    const strip = (ps: typeof all) => ps.map((p) => ({ name: p.name, address: p.address }));
    return [
      ...strip(all.filter((p) => anchorNames.has(p.name))),
      ...strip(all.filter((p) => !anchorNames.has(p.name) && p.source !== 'config')),
      ...strip(
        shuffled(
          all.filter((p) => !anchorNames.has(p.name) && p.source === 'config'),
          () => platform.randomBytes(1)[0] as number,
        ),
      ),
    ];
  }

  /** This node's announcement: its interfaces' MACs under the mesh interface and its sealed link's address. */
  private announce(): void {
    const node = this.node;
    if (node === null) return;
    const ifs = encodeMacs((this.ctx.mesh?.interfaces ?? []).map((i) => i.mac));
    if (ifs !== '' && this.published.get('ifs') !== ifs && node.setVersion('batman.ifs', ifs).ok)
      this.published.set('ifs', ifs);
    const address = announcedAddress(this.ctx.config);
    const text = address === null ? null : formatLinkAddress(address);
    if (text !== null && this.published.get('link') !== text && node.setVersion('link', text).ok)
      this.published.set('link', text);
  }

  /**
   * Peers from batman-adv: every originator it routes to, named by the node that announced that MAC (and only
   * that node); the sealed link then proves the name (the dial expects that node's certificate). A change of
   * the set is applied to the link and to gossip at once.
   */
  private discover(): void {
    const node = this.node;
    if (node === null) return;
    const doc = node.doc;
    for (const id of doc.sections.keys()) {
      const a = readAnnouncement((component) => doc.version(id, component));
      if (a.mac === null && a.macs.length === 0 && a.link === null) continue;
      this.announced.delete(id); // re-inserted last: the oldest entries are the ones evicted below
      this.announced.set(id, a);
    }
    for (const id of this.announced.keys()) {
      if (this.announced.size <= discoveryLimits.announcementsMax) break;
      if (!doc.sections.has(id) && !doc.revoked.has(id)) this.announced.delete(id);
    }
    this.blockRevoked();
    const mesh = this.ctx.mesh;
    if (this.ctx.config.meshInterface === null) return;
    const now = this.ctx.platform.monotonicMs();
    const found =
      mesh === null
        ? this.ctx.discovered
        : heldPeers(
            this.ctx.discovered,
            discoverPeers(this.ctx.config.nodeName, mesh.originators, this.announced, doc.revoked),
            this.discoveredSeenMs,
            now,
            doc.revoked,
          );
    // Inbound peers (their session came first) stay while they keep a session, and a hold time after.
    const sessions = new Set(this.ctx.link?.established() ?? []);
    for (const [name, p] of this.ctx.inbound) {
      if (sessions.has(name)) p.seenMs = now;
      else if (now - p.seenMs > discoveryLimits.peerHoldMs || doc.revoked.has(name)) this.ctx.inbound.delete(name);
    }
    const key = [
      ...found.map((p) => `${p.name}@${formatLinkAddress(p.address)}`),
      ...[...this.ctx.inbound].map(([name, p]) => `<${name}@${formatLinkAddress(p.address)}`),
    ].join(',');
    if (key === this.discoveredKey) return;
    this.discoveredKey = key;
    this.ctx.discovered = found;
    node.setPeers(this.gossipPeers());
    this.ctx.link?.setPeers(linkPeers(this.ctx));
    this.ctx.journal.record('info', this.name, 'peers-discovered', {
      batman: found.map((p) => `${p.name}${p.direct ? '' : '~'}`).join(',') || 'none',
      inbound: [...this.ctx.inbound.keys()].join(',') || 'none',
    });
  }

  /**
   * Revocation in the data plane: each revoked node's MACs for the XDP component to drop (src/agent/components/xdp.ts),
   * told at once through the composition root, and persisted (src/agent/revoked-macs.ts) for after a restart.
   */
  private blockRevoked(): void {
    if (this.learnRevokedMacs()) this.storeRevokedMacs();
  }

  /** Adds the revoked nodes' MACs known now to ctx.revokedMacs; when there were new ones, XDP is told at once. */
  private learnRevokedMacs(): boolean {
    const revoked = this.node?.doc.revoked;
    if (revoked === undefined) return false;
    let added = 0;
    for (const name of revoked)
      for (const mac of macsOf(name, this.announced)) {
        if (this.ctx.revokedMacs.get(mac) === name) continue;
        this.ctx.revokedMacs.set(mac, name);
        added++;
      }
    if (added > 0) this.events.macsRevoked();
    return added > 0;
  }

  private storeRevokedMacs(): void {
    const failed = saveRevokedMacs(this.ctx.platform, this.ctx.config.stateDir, this.ctx.revokedMacs);
    if (failed !== null) this.ctx.journal.record('warn', this.name, 'revoked-macs-not-stored', { reason: failed });
  }

  /** Writes what changed in this node's own section, then again every publishEveryMs. */
  private publish(): void {
    const node = this.node;
    if (node === null) return;
    const { platform } = this.ctx;
    node.setStatus({
      online: true,
      uptimeS: Math.floor((platform.monotonicMs() - this.ctx.startedAtMs) / 1000),
      loadMilli: 0,
    });
    const neighbours = this.ctx.mesh?.neighbours ?? [];
    const kept = new Set<string>();
    for (const n of neighbours) {
      if (n.tq === null) continue;
      kept.add(n.neighbour);
      if (this.published.get(`nb:${n.neighbour}`) === String(n.tq)) continue;
      if (node.setNeighbour(n.neighbour, { tq: n.tq, rttMs: 0 }).ok)
        this.published.set(`nb:${n.neighbour}`, String(n.tq));
    }
    for (const key of [...this.published.keys()]) {
      if (!key.startsWith('nb:') || kept.has(key.slice(3))) continue;
      node.removeNeighbour(key.slice(3));
      this.published.delete(key);
    }
    const mac = this.ctx.mesh?.primaryMac ?? null;
    if (mac !== null && this.published.get('mac') !== mac && node.setVersion('batman.mac', mac).ok)
      this.published.set('mac', mac);
    this.announce();
    this.discover();
    const raft = this.ctx.raft?.status();
    if (raft !== undefined) {
      const leader = effectiveAnchors(this.ctx.config)[raft.lead - 1]?.name ?? '';
      const text = `${leader}/${raft.term}`;
      if (this.published.get('raft') !== text && node.setVersion('raft', text).ok) this.published.set('raft', text);
    }
    this.timer = platform.setTimer(publishEveryMs, () => this.publish());
  }
}

/** Where this node's sealed link is reached on the mesh: `announce`, else `listen` when it names one address. */
export function announcedAddress(config: AgentContext['config']): HostPort | null {
  if (config.announce !== null) return config.announce;
  const host = config.listen.host;
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) && host !== '0.0.0.0' ? config.listen : null;
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
