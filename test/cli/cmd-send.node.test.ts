// `x0 cmd send` fails clearly where it used to succeed silently (issue 21 item 6): a node the broker has never
// heard of (no retained status) is an error naming the node, the mesh and what to check, and nothing is
// published; a node that ran its uplink is found and the command is sent. Real processes, the embedded broker.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { freePort, run } from '../lib/processes.js';
import { makeMesh, start, testDir, waitFor, x0Node } from '../mqtt/lib.js';

test('an unknown node is an error and nothing is sent; a known one gets the command', async () => {
  const dir = testDir('cli-cmd-send');
  const mesh = makeMesh(dir, 'mesh.test', ['alpha']);
  const port = await freePort();
  const broker = ['--broker', `127.0.0.1:${port}`];
  const watch = start(
    x0Node('watch', '--embedded-broker', ...broker, '--trust', mesh.bundlePath, '--json', '--duration', '60s'),
  );
  try {
    await waitFor(watch, /subscribed to x0\/mesh\.test\/#/, 45_000);
    assert.is((await run(x0Node('cmd', 'keygen', '--out', `${dir}/operator.key`))).code, 0);
    const send = (node: string) =>
      run(
        x0Node(
          'cmd',
          'send',
          '--key',
          `${dir}/operator.key`,
          '--mesh',
          'mesh.test',
          '--node',
          node,
          '--name',
          'ping',
          ...broker,
        ),
        30_000,
      );
    const ghost = await send('ghost');
    assert.is(ghost.code, 1, ghost.stdout + ghost.stderr);
    assert.match(
      ghost.stderr,
      /x0 cmd send: no node 'ghost' in mesh 'mesh\.test' at mqtt:\/\/127\.0\.0\.1:\d+ \(no retained status on x0\/mesh\.test\/ghost\/status\); check --node and --mesh .*nothing was sent/,
    );
    // The node's uplink from the agent's UCI file (the same file 'x0 agent' reads), as 'x0 uplink --config'.
    const config = `${dir}/alpha.config`;
    writeFileSync(
      config,
      `config agent 'main'\n\toption role 'node'\n\toption node_name 'alpha'\n\toption trust_domain 'mesh.test'\n\toption state_dir '${mesh.nodeDir('alpha')}'\nconfig uplink 'uplink'\n\toption enabled '1'\n\toption broker '127.0.0.1:${port}'\n`,
    );
    const uplink = await run(
      x0Node('uplink', '--config', config, '--simulate', '1', '--interval', '200ms', '--count', '1'),
      30_000,
    );
    assert.is(uplink.code, 0, uplink.stdout + uplink.stderr);
    const known = await send('alpha');
    assert.is(known.code, 0, known.stderr);
    assert.match(known.stdout, /sent ping to x0\/mesh\.test\/alpha\/cmd\/ping/);
  } finally {
    watch.child.kill('SIGTERM');
    await watch.done;
  }
  assert.not.match(watch.stdout, /ghost\/cmd/, 'nothing was published for the unknown node');
});

test.run();
