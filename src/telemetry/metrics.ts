// What a telemetry message reports, shaped like Freifunk's respondd (nodeinfo, statistics, neighbours) so
// existing tooling (yanic, meshviewer) maps onto it: read from /proc through platform.files and from
// batman-adv's tables (src/batman: direct neighbours and their TQ, via batctl); or, for the demo and tests, simulated from a
// seed. Missing sources are reported as counters, never as a failure of the uplink.
import { agentVersion } from '../version.js';
import { BatctlReader, type BatmanReason, type MeshView } from '../batman/batctl.js';
import { Counters, type Result } from '../core/result.js';
import { neighboursMax } from '../core/telemetry/limits.js';
import type { Platform } from '../platform/types.js';
import { Rng } from '../core/rng.js';

export interface Neighbour {
  readonly mac: string;
  readonly iface: string;
  readonly tq: number;
  readonly lastseenS: number;
}

export interface Metrics {
  readonly nodeinfo: Record<string, unknown>;
  readonly statistics: Record<string, unknown>;
  readonly neighbours: Record<string, unknown>;
}

export interface MetricsSource {
  collect(): Promise<Metrics>;
  readonly counters: Counters;
}

const num = (text: string | undefined): number => {
  const value = Number(text);
  return Number.isFinite(value) ? value : 0;
};

/** /proc/meminfo in KiB, as respondd reports it. */
export function parseMeminfo(text: string): Record<string, number> {
  const field = (name: string) => num(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1]);
  return {
    total: field('MemTotal'),
    free: field('MemFree'),
    buffers: field('Buffers'),
    cached: field('Cached'),
    available: field('MemAvailable'),
  };
}

/** respondd's neighbours shape: batadv → interface → neighbours → mac → { tq, lastseen }. */
export function neighboursDocument(nodeId: string, neighbours: readonly Neighbour[]): Record<string, unknown> {
  const batadv: Record<string, { neighbours: Record<string, { tq: number; lastseen: number }> }> = {};
  for (const n of neighbours)
    (batadv[n.iface] ??= { neighbours: {} }).neighbours[n.mac] = { tq: n.tq, lastseen: n.lastseenS };
  return { node_id: nodeId, batadv };
}

function trafficOf(
  netDev: string,
  iface: string | null,
): { rx: { bytes: number; packets: number }; tx: { bytes: number; packets: number } } {
  const total = { rx: { bytes: 0, packets: 0 }, tx: { bytes: 0, packets: 0 } };
  for (const row of netDev.split('\n').slice(2)) {
    const [name, rest] = row.split(':');
    if (rest === undefined) continue;
    const ifname = (name as string).trim();
    if (iface !== null ? ifname !== iface : ifname === 'lo') continue;
    const f = rest.trim().split(/\s+/).map(num);
    total.rx.bytes += f[0] ?? 0;
    total.rx.packets += f[1] ?? 0;
    total.tx.bytes += f[8] ?? 0;
    total.tx.packets += f[9] ?? 0;
  }
  return total;
}

/** Reads the router (or Linux host) it runs on. */
export class ProcMetrics implements MetricsSource {
  readonly counters = new Counters();
  private readonly meshView: () => Promise<Result<MeshView, BatmanReason>>;

  /** meshView: where batman-adv's tables come from (the agent passes the view its reader already holds); batctl by default. */
  constructor(
    private readonly platform: Platform,
    private readonly nodeId: string,
    private readonly mesh: string,
    private readonly meshIface = 'bat0',
    meshView?: () => Promise<Result<MeshView, BatmanReason>>,
  ) {
    const reader = new BatctlReader(platform);
    this.meshView = meshView ?? (() => reader.meshView(this.meshIface));
  }

  private read(path: string): string {
    const text = this.platform.files.readText(path);
    if (text === null) this.counters.add(`missing:${path}`);
    return text ?? '';
  }

  async collect(): Promise<Metrics> {
    const [uptime, idletime] = this.read('/proc/uptime').split(/\s+/).map(num);
    const load = this.read('/proc/loadavg').split(/\s+/);
    const [running, total] = (load[3] ?? '0/0').split('/').map(num);
    const netDev = this.read('/proc/net/dev');
    const neighbours = await this.neighbours();
    return {
      nodeinfo: {
        node_id: this.nodeId,
        hostname: this.read('/proc/sys/kernel/hostname').trim() || this.nodeId,
        software: {
          firmware: { release: `x0tta6bl4 ${agentVersion}` },
          'batman-adv': { version: this.read('/sys/module/batman_adv/version').trim() || null },
        },
        hardware: { nproc: (this.read('/proc/cpuinfo').match(/^processor\s*:/gm) ?? []).length },
        system: { site_code: this.mesh },
      },
      statistics: {
        node_id: this.nodeId,
        uptime: uptime ?? 0,
        idletime: idletime ?? 0,
        loadavg: num(load[0]),
        memory: parseMeminfo(this.read('/proc/meminfo')),
        processes: { running: running ?? 0, total: total ?? 0 },
        traffic: trafficOf(netDev, netDev.includes(`${this.meshIface}:`) ? this.meshIface : null),
      },
      neighbours: neighboursDocument(this.nodeId, neighbours),
    };
  }

  // batman-adv's own view through the agent's one reader (src/batman): direct neighbours with the TQ of their
  // own originator row, on this node's mesh interface. Failures are counted by the reader's reason codes.
  private async neighbours(): Promise<Neighbour[]> {
    const view = await this.meshView();
    if (!view.ok) {
      this.counters.add(view.reason);
      return [];
    }
    return view.value.neighbours
      .filter((n) => n.tq !== null)
      .slice(0, neighboursMax)
      .map((n) => ({ mac: n.neighbour, iface: n.iface, tq: n.tq as number, lastseenS: n.lastSeenMs / 1000 }));
  }
}

/** A simulated node for the demo and tests: the same shape, values from a seeded generator. */
export class SimulatedMetrics implements MetricsSource {
  readonly counters = new Counters();
  private readonly rng: Rng;
  private readonly startMs: number;
  private readonly macs: string[];
  private rx = 0;
  private rounds = 0;

  constructor(
    private readonly platform: Platform,
    private readonly nodeId: string,
    private readonly mesh: string,
    private readonly seed: number,
    neighbourCount = 4,
  ) {
    this.rng = new Rng(seed);
    this.startMs = platform.monotonicMs();
    const hex = (n: number) => n.toString(16).padStart(2, '0');
    this.macs = Array.from(
      { length: Math.min(neighbourCount, neighboursMax) },
      (_, i) => `02:00:${hex(seed & 0xff)}:00:00:${hex(i + 1)}`,
    );
  }

  async collect(): Promise<Metrics> {
    const uptime = (this.platform.monotonicMs() - this.startMs) / 1000;
    this.rx += 1000 + (this.rng.nextUint32() % 9000);
    const neighbours = this.macs.map((mac, i) => ({
      mac,
      iface: 'mesh0',
      tq: 255 - i * 20 - (this.rng.nextUint32() % 10),
      lastseenS: (this.rng.nextUint32() % 1000) / 1000,
    }));
    return {
      nodeinfo: {
        node_id: this.nodeId,
        hostname: this.nodeId,
        software: { firmware: { release: `x0tta6bl4 ${agentVersion}` } },
        hardware: { model: 'simulated', nproc: 1 },
        system: { site_code: this.mesh },
      },
      statistics: {
        node_id: this.nodeId,
        uptime,
        idletime: uptime / 2,
        loadavg: (this.rng.nextUint32() % 100) / 100,
        memory: {
          total: 60_000,
          free: 30_000 + (this.rng.nextUint32() % 1000),
          buffers: 1_000,
          cached: 8_000,
          available: 35_000,
        },
        processes: { running: 1, total: 40 },
        clients: { total: this.rng.nextUint32() % 20, wifi: 0 },
        traffic: {
          rx: { bytes: this.rx, packets: Math.floor(this.rx / 500) },
          tx: { bytes: this.rx / 2, packets: Math.floor(this.rx / 1000) },
        },
        x0: this.agentSection(),
      },
      neighbours: neighboursDocument(this.nodeId, neighbours),
    };
  }

  /** `statistics.x0` in the shape `x0 agent` reports it (src/agent/agent.ts metrics()): every component up. */
  private agentSection(): Record<string, unknown> {
    const n = ++this.rounds;
    const component = (extra: Record<string, number>) => ({ state: 'up', restarts: 0, ...extra });
    return {
      state: 'running',
      identity: component({ enrolled: 1 }),
      batman: component({ neighbours: this.macs.length, originators: this.macs.length }),
      gossip: component({ sections: 3, refused: 0, flash_bytes: 0 }),
      // One simulated anchor in three leads (seed 1, 4, ...), so a simulated mesh has one leader.
      raft: component({
        term: 2,
        commit_index: 10 + n,
        applied_index: 10 + n,
        leader_changes: 1,
        is_leader: this.seed % 3 === 1 ? 1 : 0,
      }),
      xdp: component({
        packets: 1000 * n,
        passed: 990 * n,
        dropped_blocked: 8 * n,
        dropped_rate: 2 * n,
        batman_packets: 100 * n,
        malformed: 0,
      }),
      uplink: component({ sent: n, connected: 1 }),
      // Self-healing: one link taken out and put back every few rounds, all ok, no breaker open.
      mapek: component({
        neighbours: this.macs.length,
        neighbours_up: this.macs.length,
        decisions: 2 * Math.floor(n / 5),
        actions_ok: 2 * Math.floor(n / 5),
        actions_failed: 0,
        breakers_open: 0,
        incidents_open: 0,
      }),
    };
  }
}
