// The agent's own ubus object `x0tta6bl4`: what LuCI (through rpcd) and `ubus call x0tta6bl4 ...` reach.
// Its data comes from a provider the agent fills in; this file only shapes it. Methods are documented in
// docs/protocol/ubus.md, and the rpcd ACL (ubus/acl.d/x0tta6bl4.json) lists the read and write methods below.
import type { ObjectDefinition } from './client.js';
import type { MethodHandler, UbusConnection } from './connection.js';
import type { Result } from './result.js';
import type { JsTable } from './values.js';

export const agentObjectName = 'x0tta6bl4';

/** What the agent knows; each call may be synchronous or not. Thrown errors answer UBUS_STATUS_UNKNOWN_ERROR. */
export interface AgentProvider {
  /** { node_id, state, uptime_s, peers_total, peers_up, ... } */
  status(): JsTable | Promise<JsTable>;
  /** { peers: [{ id, address, state, rtt_ms, ... }] } */
  peers(): JsTable | Promise<JsTable>;
  /** { version, engine, crypto } */
  version(): JsTable | Promise<JsTable>;
}

/** Methods that only read state: LuCI gets them through the ACL's "read" section. */
export const agentReadMethods = ['status', 'peers', 'version'] as const;
/** Methods that change state: the ACL's "write" section (none yet; later issues add them). */
export const agentWriteMethods: readonly string[] = [];

export const agentObjectDefinition: ObjectDefinition = {
  name: agentObjectName,
  methods: { status: {}, peers: {}, version: {} },
};

export function agentObjectHandlers(provider: AgentProvider): Record<string, MethodHandler> {
  return {
    status: async () => ({ data: await provider.status() }),
    peers: async () => ({ data: await provider.peers() }),
    version: async () => ({ data: await provider.version() }),
  };
}

/** Registers the object; the connection re-registers it after every reconnect. */
export function registerAgentObject(connection: UbusConnection, provider: AgentProvider): Result<number, string> {
  return connection.addObject(agentObjectDefinition, agentObjectHandlers(provider));
}
