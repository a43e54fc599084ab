// Prometheus text exposition (format 0.0.4) of what a Watcher verified: one gauge family per figure, labels
// mesh/node (and neighbour/iface for TQ), plus the verifier's own counters. Only verified data gets here.
import { neighbourList, type Watcher } from './watcher.js';

/** Components read from one node's statistics.x0 (the agent has seven; outside data is bounded). */
const componentsMax = 16;

const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labels = (pairs: Record<string, string>): string =>
  `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',')}}`;

function at(value: unknown, ...path: string[]): number | null {
  let cur = value;
  for (const key of path)
    cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[key] : undefined;
  return typeof cur === 'number' && Number.isFinite(cur) ? cur : null;
}

/**
 * What `x0 agent` reports per component in telemetry (`statistics.x0.<component>.<key>`, src/agent/agent.ts
 * metrics()) and the metric each becomes. Keys not listed here are not exported (a dashboard cannot rot onto
 * them: test/monitoring/dashboards.node.test.ts). extra: a fixed label that tells apart keys of one family.
 */
export const componentMetrics: readonly {
  readonly component: string;
  readonly key: string;
  readonly name: string;
  readonly type: 'gauge' | 'counter';
  readonly help: string;
  readonly extra?: Record<string, string>;
}[] = [
  { component: 'raft', key: 'term', name: 'x0_raft_term', type: 'gauge', help: 'Raft term this anchor is in.' },
  {
    component: 'raft',
    key: 'commit_index',
    name: 'x0_raft_commit_index',
    type: 'gauge',
    help: 'Raft commit index on this anchor.',
  },
  {
    component: 'raft',
    key: 'applied_index',
    name: 'x0_raft_applied_index',
    type: 'gauge',
    help: 'Raft index applied to the state machine on this anchor.',
  },
  {
    component: 'raft',
    key: 'leader_changes',
    name: 'x0_raft_leader_changes_total',
    type: 'counter',
    help: 'Leader changes this anchor has seen since it started.',
  },
  {
    component: 'raft',
    key: 'is_leader',
    name: 'x0_raft_is_leader',
    type: 'gauge',
    help: '1 when this anchor is the Raft leader.',
  },
  {
    component: 'xdp',
    key: 'packets',
    name: 'x0_xdp_packets_total',
    type: 'counter',
    help: 'Packets the XDP program saw on the mesh interfaces.',
  },
  {
    component: 'xdp',
    key: 'passed',
    name: 'x0_xdp_passed_total',
    type: 'counter',
    help: 'Packets the XDP program passed.',
  },
  {
    component: 'xdp',
    key: 'dropped_blocked',
    name: 'x0_xdp_dropped_total',
    type: 'counter',
    help: 'Packets the XDP program dropped, by reason (blocked MAC, rate limit).',
    extra: { reason: 'blocked' },
  },
  {
    component: 'xdp',
    key: 'dropped_rate',
    name: 'x0_xdp_dropped_total',
    type: 'counter',
    help: '',
    extra: { reason: 'rate-limit' },
  },
  {
    component: 'xdp',
    key: 'malformed',
    name: 'x0_xdp_malformed_total',
    type: 'counter',
    help: 'Malformed frames the XDP program saw.',
  },
  {
    component: 'mapek',
    key: 'decisions',
    name: 'x0_mapek_decisions_total',
    type: 'counter',
    help: 'Self-healing (MAPE-K) decisions this node took since its agent started.',
  },
  {
    component: 'mapek',
    key: 'actions_ok',
    name: 'x0_mapek_actions_total',
    type: 'counter',
    help: 'Self-healing actions executed, by outcome (ok: the read-back showed the effect).',
    extra: { outcome: 'ok' },
  },
  {
    component: 'mapek',
    key: 'actions_failed',
    name: 'x0_mapek_actions_total',
    type: 'counter',
    help: '',
    extra: { outcome: 'failed' },
  },
  {
    component: 'mapek',
    key: 'breakers_open',
    name: 'x0_mapek_breakers_open',
    type: 'gauge',
    help: 'Self-healing circuit breakers open: an action that kept failing on a target, held until its cool-down.',
  },
  {
    component: 'mapek',
    key: 'incidents_open',
    name: 'x0_mapek_incidents_open',
    type: 'gauge',
    help: 'Self-healing incidents open on this node (symptom seen, not yet cleared).',
  },
  {
    component: 'mapek',
    key: 'neighbours_up',
    name: 'x0_mapek_neighbours_up',
    type: 'gauge',
    help: 'Direct neighbours the liveness probe sees alive (of x0_mapek_neighbours).',
  },
  {
    component: 'mapek',
    key: 'neighbours',
    name: 'x0_mapek_neighbours',
    type: 'gauge',
    help: 'Direct neighbours the liveness probe watches.',
  },
  {
    component: 'gossip',
    key: 'sections',
    name: 'x0_gossip_sections',
    type: 'gauge',
    help: "Sections (nodes) in this node's copy of the mesh document.",
  },
  {
    component: 'gossip',
    key: 'refused',
    name: 'x0_gossip_refused_total',
    type: 'counter',
    help: 'Gossip messages this node refused (all reasons).',
  },
  {
    component: 'batman',
    key: 'neighbours',
    name: 'x0_batman_neighbours',
    type: 'gauge',
    help: 'batman-adv direct neighbours.',
  },
  {
    component: 'batman',
    key: 'originators',
    name: 'x0_batman_originators',
    type: 'gauge',
    help: 'batman-adv originators (nodes reachable through the mesh).',
  },
];

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly samples: string[];
}

export function renderMetrics(watcher: Watcher, nowMs: number): string {
  const family = (name: string, type: Family['type'], help: string): Family => ({ name, help, type, samples: [] });
  const up = family(
    'x0_node_up',
    'gauge',
    'Node status from its signed retained status message (1 online and heard within 15 min; 0 offline, stale or revoked).',
  );
  const revoked = family(
    'x0_node_revoked',
    'gauge',
    'Node revoked by the mesh revocation list (by node ID or certificate serial): 1 revoked.',
  );
  const age = family('x0_node_last_seen_seconds', 'gauge', 'Seconds since the last verified message from the node.');
  const uptime = family(
    'x0_node_uptime_seconds',
    'gauge',
    'Node uptime from its telemetry (respondd statistics.uptime).',
  );
  const load = family('x0_node_load', 'gauge', 'One-minute load average (statistics.loadavg).');
  const memFree = family('x0_node_memory_free_kib', 'gauge', 'Free memory in KiB (statistics.memory.free).');
  const memTotal = family('x0_node_memory_total_kib', 'gauge', 'Total memory in KiB (statistics.memory.total).');
  const clients = family('x0_node_clients', 'gauge', 'Clients (statistics.clients.total).');
  const rx = family('x0_node_traffic_rx_bytes_total', 'counter', 'Received bytes (statistics.traffic.rx.bytes).');
  const tx = family('x0_node_traffic_tx_bytes_total', 'counter', 'Sent bytes (statistics.traffic.tx.bytes).');
  const certExpiry = family(
    'x0_node_cert_expiry_timestamp_seconds',
    'gauge',
    'When the certificate chain the node last signed under expires (Unix seconds; earliest notAfter along the chain).',
  );
  const queued = family(
    'x0_node_uplink_queued_messages',
    'gauge',
    "Messages waiting in the node uplink's offline queue (telemetry uplink.queued).",
  );
  const dropped = family(
    'x0_node_uplink_queue_dropped_total',
    'counter',
    'Messages the node uplink dropped from its full offline queue since it started (uplink.dropped).',
  );
  const tq = family('x0_node_neighbour_tq', 'gauge', 'batman-adv transmit quality towards a direct neighbour (0-255).');
  const verified = family(
    'x0_messages_verified_total',
    'counter',
    'Messages whose COSE signature and certificate chain verified.',
  );
  const rejected = family(
    'x0_messages_rejected_total',
    'counter',
    'Messages refused, by reason (unsigned, forged, replayed, cert-revoked, ...).',
  );
  const commands = family(
    'x0_operator_commands_seen_total',
    'counter',
    'Operator commands (x0 cmd) seen on the mesh topics: not telemetry, not rejected.',
  );
  const listVersion = family(
    'x0_revocation_list_version',
    'gauge',
    'Version of the mesh revocation list in use (0: none loaded).',
  );
  const listRefused = family(
    'x0_revocation_list_refused_total',
    'counter',
    'Revocation list files refused, by reason (bad signature, stale, ...).',
  );
  for (const row of watcher.nodes.values()) {
    const id = { mesh: row.mesh, node: row.node };
    const l = labels(id);
    const isRevoked = watcher.nodeRevoked(row);
    up.samples.push(`x0_node_up${l} ${watcher.currentState(row, nowMs) === 'online' && !isRevoked ? 1 : 0}`);
    revoked.samples.push(`x0_node_revoked${l} ${isRevoked ? 1 : 0}`);
    age.samples.push(`x0_node_last_seen_seconds${l} ${((nowMs - row.lastSeenMs) / 1000).toFixed(3)}`);
    const stats = row.telemetry?.statistics;
    const figures: [Family, number | null][] = [
      [uptime, at(stats, 'uptime')],
      [load, at(stats, 'loadavg')],
      [memFree, at(stats, 'memory', 'free')],
      [memTotal, at(stats, 'memory', 'total')],
      [clients, at(stats, 'clients', 'total')],
      [queued, at(row.telemetry, 'uplink', 'queued')],
      [dropped, at(row.telemetry, 'uplink', 'dropped')],
      [certExpiry, row.certExpiresAtMs === null ? null : Math.floor(row.certExpiresAtMs / 1000)],
      [rx, at(stats, 'traffic', 'rx', 'bytes')],
      [tx, at(stats, 'traffic', 'tx', 'bytes')],
    ];
    for (const [f, value] of figures) if (value !== null) f.samples.push(`${f.name}${l} ${value}`);
    for (const n of neighbourList(row.telemetry))
      tq.samples.push(`x0_node_neighbour_tq${labels({ ...id, iface: n.iface, neighbour: n.mac })} ${n.tq}`);
  }
  for (const unseen of watcher.revokedUnseen()) {
    up.samples.push(`x0_node_up${labels(unseen)} 0`);
    revoked.samples.push(`x0_node_revoked${labels(unseen)} 1`);
  }
  verified.samples.push(`x0_messages_verified_total ${watcher.verified}`);
  for (const [reason, count] of Object.entries(watcher.rejected.snapshot()))
    rejected.samples.push(`x0_messages_rejected_total${labels({ reason })} ${count}`);
  commands.samples.push(`x0_operator_commands_seen_total ${watcher.commands}`);
  listVersion.samples.push(`x0_revocation_list_version ${watcher.revocations.version}`);
  for (const [reason, count] of Object.entries(watcher.revocationRefusals.snapshot()))
    listRefused.samples.push(`x0_revocation_list_refused_total${labels({ reason })} ${count}`);
  const perComponent = renderComponents(watcher);
  const families = [
    up,
    revoked,
    age,
    uptime,
    load,
    memFree,
    memTotal,
    clients,
    rx,
    tx,
    certExpiry,
    queued,
    dropped,
    tq,
    verified,
    rejected,
    commands,
    listVersion,
    listRefused,
    ...perComponent,
  ];
  return (
    families
      .map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.samples].join('\n'))
      .join('\n') + '\n'
  );
}

/** The agent's per-component health (x0_component_*) and the metrics of componentMetrics. */
function renderComponents(watcher: Watcher): Family[] {
  const up = {
    name: 'x0_component_up',
    type: 'gauge' as const,
    help: 'Agent component state: 1 up, 0 starting, degraded or down (disabled components are absent).',
    samples: [] as string[],
  };
  const degraded = {
    name: 'x0_component_degraded',
    type: 'gauge' as const,
    help: 'Agent component degraded (running without a part it wants, e.g. no broker reachable): 1.',
    samples: [] as string[],
  };
  const restarts = {
    name: 'x0_component_restarts_total',
    type: 'counter' as const,
    help: "Times the agent's supervisor restarted the component (self-healing) since the agent started.",
    samples: [] as string[],
  };
  const byName = new Map<string, Family>();
  for (const m of componentMetrics)
    if (!byName.has(m.name)) byName.set(m.name, { name: m.name, type: m.type, help: m.help, samples: [] });
  for (const row of watcher.nodes.values()) {
    const agent = (row.telemetry?.statistics as { x0?: unknown } | undefined)?.x0;
    if (typeof agent !== 'object' || agent === null) continue;
    for (const [component, value] of Object.entries(agent as Record<string, unknown>).slice(0, componentsMax)) {
      if (typeof value !== 'object' || value === null) continue;
      const c = value as Record<string, unknown>;
      const l = labels({ mesh: row.mesh, node: row.node, component });
      if (typeof c.state === 'string' && c.state !== 'disabled') {
        up.samples.push(`x0_component_up${l} ${c.state === 'up' ? 1 : 0}`);
        degraded.samples.push(`x0_component_degraded${l} ${c.state === 'degraded' ? 1 : 0}`);
      }
      const restartCount = at(c, 'restarts');
      if (restartCount !== null) restarts.samples.push(`x0_component_restarts_total${l} ${restartCount}`);
      for (const m of componentMetrics) {
        if (m.component !== component) continue;
        const v = at(c, m.key);
        if (v !== null)
          (byName.get(m.name) as Family).samples.push(
            `${m.name}${labels({ mesh: row.mesh, node: row.node, ...m.extra })} ${v}`,
          );
      }
    }
  }
  return [up, degraded, restarts, ...byName.values()];
}
