// The agent's own ubus object `x0tta6bl4`: what LuCI (through rpcd) and `ubus call x0tta6bl4 ...` reach.
// Its data comes from a provider the agent fills in; this file only shapes it. Methods are documented in
// docs/protocol/ubus.md; the rpcd ACL (ubus/acl.d/x0tta6bl4.json) has a read-only group with the read methods
// and an admin group with both lists below.
import type { ObjectDefinition } from './client.js';
import type { MethodHandler, UbusConnection } from './connection.js';
import type { Result } from './result.js';
import type { JsTable } from './values.js';

export const agentObjectName = 'x0tta6bl4';

type Answer = JsTable | Promise<JsTable>;

/** What the agent knows; each call may be synchronous or not. Thrown errors answer UBUS_STATUS_UNKNOWN_ERROR. */
export interface AgentProvider {
  /** { node_id, role, state, uptime_s, components, ... } */
  status(): Answer;
  /** { peers: [{ id, address, state, tq, ... }] } */
  peers(): Answer;
  /** { version, engine, crypto } */
  version(): Answer;
  /** { role, term, leader, commit_index, applied_index, members } */
  raft?(): Answer;
  /** { nodes, revocations, last_convergence_s } */
  mesh?(): Answer;
  /** { events: [...] }, the newest `limit`. */
  events?(limit: number): Answer;
  /** Re-reads the configuration: { applied, needs_restart } or { errors }. */
  reload?(): Answer;
  /** Restarts one component: { ok, reason }. */
  restart?(component: string): Answer;
  /** On an anchor with an issuing key: a join token for a new node: { ok, reason, token, expires_at }. */
  token?(node: string, ttlS: number | null): Answer;
  /** Revokes a node: { ok, reason }. */
  revoke?(node: string): Answer;
}

/** Methods that only read state: the ACL's read-only group. */
export const agentReadMethods = ['status', 'peers', 'version', 'raft', 'mesh', 'events'] as const;
/** Methods that change state: only the ACL's admin group has them. */
export const agentWriteMethods: readonly string[] = ['reload', 'restart', 'token', 'revoke'];

/** The events method returns at most this many events per call. */
export const eventsPerCallMax = 256;

export const agentObjectDefinition: ObjectDefinition = {
  name: agentObjectName,
  methods: {
    status: {},
    peers: {},
    version: {},
    raft: {},
    mesh: {},
    events: { limit: 'int32' },
    reload: {},
    restart: { component: 'string' },
    token: { node: 'string', ttl_s: 'int32' },
    revoke: { node: 'string' },
  },
};

const missing = { data: { error: 'not-available' } };

export function agentObjectHandlers(provider: AgentProvider): Record<string, MethodHandler> {
  return {
    status: async () => ({ data: await provider.status() }),
    peers: async () => ({ data: await provider.peers() }),
    version: async () => ({ data: await provider.version() }),
    raft: async () => (provider.raft === undefined ? missing : { data: await provider.raft() }),
    mesh: async () => (provider.mesh === undefined ? missing : { data: await provider.mesh() }),
    events: async (args) => {
      const limit =
        typeof args.limit === 'number' && Number.isInteger(args.limit)
          ? Math.max(1, Math.min(eventsPerCallMax, args.limit))
          : 50;
      return provider.events === undefined ? missing : { data: await provider.events(limit) };
    },
    reload: async () => (provider.reload === undefined ? missing : { data: await provider.reload() }),
    restart: async (args) => {
      if (typeof args.component !== 'string') return { status: 2, data: { ok: false, reason: 'component-missing' } };
      return provider.restart === undefined ? missing : { data: await provider.restart(args.component) };
    },
    token: async (args) => {
      if (typeof args.node !== 'string') return { status: 2, data: { ok: false, reason: 'node-missing' } };
      const ttlS = typeof args.ttl_s === 'number' ? args.ttl_s : null;
      return provider.token === undefined ? missing : { data: await provider.token(args.node, ttlS) };
    },
    revoke: async (args) => {
      if (typeof args.node !== 'string') return { status: 2, data: { ok: false, reason: 'node-missing' } };
      return provider.revoke === undefined ? missing : { data: await provider.revoke(args.node) };
    },
  };
}

/** Registers the object; the connection re-registers it after every reconnect. */
export function registerAgentObject(connection: UbusConnection, provider: AgentProvider): Result<number, string> {
  return connection.addObject(agentObjectDefinition, agentObjectHandlers(provider));
}
