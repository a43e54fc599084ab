// Parsers for batctl's text tables (batctl 2023.0, BATMAN_IV). Pure: the agent (src/batman/batctl.ts) and the
// QEMU lab both read batman-adv through them. Lines that do not match (headers, errors) are skipped, and the
// number of rows kept is bounded by the caller's limit.

export interface Originator {
  readonly originator: string; // MAC of the originator's primary interface
  readonly lastSeenMs: number;
  readonly tq: number; // 0..255
  readonly nextHop: string;
  readonly outgoingIf: string;
  readonly best: boolean; // marked '*': the route batman-adv uses
}

export interface Neighbour {
  readonly iface: string;
  readonly neighbour: string;
  readonly lastSeenMs: number;
}

const mac = '([0-9a-f]{2}(?::[0-9a-f]{2}){5})';

/** `batctl o -H`: " * 52:54:00:02:01:01    0.470s   (251) 52:54:00:02:01:01 [      eth1]" */
export function parseOriginators(text: string, rowsMax = Number.MAX_SAFE_INTEGER): Originator[] {
  const re = new RegExp(
    `^\\s*(\\*)?\\s*${mac}\\s+([\\d.]+)s\\s+\\(\\s*(\\d+)\\)\\s+${mac}\\s+\\[\\s*([^\\]\\s]+)\\s*\\]`,
  );
  const out: Originator[] = [];
  for (const line of text.split('\n')) {
    if (out.length >= rowsMax) break;
    const m = re.exec(line);
    if (m === null) continue;
    out.push({
      best: m[1] === '*',
      originator: m[2]!,
      lastSeenMs: Math.round(Number(m[3]) * 1000),
      tq: Number(m[4]),
      nextHop: m[5]!,
      outgoingIf: m[6]!,
    });
  }
  return out;
}

/** `batctl n -H`: "        eth1	  52:54:00:02:01:01    0.120s" */
export function parseNeighbours(text: string, rowsMax = Number.MAX_SAFE_INTEGER): Neighbour[] {
  const re = new RegExp(`^\\s*(\\S+)\\s+${mac}\\s+([\\d.]+)s`);
  const out: Neighbour[] = [];
  for (const line of text.split('\n')) {
    if (out.length >= rowsMax) break;
    const m = re.exec(line);
    if (m !== null) out.push({ iface: m[1]!, neighbour: m[2]!, lastSeenMs: Math.round(Number(m[3]) * 1000) });
  }
  return out;
}

/** The "MainIF/MAC: eth1/52:54:00:01:00:01" of batctl o's header: the node's originator address. */
export function parsePrimaryMac(text: string): string | null {
  const m = new RegExp(`MainIF/MAC: \\S+?/${mac}`).exec(text);
  return m ? m[1]! : null;
}

/** The route batman-adv uses towards an originator, or null. */
export function bestRoute(originators: readonly Originator[], originator: string): Originator | null {
  return originators.find((o) => o.best && o.originator === originator) ?? null;
}

/** A direct neighbour with the link quality batman-adv IV keeps for it (what respondd reports as `tq`). */
export interface NeighbourLink extends Neighbour {
  /** TQ of the originator entry for the neighbour itself via itself on this interface; null before its first OGM. */
  readonly tq: number | null;
  /** The neighbour is the best next hop towards itself (the starred row). */
  readonly best: boolean;
}

/** Joins the neighbour table with the originator table: a neighbour's TQ is its own row via itself. */
export function neighbourLinks(neighbours: readonly Neighbour[], originators: readonly Originator[]): NeighbourLink[] {
  return neighbours.map((n) => {
    const row = originators.find(
      (o) => o.originator === n.neighbour && o.nextHop === n.neighbour && o.outgoingIf === n.iface,
    );
    return { ...n, tq: row?.tq ?? null, best: row?.best ?? false };
  });
}
