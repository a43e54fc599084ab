// `x0 watch --republish`: the verified state of each node as plain JSON on a topic tree of its own, with Home
// Assistant's MQTT discovery messages and availability, for consumers that cannot verify COSE. Only what the
// Watcher verified comes here, so unsigned, forged, replayed and revoked telemetry is never republished; a node
// whose certificate is revoked later is withdrawn (its retained state cleared, its availability offline).
// Pure: it returns what to publish, the caller publishes (MQTT QoS 1, retained).
import type { Verified } from '../core/telemetry/messages.js';
import { nodesMax } from '../core/telemetry/limits.js';

export interface Publication {
  readonly topic: string;
  /** '' with retain clears the broker's retained message. */
  readonly payload: string;
  readonly retain: boolean;
}

export interface RepublishOptions {
  /** The plain tree: PREFIX/<mesh>/<node>/state and .../availability, PREFIX/bridge/availability. */
  readonly prefix: string;
  /** Home Assistant's discovery prefix (its default is 'homeassistant'). */
  readonly discoveryPrefix: string;
}

export const republishDefaults: RepublishOptions = { prefix: 'x0-verified', discoveryPrefix: 'homeassistant' };

/** MQTT topic levels without wildcards; must not lie under x0/, which the watch itself verifies. */
export function validPrefix(text: string): boolean {
  return /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(text) && text.length <= 64 && !/^x0(\/|$)/.test(text);
}

interface NodeState {
  state: 'online' | 'offline';
  version: string | null;
  uptimeS: number | null;
  load: number | null;
  clients: number | null;
  memoryAvailableKb: number | null;
  lastAtMs: number;
  announced: boolean;
}

/** One sensor per field Home Assistant shows: [object id, name, value template, unit, device class]. */
const sensors: ReadonlyArray<readonly [string, string, string, string | null, string | null]> = [
  ['state', 'State', '{{ value_json.state }}', null, null],
  ['uptime', 'Uptime', '{{ value_json.uptime_s }}', 's', 'duration'],
  ['load', 'Load', '{{ value_json.load }}', null, null],
  ['clients', 'Clients', '{{ value_json.clients }}', null, null],
  ['memory_available', 'Memory available', '{{ value_json.memory_available_kb }}', 'kB', 'data_size'],
];

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const record = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
/** Home Assistant's object ids: [a-zA-Z0-9_-]. */
const objectId = (text: string): string => text.replace(/[^A-Za-z0-9_-]/g, '_');

export class Republisher {
  private readonly nodes = new Map<string, NodeState & { mesh: string; node: string }>();
  private readonly withdrawn = new Set<string>();

  constructor(private readonly options: RepublishOptions = republishDefaults) {}

  /** The bridge's own availability: online at start; its Will (and a clean stop) say offline. */
  get bridgeTopic(): string {
    return `${this.options.prefix}/bridge/availability`;
  }

  private base(mesh: string, node: string): string {
    return `${this.options.prefix}/${mesh}/${node}`;
  }

  /** What to publish after a verified message (status or telemetry; events change nothing here). */
  verified(m: Verified): Publication[] {
    const key = `${m.mesh}/${m.node}`;
    if (this.withdrawn.has(key) || m.kind === 'events' || m.kind === 'cmd') return [];
    let s = this.nodes.get(key);
    if (s === undefined) {
      if (this.nodes.size >= nodesMax) return [];
      s = {
        mesh: m.mesh,
        node: m.node,
        state: 'offline',
        version: null,
        uptimeS: null,
        load: null,
        clients: null,
        memoryAvailableKb: null,
        lastAtMs: 0,
        announced: false,
      };
      this.nodes.set(key, s);
    }
    // Older than what was shown (a retained status after newer telemetry): not shown again.
    if (m.at < s.lastAtMs) return [];
    s.lastAtMs = m.at;
    if (m.kind === 'status') {
      s.state = m.data.state === 'online' ? 'online' : 'offline';
      if (typeof m.data.version === 'string') s.version = m.data.version;
      s.uptimeS = num(m.data.uptimeS) ?? s.uptimeS;
    } else {
      const statistics = record(m.data.statistics);
      s.state = 'online';
      s.uptimeS = num(statistics.uptime) ?? s.uptimeS;
      s.load = num(statistics.loadavg);
      s.clients = num(record(statistics.clients).total);
      s.memoryAvailableKb = num(record(statistics.memory).available);
    }
    const out: Publication[] = [];
    if (!s.announced) {
      s.announced = true;
      out.push(...this.discovery(s));
    }
    const base = this.base(s.mesh, s.node);
    out.push({ topic: `${base}/availability`, payload: s.state, retain: true });
    out.push({ topic: `${base}/state`, payload: JSON.stringify(this.stateOf(s)), retain: true });
    return out;
  }

  /** A node the revocation list now names: its plain state is cleared and it is shown unavailable, for good. */
  revoked(mesh: string, node: string): Publication[] {
    const key = `${mesh}/${node}`;
    if (this.withdrawn.has(key)) return [];
    this.withdrawn.add(key);
    const known = this.nodes.delete(key);
    if (!known) return [];
    const base = this.base(mesh, node);
    return [
      { topic: `${base}/availability`, payload: 'offline', retain: true },
      { topic: `${base}/state`, payload: '', retain: true },
    ];
  }

  /** Nodes republished so far (mesh, node), for the caller's revocation sweep. */
  shown(): { mesh: string; node: string }[] {
    return [...this.nodes.values()].map((s) => ({ mesh: s.mesh, node: s.node }));
  }

  private stateOf(s: NodeState & { mesh: string; node: string }): Record<string, unknown> {
    return {
      node: s.node,
      mesh: s.mesh,
      state: s.state,
      version: s.version,
      uptime_s: s.uptimeS,
      load: s.load,
      clients: s.clients,
      memory_available_kb: s.memoryAvailableKb,
      at: new Date(s.lastAtMs).toISOString(),
      verified: true,
    };
  }

  /** Home Assistant MQTT discovery: one device per node, one sensor per field, both availabilities required. */
  private discovery(s: NodeState & { mesh: string; node: string }): Publication[] {
    const base = this.base(s.mesh, s.node);
    const device = objectId(`x0_${s.mesh}_${s.node}`);
    return sensors.map(([field, name, template, unit, deviceClass]) => ({
      topic: `${this.options.discoveryPrefix}/sensor/${device}/${field}/config`,
      retain: true,
      payload: JSON.stringify({
        name,
        unique_id: `${device}_${field}`,
        object_id: `${device}_${field}`,
        state_topic: `${base}/state`,
        value_template: template,
        ...(unit === null ? {} : { unit_of_measurement: unit }),
        ...(deviceClass === null ? {} : { device_class: deviceClass }),
        availability: [{ topic: this.bridgeTopic }, { topic: `${base}/availability` }],
        availability_mode: 'all',
        payload_available: 'online',
        payload_not_available: 'offline',
        device: {
          identifiers: [device],
          name: `${s.node} (${s.mesh})`,
          manufacturer: 'x0tta6bl4',
          model: 'mesh node',
          ...(s.version === null ? {} : { sw_version: s.version }),
        },
      }),
    }));
  }
}
