// The long-running agent (what procd starts on the router): registers the `x0tta6bl4` ubus object so LuCI
// and `ubus call x0tta6bl4 ...` reach it, and keeps it registered across ubusd restarts. Later components
// (identity, gossip, Raft, MAPE-K, telemetry) are composed here.
import type { Platform } from '../platform/types.js';
import { registerAgentObject, type AgentProvider } from '../ubus/agent-object.js';
import { UbusConnection } from '../ubus/connection.js';
import { agentVersion } from './version.js';

export interface AgentOptions {
  readonly name: string;
  readonly ubusSocket: string;
  /** Stop after this long (tests, demos); null runs until the process is stopped. */
  readonly runForMs: number | null;
}

export function agentProvider(platform: Platform, name: string, startedAtMs: number): AgentProvider {
  return {
    status: () => ({
      node_id: name,
      state: 'running',
      uptime_s: Math.floor((platform.monotonicMs() - startedAtMs) / 1000),
      peers_total: 0,
      peers_up: 0,
    }),
    peers: () => ({ peers: [] }),
    version: () => ({ version: agentVersion, engine: platform.name, crypto: platform.crypto.backend }),
  };
}

export async function runAgent(platform: Platform, options: AgentOptions): Promise<number> {
  const log = platform.logger;
  const connection = new UbusConnection(platform, { path: options.ubusSocket, reconnect: true });
  const registered = registerAgentObject(connection, agentProvider(platform, options.name, platform.monotonicMs()));
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
