// XDP on the mesh: a ring of 3 (1-2, 2-3, 1-3). Node 1 attaches the project's XDP program (x0-xdp, through
// the agent's `x0 xdp` on x0-runtime) to both mesh NICs and counts batman-adv frames per neighbour. Then node
// 1 blocks node 2's MAC on link 1-2 — what the agent does to a revoked node — and batman-adv, no longer
// hearing node 2's OGMs there, must route 1 -> 2 around through node 3. Unblocking brings the direct route
// back; detaching leaves the NICs without a program.
import type { Scenario, ScenarioContext } from '../lib/scenario.js';
import { nicByMac } from '../lib/lab.js';

const x0 = 'x0-runtime /usr/lib/x0/x0tta6bl4.js';

interface SourceStats {
  mac: string;
  packets: number;
  batman_packets: number;
  dropped_blocked: number;
}

async function xdpJson(
  ctx: ScenarioContext,
  node: number,
  args: string,
): Promise<{ rc: number; json: Record<string, unknown> | null; out: string }> {
  const r = await ctx.lab.exec(node, `${x0} xdp --json ${args} 2>>/var/log/x0/agent.log`, 30_000);
  try {
    return { rc: r.rc, json: JSON.parse(r.out) as Record<string, unknown>, out: r.out };
  } catch {
    return { rc: r.rc, json: null, out: r.out };
  }
}

async function sources(ctx: ScenarioContext, node: number): Promise<SourceStats[]> {
  const r = await xdpJson(ctx, node, 'stats');
  return r.json !== null && Array.isArray(r.json.sources) ? (r.json.sources as SourceStats[]) : [];
}

export const xdp: Scenario = {
  name: 'xdp',
  summary: "ring of 3: XDP counts batman-adv frames per neighbour; blocking a neighbour's MAC reroutes around it",
  nodes: 3,
  topology: 'ring',
  edges: [
    [1, 2],
    [2, 3],
    [1, 3],
  ],
  async run(ctx) {
    const { lab } = ctx;
    await lab.waitFor(
      'every node to see every other as an originator',
      async () => (await lab.missingOriginators()).size === 0 || null,
      90_000,
    );
    ctx.check('originators', true, 'every node sees every other as an originator');
    const present = await lab.exec(1, '[ -x /usr/sbin/x0-xdp ] && [ -f /usr/lib/x0/x0tta6bl4.js ]');
    if (present.rc !== 0) {
      ctx.skip('xdp', 'the image has no x0-xdp or no bundle (make -C bpf, npm run build, then rebuild the image)');
      return;
    }
    const from2 = lab.macOn(2, 1);
    const from3 = lab.macOn(3, 1);
    const nic12 = (await lab.exec(1, nicByMac(lab.macOn(1, 2)))).out.trim();
    const nic13 = (await lab.exec(1, nicByMac(lab.macOn(1, 3)))).out.trim();
    for (const nic of [nic12, nic13]) {
      const r = await xdpJson(ctx, 1, `--mount attach ${nic} --mode auto`);
      if (!ctx.check(`attach-${nic}`, r.rc === 0 && r.json?.ok === true, r.out.trim())) return;
    }
    // OGMs arrive every second from each neighbour: within a few seconds both are counted, as batman-adv frames.
    const counted = await lab.waitFor(
      'batman-adv frames from both neighbours',
      async () => {
        const s = await sources(ctx, 1);
        const a = s.find((x) => x.mac === from2);
        const b = s.find((x) => x.mac === from3);
        return a !== undefined && b !== undefined && a.batman_packets >= 3 && b.batman_packets >= 3 ? [a, b] : null;
      },
      30_000,
    );
    ctx.check(
      'counts-batman-per-neighbour',
      true,
      counted.value.map((x) => `${x.mac}: ${x.packets} frames, ${x.batman_packets} batman-adv`).join('; '),
    );

    await lab.waitFor(
      'node 1 to route to node 2 directly',
      async () => (await lab.route(1, 2))?.nextHop === from2 || null,
      60_000,
    );
    const blockedAt = Date.now();
    const block = await xdpJson(ctx, 1, `block ${from2} --ttl 300 --reason revoked`);
    if (!ctx.check('block', block.rc === 0 && block.json?.ok === true, block.out.trim())) return;
    const around = await lab.waitFor(
      'node 1 to route to node 2 through node 3',
      async () => {
        const route = await lab.route(1, 2);
        return route !== null && route.nextHop === from3 ? route : null;
      },
      60_000,
    );
    ctx.measure(
      'block_to_reroute',
      Date.now() - blockedAt,
      'ms',
      'x0 xdp block on node 1 -> batctl o shows node 2 reached through node 3',
    );
    ctx.check('reroute-around-blocked', true, `next hop ${around.value.nextHop} (node 3), TQ ${around.value.tq}`);
    // Node 2 stops using link 1-2 on its own only once its TQ over it decays (node 1 no longer echoes its
    // OGMs there): until then its replies die in node 1's blocklist. Wait for traffic both ways via node 3.
    const back = await lab.waitFor(
      'node 2 to route to node 1 through node 3',
      async () => (await lab.route(2, 1))?.nextHop === lab.macOn(3, 2) || null,
      60_000,
    );
    ctx.check(
      'reverse-route-around-blocked',
      true,
      `node 2 -> node 1 next hop ${lab.macOn(3, 2)} (node 3) after ${back.ms} ms more`,
    );
    const ping = await lab.waitFor(
      'a ping reply from node 2',
      async () => (await lab.exec(1, 'ping -c 1 -W 1 10.77.0.2')).rc === 0 || null,
      30_000,
    );
    ctx.measure(
      'block_to_traffic_around',
      Date.now() - blockedAt,
      'ms',
      'x0 xdp block -> node 1 pings node 2 through node 3',
    );
    ctx.check('ping-through-node-3', true, `reply after ${ping.ms} ms`);
    const dropped = (await sources(ctx, 1)).find((x) => x.mac === from2)?.dropped_blocked ?? 0;
    ctx.check('blocked-frames-counted', dropped > 0, `${dropped} frames from ${from2} dropped by the blocklist`);

    const unblock = await xdpJson(ctx, 1, `unblock ${from2}`);
    ctx.check('unblock', unblock.rc === 0 && unblock.json?.ok === true, unblock.out.trim());
    const unblockedAt = Date.now();
    await lab.waitFor(
      'node 1 to route to node 2 directly again',
      async () => (await lab.route(1, 2))?.nextHop === from2 || null,
      150_000,
    );
    ctx.measure('unblock_to_direct', Date.now() - unblockedAt, 'ms', 'x0 xdp unblock -> the direct route is back');
    ctx.check('direct-after-unblock', true, `next hop ${from2} again`);

    for (const nic of [nic12, nic13]) {
      const r = await xdpJson(ctx, 1, `detach ${nic}`);
      const link = await lab.exec(1, `/sbin/ip link show ${nic}`);
      ctx.check(
        `detach-${nic}`,
        r.rc === 0 && !/ xdp/.test(link.out),
        `${r.out.trim()} | ${link.out.split('\n')[0] ?? ''}`,
      );
    }
  },
};
