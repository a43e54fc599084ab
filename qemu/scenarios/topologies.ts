// Topology scenarios: the routes batman-adv picks must follow the links the lab wired.
//   mesh:  4 nodes, every pair linked: every route is direct (next hop = the originator's own NIC).
//   star:  a custom edge list, hub 1 with leaves 2..5: a leaf reaches another leaf through the hub only.
//   ring8: 8 nodes in a ring (opt-in, `lab.ts test ring8`): the lab's size limit, boot and convergence.
import type { Scenario } from '../lib/scenario.js';
import { buildTopology, type Edge } from '../lib/topology.js';

function edges(name: string, nodes: number, custom?: string): Edge[] {
  const t = buildTopology(name, nodes, custom);
  if (!t.ok) throw new Error(t.reason);
  return t.edges;
}

export const mesh: Scenario = {
  name: 'mesh',
  summary: '4 nodes, full mesh: every node routes to every other directly',
  nodes: 4,
  topology: 'mesh',
  edges: edges('mesh', 4),
  async run(ctx) {
    const { lab } = ctx;
    const converged = await lab.waitFor(
      'every node to see every other',
      async () => (await lab.missingOriginators()).size === 0 || null,
      90_000,
    );
    ctx.check('originators', true, 'every node sees every other as an originator');
    ctx.measure('mesh_convergence', converged.ms, 'ms', 'full mesh of 4, from all VMs ready');
    // A route can start on a detour while the window fills: wait (bounded) for the direct ones.
    const direct = await lab.waitFor(
      'every route to be direct',
      async () => {
        for (const vm of lab.vms) {
          const routes = await lab.originators(vm.node);
          for (const peer of lab.vms.filter((p) => p.node !== vm.node)) {
            const route = routes.find((r) => r.best && r.originator === lab.primaryMac(peer.node));
            if (route === undefined || route.nextHop !== lab.macOn(peer.node, vm.node)) return null;
          }
        }
        return true;
      },
      60_000,
    );
    ctx.check('routes-direct', true, `all 12 routes use the direct link (after ${direct.ms} ms)`);
  },
};

export const star: Scenario = {
  name: 'star',
  summary: 'custom edges 1-2,1-3,1-4,1-5: leaves reach each other through hub 1',
  nodes: 5,
  topology: 'custom',
  edges: edges('custom', 5, '1-2,1-3,1-4,1-5'),
  async run(ctx) {
    const { lab } = ctx;
    const converged = await lab.waitFor(
      'every node to see every other',
      async () => (await lab.missingOriginators()).size === 0 || null,
      90_000,
    );
    ctx.check('originators', true, 'every node sees every other as an originator');
    ctx.measure('mesh_convergence', converged.ms, 'ms', 'star of 5, from all VMs ready');
    for (const [from, to] of [
      [2, 3],
      [4, 5],
      [5, 2],
    ] as const) {
      const route = await lab.route(from, to);
      const hub = lab.macOn(1, from);
      ctx.check(
        `leaf-${from}-to-${to}-via-hub`,
        route !== null && route.nextHop === hub,
        `next hop ${route?.nextHop ?? 'none'} (hub on link 1-${from}: ${hub})`,
      );
    }
    const neighbours = await lab.exec(2, 'batctl meshif bat0 neighbors -H');
    const count = neighbours.out.split('\n').filter((l) => l.trim() !== '').length;
    ctx.check('leaf-has-one-neighbour', count === 1, `node 2 has ${count} neighbour(s)`);
  },
};

export const ring8: Scenario = {
  name: 'ring8',
  summary: '8 nodes in a ring: boot, convergence, the farthest node 4 hops away',
  nodes: 8,
  topology: 'ring',
  edges: edges('ring', 8),
  async run(ctx) {
    const { lab } = ctx;
    const converged = await lab.waitFor(
      'every node to see every other',
      async () => (await lab.missingOriginators()).size === 0 || null,
      180_000,
    );
    ctx.check('originators', true, 'every node sees every other as an originator');
    ctx.measure('mesh_convergence', converged.ms, 'ms', 'ring of 8, from all VMs ready');
    const trace = await lab.exec(1, `batctl meshif bat0 traceroute -n ${lab.primaryMac(5)}`);
    const hops = trace.out.split('\n').filter((l) => /^\s*\d+:/.test(l)).length;
    ctx.check('opposite-node-4-hops', trace.rc === 0 && hops === 4, `node 1 -> node 5: ${hops} hops`);
  },
};
