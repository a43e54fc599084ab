// The real runtime end to end over ubus: `x0 agent` on x0-runtime registers the x0tta6bl4 object on the
// ubusd stand-in (itself checked against real ubusd captures in test/ubus), and `x0 ubus call`, also on
// x0-runtime, gets its status.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { bundlePath, run, runtimePath } from '../lib/processes.js';
import { startStandin } from '../ubus/standin.js';

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
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
