// `x0 raft serve` without --plain is the agent's Raft component alone (src/agent/single.ts): three anchors with
// certificates of one mesh, on x0-runtime and on Node, elect a leader over the sealed link, from flags or from the
// agent's UCI file; a node without a certificate is refused in one line that names the file and what to do.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeMesh } from '../mqtt/lib.js';
import { bundlePath, freePort, root, run, runtimePath } from '../lib/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'x0-raft-sealed-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const onNode = (...args: string[]) => ['node', '--import', 'tsx', `${root}src/entry/node.ts`, 'raft', ...args];
const onRuntime = (...args: string[]) => [runtimePath, bundlePath, 'raft', ...args];

test.before(() => {
  assert.ok(existsSync(runtimePath), `${runtimePath} is missing: run 'bash scripts/setup.sh'`);
});

test('three anchors elect one leader over the sealed link (x0-runtime and Node; flags and a UCI file)', async () => {
  const mesh = makeMesh(dir, 'mesh.test', ['alpha', 'bravo', 'charlie']);
  // Each anchor uses PORT (the sealed link) and names PORT+1 for Raft: ports 10 apart.
  const base = await freePort();
  const port = { alpha: base, bravo: base + 10, charlie: base + 20 };
  const anchors = Object.entries(port).map(([name, p]) => `${name}@127.0.0.1:${p}`);
  const config = join(dir, 'charlie.config');
  writeFileSync(
    config,
    [
      "config agent 'main'",
      "\toption role 'anchor'",
      "\toption node_name 'charlie'",
      "\toption trust_domain 'mesh.test'",
      `\toption state_dir '${mesh.nodeDir('charlie')}'`,
      `\toption listen '127.0.0.1:${port.charlie}'`,
      ...anchors.map((a) => `\tlist anchor '${a}'`),
      '',
    ].join('\n'),
  );
  const common = ['--anchor', anchors.join(','), '--run-for', '6s'];
  const [a, b, c] = await Promise.all([
    run(
      onRuntime('serve', '--listen', `127.0.0.1:${port.alpha}`, '--state-dir', mesh.nodeDir('alpha'), ...common),
      30_000,
    ),
    run(
      onNode('serve', '--listen', `127.0.0.1:${port.bravo}`, '--state-dir', mesh.nodeDir('bravo'), ...common),
      30_000,
    ),
    run(onNode('serve', '--config', config, '--run-for', '6s'), 30_000),
  ]);
  for (const [name, r] of [
    ['alpha', a],
    ['bravo', b],
    ['charlie', c],
  ] as const) {
    assert.is(r.code, 0, `${name}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`raft: ${name} serving over the sealed link`));
    assert.match(r.stderr, /link started/);
  }
  const leaders = [a, b, c].flatMap((r) => [...r.stderr.matchAll(/raft role role=leader term=(\d+) leader=(\w+)/g)]);
  assert.ok(leaders.length >= 1, `a leader was elected:\n${a.stderr}\n${b.stderr}\n${c.stderr}`);
  const followers = [a, b, c].flatMap((r) => [...r.stderr.matchAll(/role=follower term=\d+ leader=(\w+)/g)]);
  assert.ok(
    followers.some((m) => m[1] === leaders[0]?.[2]),
    'a follower names the leader: they talked over the sealed link',
  );
});

test('without a certificate: one line naming the missing file and what to do, exit 1', async () => {
  const empty = mkdtempSync(join(dir, 'empty-'));
  const r = await run(
    onRuntime(
      'serve',
      '--name',
      'alpha',
      '--listen',
      '127.0.0.1:1',
      '--anchor',
      'alpha@127.0.0.1:1',
      '--state-dir',
      empty,
    ),
  );
  assert.is(r.code, 1, r.stdout + r.stderr);
  const last = r.stderr.trim().split('\n').pop() ?? '';
  assert.match(last, /^x0 raft serve: cannot start \(identity: not-enrolled\): /);
  assert.match(last, new RegExp(`${empty}/node\\.chain is missing.*x0 cert request.*x0 raft serve --plain`));
});

test('bad usage names the flag: a --plain flag without --plain, an anchor list without this node', async () => {
  const plainFlag = await run(onNode('serve', '--id', '1', '--state-dir', dir));
  assert.is(plainFlag.code, 2);
  assert.match(plainFlag.stderr, /--id is for 'serve --plain'/);
  const notAmong = await run(
    onNode('serve', '--name', 'alpha', '--listen', '127.0.0.1:7', '--anchor', 'bravo@127.0.0.1:9', '--state-dir', dir),
  );
  assert.is(notAmong.code, 2);
  assert.match(notAmong.stderr, /--anchor \(option 'anchor': does not name this node 'alpha'/);
});

test.run();
