// The consumer's state behind `x0 watch` and `x0 exporter`: every message verified (TelemetryVerifier), a
// table of nodes with what they last said and when, and the rejected messages counted by reason with the
// last few kept for display. Pure: the MQTT subscription and the clock are the caller's.
import { Counters } from '../core/result.js';
import { TelemetryVerifier, type Verified } from '../core/telemetry/messages.js';
import { nodesMax } from '../core/telemetry/limits.js';
import type { RevocationView, TrustBundle } from '../core/identity/chain.js';
import type { Crypto } from '../platform/types.js';

export interface NodeRow {
  readonly mesh: string;
  readonly node: string;
  state: 'online' | 'offline' | 'unknown';
  version: string | null;
  uptimeS: number | null;
  /** Our wall clock when the last verified message arrived. */
  lastSeenMs: number;
  /** The node's own timestamp of its last verified message. */
  lastAtMs: number;
  telemetry: Record<string, unknown> | null;
  lastEvent: Record<string, unknown> | null;
  messages: number;
}

export interface Rejection {
  readonly atMs: number;
  readonly topic: string;
  readonly reason: string;
}

/** Reasons that are normal MQTT behaviour (QoS 1 redelivery), not a forged or broken message. */
const benign = new Set(['duplicate']);
const recentRejectionsMax = 20;

export type Outcome = { readonly ok: true; readonly message: Verified } | { readonly ok: false; readonly reason: string; readonly benign: boolean };

export class Watcher {
  readonly verifier: TelemetryVerifier;
  readonly nodes = new Map<string, NodeRow>();
  readonly rejected = new Counters();
  readonly recent: Rejection[] = [];
  verified = 0;

  constructor(crypto: Crypto, bundle: TrustBundle, private readonly wallClockMs: () => number, revocations?: RevocationView) {
    this.verifier = new TelemetryVerifier(crypto, bundle, wallClockMs, revocations);
  }

  get rejectedTotal(): number {
    return Object.values(this.rejected.snapshot()).reduce((a, b) => a + b, 0);
  }

  offer(topic: string, payload: Uint8Array): Outcome {
    const result = this.verifier.verify(topic, payload);
    if (!result.ok) {
      const isBenign = benign.has(result.reason);
      if (!isBenign) {
        this.rejected.add(result.reason);
        this.recent.push({ atMs: this.wallClockMs(), topic, reason: result.reason });
        if (this.recent.length > recentRejectionsMax) this.recent.shift();
      }
      return { ok: false, reason: result.reason, benign: isBenign };
    }
    this.verified++;
    this.apply(result.value);
    return { ok: true, message: result.value };
  }

  private apply(m: Verified): void {
    const key = `${m.mesh}/${m.node}`;
    let row = this.nodes.get(key);
    if (row === undefined) {
      row = { mesh: m.mesh, node: m.node, state: 'unknown', version: null, uptimeS: null, lastSeenMs: 0, lastAtMs: 0, telemetry: null, lastEvent: null, messages: 0 };
      this.nodes.set(key, row);
      if (this.nodes.size > nodesMax) this.nodes.delete(this.nodes.keys().next().value as string);
    }
    row.messages++;
    row.lastSeenMs = this.wallClockMs();
    row.lastAtMs = Math.max(row.lastAtMs, m.at);
    const d = m.data;
    if (m.kind === 'status') {
      row.state = d.state === 'online' ? 'online' : 'offline';
      row.version = typeof d.version === 'string' ? d.version : null;
      row.uptimeS = typeof d.uptimeS === 'number' ? d.uptimeS : null;
    } else if (m.kind === 'telemetry') {
      row.telemetry = d;
    } else {
      row.lastEvent = d;
    }
  }

  /** Plain-text table: one line per node, freshness in seconds since its last verified message. */
  table(): string {
    const now = this.wallClockMs();
    const lines = [`${'node'.padEnd(24)} ${'state'.padEnd(8)} ${'version'.padEnd(8)} ${'uptime'.padStart(8)} ${'fresh'.padStart(7)} ${'msgs'.padStart(6)} neighbours (tq)`];
    for (const row of [...this.nodes.values()].sort((a, b) => (a.node < b.node ? -1 : 1))) {
      const neighbours = neighbourList(row.telemetry).map((n) => `${n.mac.slice(-5)}(${n.tq})`).join(' ');
      lines.push(`${`${row.node}@${row.mesh}`.padEnd(24)} ${row.state.padEnd(8)} ${(row.version ?? '-').padEnd(8)} ${(row.uptimeS === null ? '-' : `${row.uptimeS}s`).padStart(8)} ${`${((now - row.lastSeenMs) / 1000).toFixed(1)}s`.padStart(7)} ${String(row.messages).padStart(6)} ${neighbours}`);
    }
    const reasons = Object.entries(this.rejected.snapshot()).map(([r, n]) => `${r}=${n}`).join(' ');
    lines.push(`verified ${this.verified}, REJECTED ${this.rejectedTotal}${reasons ? ` (${reasons})` : ''}`);
    for (const r of this.recent.slice(-5)) lines.push(`  ! rejected ${r.topic}: ${r.reason}`);
    return `${lines.join('\n')}\n`;
  }
}

export interface NeighbourView {
  readonly iface: string;
  readonly mac: string;
  readonly tq: number;
}

/** The neighbours out of a respondd-shaped telemetry body (outside data: every field checked). */
export function neighbourList(telemetry: Record<string, unknown> | null): NeighbourView[] {
  const batadv = (telemetry?.neighbours as { batadv?: unknown } | undefined)?.batadv;
  if (typeof batadv !== 'object' || batadv === null) return [];
  const out: NeighbourView[] = [];
  for (const [iface, entry] of Object.entries(batadv as Record<string, unknown>)) {
    const neighbours = (entry as { neighbours?: unknown })?.neighbours;
    if (typeof neighbours !== 'object' || neighbours === null) continue;
    for (const [mac, link] of Object.entries(neighbours as Record<string, unknown>)) {
      const tq = (link as { tq?: unknown })?.tq;
      if (typeof tq === 'number') out.push({ iface, mac, tq });
    }
  }
  return out.slice(0, 256);
}
