// Revocation everywhere, with real agents on x0-runtime: the operator revokes a node with `x0 ca revoke` and drops
// the signed list into ONE anchor's state directory; gossip spreads it; every other node shows the node revoked, ends
// its sealed sessions with it, and the revoked node's own section stops updating anywhere. Timed from the drop.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enrol, requireTools, startAgent, startUbusd, ubusCall, until, writeUci, x0, type Process } from './lib.js';

const dir = mkdtempSync(join(tmpdir(), 'x0-revoke-'));
const running: Process[] = [];
const names = ['r1', 'r2', 'r3', 'victim'];
const ports: Record<string, number> = {};
const sock = (name: string) => join(dir, `${name}.sock`);

test.before(async () => {
  requireTools();
  await enrol(dir, 'revoke.x0', names);
  for (const name of names) ports[name] = 20_000 + Math.floor(Math.random() * 20_000);
  const anchors = names
    .slice(0, 3)
    .map((a) => `\tlist anchor '${a}@127.0.0.1:${ports[a]}'\n`)
    .join('');
  for (const name of names) {
    running.push(startUbusd(sock(name)));
    running.push(
      startAgent(
        writeUci(
          join(dir, `${name}.uci`),
          `config agent 'main'
	option node_name '${name}'
	option role '${name === 'victim' ? 'node' : 'anchor'}'
	option state_dir '${dir}/${name}/state'
	option trust_domain 'revoke.x0'
	option listen '127.0.0.1:${ports[name]}'
	option ubus_socket '${sock(name)}'
${anchors}${name === 'victim' ? '' : `\tlist static_peer 'victim@127.0.0.1:${ports.victim}'\n`}`,
        ),
      ),
    );
  }
});
test.after(() => {
  if (process.env.X0_DEBUG)
    for (const p of running)
      process.stdout.write(
        p
          .output()
          .split('\n')
          .filter((l) => /revoc|gossip|link/.test(l))
          .join('\n') + '\n----\n',
      );
  for (const p of running) p.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

type MeshNode = { id: string; state: string; revoked: boolean };
const meshOf = async (name: string) => ((await ubusCall(sock(name), 'mesh'))?.nodes as MeshNode[] | undefined) ?? [];

test('a node revoked at the CA is cut off on every node within seconds of its list reaching one anchor', async () => {
  await until('every node sees all four up', 30_000, async () => {
    const views = await Promise.all(names.map(meshOf));
    return views.every((v) => v.filter((n) => n.state === 'up').length === 4);
  });
  await x0('ca', 'revoke', '--node', 'victim', '--dir', join(dir, 'ca'));
  const dropped = Date.now();
  copyFileSync(join(dir, 'ca/revocations.cbor'), join(dir, 'r1/state/revocations.cbor'));
  const cutOffMs = await until('r2 and r3 show the victim revoked and have no session with it', 15_000, async () => {
    const views = await Promise.all(['r2', 'r3'].map(meshOf));
    const revoked = views.every((v) => v.find((n) => n.id === 'victim')?.state === 'revoked');
    const peers = await Promise.all(
      ['r2', 'r3'].map(
        async (n) =>
          ((await ubusCall(sock(n), 'peers'))?.peers as
            | Array<{ id: string; state: string; channel: string }>
            | undefined) ?? [],
      ),
    );
    // Revoked in the document, and no sealed session with it any more.
    const cut = peers.every((p) => {
      const victim = p.find((x) => x.id === 'victim');
      return victim?.state === 'revoked' && victim.channel === 'none';
    });
    return revoked && cut ? Date.now() - dropped : null;
  });
  assert.ok(cutOffMs < 5_000, `cut off on every other node in ${cutOffMs} ms (goal < 5 s)`);
  const r2 = await ubusCall(sock('r2'), 'mesh');
  assert.equal(r2?.revocations, [{ id: 'victim' }]);
  // Its sessions are closed and refused: nothing from it reaches the others any more.
  await until("the victim's section stops changing on r3 (it is down there)", 20_000, async () => {
    const seen = (await meshOf('r3')).find((n) => n.id === 'victim');
    return seen?.state === 'revoked' ? true : null;
  });
  const events =
    ((await ubusCall(sock('r3'), 'events', { limit: 200 }))?.events as Array<{
      component: string;
      event: string;
      fields: Record<string, unknown>;
    }>) ?? [];
  assert.ok(
    events.some((e) => e.component === 'gossip' && e.event === 'revocations' && e.fields.revoked === 'victim'),
    JSON.stringify(events.slice(-5)),
  );
  const links = ((await ubusCall(sock('r3'), 'status'))?.components as Record<string, { state: string }>).link;
  assert.is(links?.state, 'up', 'the link to the other anchors stays up');
  process.stdout.write(`  revocation cut the node off on every other node in ${cutOffMs} ms\n`);
});

test.run();
