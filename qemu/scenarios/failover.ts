// Failover: a ring of 4 (1-2-3-4-1). Node 1 pings node 2 every 100 ms over bat0 while the direct link 1-2 is
// cut; batman-adv (defaults: 1 s OGM interval) must move the route to 1-4-3-2. The outage seen by the ping
// is the baseline the self-healing work is measured against. Then the link is restored and the route must
// come back to the direct link.
import type { Scenario, ScenarioContext } from '../lib/scenario.js';
import { parseNeighbours } from '../../src/batman/tables.js';
import { delay } from '../lib/vm.js';

const pingIntervalMs = 100;
const pingFile = '/tmp/failover.ping';

export const failover: Scenario = {
  name: 'failover',
  summary: 'ring of 4: cut link 1-2 while 1 pings 2, measure the outage; restore the link',
  nodes: 4,
  topology: 'ring',
  edges: [
    [1, 2],
    [2, 3],
    [3, 4],
    [1, 4],
  ],
  async run(ctx) {
    const { lab } = ctx;
    const converged = await lab.waitFor(
      'every node to see every other as an originator',
      async () => (await lab.missingOriginators()).size === 0 || null,
      90_000,
    );
    ctx.check('originators', true, 'every node sees every other as an originator');
    ctx.measure('mesh_convergence', converged.ms, 'ms', 'ring of 4, from all VMs ready');
    const direct = lab.macOn(2, 1);
    const around = lab.macOn(4, 1);
    // A fresh mesh may still prefer a detour for a moment: wait for the direct route first.
    await lab.waitFor(
      'node 1 to route to node 2 over the direct link',
      async () => (await lab.route(1, 2))?.nextHop === direct || null,
      60_000,
    );
    ctx.check('direct-route-before-cut', true, `node 1 -> node 2 next hop ${direct} (node 2 itself)`);

    const start = await lab.exec(
      1,
      `ping -i ${pingIntervalMs / 1000} 10.77.0.2 > ${pingFile} 2>&1 & echo $! > ${pingFile}.pid`,
    );
    if (!ctx.check('ping-started', start.rc === 0, start.out.trim() || 'ping running in the background')) return;
    await lab.waitFor('replies from node 2', async () => (await replySeqs(ctx)).length >= 10 || null, 15_000);

    const seqAtCut = (await replySeqs(ctx)).at(-1) ?? 0;
    const cutAt = Date.now();
    await lab.cut(1, 2);
    const switched = await lab.waitFor(
      'node 1 to route to node 2 around the ring',
      async () => {
        const route = await lab.route(1, 2);
        return route !== null && route.nextHop === around ? route : null;
      },
      60_000,
    );
    ctx.check('route-around-ring', true, `next hop ${switched.value.nextHop} (node 4), TQ ${switched.value.tq}`);
    ctx.measure(
      'route_switch_seen_by_host',
      Date.now() - cutAt,
      'ms',
      'cut -> batctl o on node 1 shows next hop node 4 (polled every 250 ms)',
    );
    // A gap in the replies after the cut exists once a reply after it arrived: traffic flows again.
    await lab.waitFor(
      'replies over the new path',
      async () => outageAfter(await replySeqs(ctx), seqAtCut) !== null || null,
      30_000,
    );
    ctx.measure(
      'traffic_resumed_seen_by_host',
      Date.now() - cutAt,
      'ms',
      'cut -> the host reads a reply after the gap (polled)',
    );
    const trace = await lab.exec(1, `batctl meshif bat0 traceroute -n ${lab.primaryMac(2)}`);
    const hops = trace.out.split('\n').filter((l) => /^\s*\d+:/.test(l)).length;
    ctx.check(
      'traceroute-3-hops',
      trace.rc === 0 && hops === 3,
      `batctl traceroute node 1 -> node 2 during the cut: ${hops} hops`,
    );
    // batman-adv keeps the silent neighbour listed (purge timeout ~200 s); its last-seen grows instead.
    const neighbour = parseNeighbours((await lab.exec(1, 'batctl meshif bat0 neighbors -H')).out).find(
      (n) => n.neighbour === direct,
    );
    ctx.check(
      'cut-neighbour-silent',
      neighbour === undefined || neighbour.lastSeenMs >= 3000,
      neighbour === undefined
        ? 'node 2 purged from the neighbour table'
        : `node 2 still listed, last seen ${neighbour.lastSeenMs} ms ago`,
    );

    const seqAtRestore = (await replySeqs(ctx)).at(-1) ?? 0;
    const restoredAt = Date.now();
    await lab.restore(1, 2);
    const back = await lab.waitFor(
      'node 1 to route to node 2 directly again',
      async () => (await lab.route(1, 2))?.nextHop === direct || null,
      150_000,
    );
    ctx.check('route-back-direct', true, `next hop ${direct} again`);
    ctx.measure(
      'restore_route_back',
      Date.now() - restoredAt,
      'ms',
      'restore -> batctl o on node 1 shows the direct next hop again',
    );
    void back;
    await delay(2000); // some traffic over the direct link again

    await lab.exec(1, `kill $(cat ${pingFile}.pid)`);
    const seqs = await replySeqs(ctx);
    const outage = outageAfter(
      seqs.filter((q) => q <= seqAtRestore),
      seqAtCut,
    );
    ctx.check(
      'traffic-resumed',
      outage !== null && outage.gapMs >= 1000 && outage.gapMs <= 30_000,
      outage === null
        ? 'no reply gap found: was the link really cut?'
        : `largest reply gap: seq ${outage.lastBefore} -> ${outage.firstAfter} (${outage.gapMs} ms)`,
    );
    if (outage !== null)
      ctx.measure(
        'failover_outage',
        outage.gapMs,
        'ms',
        `ping every ${pingIntervalMs} ms, 1 -> 2, largest gap between replies (batman-adv defaults)`,
      );
    const lost = (seqs.at(-1) ?? 0) + 1 - seqs.length;
    ctx.measure(
      'pings_lost',
      lost,
      'packets',
      `of ${(seqs.at(-1) ?? 0) + 1} sent; cut after seq ${seqAtCut}, restore after seq ${seqAtRestore}`,
    );
    // Moving back to the direct link must not cost a second outage.
    const restoreGap = outageAfter(seqs, seqAtRestore);
    ctx.check(
      'no-outage-on-restore',
      restoreGap === null || restoreGap.gapMs <= 2000,
      restoreGap === null ? 'no reply gap after the restore' : `reply gap after the restore: ${restoreGap.gapMs} ms`,
    );
  },
};

async function replySeqs(ctx: ScenarioContext): Promise<number[]> {
  const r = await ctx.lab.exec(1, `cat ${pingFile}`);
  return [...r.out.matchAll(/seq=(\d+) ttl=/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
}

/** The largest gap between consecutive replies at or after seq `from`, if it is more than 5 intervals. */
function outageAfter(
  seqs: readonly number[],
  from: number,
): { lastBefore: number; firstAfter: number; gapMs: number } | null {
  let best: { lastBefore: number; firstAfter: number; gapMs: number } | null = null;
  for (let i = 1; i < seqs.length; i++) {
    const a = seqs[i - 1]!;
    const b = seqs[i]!;
    if (a < from) continue;
    const gapMs = (b - a) * pingIntervalMs;
    if (gapMs > 5 * pingIntervalMs && (best === null || gapMs > best.gapMs))
      best = { lastBefore: a, firstAfter: b, gapMs };
  }
  return best;
}
