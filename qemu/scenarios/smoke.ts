// Smoke: 3 routers in a line form a batman-adv mesh; node 1 reaches node 3 over two hops through node 2;
// the agent bundle runs on x0-runtime in every node; the uplink reaches the host's loopback service and
// nothing else.
import type { Scenario, ScenarioContext } from '../lib/scenario.js';
import { parseNeighbours } from '../../src/batman/tables.js';

const bundle = '/usr/lib/x0/x0tta6bl4.js';
const runtime = '/usr/bin/x0-runtime';

export const smoke: Scenario = {
  name: 'smoke',
  summary: '3 nodes in a line: originators, 2-hop ping over bat0, agent on x0-runtime, uplink',
  nodes: 3,
  topology: 'line',
  edges: [
    [1, 2],
    [2, 3],
  ],
  async run(ctx) {
    const { lab } = ctx;
    const converged = await lab.waitFor(
      'every node to see every other as an originator',
      async () => {
        const missing = await lab.missingOriginators();
        return missing.size === 0 ? true : null;
      },
      60_000,
    );
    ctx.check('originators', true, 'every node sees every other as an originator');
    ctx.measure(
      'mesh_convergence',
      converged.ms,
      'ms',
      'from all VMs ready until every node has a route to every other',
    );

    const route = await lab.route(1, 3);
    const via2 = lab.macOn(2, 1);
    ctx.check(
      'two-hop-route',
      route !== null && route.nextHop === via2,
      `node 1 -> node 3 next hop ${route?.nextHop ?? 'none'} (node 2 on link 1-2 is ${via2})`,
    );
    const trace = await lab.exec(1, `batctl meshif bat0 traceroute -n ${lab.primaryMac(3)}`);
    const hops = trace.out.split('\n').filter((l) => /^\s*\d+:/.test(l)).length;
    ctx.check(
      'traceroute-2-hops',
      trace.rc === 0 && hops === 2,
      `batctl traceroute node 1 -> node 3: ${hops} hops (rc ${trace.rc})`,
    );
    // Right after the originators appear, batman-adv's translation table may not yet announce node 3's bat0
    // address: the first pings can be lost. Wait for one reply, then every one of 5 must come back.
    const first = await lab.waitFor(
      'a first ping reply from node 3',
      async () => (await lab.exec(1, 'ping -c 1 -W 1 10.77.0.3')).rc === 0 || null,
      30_000,
    );
    ctx.measure('first_ping_after_convergence', first.ms, 'ms', 'node 1 -> node 3 over bat0, two hops');
    const ping = await lab.exec(1, 'ping -c 5 -i 0.2 -W 2 10.77.0.3');
    const rtt = /min\/avg\/max = [\d.]+\/([\d.]+)\//.exec(ping.out);
    ctx.check(
      'ping-over-bat0',
      ping.rc === 0 && ping.out.includes('5 packets received'),
      `node 1 -> 10.77.0.3: ${ping.out.trim().split('\n').slice(-2).join('; ')}`,
    );
    if (rtt) ctx.measure('ping_rtt_2_hops_avg', Number(rtt[1]), 'ms');

    await checkAgent(ctx);
    await checkUplink(ctx);
  },
};

async function checkAgent(ctx: ScenarioContext): Promise<void> {
  const { lab } = ctx;
  const present = await lab.exec(1, `[ -x ${runtime} ] && [ -f ${bundle} ]`);
  if (present.rc !== 0) {
    ctx.skip('agent-version', 'the image has no x0-runtime or no bundle (build them, then rebuild the image)');
    return;
  }
  for (const vm of lab.vms) {
    const r = await vm.exec(`${runtime} ${bundle} version 2>&1 | tee -a /var/log/x0/agent.log`);
    ctx.check(`agent-version-node-${vm.node}`, r.rc === 0 && r.out.includes('x0tta6bl4'), r.out.trim());
  }
  // The agent's own neighbour report (x0 neighbours: batctl's tables through the platform's exec on
  // QuickJS-ng) must name exactly the nodes this node has links to, each with a TQ once OGMs flow.
  for (const vm of lab.vms) {
    const table = parseNeighbours((await vm.exec('batctl meshif bat0 neighbors -H')).out)
      .map((n) => n.neighbour)
      .sort();
    const expected = lab.links
      .filter((l) => l.edge.includes(vm.node))
      .map((l) => lab.macOn(l.edge[0] === vm.node ? l.edge[1] : l.edge[0], vm.node))
      .sort();
    ctx.check(
      `batctl-neighbours-node-${vm.node}`,
      same(table, expected),
      `batctl n: ${table.join(' ')}; links: ${expected.join(' ')}`,
    );
    const r = await vm.exec(`${runtime} ${bundle} neighbours --json 2>&1 | tee -a /var/log/x0/agent.log`);
    let seen: Array<{ mac: string; tq: number | null }> = [];
    try {
      seen = (JSON.parse(r.out) as { neighbours: Array<{ mac: string; tq: number | null }> }).neighbours;
    } catch {
      /* checked below */
    }
    const macs = seen.map((n) => n.mac).sort();
    ctx.check(
      `agent-neighbours-node-${vm.node}`,
      r.rc === 0 && same(macs, expected),
      `x0 neighbours: ${seen.map((n) => `${n.mac} tq ${n.tq}`).join(', ') || r.out.trim()}`,
    );
    ctx.check(
      `agent-neighbours-tq-node-${vm.node}`,
      seen.length > 0 && seen.every((n) => typeof n.tq === 'number' && n.tq > 0),
      `TQ ${seen.map((n) => n.tq).join(', ')}`,
    );
  }
}

async function checkUplink(ctx: ScenarioContext): Promise<void> {
  const { lab } = ctx;
  for (const vm of lab.vms) {
    const r = await vm.exec(`echo uplink-${vm.node} | nc -w 5 10.0.2.100 1883`, 15_000);
    ctx.check(
      `uplink-node-${vm.node}`,
      r.out.includes(`echo: uplink-${vm.node}`),
      `10.0.2.100:1883 -> host 127.0.0.1:${ctx.uplinkPort}: ${r.out.trim() || `rc ${r.rc}`}`,
    );
  }
  // restrict=on: the host itself (10.0.2.2, user-mode networking's gateway) is out of reach, the service too.
  const direct = await lab.exec(1, `echo direct | nc -w 3 10.0.2.2 ${ctx.uplinkPort}`, 8_000);
  ctx.check(
    'uplink-restricted',
    !direct.out.includes('echo:'),
    `direct 10.0.2.2:${ctx.uplinkPort} from node 1: ${direct.out.trim() || `no answer (rc ${direct.rc})`}`,
  );
}

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
