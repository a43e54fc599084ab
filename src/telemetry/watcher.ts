// The consumer's state behind `x0 watch` and `x0 exporter`: every message verified (TelemetryVerifier), a
// table of nodes with what they last said and when, and the rejected messages counted by reason with the
// last few kept for display. Pure: the MQTT subscription and the clock are the caller's.
import { Counters } from '../core/result.js';
import { TelemetryVerifier, parseTopic, type Verified } from '../core/telemetry/messages.js';
import { nodesMax, staleMsMax } from '../core/telemetry/limits.js';
import { decodeTraceBatch, formatTraceEvent, type TraceEvent } from '../core/telemetry/traces.js';
import type { TrustBundle } from '../core/identity/chain.js';
import { RevocationStore } from '../core/identity/revocation.js';
import { parseSubject, nodeId } from '../core/identity/spiffe.js';
import { toHex } from '../core/wire/hex.js';
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
  /** Serial (hex) of the certificate its last verified message was signed under: revocation by serial. */
  serialHex: string | null;
  /** When the certificate chain it last signed under expires (the earliest notAfter along it). */
  certExpiresAtMs: number | null;
}

export interface Rejection {
  readonly atMs: number;
  readonly topic: string;
  readonly reason: string;
}

/** Reasons that are normal MQTT behaviour (QoS 1 redelivery), not a forged or broken message. */
const benign = new Set(['duplicate']);
/**
 * Operator commands (x0/<mesh>/<node>/cmd/<name>, sent with `x0 cmd`) share the node's topic tree but are not
 * telemetry: signed by an operator key the consumer does not hold, checked by the node. Seen, never rejected.
 */
export const operatorCommand = 'operator-command';
const recentRejectionsMax = 20;
/** Trace events kept for the table (the newest). */
const recentTracesMax = 20;

/** A self-healing trace event from a verified telemetry message, with the node that sent it. */
export interface NodeTraceEvent extends TraceEvent {
  readonly mesh: string;
  readonly node: string;
}

export type Outcome =
  | { readonly ok: true; readonly message: Verified; readonly traces: readonly NodeTraceEvent[] }
  | { readonly ok: false; readonly reason: string; readonly benign: boolean };

export class Watcher {
  readonly verifier: TelemetryVerifier;
  readonly nodes = new Map<string, NodeRow>();
  readonly rejected = new Counters();
  readonly recent: Rejection[] = [];
  verified = 0;
  /** Operator commands seen on the watched topics (not telemetry, not rejections). */
  commands = 0;
  /** Revocation lists refused by reason (filled by the RevocationFollower that feeds `revocations`). */
  readonly revocationRefusals = new Counters();
  /** Self-healing trace events: received, refused by a check, and what nodes said they dropped or missed. */
  readonly traceCounters = new Counters();
  readonly recentTraces: NodeTraceEvent[] = [];

  /**
   * revocations: the mesh's list, shared with whoever follows its file (RevocationFollower); a newer list
   * offered to it applies to the next message and to what nodeRevoked() says.
   */
  constructor(
    crypto: Crypto,
    private readonly bundle: TrustBundle,
    private readonly wallClockMs: () => number,
    readonly revocations: RevocationStore = new RevocationStore(),
  ) {
    this.verifier = new TelemetryVerifier(crypto, bundle, wallClockMs, revocations);
  }

  /** Revoked by node ID or by the serial of the certificate it last signed with. */
  nodeRevoked(row: Pick<NodeRow, 'mesh' | 'node' | 'serialHex'>): boolean {
    const list = this.revocations.list;
    if (list === null) return false;
    if (list.nodeIds.includes(nodeId(row.mesh, row.node))) return true;
    return row.serialHex !== null && list.serials.some((serial) => toHex(serial) === row.serialHex);
  }

  /** Nodes of this mesh the list revokes by ID that never sent anything here: shown as revoked too. */
  revokedUnseen(): { readonly mesh: string; readonly node: string }[] {
    const out: { mesh: string; node: string }[] = [];
    for (const id of this.revocations.list?.nodeIds ?? []) {
      const subject = parseSubject(id);
      if (!subject.ok || subject.value.kind !== 'node' || subject.value.trustDomain !== this.bundle.trustDomain)
        continue;
      if (!this.nodes.has(`${subject.value.trustDomain}/${subject.value.name}`))
        out.push({ mesh: subject.value.trustDomain, node: subject.value.name });
    }
    return out;
  }

  get rejectedTotal(): number {
    return Object.values(this.rejected.snapshot()).reduce((a, b) => a + b, 0);
  }

  offer(topic: string, payload: Uint8Array): Outcome {
    if (parseTopic(topic)?.kind === 'cmd') {
      this.commands++;
      return { ok: false, reason: operatorCommand, benign: true };
    }
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
    return { ok: true, message: result.value, traces: this.traces(result.value) };
  }

  /** The trace events a verified telemetry message carries (docs/mapek.md, Traces), checked and counted. */
  private traces(m: Verified): NodeTraceEvent[] {
    if (m.kind !== 'telemetry') return [];
    const decoded = decodeTraceBatch(m.data.traces);
    const out = decoded.events.map((e) => ({ ...e, mesh: m.mesh, node: m.node }));
    const counts = {
      received: out.length,
      refused: decoded.refused,
      'dropped-by-node': decoded.dropped,
      'missed-by-node': decoded.missed,
    };
    for (const [name, n] of Object.entries(counts)) if (n > 0) this.traceCounters.add(name, n);
    this.recentTraces.push(...out);
    if (this.recentTraces.length > recentTracesMax)
      this.recentTraces.splice(0, this.recentTraces.length - recentTracesMax);
    return out;
  }

  private apply(m: Verified): void {
    const key = `${m.mesh}/${m.node}`;
    let row = this.nodes.get(key);
    if (row === undefined) {
      row = {
        mesh: m.mesh,
        node: m.node,
        state: 'unknown',
        version: null,
        uptimeS: null,
        lastSeenMs: 0,
        lastAtMs: 0,
        telemetry: null,
        lastEvent: null,
        messages: 0,
        serialHex: null,
        certExpiresAtMs: null,
      };
      this.nodes.set(key, row);
      if (this.nodes.size > nodesMax) this.nodes.delete(this.nodes.keys().next().value as string);
    }
    row.messages++;
    row.serialHex = toHex(m.peer.serial);
    row.certExpiresAtMs = m.peer.expiresAtMs;
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

  /**
   * The node's state as of `nowMs`: its status, except that "online" holds only while the node's newest verified
   * message is at most staleMsMax old by its own clock (telemetry comes far more often). A retained status is
   * kept by the broker indefinitely: a month-old "online" a new consumer receives is 'stale', not up.
   */
  currentState(
    row: Pick<NodeRow, 'state' | 'lastAtMs'>,
    nowMs: number = this.wallClockMs(),
  ): NodeRow['state'] | 'stale' {
    return row.state === 'online' && nowMs - row.lastAtMs > staleMsMax ? 'stale' : row.state;
  }

  /** Plain-text table: one line per node, freshness in seconds since its last verified message. */
  table(): string {
    const now = this.wallClockMs();
    const lines = [
      `${'node'.padEnd(24)} ${'state'.padEnd(8)} ${'version'.padEnd(8)} ${'uptime'.padStart(8)} ${'fresh'.padStart(7)} ${'msgs'.padStart(6)} neighbours (tq)`,
    ];
    for (const row of [...this.nodes.values()].sort((a, b) => (a.node < b.node ? -1 : 1))) {
      const neighbours = neighbourList(row.telemetry)
        .map((n) => `${n.mac.slice(-5)}(${n.tq})`)
        .join(' ');
      const state = this.nodeRevoked(row) ? 'REVOKED' : this.currentState(row, now);
      lines.push(
        `${`${row.node}@${row.mesh}`.padEnd(24)} ${state.padEnd(8)} ${(row.version ?? '-').padEnd(8)} ${(row.uptimeS === null ? '-' : `${row.uptimeS}s`).padStart(8)} ${`${((now - row.lastSeenMs) / 1000).toFixed(1)}s`.padStart(7)} ${String(row.messages).padStart(6)} ${neighbours}`,
      );
    }
    for (const unseen of this.revokedUnseen()) lines.push(`${`${unseen.node}@${unseen.mesh}`.padEnd(24)} REVOKED`);
    const reasons = Object.entries(this.rejected.snapshot())
      .map(([r, n]) => `${r}=${n}`)
      .join(' ');
    const listVersion = this.revocations.version;
    lines.push(
      `verified ${this.verified}, REJECTED ${this.rejectedTotal}${reasons ? ` (${reasons})` : ''}${this.commands > 0 ? `, operator commands ${this.commands}` : ''}${listVersion > 0 ? `, revocation list v${listVersion}` : ''}`,
    );
    for (const r of this.recent.slice(-5)) lines.push(`  ! rejected ${r.topic}: ${r.reason}`);
    for (const t of this.recentTraces.slice(-5)) lines.push(`  ${formatTraceEvent(t.node, t)}`);
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
