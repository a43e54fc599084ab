// `x0 channel --config PATH` is the agent's sealed link alone (src/agent/single.ts), from the agent's UCI file:
// two nodes with certificates of one mesh, on x0-runtime and on Node, each get a session with the other and
// exit 0; a node whose configured peer does not run exits 1 naming it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { bundlePath, freePort, root, run, runtimePath } from '../lib/processes.js';
import { makeMesh, testDir } from '../mqtt/lib.js';

const onNode = (...args: string[]) => ['node', '--import', 'tsx', `${root}src/entry/node.ts`, 'channel', ...args];
const onRuntime = (...args: string[]) => [runtimePath, bundlePath, 'channel', ...args];

function config(path: string, name: string, dir: string, port: number, peer: string): string {
  writeFileSync(
    path,
    `config agent 'main'\n\toption role 'node'\n\toption node_name '${name}'\n\toption trust_domain 'mesh.test'\n\toption state_dir '${dir}'\n\toption listen '127.0.0.1:${port}'\n\tlist static_peer '${peer}'\n`,
  );
  return path;
}

test('two nodes from their UCI files get a sealed session with each other; a missing peer is named', async () => {
  const dir = testDir('channel-link-config');
  const mesh = makeMesh(dir, 'mesh.test', ['alpha', 'bravo']);
  const [pa, pb] = [await freePort(), await freePort()];
  const a = config(`${dir}/alpha.config`, 'alpha', mesh.nodeDir('alpha'), pa, `bravo@127.0.0.1:${pb}`);
  const b = config(`${dir}/bravo.config`, 'bravo', mesh.nodeDir('bravo'), pb, `alpha@127.0.0.1:${pa}`);
  const [ra, rb] = await Promise.all([
    run(onRuntime('--config', a, '--timeout', '20s'), 40_000),
    run(onNode('--config', b, '--timeout', '20s'), 40_000),
  ]);
  assert.is(ra.code, 0, ra.stdout + ra.stderr);
  assert.is(rb.code, 0, rb.stdout + rb.stderr);
  assert.match(ra.stdout, /link alpha: session with bravo\nlink alpha: 1 of 1 peers/);
  assert.match(rb.stdout, /link bravo: session with alpha/);
  assert.match(ra.stderr, /link started listen=127\.0\.0\.1:\d+ peers=1/);
  const lonely = await run(onNode('--config', a, '--timeout', '1s'), 30_000);
  assert.is(lonely.code, 1);
  assert.match(
    lonely.stderr,
    /x0 channel: no session with bravo within 1000 ms \(are they running, reachable at the addresses in .*alpha\.config/,
  );
  const mixed = await run(onNode('--config', a, '--peer', '127.0.0.1:1'));
  assert.is(mixed.code, 2);
  assert.match(mixed.stderr, /--peer is for a channel node of its own, not --config/);
});

test.run();
