// Prometheus text exposition (format 0.0.4) of what a Watcher verified: one gauge family per figure, labels
// mesh/node (and neighbour/iface for TQ), plus the verifier's own counters. Only verified data gets here.
import { neighbourList, type Watcher } from './watcher.js';

const escape = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labels = (pairs: Record<string, string>): string => `{${Object.entries(pairs).map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`;

function at(value: unknown, ...path: string[]): number | null {
  let cur = value;
  for (const key of path) cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[key] : undefined;
  return typeof cur === 'number' && Number.isFinite(cur) ? cur : null;
}

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly samples: string[];
}

export function renderMetrics(watcher: Watcher, nowMs: number): string {
  const family = (name: string, type: Family['type'], help: string): Family => ({ name, help, type, samples: [] });
  const up = family('x0_node_up', 'gauge', 'Node status from its signed retained status message (1 online, 0 offline).');
  const age = family('x0_node_last_seen_seconds', 'gauge', 'Seconds since the last verified message from the node.');
  const uptime = family('x0_node_uptime_seconds', 'gauge', 'Node uptime from its telemetry (respondd statistics.uptime).');
  const load = family('x0_node_load', 'gauge', 'One-minute load average (statistics.loadavg).');
  const memFree = family('x0_node_memory_free_kib', 'gauge', 'Free memory in KiB (statistics.memory.free).');
  const memTotal = family('x0_node_memory_total_kib', 'gauge', 'Total memory in KiB (statistics.memory.total).');
  const clients = family('x0_node_clients', 'gauge', 'Clients (statistics.clients.total).');
  const rx = family('x0_node_traffic_rx_bytes_total', 'counter', 'Received bytes (statistics.traffic.rx.bytes).');
  const tx = family('x0_node_traffic_tx_bytes_total', 'counter', 'Sent bytes (statistics.traffic.tx.bytes).');
  const tq = family('x0_node_neighbour_tq', 'gauge', 'batman-adv transmit quality towards a direct neighbour (0-255).');
  const verified = family('x0_messages_verified_total', 'counter', 'Messages whose COSE signature and certificate chain verified.');
  const rejected = family('x0_messages_rejected_total', 'counter', 'Messages refused, by reason (unsigned, forged, replayed, ...).');
  for (const row of watcher.nodes.values()) {
    const id = { mesh: row.mesh, node: row.node };
    const l = labels(id);
    up.samples.push(`x0_node_up${l} ${row.state === 'online' ? 1 : 0}`);
    age.samples.push(`x0_node_last_seen_seconds${l} ${((nowMs - row.lastSeenMs) / 1000).toFixed(3)}`);
    const stats = row.telemetry?.statistics;
    const figures: [Family, number | null][] = [
      [uptime, at(stats, 'uptime')], [load, at(stats, 'loadavg')], [memFree, at(stats, 'memory', 'free')], [memTotal, at(stats, 'memory', 'total')],
      [clients, at(stats, 'clients', 'total')], [rx, at(stats, 'traffic', 'rx', 'bytes')], [tx, at(stats, 'traffic', 'tx', 'bytes')],
    ];
    for (const [f, value] of figures) if (value !== null) f.samples.push(`${f.name}${l} ${value}`);
    for (const n of neighbourList(row.telemetry)) tq.samples.push(`x0_node_neighbour_tq${labels({ ...id, iface: n.iface, neighbour: n.mac })} ${n.tq}`);
  }
  verified.samples.push(`x0_messages_verified_total ${watcher.verified}`);
  for (const [reason, count] of Object.entries(watcher.rejected.snapshot())) rejected.samples.push(`x0_messages_rejected_total${labels({ reason })} ${count}`);
  const families = [up, age, uptime, load, memFree, memTotal, clients, rx, tx, tq, verified, rejected];
  return families.map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.samples].join('\n')).join('\n') + '\n';
}
