// Peers from batman-adv (issue 14 item 3): which nodes to open sealed links to, and which MACs are a node's (for
// XDP blocks on revocation, issue 15 item 4). Pure: the agent's gossip component gives it batman-adv's originator
// table and what each node announced in its own section of the mesh document, and acts on the answer.
//
// What each node announces (mesh-document versions, LWW text): `batman.mac` its originator address (the primary
// interface's MAC), `batman.ifs` the MACs of its interfaces under the mesh interface, `link` where its sealed link
// listens on the mesh. None of it is trusted alone: an originator is taken as a peer only when batman-adv routes to
// it, a MAC that two nodes claim belongs to neither, and the peer's identity is proven by the sealed link's
// handshake (the dial expects the announced name's certificate; another one is refused). docs/agent.md, "Peers".
import type { HostPort } from '../platform/types.js';
import type { Originator } from './tables.js';

export const discoveryLimits = {
  /** Peers taken from batman-adv, besides the configured ones (the sealed link keeps a session per peer). */
  discoveredPeersMax: 32,
  /** Interface MACs one node may announce (`batman.ifs`: 4 × 12 hex digits fit one 64-character version). */
  announcedMacsMax: 4,
  /** Nodes whose announcements are remembered (also after their section left the document, for revocation). */
  announcementsMax: 1024,
  /**
   * A peer batman-adv stops listing is kept this long (a starved router's batctl may time out or print a table
   * without it for a read or two; batman-adv itself forgets an originator after 200 s): no session churn.
   */
  peerHoldMs: 60_000,
} as const;

/** What one node announced in its own section, checked; null fields were absent or malformed. */
export interface Announcement {
  readonly mac: string | null;
  readonly macs: readonly string[];
  readonly link: HostPort | null;
}

export interface DiscoveredPeer {
  readonly name: string;
  readonly address: HostPort;
  /** The originator batman-adv routes to (the node's primary MAC). */
  readonly originator: string;
  /** The best TQ batman-adv has towards any of the node's MACs. */
  readonly tq: number;
  /** One of its interfaces is a direct neighbour (the next hop is the node itself). */
  readonly direct: boolean;
}

const macPattern = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

export const isMac = (text: string): boolean => macPattern.test(text);

/** `52:54:00:01:00:01,52:54:00:01:04:01` -> `525400010001 525400010401`, space-separated, at most announcedMacsMax. */
export function encodeMacs(macs: readonly string[]): string {
  return macs
    .filter(isMac)
    .slice(0, discoveryLimits.announcedMacsMax)
    .map((m) => m.replaceAll(':', ''))
    .join(' ');
}

/** The inverse of encodeMacs; anything malformed is left out (an announcement is outside input). */
export function decodeMacs(text: string | undefined): string[] {
  if (text === undefined) return [];
  const out: string[] = [];
  for (const part of text.split(' ').slice(0, discoveryLimits.announcedMacsMax)) {
    if (!/^[0-9a-f]{12}$/.test(part)) continue;
    const mac = part.replace(/(..)(?!$)/g, '$1:');
    if (!out.includes(mac)) out.push(mac);
  }
  return out;
}

/** An announced address: IPv4 `A.B.C.D:PORT` or `[IPv6]:PORT` (no host names: nothing resolves them). */
export function parseLinkAddress(text: string | undefined): HostPort | null {
  if (text === undefined) return null;
  const m = /^(?:(\d{1,3}(?:\.\d{1,3}){3})|\[([0-9a-fA-F:.]{2,45})\]):(\d{1,5})$/.exec(text);
  if (m === null) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  if (m[1] !== undefined) {
    const parts = m[1].split('.').map(Number);
    if (parts.some((p) => p > 255) || m[1] === '0.0.0.0') return null;
    return { host: m[1], port };
  }
  const v6 = m[2] as string;
  if (!v6.includes(':') || v6 === '::') return null;
  return { host: v6, port };
}

export function formatLinkAddress(address: HostPort): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** A section's versions, as the mesh document holds them, into a checked announcement. */
export function readAnnouncement(version: (component: string) => string | undefined): Announcement {
  const mac = version('batman.mac');
  return {
    mac: mac !== undefined && isMac(mac) ? mac : null,
    macs: decodeMacs(version('batman.ifs')),
    link: parseLinkAddress(version('link')),
  };
}

/** Every MAC to the one node that claims it; a MAC claimed by two nodes maps to nobody (listed in conflicts). */
export function macOwners(announcements: ReadonlyMap<string, Announcement>): {
  owners: Map<string, string>;
  conflicts: string[];
} {
  const owners = new Map<string, string>();
  const conflicted = new Set<string>();
  for (const [name, a] of announcements) {
    for (const mac of new Set([...(a.mac === null ? [] : [a.mac]), ...a.macs])) {
      const owner = owners.get(mac);
      if (owner === undefined && !conflicted.has(mac)) owners.set(mac, name);
      else if (owner !== undefined && owner !== name) {
        owners.delete(mac);
        conflicted.add(mac);
      }
    }
  }
  return { owners, conflicts: [...conflicted].sort() };
}

/**
 * The nodes batman-adv routes to, named by their announcements: each best originator row whose originator MAC one
 * node (not this one, not revoked, with an announced address) claims. Direct neighbours first, then by TQ, then by
 * name; at most discoveredPeersMax.
 */
export function discoverPeers(
  self: string,
  originators: readonly Originator[],
  announcements: ReadonlyMap<string, Announcement>,
  revoked: ReadonlySet<string>,
): DiscoveredPeer[] {
  const { owners } = macOwners(announcements);
  const byName = new Map<string, DiscoveredPeer>();
  for (const row of originators) {
    if (!row.best || row.tq === 0) continue;
    const name = owners.get(row.originator);
    if (name === undefined || name === self || revoked.has(name)) continue;
    const a = announcements.get(name);
    if (a === undefined || a.link === null || a.mac === null) continue;
    const direct = owners.get(row.nextHop) === name;
    const seen = byName.get(name);
    byName.set(name, {
      name,
      address: a.link,
      originator: a.mac,
      tq: Math.max(seen?.tq ?? 0, row.tq),
      direct: (seen?.direct ?? false) || direct,
    });
  }
  return [...byName.values()]
    .sort((x, y) => Number(y.direct) - Number(x.direct) || y.tq - x.tq || (x.name < y.name ? -1 : 1))
    .slice(0, discoveryLimits.discoveredPeersMax);
}

/**
 * The peers to use now: those batman-adv routes to (`found`, freshly seen), then those seen within peerHoldMs that
 * it does not list at the moment (not revoked), at most discoveredPeersMax. `seenMs` (name -> when last found) is
 * updated in place and forgets what is older than the hold.
 */
export function heldPeers(
  held: readonly DiscoveredPeer[],
  found: readonly DiscoveredPeer[],
  seenMs: Map<string, number>,
  nowMs: number,
  revoked: ReadonlySet<string>,
): DiscoveredPeer[] {
  for (const p of found) seenMs.set(p.name, nowMs);
  for (const [name, at] of seenMs)
    if (nowMs - at > discoveryLimits.peerHoldMs || revoked.has(name)) seenMs.delete(name);
  const names = new Set(found.map((p) => p.name));
  const kept = held.filter((p) => !names.has(p.name) && seenMs.has(p.name));
  return [...found, ...kept].slice(0, discoveryLimits.discoveredPeersMax);
}

/**
 * The MACs to block for a node: the ones it announced (its originator and interfaces) that no other node claims.
 * Its frames reach a neighbour from one of its interfaces, so blocking those at every node cuts it off the mesh.
 */
export function macsOf(name: string, announcements: ReadonlyMap<string, Announcement>): string[] {
  const a = announcements.get(name);
  if (a === undefined) return [];
  const { owners } = macOwners(announcements);
  return [...new Set([...(a.mac === null ? [] : [a.mac]), ...a.macs])].filter((m) => owners.get(m) === name).sort();
}
