// What the agent's ubus object answers (src/ubus/agent-object.ts shapes the methods; docs/protocol/ubus.md lists
// the fields): plain JSON-ready views of the supervisor, the mesh document, Raft and batman-adv. Reads only.
import { newestStamp } from '../core/gossip/mesh-doc.js';
import { nodeId } from '../core/identity/spiffe.js';
import type { AgentProvider } from '../ubus/agent-object.js';
import type { JsTable } from '../ubus/values.js';
import { agentVersion } from '../version.js';
import { allPeers, effectiveAnchors, type AgentContext } from './context.js';
import { peerSilentMs } from './components/gossip.js';
import type { Supervisor } from './supervisor.js';

/** A node whose section has not changed for this long is reported down (its status is republished every 2 s). */
export const nodeSilentMs = 10_000;

export interface ProviderHooks {
  readonly reload: () => JsTable;
  readonly restart: (component: string) => JsTable;
  readonly token: (node: string, ttlS: number | null) => JsTable;
}

const seconds = (ms: number): number => Math.max(0, Math.round(ms / 1000));

/** The leader as the anchors announce it through gossip (`raft` version: LEADER/TERM), highest term wins. */
export function announcedLeader(ctx: AgentContext): { leader: string; term: number } | null {
  const doc = ctx.gossip?.doc;
  if (doc === undefined) return null;
  let best: { leader: string; term: number } | null = null;
  for (const anchor of effectiveAnchors(ctx.config)) {
    const text = doc.version(anchor.name, 'raft');
    const m = text === undefined ? null : /^([^/]*)\/(\d+)$/.exec(text);
    if (m === null) continue;
    const term = Number(m[2]);
    if (m[1] !== '' && (best === null || term > best.term)) best = { leader: m[1] as string, term };
  }
  return best;
}

export function agentProvider(ctx: AgentContext, supervisor: Supervisor, hooks: ProviderHooks): AgentProvider {
  const { platform } = ctx;
  const anchorNames = () => new Set(effectiveAnchors(ctx.config).map((a) => a.name));
  const lastSeenS = (name: string): number | null => {
    const section = ctx.gossip?.doc.sections.get(name);
    const stamp = section === undefined ? null : newestStamp(section);
    return stamp === null ? null : seconds(platform.wallClockMs() - stamp[0]);
  };

  const components = (): JsTable => {
    const out: Record<string, JsTable> = {};
    for (const [name, h] of Object.entries(supervisor.snapshot()))
      out[name] = { state: h.state, reason: h.reason, restarts: h.restarts };
    return out;
  };

  const peers = (): JsTable[] => {
    const gossip = ctx.gossip;
    const now = platform.monotonicMs();
    const revoked = gossip?.doc.revoked ?? new Set<string>();
    const anchors = anchorNames();
    const byMac = new Map<string, string>();
    for (const [id] of gossip?.doc.sections ?? []) {
      const mac = gossip?.doc.version(id, 'batman.mac');
      if (mac !== undefined) byMac.set(mac, id);
    }
    // The sealed link's state per peer: a session (established), or none (not yet, refused, or revoked).
    const sessions = new Set(ctx.link?.established() ?? []);
    const channelOf = (name: string): string => (sessions.has(name) ? 'established' : 'none');
    const configured = allPeers(ctx).map((p): JsTable => {
      const heard = gossip?.lastHeardMs(p.name) ?? null;
      const link = (ctx.mesh?.neighbours ?? []).find((n) => byMac.get(n.neighbour) === p.name);
      return {
        id: p.name,
        spiffe_id: nodeId(ctx.config.trustDomain, p.name),
        address: `${p.address.host}:${p.address.port}`,
        mac: link?.neighbour ?? null,
        iface: link?.iface ?? null,
        tq: link?.tq ?? null,
        state: revoked.has(p.name) ? 'revoked' : heard !== null && now - heard < peerSilentMs ? 'up' : 'down',
        channel: channelOf(p.name),
        role: anchors.has(p.name) ? 'anchor' : 'node',
        revoked: revoked.has(p.name),
        last_heard_s: heard === null ? null : seconds(now - heard),
        last_seen_s: lastSeenS(p.name),
        source: p.source,
      };
    });
    const named = new Set(configured.map((p) => p.mac).filter((m) => m !== null));
    const unnamed = (ctx.mesh?.neighbours ?? [])
      .filter((n) => !named.has(n.neighbour))
      .map((n): JsTable => {
        const id = byMac.get(n.neighbour) ?? n.neighbour;
        return {
          id,
          spiffe_id: byMac.has(n.neighbour) ? nodeId(ctx.config.trustDomain, id) : null,
          address: n.neighbour,
          mac: n.neighbour,
          iface: n.iface,
          tq: n.tq ?? 0,
          state: n.tq === null ? 'seen' : 'up',
          channel: channelOf(id),
          role: anchors.has(id) ? 'anchor' : 'node',
          revoked: revoked.has(id),
          last_seen_ms: n.lastSeenMs,
        };
      });
    return [...configured, ...unnamed];
  };

  return {
    status: (): JsTable => {
      const leaf = ctx.identity?.chain[0];
      const all = peers();
      return {
        node_id: ctx.config.nodeName,
        role: ctx.config.role,
        state: supervisor.overall(),
        uptime_s: seconds(platform.monotonicMs() - ctx.startedAtMs),
        version: agentVersion,
        spiffe_id: nodeId(ctx.config.trustDomain, ctx.config.nodeName),
        cert_expires_at: leaf === undefined ? null : Math.floor(leaf.notAfterMs / 1000),
        components: components(),
        peers_total: all.length,
        peers_up: all.filter((p) => p.state === 'up').length,
        mesh:
          ctx.config.meshInterface === null
            ? 'none'
            : supervisor.health('batman')?.state === 'up'
              ? ctx.config.meshInterface
              : `${ctx.config.meshInterface}: ${supervisor.health('batman')?.reason ?? 'unknown'}`,
      };
    },
    peers: (): JsTable => ({ peers: peers() }),
    version: (): JsTable => ({ version: agentVersion, engine: platform.name, crypto: platform.crypto.backend }),
    raft: (): JsTable => {
      const anchors = effectiveAnchors(ctx.config);
      const name = (id: number): string | null => anchors[id - 1]?.name ?? null;
      const server = ctx.raft;
      if (server === null) {
        const announced = announcedLeader(ctx);
        return {
          role: 'none',
          term: announced?.term ?? 0,
          leader: announced?.leader ?? null,
          commit_index: null,
          applied_index: null,
          members: anchors.map((a) => ({ id: a.name, voter: true, match_index: null, lag: null })),
        };
      }
      const s = server.status();
      const progress = server.progress();
      return {
        role: s.role,
        term: s.term,
        leader: name(s.lead),
        commit_index: s.commit,
        applied_index: s.applied,
        members: anchors.map((a, i) => {
          const match = progress.get(i + 1);
          return {
            id: a.name,
            voter: s.voters.includes(i + 1),
            match_index: match ?? null,
            lag: match === undefined ? null : Math.max(0, s.lastIndex - match),
          };
        }),
      };
    },
    mesh: (): JsTable => {
      const doc = ctx.gossip?.doc;
      const anchors = anchorNames();
      // A revoked node's section is dropped from the document; it is still listed, as revoked.
      const ids = new Set([...(doc?.sections.keys() ?? []), ...(doc?.revoked ?? [])]);
      const nodes = [...ids].sort().map((id): JsTable => {
        const seen = lastSeenS(id);
        const status = doc?.status(id);
        return {
          id,
          role: anchors.has(id) ? 'anchor' : 'node',
          revoked: doc?.revoked.has(id) ?? false,
          state:
            doc?.revoked.has(id) === true
              ? 'revoked'
              : status?.online === true && seen !== null && seen * 1000 < nodeSilentMs
                ? 'up'
                : 'down',
          last_seen_s: seen,
          uptime_s: status?.uptimeS ?? null,
          links: [...(doc?.neighbours(id) ?? new Map())].map(([to, link]) => ({ to, tq: link.tq })),
          // Its self-healing line (src/agent/components/mapek.ts): open incidents, the last one's action and state.
          healing: doc?.version(id, 'mapek') ?? null,
        };
      });
      return {
        nodes,
        sections: nodes.length,
        revocations: [...(doc?.revoked ?? [])].sort().map((id) => ({ id })),
        synced: ctx.gossip?.isSynced() ?? false,
        leader: announcedLeader(ctx)?.leader ?? null,
      };
    },
    events: (limit: number): JsTable => ({ events: ctx.journal.last(limit) as unknown as JsTable[] }),
    reload: () => hooks.reload(),
    restart: (component: string) => hooks.restart(component),
    token: (node: string, ttlS: number | null) => hooks.token(node, ttlS),
    // Revocation lists are signed by the operator's root CA, which no router holds (anchors have intermediates).
    revoke: (node: string): JsTable => ({
      ok: false,
      reason: 'revoke-needs-the-root-ca',
      hint: `on the CA's machine: x0 ca revoke --node ${node}; the list then reaches the mesh`,
    }),
  };
}
