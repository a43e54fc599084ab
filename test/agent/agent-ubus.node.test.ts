// The real runtime end to end over ubus: `x0 agent` on x0-runtime registers the x0tta6bl4 object on the
// ubusd stand-in (itself checked against real ubusd captures in test/ubus), and `x0 ubus call`, also on
// x0-runtime, gets its status.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { bundlePath, run, runtimePath } from '../lib/processes.js';
import { startStandin } from '../ubus/standin.js';
import { neighboursTable, originatorsTable } from '../batman/recorded.js';

const dir = mkdtempSync(join(tmpdir(), 'x0-agent-ubus-'));
const socket = join(dir, 'ubus.sock');
const platform = createNodePlatform({ argv: [] });

async function callUntilReady(args: string[], deadlineMs: number) {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const result = await run([runtimePath, bundlePath, 'ubus', '--socket', socket, ...args]);
    if (result.code === 0 || Date.now() > until) return result;
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('x0 agent on x0-runtime answers status and version through ubus', async () => {
  const standin = await startStandin(platform, socket);
  const agent = spawn(runtimePath, [bundlePath, 'agent', '--name', 'router-1', '--ubus-socket', socket, '--run-for-ms', '15000'], { stdio: 'ignore' });
  try {
    const status = await callUntilReady(['call', 'x0tta6bl4', 'status'], 8000);
    assert.is(status.code, 0, status.stderr);
    const body = JSON.parse(status.stdout) as Record<string, unknown>;
    assert.is(body.node_id, 'router-1');
    assert.is(body.state, 'running');
    const version = await run([runtimePath, bundlePath, 'ubus', '--socket', socket, 'call', 'x0tta6bl4', 'version']);
    assert.is(version.code, 0, version.stderr);
    assert.equal(JSON.parse(version.stdout), { version: '0.1.0', engine: 'qjs', crypto: 'native' });
    const listed = await run([runtimePath, bundlePath, 'ubus', '--socket', socket, 'list']);
    assert.match(listed.stdout, /^x0tta6bl4$/m);
  } finally {
    agent.kill('SIGTERM');
    standin.stop();
  }
});

// batctl replaced by a script that prints what the real one printed in the lab (test/batman/recorded.ts);
// the lab's smoke scenario runs the agent's reader against the real batctl and batman-adv.
function fakeBatctl(): string {
  const path = join(dir, 'batctl');
  writeFileSync(join(dir, 'neighbours.txt'), neighboursTable);
  writeFileSync(join(dir, 'originators.txt'), originatorsTable);
  writeFileSync(path, `#!/bin/sh
case "$*" in
  "meshif bat0 neighbors -H") cat '${dir}/neighbours.txt' ;;
  "meshif bat0 originators") cat '${dir}/originators.txt' ;;
  *) echo "Error - interface $2 is not present or not a batman-adv interface" >&2; exit 1 ;;
esac
`);
  chmodSync(path, 0o755);
  return path;
}

test('peers and status report batman-adv neighbours with TQ; a missing mesh interface is a reason', async () => {
  const standin = await startStandin(platform, socket);
  const batctl = fakeBatctl();
  const agent = spawn(runtimePath, [bundlePath, 'agent', '--name', 'router-2', '--ubus-socket', socket, '--batctl', batctl, '--run-for-ms', '15000'], { stdio: 'ignore' });
  try {
    const peers = await callUntilReady(['call', 'x0tta6bl4', 'peers'], 8000);
    assert.is(peers.code, 0, peers.stderr);
    assert.equal(JSON.parse(peers.stdout), { peers: [{ id: '52:54:00:02:00:01', address: '52:54:00:02:00:01', iface: 'eth1', state: 'up', tq: 55, last_seen_ms: 972 }] });
    const status = JSON.parse((await run([runtimePath, bundlePath, 'ubus', '--socket', socket, 'call', 'x0tta6bl4', 'status'])).stdout) as Record<string, unknown>;
    assert.is(status.peers_total, 1);
    assert.is(status.peers_up, 1);
    assert.is(status.mesh, 'bat0');
  } finally {
    agent.kill('SIGTERM');
    standin.stop();
  }
  const standin2 = await startStandin(platform, socket);
  const other = spawn(runtimePath, [bundlePath, 'agent', '--name', 'router-3', '--ubus-socket', socket, '--batctl', batctl, '--meshif', 'bat9', '--run-for-ms', '15000'], { stdio: 'ignore' });
  try {
    const peers = await callUntilReady(['call', 'x0tta6bl4', 'peers'], 8000);
    assert.equal(JSON.parse(peers.stdout), { peers: [], error: 'meshif-absent' });
  } finally {
    other.kill('SIGTERM');
    standin2.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
