// Known mesh states for the LuCI tests: what the agent's `x0tta6bl4` ubus methods answer (the shapes of
// /tmp/team/contract.md, written down in docs/luci.md), for a six-node mesh seen from anchor-1.
// Scenarios: baseline (all up), node-down (node-5 gone), revoked (node-6 revoked), healed (an incident on the
// link anchor-2 <-> node-4 observed, decided, acted on and healed, all under one trace id).
import type { JsTable } from '../../src/ubus/values.js';

export const scenarios = ['baseline', 'node-down', 'revoked', 'healed'] as const;
export type Scenario = (typeof scenarios)[number];

interface NodeSpec {
  readonly id: string;
  readonly role: 'anchor' | 'node';
  readonly address: string;
  readonly mac: string;
  /** Certificate lifetime left, in seconds. */
  readonly certLeftS: number;
}

const nodes: readonly NodeSpec[] = [
  { id: 'anchor-1', role: 'anchor', address: '10.0.0.1', mac: '02:00:00:00:00:01', certLeftS: 20 * 3600 },
  { id: 'anchor-2', role: 'anchor', address: '10.0.0.2', mac: '02:00:00:00:00:02', certLeftS: 18 * 3600 },
  { id: 'anchor-3', role: 'anchor', address: '10.0.0.3', mac: '02:00:00:00:00:03', certLeftS: 22 * 3600 },
  { id: 'node-4', role: 'node', address: '10.0.0.4', mac: '02:00:00:00:00:04', certLeftS: 40 * 60 },
  { id: 'node-5', role: 'node', address: '10.0.0.5', mac: '02:00:00:00:00:05', certLeftS: 12 * 3600 },
  { id: 'node-6', role: 'node', address: '10.0.0.6', mac: '02:00:00:00:00:06', certLeftS: 9 * 3600 },
];

/** Links as batman-adv sees them (TQ 0..255), each listed once; both ends report it. */
const baseLinks: readonly [string, string, number][] = [
  ['anchor-1', 'anchor-2', 250],
  ['anchor-1', 'anchor-3', 231],
  ['anchor-2', 'anchor-3', 198],
  ['anchor-1', 'node-4', 180],
  ['anchor-2', 'node-4', 120],
  ['anchor-3', 'node-5', 90],
  ['anchor-2', 'node-5', 60],
  ['anchor-3', 'node-6', 214],
  ['node-4', 'node-6', 140],
];

export const self = 'anchor-1';
const trustDomain = 'mesh.x0';
export const healedTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';

const spiffe = (id: string) => `spiffe://${trustDomain}/node/${id}`;

export interface MeshAnswers {
  status: JsTable;
  peers: JsTable;
  raft: JsTable;
  mesh: JsTable;
  events: JsTable;
  version: JsTable;
}

/** The answers for one scenario at wall-clock time nowMs; revokedExtra: nodes revoked through `revoke`. */
export function meshAnswers(
  scenario: Scenario,
  nowMs: number,
  revokedExtra: ReadonlyMap<string, number> = new Map(),
): MeshAnswers {
  const nowS = Math.floor(nowMs / 1000);
  const down = new Set(scenario === 'node-down' ? ['node-5'] : []);
  const revoked = new Map<string, number>(revokedExtra);
  if (scenario === 'revoked') revoked.set('node-6', nowS - 300);
  const links = baseLinks
    .filter(([a, b]) => !down.has(a) && !down.has(b) && !revoked.has(a) && !revoked.has(b))
    .map(([a, b, tq]) =>
      scenario === 'healed' && a === 'anchor-2' && b === 'node-4' ? ([a, b, 205] as const) : ([a, b, tq] as const),
    );
  const linksOf = (id: string) =>
    links.filter(([a, b]) => a === id || b === id).map(([a, b, tq]) => ({ to: a === id ? b : a, tq }));
  const lastSeen = (id: string) => (down.has(id) ? 310 : revoked.has(id) ? 290 : id === self ? 0 : 3 + (id.length % 5));

  const peerList = nodes
    .filter((n) => n.id !== self)
    .map((n) => {
      const direct = linksOf(self).find((l) => l.to === n.id);
      const best = Math.max(0, ...linksOf(n.id).map((l) => l.tq));
      return {
        id: n.id,
        spiffe_id: spiffe(n.id),
        address: n.address,
        mac: n.mac,
        iface: 'bat0',
        tq: direct?.tq ?? best,
        state: down.has(n.id) ? 'down' : revoked.has(n.id) ? 'down' : direct ? 'up' : 'seen',
        channel: down.has(n.id) || revoked.has(n.id) ? 'closed' : direct ? 'established' : 'none',
        role: n.role,
        revoked: revoked.has(n.id),
        last_telemetry_s: lastSeen(n.id),
      };
    });
  const peersUp = peerList.filter((p) => p.state === 'up').length;
  const events = eventsFor(scenario, nowMs, down, revoked);
  return {
    status: {
      node_id: self,
      role: 'anchor',
      state: down.size > 0 ? 'degraded' : 'running',
      uptime_s: 86400 + 3723,
      version: '0.1.0',
      spiffe_id: spiffe(self),
      cert_expires_at: nowS + 20 * 3600,
      components: {
        ubus: { state: 'up', reason: '', restarts: 0 },
        gossip: { state: 'up', reason: '', restarts: 0 },
        raft: { state: 'up', reason: '', restarts: 1 },
        batman: {
          state: down.size > 0 ? 'degraded' : 'up',
          reason: down.size > 0 ? 'neighbour-lost' : '',
          restarts: 0,
        },
        uplink: { state: 'disabled', reason: 'uplink.enabled=0', restarts: 0 },
        xdp: { state: 'disabled', reason: 'xdp.enabled=0', restarts: 0 },
      },
      peers_total: peerList.length,
      peers_up: peersUp,
    },
    peers: { peers: peerList },
    raft: {
      role: 'leader',
      term: 7,
      leader: self,
      commit_index: 1542,
      applied_index: 1540,
      members: [
        { id: 'anchor-1', voter: true, match_index: 1542, lag: 0 },
        { id: 'anchor-2', voter: true, match_index: 1541, lag: 1 },
        { id: 'anchor-3', voter: true, match_index: 1530, lag: 12 },
        { id: 'node-4', voter: false, match_index: 1542, lag: 0 },
      ],
    },
    mesh: {
      nodes: nodes.map((n) => ({
        id: n.id,
        role: n.role,
        address: n.address,
        revoked: revoked.has(n.id),
        last_seen_s: lastSeen(n.id),
        cert_expires_at: nowS + n.certLeftS,
        links: linksOf(n.id),
      })),
      revocations: [...revoked].map(([id, at]) => ({ id, revoked_at: at })),
      last_convergence_s: scenario === 'healed' ? 2 : 14,
    },
    events: { events },
    version: { version: '0.1.0', engine: 'node', crypto: 'node' },
  };
}

function eventsFor(
  scenario: Scenario,
  nowMs: number,
  down: ReadonlySet<string>,
  revoked: ReadonlyMap<string, number>,
): JsTable[] {
  const events: JsTable[] = [
    {
      time_ms: nowMs - 3_600_000,
      level: 'info',
      component: 'agent',
      event: 'started',
      reason: '',
      trace_id: '',
      fields: { version: '0.1.0' },
    },
    {
      time_ms: nowMs - 3_590_000,
      level: 'info',
      component: 'raft',
      event: 'leader-elected',
      reason: '',
      trace_id: '',
      fields: { term: 7, leader: self },
    },
  ];
  if (down.size > 0) {
    const t = nowMs - 305_000;
    const trace = '0af7651916cd43dd8448eb211c80319c';
    events.push(
      {
        time_ms: t,
        level: 'warn',
        component: 'mapek',
        event: 'observe',
        reason: 'neighbour-lost',
        trace_id: trace,
        fields: { node: 'node-5', tq: 0 },
      },
      {
        time_ms: t + 400,
        level: 'info',
        component: 'mapek',
        event: 'decide',
        reason: 'reroute',
        trace_id: trace,
        fields: { node: 'node-5', via: 'anchor-3' },
      },
      {
        time_ms: t + 900,
        level: 'info',
        component: 'mapek',
        event: 'act',
        reason: 'reroute',
        trace_id: trace,
        fields: { node: 'node-5' },
      },
      {
        time_ms: t + 30_900,
        level: 'error',
        component: 'mapek',
        event: 'outcome',
        reason: 'unreachable',
        trace_id: trace,
        fields: { node: 'node-5', healed: false },
      },
    );
  }
  for (const [id, at] of revoked) {
    events.push({
      time_ms: at * 1000,
      level: 'warn',
      component: 'identity',
      event: 'revoked',
      reason: 'operator',
      trace_id: '',
      fields: { node: id },
    });
  }
  if (scenario === 'healed') {
    const t = nowMs - 120_000;
    events.push(
      {
        time_ms: t,
        level: 'warn',
        component: 'mapek',
        event: 'observe',
        reason: 'tq-below-threshold',
        trace_id: healedTraceId,
        fields: { link: 'anchor-2<->node-4', tq: 31 },
      },
      {
        time_ms: t + 250,
        level: 'info',
        component: 'mapek',
        event: 'decide',
        reason: 'switch-channel',
        trace_id: healedTraceId,
        fields: { link: 'anchor-2<->node-4', channel: 36 },
      },
      {
        time_ms: t + 800,
        level: 'info',
        component: 'mapek',
        event: 'act',
        reason: 'switch-channel',
        trace_id: healedTraceId,
        fields: { link: 'anchor-2<->node-4' },
      },
      {
        time_ms: t + 4_300,
        level: 'info',
        component: 'mapek',
        event: 'outcome',
        reason: 'healed',
        trace_id: healedTraceId,
        fields: { link: 'anchor-2<->node-4', tq: 205, healed: true },
      },
    );
  }
  return events.sort((a, b) => Number(b['time_ms']) - Number(a['time_ms']));
}
