// Automatic renewal between real processes: node b (x0-runtime, QuickJS-ng, native crypto) holds a
// 6-second certificate and renews it at half its lifetime from node a (Node), which serves renewals with
// the CA; b stores the new key (0600) and chain, re-handshakes, and the session outlives the old
// certificate. Then `x0 cert show` finds the new certificate valid on disk.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { freePort, root, run, runtimePath } from '../lib/processes.js';
import { enrol, must, tempDir, x0 } from './cli-lib.js';

const nodeCmd = [process.execPath, '--import', 'tsx', `${root}src/entry/node.ts`];
const qjsCmd = [runtimePath, `${root}dist/x0tta6bl4.js`];

test('a node on x0-runtime renews its certificate over the channel and keeps its session past the old expiry', async () => {
  if (!existsSync(runtimePath) || !existsSync(qjsCmd[1]!))
    throw new Error('x0-runtime or the bundle is missing: run bash scripts/setup.sh');
  const dir = tempDir('renew');
  await enrol(dir, 'mesh.test', ['a']);
  const [pa, pb] = await Promise.all([freePort(), freePort()]);
  await enrol(dir, 'mesh.test', ['b'], '6s', false);
  const before = JSON.parse((await must('cert', 'show', '--dir', `${dir}/b`, '--json')).out).chain[0];
  const keyBefore = readFileSync(`${dir}/b/node.key`);
  const a = run(
    [
      ...nodeCmd,
      'channel',
      '--dir',
      `${dir}/a`,
      '--listen',
      `127.0.0.1:${pa}`,
      '--registrar',
      `${dir}/ca`,
      '--expect',
      '1',
      '--timeout-ms',
      '15000',
      '--linger-ms',
      '9000',
    ],
    30_000,
  );
  await new Promise((r) => setTimeout(r, 500));
  const b = run(
    [
      ...qjsCmd,
      'channel',
      '--dir',
      `${dir}/b`,
      '--listen',
      `127.0.0.1:${pb}`,
      '--peer',
      `127.0.0.1:${pa}`,
      '--renew-from',
      `127.0.0.1:${pa}`,
      '--send',
      'hello from b',
      '--expect',
      '0',
      '--timeout-ms',
      '15000',
      '--linger-ms',
      '9000',
    ],
    30_000,
  );
  const [ra, rb] = await Promise.all([a, b]);
  assert.is(rb.code, 0, rb.stdout + rb.stderr);
  assert.match(rb.stdout, /renewed spiffe:\/\/mesh\.test\/node\/b serial [0-9a-f]{32} until/);
  assert.is(ra.code, 0, ra.stdout + ra.stderr);
  assert.match(ra.stdout, /renewal-issued=1/);
  assert.ok(
    (ra.stdout.match(/established \S+ spiffe:\/\/mesh\.test\/node\/b responder/g) ?? []).length >= 2,
    'b re-handshook with its new certificate',
  );
  assert.not.match(ra.stdout, /closed \S+ spiffe:\/\/mesh\.test\/node\/b cert-expired/);
  assert.ok(Date.now() > before.notAfterMs, 'the run outlived the old certificate');
  const after = await x0('cert', 'show', '--dir', `${dir}/b`, '--json');
  const shown = JSON.parse(after.out);
  assert.is(shown.status, 'valid');
  assert.is(shown.chain[0].subject, before.subject);
  assert.not.equal(shown.chain[0].serial, before.serial);
  assert.is(statSync(`${dir}/b/node.key`).mode & 0o777, 0o600);
  assert.not.equal(readFileSync(`${dir}/b/node.key`), keyBefore);
  assert.not.ok(existsSync(`${dir}/b/node.key.next`));
});

test.run();
