// Scratch provider for the LuCI tests: registers the agent's `x0tta6bl4` ubus object with every method of the
// contract (status peers raft mesh events version reload revoke token) through the project's own ubus client
// (src/ubus/connection.ts), answering from a known mesh state (mesh-state.ts). It stands in for the agent only
// until `x0 agent` implements these methods; the harness takes the agent command as a parameter.
// The scenario is read from a control file at every call, so a test switches it by rewriting the file.
// Usage: node --import tsx test/luci/provider.ts --socket PATH [--scenario-file FILE]
import * as fs from 'node:fs';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { agentObjectName } from '../../src/ubus/agent-object.js';
import { UbusConnection, type MethodHandler } from '../../src/ubus/connection.js';
import type { JsTable } from '../../src/ubus/values.js';
import { meshAnswers, scenarios, self, type Scenario } from './mesh-state.js';

const usage = 'usage: node --import tsx test/luci/provider.ts --socket PATH [--scenario-file FILE]';
const scenarioFileBytesMax = 256;
const eventsLimitMax = 500;
const tokenTtlSMax = 7 * 24 * 3600;

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
}

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(`${usage}\nScenarios (first word of the file): ${scenarios.join(', ')}; default baseline.`);
  process.exit(0);
}
const socket = option('--socket') ?? process.env['UBUS_SOCKET'];
if (!socket) {
  console.error(`provider: no ubus socket (--socket or UBUS_SOCKET)\n${usage}`);
  process.exit(2);
}
const scenarioFile = option('--scenario-file') ?? process.env['X0_LUCI_SCENARIO_FILE'];

function scenario(): Scenario {
  if (!scenarioFile || !fs.existsSync(scenarioFile)) return 'baseline';
  const text = fs.readFileSync(scenarioFile, 'utf8').slice(0, scenarioFileBytesMax).trim();
  const found = scenarios.find((s) => s === text);
  if (!found)
    console.error(
      `provider: ${scenarioFile}: unknown scenario '${text}' (known: ${scenarios.join(', ')}); serving baseline`,
    );
  return found ?? 'baseline';
}

/** Nodes revoked through the `revoke` method while this process runs. */
const revokedHere = new Map<string, number>();
const answers = () => meshAnswers(scenario(), Date.now(), revokedHere);
const known = (node: unknown): node is string =>
  typeof node === 'string' &&
  answers().mesh['nodes'] !== undefined &&
  (answers().mesh['nodes'] as JsTable[]).some((n) => n['id'] === node);

const handlers: Record<string, MethodHandler> = {
  status: () => ({ data: answers().status }),
  peers: () => ({ data: answers().peers }),
  raft: () => ({ data: answers().raft }),
  mesh: () => ({ data: answers().mesh }),
  version: () => ({ data: answers().version }),
  events: (args) => {
    const limit = typeof args['limit'] === 'number' ? Math.min(Math.max(1, args['limit']), eventsLimitMax) : 100;
    const all = answers().events['events'] as JsTable[];
    return { data: { events: all.slice(0, limit) } };
  },
  reload: () => ({ data: { applied: [], needs_restart: [] } }),
  revoke: (args) => {
    const node = args['node'];
    if (!known(node)) return { data: { ok: false, reason: 'unknown-node' } };
    if (node === self) return { data: { ok: false, reason: 'cannot-revoke-self' } };
    if (!revokedHere.has(node)) revokedHere.set(node, Math.floor(Date.now() / 1000));
    console.log(JSON.stringify({ event: 'revoked', node }));
    return { data: { ok: true, reason: '' } };
  },
  token: (args): { data: JsTable } => {
    const node = args['node'];
    const ttlS = typeof args['ttl_s'] === 'number' ? args['ttl_s'] : 3600;
    if (typeof node !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(node))
      return { data: { ok: false, reason: 'bad-node-name' } };
    if (ttlS < 60 || ttlS > tokenTtlSMax) return { data: { ok: false, reason: 'bad-ttl' } };
    const token = `x0jt1.${node}.${Math.floor(Date.now() / 1000) + ttlS}.${Buffer.from(`${node}:${ttlS}`).toString('base64url')}`;
    console.log(JSON.stringify({ event: 'token', node, ttl_s: ttlS }));
    return { data: { ok: true, reason: '', token, expires_at: Math.floor(Date.now() / 1000) + ttlS } };
  },
};

const platform = createNodePlatform({ argv: [] });
const connection = new UbusConnection(platform, { path: socket, reconnect: true });
const added = connection.addObject(
  {
    name: agentObjectName,
    methods: {
      status: {},
      peers: {},
      raft: {},
      mesh: {},
      events: { limit: 'int32' },
      version: {},
      reload: {},
      revoke: { node: 'string' },
      token: { node: 'string', ttl_s: 'int32' },
    },
  },
  handlers,
);
if (!added.ok) {
  console.error(`provider: registering ${agentObjectName} failed: ${added.reason}`);
  process.exit(1);
}
const started = await connection.start(5000);
if (!started.ok) {
  console.error(`provider: connecting to ${socket} failed: ${started.reason} (is ubusd running?)`);
  process.exit(1);
}
console.log(JSON.stringify({ event: 'registered', object: agentObjectName, socket }));
const stop = () => {
  connection.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
