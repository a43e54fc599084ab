// Enrolment over the network with real agents on x0-runtime: three anchors holding intermediates made by
// `x0 ca intermediate`, the used-token set in their Raft. The same token redeemed at two anchors at the same moment
// (two different keys: a stolen token) gives exactly one certificate; the node that owns a request is answered
// again when it retries; and a node that has only a join token in its UCI file enrols and runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptEnrolment, decodeEnrolAnswer, encodeEnrolRequest } from '../../src/core/identity/enrol.js';
import { createJoinRequest, parseJoinToken } from '../../src/core/identity/token.js';
import { requestEnrolment } from '../../src/identity/enrol.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { freePort } from '../lib/processes.js';
import { enrol, requireTools, startAgent, startUbusd, ubusCall, until, writeUci, x0, type Process } from './lib.js';

const dir = mkdtempSync(join(tmpdir(), 'x0-enrol-'));
const platform = createNodePlatform({ argv: [] });
const running: Process[] = [];
const anchors = ['a1', 'a2', 'a3'];
const ports: Record<string, number> = {};

test.before(async () => {
  requireTools();
  await enrol(dir, 'enrol.x0', anchors);
  for (const name of anchors) {
    await x0(
      'ca',
      'intermediate',
      '--name',
      `anchor-${name}`,
      '--out',
      join(dir, name, 'state/issuer'),
      '--dir',
      join(dir, 'ca'),
    );
    ports[name] = 20_000 + Math.floor(Math.random() * 20_000);
  }
  const list = anchors.map((a) => `\tlist anchor '${a}@127.0.0.1:${ports[a]}'\n`).join('');
  running.push(startUbusd(join(dir, 'a1.sock')));
  for (const name of anchors) {
    running.push(
      startAgent(
        writeUci(
          join(dir, `${name}.uci`),
          `config agent 'main'
	option node_name '${name}'
	option role 'anchor'
	option state_dir '${dir}/${name}/state'
	option trust_domain 'enrol.x0'
	option listen '127.0.0.1:${ports[name]}'
	option ubus_socket '${dir}/${name}.sock'
${list}`,
        ),
      ),
    );
  }
});
test.after(() => {
  for (const p of running) p.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const enrolAt = (anchor: string) => ({ host: '127.0.0.1', port: (ports[anchor] as number) + 2 });

test('one token redeemed at two anchors at the same moment with two keys: exactly one certificate', async () => {
  const token = parseJoinToken(
    platform.crypto,
    await x0('ca', 'issue-token', '--node', 'stolen', '--dir', join(dir, 'ca')),
  );
  assert.ok(token.ok);
  const keys = [0, 1].map(() => ({ sign: platform.crypto.signKeyPair(), box: platform.crypto.boxKeyPair() }));
  const requests = keys.map((k) => encodeEnrolRequest(createJoinRequest(platform.crypto, token.value, k, Date.now())));
  // The anchors answer once their Raft has a leader: retry until the first answer is not a refusal for lack of one.
  const answers = await until('both anchors answered', 30_000, async () => {
    const both = await Promise.all([
      requestEnrolment(platform, enrolAt('a1'), requests[0] as Uint8Array),
      requestEnrolment(platform, enrolAt('a2'), requests[1] as Uint8Array),
    ]);
    const decoded = both.map((r) => (r.ok ? decodeEnrolAnswer(platform.crypto, r.value) : null));
    if (decoded.some((d) => d === null || !d.ok)) return null;
    const values = decoded.map((d) => (d !== null && d.ok ? d.value : null));
    return values.some((v) => v !== null && !v.ok && v.reason === 'no-quorum') ? null : values;
  });
  const issued = answers.filter((a) => a?.ok === true);
  const refused = answers.filter((a) => a?.ok === false);
  assert.is(issued.length, 1, JSON.stringify(answers.map((a) => (a?.ok ? 'issued' : a?.reason))));
  assert.equal(
    refused.map((a) => (a?.ok === false ? a.reason : null)),
    ['token-used'],
  );
  // The winner retrying the same request (its answer lost) is answered again; the loser stays refused.
  const winner = answers.indexOf(issued[0] ?? null);
  const again = await requestEnrolment(platform, enrolAt('a3'), requests[winner] as Uint8Array);
  assert.ok(again.ok);
  const decoded = decodeEnrolAnswer(platform.crypto, again.value);
  assert.ok(decoded.ok && decoded.value.ok, 'the same key is answered again at another anchor');
  assert.ok(
    acceptEnrolment(
      platform.crypto,
      decoded.value,
      { token: token.value, signPublicKey: (keys[winner] as { sign: { publicKey: Uint8Array } }).sign.publicKey },
      Date.now(),
    ).ok,
  );
  const loser = await requestEnrolment(platform, enrolAt('a3'), requests[1 - winner] as Uint8Array);
  assert.ok(loser.ok);
  assert.equal(decodeEnrolAnswer(platform.crypto, loser.value), {
    ok: true,
    value: { ok: false, reason: 'token-used' },
  });
});

test('four nodes, each with its own token, enrolling at one anchor at the same moment: four certificates', async () => {
  // The registrar's compare-and-sets share one Raft client id and now go one after the other (two in flight made
  // the older one kv-stale-seq, read as token-used; pinned by registrar.node.test.ts): concurrent nodes all enrol.
  const names = ['c1', 'c2', 'c3', 'c4'];
  const requests: Uint8Array[] = [];
  for (const name of names) {
    // One after the other: the CA directory takes one writer at a time.
    const token = parseJoinToken(
      platform.crypto,
      await x0('ca', 'issue-token', '--node', name, '--dir', join(dir, 'ca')),
    );
    assert.ok(token.ok);
    const keys = { sign: platform.crypto.signKeyPair(), box: platform.crypto.boxKeyPair() };
    requests.push(encodeEnrolRequest(createJoinRequest(platform.crypto, token.value, keys, Date.now())));
  }
  const answers = await until('all four answered, none for lack of a quorum', 30_000, async () => {
    const all = await Promise.all(requests.map((r) => requestEnrolment(platform, enrolAt('a2'), r)));
    const decoded = all.map((r) => (r.ok ? decodeEnrolAnswer(platform.crypto, r.value) : null));
    const values = decoded.map((d) => (d !== null && d.ok ? d.value : null));
    return values.some((v) => v === null || (!v.ok && v.reason === 'no-quorum')) ? null : values;
  });
  assert.equal(
    answers.map((a) => (a?.ok === true ? 'issued' : a?.reason)),
    ['issued', 'issued', 'issued', 'issued'],
  );
});

test('an anchor issues a join token over ubus; a node with only that token in its UCI file enrols and runs; the token is then spent', async () => {
  const issued = await until('a1 answers token', 20_000, async () => {
    const answer = await ubusCall(join(dir, 'a1.sock'), 'token', { node: 'newbie', ttl_s: 600 });
    return answer?.ok === true ? answer : null;
  });
  const token = String(issued.token);
  assert.match(token, /^x0jt1\./);
  assert.ok(Math.abs(Number(issued.expires_at) - (Date.now() / 1000 + 600)) < 30);
  assert.equal(await ubusCall(join(dir, 'a1.sock'), 'token', { node: 'bad name!' }), {
    ok: false,
    reason: 'bad-node-name',
  });
  assert.equal(
    (await ubusCall(join(dir, 'a1.sock'), 'revoke', { node: 'newbie' }))?.reason,
    'revoke-needs-the-root-ca',
  );
  const socket = join(dir, 'newbie.sock');
  const ubusd = startUbusd(socket);
  running.push(ubusd);
  const config = (name: string, stateDir: string) => `config agent 'main'
	option node_name '${name}'
	option role 'node'
	option state_dir '${stateDir}'
	option trust_domain 'enrol.x0'
	option join_token '${token}'
	option listen '127.0.0.1:${ports.newbie ?? 0}'
	option ubus_socket '${socket}'
${anchors.map((a) => `\tlist anchor '${a}@127.0.0.1:${ports[a]}'\n`).join('')}`;
  ports.newbie = await freePort();
  const node = startAgent(writeUci(join(dir, 'newbie.uci'), config('newbie', join(dir, 'newbie/state'))));
  running.push(node);
  const status = await until('newbie enrolled and running', 30_000, async () => {
    const s = await ubusCall(socket, 'status');
    return (s?.components as Record<string, { state: string }> | undefined)?.identity?.state === 'up' ? s : null;
  });
  assert.is(status.spiffe_id, 'spiffe://enrol.x0/node/newbie');
  assert.match(node.output(), / info identity enrolled anchor=a1 /, "a token of a1's intermediate is redeemed at a1");
  node.child.kill('SIGTERM');
  await node.exited;
  // A second router configured with the same (spent) token is told so, with what to do.
  const copy = startAgent(
    writeUci(join(dir, 'copy.uci'), config('newbie', join(dir, 'copy/state')).replace(socket, join(dir, 'copy.sock'))),
  );
  running.push(copy);
  await until('the copy is refused', 30_000, async () =>
    / error identity enrolment-refused reason=token-used .*next="the token cannot be used again: ask the operator for a new one/.test(
      copy.output(),
    ),
  );
  copy.child.kill('SIGTERM');
});

test.run();
