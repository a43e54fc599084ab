// The long-running agent (what procd starts on the router): registers the `x0tta6bl4` ubus object so LuCI
// and `ubus call x0tta6bl4 ...` reach it, and keeps it registered across ubusd restarts. Later components
// (identity, gossip, Raft, MAPE-K, telemetry) are composed here.
import { BatctlReader } from '../batman/batctl.js';
import type { Platform } from '../platform/types.js';
import { registerAgentObject, type AgentProvider } from '../ubus/agent-object.js';
import type { JsTable } from '../ubus/values.js';
import { UbusConnection } from '../ubus/connection.js';
import { agentVersion } from '../version.js';

export interface AgentOptions {
  readonly name: string;
  readonly ubusSocket: string;
  /** batman-adv mesh interface whose neighbours are the agent's peers (default bat0). */
  readonly meshif?: string;
  /** batctl binary (default: batctl on PATH). */
  readonly batctl?: string;
  /** Stop after this long (tests, demos); null runs until the process is stopped. */
  readonly runForMs: number | null;
}

export interface ProviderOptions {
  readonly name: string;
  readonly startedAtMs: number;
  readonly meshif?: string;
  readonly batctl?: string;
}

// Peers are batman-adv's direct neighbours, read when asked (ubus calls are rare: LuCI polls every few
// seconds), so there is no cache to go stale. A neighbour is "up" while batman-adv has its TQ.
export function agentProvider(platform: Platform, options: ProviderOptions): AgentProvider {
  const reader = new BatctlReader(platform, options.batctl ?? 'batctl');
  const meshif = options.meshif ?? 'bat0';
  const readPeers = async () => {
    const view = await reader.meshView(meshif);
    if (!view.ok) return { peers: [], up: 0, error: view.reason };
    const peers = view.value.neighbours.map((n) => ({
      id: n.neighbour, address: n.neighbour, iface: n.iface, state: n.tq === null ? 'seen' : 'up', tq: n.tq ?? 0, last_seen_ms: n.lastSeenMs,
    }));
    return { peers, up: peers.filter((p) => p.state === 'up').length, error: null };
  };
  return {
    status: async () => {
      const peers = await readPeers();
      return {
        node_id: options.name,
        state: 'running',
        uptime_s: Math.floor((platform.monotonicMs() - options.startedAtMs) / 1000),
        peers_total: peers.peers.length,
        peers_up: peers.up,
        mesh: peers.error === null ? meshif : `${meshif}: ${peers.error}`,
      };
    },
    peers: async (): Promise<JsTable> => {
      const peers = await readPeers();
      return peers.error === null ? { peers: peers.peers } : { peers: [], error: peers.error };
    },
    version: () => ({ version: agentVersion, engine: platform.name, crypto: platform.crypto.backend }),
  };
}

export async function runAgent(platform: Platform, options: AgentOptions): Promise<number> {
  const log = platform.logger;
  const connection = new UbusConnection(platform, { path: options.ubusSocket, reconnect: true });
  const registered = registerAgentObject(connection, agentProvider(platform, { name: options.name, startedAtMs: platform.monotonicMs(), ...(options.meshif === undefined ? {} : { meshif: options.meshif }), ...(options.batctl === undefined ? {} : { batctl: options.batctl }) }));
  if (!registered.ok) {
    log.log('error', 'cannot define the ubus object', { reason: registered.reason });
    return 1;
  }
  const started = await connection.start();
  // ubusd may not be up yet (early boot) or may restart: the connection keeps trying, the agent keeps running.
  if (started.ok) log.log('info', 'ubus object registered', { object: 'x0tta6bl4', socket: options.ubusSocket });
  else log.log('warn', 'ubus not reachable yet; retrying in the background', { socket: options.ubusSocket, reason: started.reason });
  if (options.runForMs === null) return new Promise<number>(() => {});
  await new Promise<void>((resolve) => platform.setTimer(options.runForMs as number, resolve));
  connection.close();
  return 0;
}
