// Peers from batman-adv, with real agents on x0-runtime: two nodes whose UCI files name only the anchor (no
// static_peer) find each other through batman-adv and open a sealed link. batctl is a replay of tables recorded in
// the QEMU lab's ring of 5 (test/batman/recorded.ts: node 1 and node 5, which are not neighbours' neighbours' of
// anything else here); each agent announces the originator MAC its own table's header names, and the other finds it
// among its originators. No file names a static peer: the anchor's batman-adv is not up (its batctl answers as
// recorded when bat0 is absent), and it lists each node once the node's authenticated session reaches it (inbound).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  absentExitCode,
  absentStderr,
  ring5Node1Neighbours,
  ring5Node1Originators,
  ring5Node5Neighbours,
  ring5Node5Originators,
} from '../batman/recorded.js';
import { enrol, requireTools, startAgent, startUbusd, ubusCall, until, writeUci, type Process } from './lib.js';

const dir = mkdtempSync(join(tmpdir(), 'x0-discovery-'));
const running: Process[] = [];
const names = ['anchor', 'node-1', 'node-5'];
const ports: Record<string, number> = {};
const sock = (name: string) => join(dir, `${name}.sock`);
const tables: Record<string, { originators: string; neighbours: string } | null> = {
  anchor: null,
  'node-1': { originators: ring5Node1Originators, neighbours: ring5Node1Neighbours },
  'node-5': { originators: ring5Node5Originators, neighbours: ring5Node5Neighbours },
};

/** A batctl that answers `meshif bat0 originators` and `meshif bat0 neighbors -H` with the recorded tables. */
function fakeBatctl(name: string): string {
  const t = tables[name] ?? { originators: '', neighbours: '' };
  writeFileSync(join(dir, `${name}.originators`), t.originators);
  writeFileSync(join(dir, `${name}.neighbours`), t.neighbours);
  const path = join(dir, `${name}.batctl`);
  const absent = `echo '${absentStderr.trim()}' >&2; exit ${absentExitCode}`;
  writeFileSync(
    path,
    `#!/bin/sh
case "$*" in
  ${tables[name] === null ? '*)' : '"meshif bat0 originators")'} ${tables[name] === null ? absent : `exec cat '${dir}/${name}.originators'`} ;;
  "meshif bat0 neighbors -H") exec cat '${dir}/${name}.neighbours' ;;
  *) ${absent} ;;
esac
`,
  );
  chmodSync(path, 0o755);
  return path;
}

test.before(async () => {
  requireTools();
  await enrol(dir, 'discovery.x0', names);
  for (const name of names) ports[name] = 20_000 + Math.floor(Math.random() * 20_000);
  const anchor = `\tlist anchor 'anchor@127.0.0.1:${ports.anchor}'\n`;
  for (const name of names) {
    const batman = `\toption mesh_interface 'bat0'\n\toption batctl '${fakeBatctl(name)}'\n`;
    running.push(startUbusd(sock(name)));
    running.push(
      startAgent(
        writeUci(
          join(dir, `${name}.uci`),
          `config agent 'main'
	option node_name '${name}'
	option role '${name === 'anchor' ? 'anchor' : 'node'}'
	option state_dir '${dir}/${name}/state'
	option trust_domain 'discovery.x0'
	option listen '127.0.0.1:${ports[name]}'
	option ubus_socket '${sock(name)}'
${anchor}${batman}`,
        ),
      ),
    );
  }
});
test.after(() => {
  if (process.env.X0_DEBUG) for (const p of running) process.stdout.write(`${p.output()}\n----\n`);
  for (const p of running) p.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

type Peer = { id: string; channel: string; source: string; state: string };
const peersOf = async (name: string) => ((await ubusCall(sock(name), 'peers'))?.peers as Peer[] | undefined) ?? [];

test('two nodes configured with only the anchor find each other through batman-adv and open a sealed link', async () => {
  const found = await until(
    'node-1 and node-5 hold a session with each other, found through batman-adv',
    30_000,
    async () => {
      const [a, b] = await Promise.all([peersOf('node-1'), peersOf('node-5')]);
      const ab = a.find((p) => p.id === 'node-5');
      const ba = b.find((p) => p.id === 'node-1');
      return ab?.channel === 'established' && ba?.channel === 'established' && ab.state === 'up' && ba.state === 'up'
        ? { ab, ba }
        : null;
    },
  );
  assert.is(found.ab.source, 'batman');
  assert.is(found.ba.source, 'batman');
  assert.is((await peersOf('node-1')).find((p) => p.id === 'anchor')?.source, 'config');
  // The anchor has no entry for either node and no batman-adv: it took both from their authenticated sessions.
  const atAnchor = await until('the anchor lists both nodes as inbound peers with a session', 20_000, async () => {
    const peers = await peersOf('anchor');
    const inbound = peers.filter((p) => p.source === 'inbound' && p.channel === 'established').map((p) => p.id);
    return inbound.length === 2 ? inbound.sort() : null;
  });
  assert.equal(atAnchor, ['node-1', 'node-5']);
  // Each announced what batman-adv told it and where its sealed link listens.
  const mesh = (await ubusCall(sock('anchor'), 'mesh'))?.nodes as Array<{ id: string; state: string }>;
  assert.equal(
    mesh
      .filter((n) => n.state === 'up')
      .map((n) => n.id)
      .sort(),
    names,
  );
  const events =
    ((await ubusCall(sock('node-1'), 'events', { limit: 200 }))?.events as Array<{
      component: string;
      event: string;
      fields: Record<string, unknown>;
    }>) ?? [];
  const discovered = events.find((e) => e.component === 'gossip' && e.event === 'peers-discovered');
  assert.ok(String(discovered?.fields.batman).includes('node-5'), JSON.stringify(discovered));
});

test.run();
