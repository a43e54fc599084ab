// Two parts of the `agent` scenario (qemu/scenarios/agent.ts calls them), kept here so that file stays about
// start-up and respawn:
// - Peers from batman-adv (issue 14): no router's UCI file names a static peer, only the anchors; every router
//   must still hold a sealed session with every other one, those it was not given found through batman-adv
//   (`source: batman` in `ubus call x0tta6bl4 peers`).
// - Revocation in the data plane (issue 15): `x0 ca revoke` on the host, the signed list dropped into ONE router's
//   state directory; timed until every other router lists the node revoked, has no session with it, and has its
//   MACs in the XDP blocklist; then the blocklist's drop counters must rise for its frames (its batman-adv OGMs).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ScenarioContext } from '../lib/scenario.js';

type Json = Record<string, unknown>;

export interface ZeroTrustSetup {
  /** Node numbers, 1..N. */
  readonly all: readonly number[];
  readonly nameOf: (n: number) => string;
  /** Nodes named as anchors in every UCI file (the only configured peers). */
  readonly anchors: readonly number[];
  /** The host's folder with the CA (`ca/`). */
  readonly hostDir: string;
  readonly stateDir: string;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The goal of issue 15: revocation cuts the node off on every other node within this. */
export const revocationGoalMs = 5_000;
const timeouts = { peersMs: 90_000, revokeMs: 30_000, dropsMs: 20_000 } as const;

/** Several commands' outputs from one router in one control-channel round trip, split on @@NAME markers. */
async function run(
  ctx: ScenarioContext,
  n: number,
  commands: Record<string, string>,
): Promise<Record<string, Json | null>> {
  const script = Object.entries(commands)
    .map(([name, cmd]) => `echo @@${name}; ${cmd}`)
    .join('; ');
  const r = await ctx.lab.exec(n, script, 20_000);
  const out: Record<string, Json | null> = {};
  for (const part of r.out.split('@@').slice(1)) {
    const nl = part.indexOf('\n');
    try {
      out[part.slice(0, nl)] = JSON.parse(part.slice(nl + 1)) as Json;
    } catch {
      out[part.slice(0, nl)] = null;
    }
  }
  return out;
}

const ubus = (method: string): string => `ubus -t 3 call x0tta6bl4 ${method}`;
const xdpStatus = 'x0-xdp --json status 2>/dev/null';

interface Peer {
  id: string;
  channel: string;
  source?: string;
  state: string;
}
const peersOf = (j: Json | null): Peer[] => (Array.isArray(j?.peers) ? (j.peers as Peer[]) : []);

/** Every router has a session with every other; the ones not named in its file came from batman-adv. */
export async function checkPeersFromBatman(ctx: ScenarioContext, s: ZeroTrustSetup): Promise<void> {
  const configured = new Set(s.anchors.map(s.nameOf));
  let last = new Map<number, Peer[]>();
  const missing = (): string[] => {
    const out: string[] = [];
    for (const n of s.all) {
      const peers = last.get(n) ?? [];
      for (const m of s.all) {
        if (m === n) continue;
        const p = peers.find((x) => x.id === s.nameOf(m));
        const source = configured.has(s.nameOf(m)) ? 'config' : 'batman';
        if (p === undefined || p.channel !== 'established' || p.source !== source)
          out.push(`${s.nameOf(n)} -> ${s.nameOf(m)}: ${p === undefined ? 'not a peer' : `${p.channel}, ${p.source}`}`);
      }
    }
    return out;
  };
  const held = await ctx.lab
    .waitFor(
      'every router to hold a session with every other (the unconfigured ones found through batman-adv)',
      async () => {
        const views = await Promise.all(s.all.map((n) => run(ctx, n, { peers: ubus('peers') })));
        last = new Map(s.all.map((n, i) => [n, peersOf(views[i]?.peers ?? null)]));
        return missing().length === 0 || null;
      },
      timeouts.peersMs,
    )
    .catch(() => null);
  const found = s.all.map(
    (n) =>
      `${s.nameOf(n)}: ${(last.get(n) ?? [])
        .filter((p) => p.source === 'batman')
        .map((p) => p.id)
        .join(',')}`,
  );
  ctx.check(
    'peers-from-batman',
    held !== null,
    held !== null
      ? `no UCI file names a static peer; sessions with every router, found through batman-adv: ${found.join('; ')}`
      : `within ${timeouts.peersMs / 1000} s: ${missing().join('; ')}`,
  );
}

function x0Revoke(caDir: string, node: string): string {
  const runtime = path.join(root, 'build', 'x0-runtime');
  const bundle = path.join(root, 'dist', 'x0tta6bl4.js');
  const r = spawnSync(runtime, [bundle, 'ca', 'revoke', '--node', node, '--dir', caDir], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`x0 ca revoke failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`);
  const list = path.join(caDir, 'revocations.cbor');
  if (!existsSync(list)) throw new Error(`x0 ca revoke wrote no ${list}`);
  return list;
}

interface BlockEntry {
  mac: string;
  reason: string;
  drops: number;
}
const blocklistOf = (j: Json | null): BlockEntry[] =>
  Array.isArray(j?.blocklist) ? (j.blocklist as BlockEntry[]) : [];

/**
 * Revokes `victim` (a node, not an anchor: Raft keeps its voters) and times the cut-off on every other router from
 * the moment its list is in one router's state directory; then checks the XDP drop counters rise for its frames.
 */
export async function checkRevocationInXdp(ctx: ScenarioContext, s: ZeroTrustSetup, victim: number): Promise<void> {
  const { lab } = ctx;
  const victimName = s.nameOf(victim);
  const others = s.all.filter((n) => n !== victim);
  // The victim's MACs: its NIC on each of its links (the ones its neighbours hear it from).
  const neighbours = lab.links
    .filter((l) => l.edge.includes(victim))
    .map((l) => (l.edge[0] === victim ? l.edge[1] : l.edge[0]));
  const victimMacs = neighbours.map((m) => lab.macOn(victim, m)).sort();
  const xdpUp = await Promise.all(others.map((n) => run(ctx, n, { status: ubus('status') })));
  const xdpStates = xdpUp.map((v, i) => {
    const c = ((v.status?.components ?? {}) as Record<string, { state: string; reason: string | null }>).xdp;
    return `${s.nameOf(others[i] as number)}: ${c?.state ?? '?'}${c?.reason ? ` (${c.reason})` : ''}`;
  });
  if (
    !ctx.check(
      'xdp-up-for-revocation',
      xdpStates.every((t) => t.endsWith(': up')),
      xdpStates.join('; '),
    )
  )
    return;

  const list = x0Revoke(path.join(s.hostDir, 'ca'), victimName);
  const dropOn = others[0] as number; // an anchor: the list reaches Raft's voters' node first, gossip does the rest
  await lab.vm(dropOn).putFile(`${s.stateDir}/revocations.cbor`, readFileSync(list), '644');
  const droppedAt = Date.now();
  ctx.log(`x0 ca revoke --node ${victimName}: list dropped into ${s.nameOf(dropOn)}'s ${s.stateDir}`);

  const firstCut = new Map<number, number>();
  const firstBlocked = new Map<number, number>();
  // A poll sees the state some time between its start and its answer: the cut-off happened after the start of the
  // last poll that did not see it (lower bound) and before the answer of the first that did (upper bound).
  const notYetAt = new Map<number, number>();
  let lastDetail = '';
  const cut = await lab
    .waitFor(
      `every other router to cut ${victimName} off (revoked, no session, its MACs in XDP)`,
      async () => {
        const startedAt = Date.now() - droppedAt;
        const views = await Promise.all(others.map((n) => run(ctx, n, { peers: ubus('peers'), xdp: xdpStatus })));
        const at = Date.now() - droppedAt;
        const parts: string[] = [];
        others.forEach((n, i) => {
          const v = views[i] ?? {};
          const peer = peersOf(v.peers ?? null).find((p) => p.id === victimName);
          const session = peer?.channel === 'established';
          const blocked = blocklistOf(v.xdp ?? null)
            .filter((b) => b.reason === 'revoked')
            .map((b) => b.mac);
          const allBlocked = victimMacs.every((m) => blocked.includes(m));
          // A revoked peer is listed as revoked, or no longer listed (a discovered one is dropped); no session either way.
          const gone = peer === undefined || peer.state === 'revoked';
          if (gone && !session && !firstCut.has(n)) firstCut.set(n, at);
          if (allBlocked && !firstBlocked.has(n)) firstBlocked.set(n, at);
          if (!firstCut.has(n) || !firstBlocked.has(n)) notYetAt.set(n, startedAt);
          parts.push(`${s.nameOf(n)}: ${peer?.state ?? 'absent'}, session ${session}, blocked [${blocked.join(' ')}]`);
        });
        lastDetail = parts.join('; ');
        return others.every((n) => firstCut.has(n) && firstBlocked.has(n)) || null;
      },
      timeouts.revokeMs,
    )
    .catch(() => null);
  // And each lists it as revoked in its mesh document (the signed list, spread by gossip).
  const meshes = await Promise.all(others.map((n) => run(ctx, n, { mesh: ubus('mesh') })));
  const listed = others.filter((_, i) => {
    const nodes = meshes[i]?.mesh?.nodes;
    return (
      Array.isArray(nodes) &&
      (nodes as Array<{ id: string; state: string }>).some((x) => x.id === victimName && x.state === 'revoked')
    );
  });
  lastDetail += `; ${victimName} revoked in the mesh document of ${listed.map(s.nameOf).join(', ') || 'none'}`;
  if (
    !ctx.check(
      'revocation-cut-off-everywhere',
      cut !== null && listed.length === others.length,
      cut !== null ? lastDetail : `within ${timeouts.revokeMs / 1000} s: ${lastDetail}`,
    )
  )
    return;
  const cutOffMs = Math.max(...others.map((n) => Math.max(firstCut.get(n) ?? 0, firstBlocked.get(n) ?? 0)));
  const perNode = others.map((n) => `${s.nameOf(n)} ${firstCut.get(n)}/${firstBlocked.get(n)} ms`).join(', ');
  ctx.measure(
    'revoke_to_cut_off_all_lower',
    Math.max(...others.map((n) => notYetAt.get(n) ?? 0)),
    'ms',
    'the same, lower bound: the start of the last poll in which some router had not cut it off yet',
  );
  ctx.measure(
    'revoke_to_cut_off_all',
    cutOffMs,
    'ms',
    `list dropped on ${s.nameOf(dropOn)} -> every other router shows ${victimName} revoked, no session, its MACs blocked in XDP (polled: an upper bound; per router revoked/blocked: ${perNode})`,
  );
  // The goal is checked against what the poll can tell: a failure when even the lower bound misses it (or the upper
  // bound does on a host with room); a skip, with both bounds and the load, when the poll is too coarse to tell
  // (each poll is an exec in 4 TCG guests, 1-5 s) or the host is overloaded.
  const load = os.loadavg()[0] ?? 0;
  const lowerMs = Math.max(...others.map((n) => notYetAt.get(n) ?? 0));
  const detail = `between ${lowerMs} and ${cutOffMs} ms from the drop to cut off on all ${others.length} other routers (goal < ${revocationGoalMs} ms; host load ${load.toFixed(1)} on ${os.cpus().length} cores)`;
  if (cutOffMs < revocationGoalMs) ctx.check('revocation-under-5s', true, detail);
  else if (lowerMs < revocationGoalMs || load > 2 * os.cpus().length)
    ctx.skip('revocation-under-5s', `the poll cannot tell, or the host is overloaded: ${detail}`);
  else ctx.check('revocation-under-5s', false, detail);

  // Its frames keep coming (its agent still runs, its batman-adv sends OGMs every second): the neighbours' XDP
  // programs drop them, and the blocklist entries' drop counters rise.
  const dropsAt = async (): Promise<Map<number, number>> => {
    const views = await Promise.all(neighbours.map((n) => run(ctx, n, { xdp: xdpStatus })));
    return new Map(
      neighbours.map((n, i) => [
        n,
        blocklistOf(views[i]?.xdp ?? null)
          .filter((b) => victimMacs.includes(b.mac))
          .reduce((sum, b) => sum + b.drops, 0),
      ]),
    );
  };
  const before = await dropsAt();
  const rising = await lab
    .waitFor(
      `the XDP drop counters for ${victimName}'s MACs to rise on its neighbours`,
      async () => {
        const now = await dropsAt();
        return neighbours.every((n) => (now.get(n) ?? 0) > (before.get(n) ?? 0) + 2) ? now : null;
      },
      timeouts.dropsMs,
    )
    .catch(() => null);
  const after = rising?.value ?? (await dropsAt());
  ctx.check(
    'xdp-drops-rising',
    rising !== null,
    neighbours
      .map((n) => `${s.nameOf(n)}: drops for ${victimMacs.join(',')} ${before.get(n)} -> ${after.get(n)}`)
      .join('; '),
  );
}
