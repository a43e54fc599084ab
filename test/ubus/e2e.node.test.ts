// End to end on Node: the stand-in ubusd on a Unix socket in a temp dir, the agent's object registered through
// the real client, and `x0 ubus` (in process and as a separate process) calling it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ubusCommand } from '../../src/cli/ubus.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import type { Platform } from '../../src/platform/types.js';
import { registerAgentObject, type AgentProvider } from '../../src/ubus/agent-object.js';
import { UbusConnection } from '../../src/ubus/connection.js';
import { root, run } from '../lib/processes.js';
import { startStandin, type Standin } from './standin.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'x0-ubus-'));
const platform = createNodePlatform({ argv: [] });
let socketCounter = 0;
const newSocket = () => path.join(dir, `ubus-${socketCounter++}.sock`);

const provider: AgentProvider = {
  status: () => ({ node_id: 'spiffe://mesh.x0/node/a1', state: 'running', uptime_s: 42, peers_total: 2, peers_up: 1 }),
  peers: () => ({
    peers: [
      { id: 'b2', address: 'fe80::2', state: 'up', rtt_ms: 3 },
      { id: 'c3', address: 'fe80::3', state: 'down', rtt_ms: null },
    ],
  }),
  version: () => ({ version: '0.1.0', engine: 'node', crypto: 'node' }),
};

/** A platform whose stdout/stderr are captured, for running the CLI in process. */
function capturing(): { platform: Platform; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    platform: {
      ...platform,
      stdout: (t) => {
        out += t;
      },
      stderr: (t) => {
        err += t;
      },
    },
    out: () => out,
    err: () => err,
  };
}

async function agentOn(socket: string): Promise<UbusConnection> {
  const agent = new UbusConnection(platform, { path: socket, reconnect: true });
  assert.ok(registerAgentObject(agent, provider).ok);
  const started = await agent.start(3000);
  assert.ok(started.ok, JSON.stringify(started));
  // The first registration of a connection has key 1.
  await until(() => agent.client.objectId(1) !== 0);
  return agent;
}

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function cli(socket: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = capturing();
  const code = await ubusCommand(c.platform, ['--socket', socket, ...args]);
  return { code, out: c.out(), err: c.err() };
}

let standin: Standin;
let socket: string;
let agent: UbusConnection;

test.before(async () => {
  socket = newSocket();
  standin = await startStandin(platform, socket);
  agent = await agentOn(socket);
});

test.after(() => {
  agent.close();
  standin.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('`x0 ubus call x0tta6bl4 status` answers the provider status through the stand-in', async () => {
  const result = await cli(socket, 'call', 'x0tta6bl4', 'status');
  assert.is(result.err, '');
  assert.is(result.code, 0);
  assert.equal(JSON.parse(result.out), await provider.status());
  assert.ok(result.out.includes('\n\t"state": "running"'), 'tab-indented like ubus');
});

test('peers and version answer too; list -v shows the object and its methods', async () => {
  assert.equal(JSON.parse((await cli(socket, 'call', 'x0tta6bl4', 'peers')).out), await provider.peers());
  assert.equal(JSON.parse((await cli(socket, 'call', 'x0tta6bl4', 'version')).out), await provider.version());
  const listed = await cli(socket, 'list', '-v');
  assert.is(listed.code, 0);
  assert.match(
    listed.out,
    /^'x0tta6bl4' @[0-9a-f]{8}\n\t"status":\{\}\n\t"peers":\{\}\n\t"version":\{\}\n\t"raft":\{\}\n\t"mesh":\{\}\n\t"events":\{"limit":"Integer"\}\n\t"reload":\{\}\n\t"restart":\{"component":"String"\}\n\t"token":\{"node":"String","ttl_s":"Integer"\}\n\t"revoke":\{"node":"String"\}\n$/,
  );
  assert.is((await cli(socket, 'list')).out, 'x0tta6bl4\n');
});

test('a missing method exits 3, a missing object 4, bad JSON 2, a missing socket 10', async () => {
  const method = await cli(socket, 'call', 'x0tta6bl4', 'nosuch');
  assert.is(method.code, 3);
  assert.match(method.err, /Method not found/);
  const object = await cli(socket, 'call', 'nosuchobj', 'status');
  assert.is(object.code, 4);
  assert.match(object.err, /Not found/);
  assert.is((await cli(socket, 'call', 'x0tta6bl4', 'status', '{nope')).code, 2);
  const started = Date.now();
  assert.is((await cli(path.join(dir, 'absent.sock'), 'call', 'x0tta6bl4', 'status')).code, 10);
  assert.ok(Date.now() - started < 2000, 'a missing socket fails fast');
});

test('the Node entry of `x0 ubus` runs as its own process and prints the status', async () => {
  const result = await run(
    ['node', '--import', 'tsx', `${root}src/cli/ubus-main.node.ts`, '--socket', socket, 'call', 'x0tta6bl4', 'status'],
    30_000,
  );
  assert.is(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout), await provider.status());
  const help = await run(['node', '--import', 'tsx', `${root}src/cli/ubus-main.node.ts`, '--help'], 30_000);
  assert.is(help.code, 0);
  assert.match(help.stdout, /usage: x0 ubus/);
});

test('events: a listener on one connection receives what another sends', async () => {
  const sender = new UbusConnection(platform, { path: socket });
  assert.ok((await sender.start()).ok);
  const received: [string, unknown][] = [];
  assert.ok(agent.listen('x0.*', (name, data) => received.push([name, data])).ok);
  await new Promise((r) => setTimeout(r, 50));
  const sent = await sender.sendEvent('x0.peer.up', { id: 'b2', rtt_ms: 3 });
  assert.ok(sent.ok && sent.value.status === 0);
  await until(() => received.length === 1);
  assert.equal(received, [['x0.peer.up', { id: 'b2', rtt_ms: 3 }]]);
  sender.close();
});

test('subscribe/notify: a subscriber receives the notifications of the object it subscribed to', async () => {
  const watcher = new UbusConnection(platform, { path: socket });
  const notes: [string, unknown][] = [];
  assert.ok(watcher.subscribe('x0tta6bl4', (type, data) => notes.push([type, data])).ok);
  assert.ok((await watcher.start()).ok);
  await until(() => watcher.client.objectId(1) !== 0);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(agent.notify(1, 'peer.down', { id: 'c3' }).ok);
  await until(() => notes.length === 1);
  assert.equal(notes, [['peer.down', { id: 'c3' }]]);
  watcher.close();
});

test('ubusd restarting: the agent reconnects, re-registers its object, and answers again', async () => {
  standin.stop();
  fs.rmSync(socket, { force: true });
  const failedWhileDown = await cli(socket, 'call', 'x0tta6bl4', 'status');
  assert.is(failedWhileDown.code, 10);
  standin = await startStandin(platform, socket);
  await until(() => standin.broker.objectCount >= 1, 5000);
  const result = await cli(socket, 'call', 'x0tta6bl4', 'status');
  assert.is(result.code, 0, result.err);
  assert.equal(JSON.parse(result.out), await provider.status());
});

test('the broker closing mid-call fails the call at once with a reason; nothing stays in flight', async () => {
  const slowSocket = newSocket();
  const slowStandin = await startStandin(platform, slowSocket);
  const slow = new UbusConnection(platform, { path: slowSocket, reconnect: true });
  slow.addObject({ name: 'slow', methods: { wait: {} } }, { wait: () => new Promise(() => undefined) });
  assert.ok((await slow.start()).ok);
  const caller = new UbusConnection(platform, { path: slowSocket });
  assert.ok((await caller.start()).ok);
  await until(() => slowStandin.broker.objectCount === 1);
  const pending = caller.call('slow', 'wait', {}, 20_000);
  await new Promise((r) => setTimeout(r, 100));
  const started = Date.now();
  slowStandin.stop();
  const result = await pending;
  assert.equal(result, { ok: false, reason: 'connection-lost' });
  assert.ok(Date.now() - started < 1000);
  assert.is(caller.client.inflight, 0);
  caller.close();
  slow.close();
});

/** A fake broker that greets and then sends the given bytes (bad input from ubusd's side). */
async function hostileBroker(socketPath: string, reply: (conn: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer((conn) => {
    conn.write(Buffer.from('000000000000abcd00000004', 'hex'));
    conn.on('data', () => reply(conn));
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return server;
}

for (const [what, bytes, reason] of [
  ['a wrong version', '0702000100000000' + '00000004', 'bad-version'],
  ['a length over UBUS_MAX_MSGLEN', '0002000100000000' + '00100004', 'message-too-large'],
  ['a length under the header', '0002000100000000' + '00000002', 'bad-length'],
  ['an attribute running past the message', '0002000100000000' + '0000000c' + '03000010' + '00000001', 'truncated'],
] as const) {
  test(`ubusd sending ${what}: the call fails, the stream is reset with '${reason}', the client reconnects`, async () => {
    const hostileSocket = newSocket();
    const server = await hostileBroker(hostileSocket, (conn) => conn.write(Buffer.from(bytes, 'hex')));
    const client = new UbusConnection(platform, { path: hostileSocket, reconnect: true });
    assert.ok((await client.start()).ok);
    const result = await client.lookup('anything', 2000);
    assert.not.ok(result.ok);
    assert.is(client.client.counters.get(reason), 1, JSON.stringify(client.client.counters.snapshot()));
    await until(() => client.ready, 3000);
    client.close();
    server.close();
  });
}

test('ubusd closing after half a message: the call fails with connection-lost, not a hang', async () => {
  const hostileSocket = newSocket();
  const server = await hostileBroker(hostileSocket, (conn) =>
    conn.end(Buffer.from('000200010000000000000010030000', 'hex')),
  );
  const client = new UbusConnection(platform, { path: hostileSocket });
  assert.ok((await client.start()).ok);
  assert.equal(await client.lookup('x', 5000), { ok: false, reason: 'connection-lost' });
  client.close();
  server.close();
});

test.run();
