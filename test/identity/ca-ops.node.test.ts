// `x0 ca list|verify|backup|restore|rollover` and revoke's unknown-node check, run in-process on the Node platform.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { enrol, must, tempDir, x0 } from './cli-lib.js';

const mode = (path: string) => statSync(path).mode & 0o777;

test('ca list shows tokens issued and used, nodes, intermediates and revocations (text and --json)', async () => {
  const dir = tempDir('list');
  await enrol(dir, 'list.x0', ['alpha', 'bravo']);
  await must('ca', 'issue-token', '--node', 'charlie', '--ca-dir', `${dir}/ca`);
  await must('ca', 'intermediate', '--name', 'anchor-alpha', '--out', `${dir}/alpha/issuer`, '--ca-dir', `${dir}/ca`);
  await must('ca', 'revoke', '--node', 'bravo', '--ca-dir', `${dir}/ca`);
  const json = JSON.parse((await must('ca', 'list', '--json', '--ca-dir', `${dir}/ca`)).out);
  assert.equal(
    json.tokens.map((t: { node: string; state: string }) => `${t.node}:${t.state}`),
    ['alpha:used', 'bravo:used', 'charlie:unused'],
  );
  assert.equal(
    json.nodes.map((n: { node: string; state: string }) => `${n.node}:${n.state}`),
    ['alpha:valid', 'bravo:revoked'],
  );
  assert.equal(
    json.intermediates.map((i: { name: string }) => i.name),
    ['anchor-alpha'],
  );
  assert.equal(json.revocations, { version: 1, serials: [], nodes: ['spiffe://list.x0/node/bravo'] });
  assert.is(json.roots.length, 1);
  assert.is(json.rollover, 'none');
  const text = (await must('ca', 'list', '--ca-dir', `${dir}/ca`)).out;
  assert.match(text, /charlie\s+unused/);
  assert.match(text, /bravo\s+revoked/);
  const missing = await x0('ca', 'list', '--ca-dir', `${dir}/nowhere`);
  assert.is(missing.code, 1);
  assert.match(missing.err, /nowhere\/bundle\.cbor: file-missing/);
});

test('ca revoke refuses a node the CA never issued anything for, unless --force', async () => {
  const dir = tempDir('revoke');
  await enrol(dir, 'rev.x0', ['alpha']);
  const typo = await x0('ca', 'revoke', '--node', 'alhpa', '--ca-dir', `${dir}/ca`);
  assert.is(typo.code, 1);
  assert.match(typo.err, /node 'alhpa' is unknown to the CA/);
  assert.match(typo.err, /x0 ca list/);
  assert.not.ok(existsSync(`${dir}/ca/revocations.cbor`), 'nothing was signed');
  await must('ca', 'revoke', '--node', 'alhpa', '--force', '--ca-dir', `${dir}/ca`);
  await must('ca', 'revoke', '--node', 'alpha', '--ca-dir', `${dir}/ca`);
  const list = JSON.parse((await must('ca', 'list', '--json', '--ca-dir', `${dir}/ca`)).out);
  assert.is(list.revocations.version, 2);
});

test('ca verify: chain to the bundle, expiry and revocation, each with its exit code', async () => {
  const dir = tempDir('verify');
  await enrol(dir, 'ver.x0', ['alpha', 'bravo']);
  const ok = await x0('ca', 'verify', `${dir}/alpha/node.chain`, '--trust', `${dir}/alpha/bundle.cbor`, '--json');
  assert.is(ok.code, 0, ok.err);
  assert.is(JSON.parse(ok.out).valid, true);
  // Another mesh's bundle: the chain leads to no root of it.
  const other = tempDir('verify-other');
  await must('ca', 'init', '--trust-domain', 'ver.x0', '--ca-dir', `${other}/ca`);
  const foreign = await x0('ca', 'verify', `${dir}/alpha/node.chain`, '--trust', `${other}/ca/bundle.cbor`);
  assert.is(foreign.code, 1);
  assert.match(foreign.err, /unknown-issuer/);
  await must('ca', 'revoke', '--node', 'bravo', '--ca-dir', `${dir}/ca`);
  const revoked = await x0('ca', 'verify', `${dir}/bravo/node.chain`, '--ca-dir', `${dir}/ca`);
  assert.is(revoked.code, 3);
  assert.match(revoked.err, /cert-revoked/);
  // A one-second certificate is expired a second later.
  const token = (
    await must('ca', 'issue-token', '--node', 'short', '--cert-ttl', '1s', '--ca-dir', `${dir}/ca`)
  ).out.trim();
  await must('cert', 'request', '--token', token, '--state-dir', `${dir}/short`);
  await must(
    'ca',
    'sign',
    '--request',
    `${dir}/short/join-request.cbor`,
    '--out',
    `${dir}/short/node.chain`,
    '--ca-dir',
    `${dir}/ca`,
  );
  await new Promise((r) => setTimeout(r, 1100));
  const expired = await x0('ca', 'verify', `${dir}/short/node.chain`, '--ca-dir', `${dir}/ca`);
  assert.is(expired.code, 4, expired.err);
  assert.match(expired.err, /cert-expired/);
  assert.is((await x0('ca', 'verify', '--ca-dir', `${dir}/ca`)).code, 2);
  const missing = await x0('ca', 'verify', `${dir}/none.chain`, '--ca-dir', `${dir}/ca`);
  assert.is(missing.code, 1);
  assert.match(missing.err, /none\.chain: file-missing/);
});

test('ca backup and restore: one 0600 file, integrity checked, no overwrite without --force', async () => {
  const dir = tempDir('backup');
  await enrol(dir, 'bak.x0', ['alpha']);
  await must('ca', 'revoke', '--node', 'alpha', '--ca-dir', `${dir}/ca`);
  await must('ca', 'backup', '--out', `${dir}/ca.backup`, '--ca-dir', `${dir}/ca`);
  assert.is(mode(`${dir}/ca.backup`), 0o600);
  assert.is((await x0('ca', 'backup', '--out', `${dir}/ca.backup`, '--ca-dir', `${dir}/ca`)).code, 1, 'no overwrite');
  // Restored into an empty directory: the same CA (list is the same; it still signs).
  await must('ca', 'restore', `${dir}/ca.backup`, '--ca-dir', `${dir}/restored`);
  const before = JSON.parse((await must('ca', 'list', '--json', '--ca-dir', `${dir}/ca`)).out);
  const after = JSON.parse((await must('ca', 'list', '--json', '--ca-dir', `${dir}/restored`)).out);
  assert.equal(after, before);
  assert.is(mode(`${dir}/restored/ca.key`), 0o600);
  assert.equal(readFileSync(`${dir}/restored/ca.key`), readFileSync(`${dir}/ca/ca.key`));
  await must('ca', 'issue-token', '--node', 'bravo', '--ca-dir', `${dir}/restored`);
  // An existing CA is not replaced without --force; a damaged backup writes nothing.
  const exists = await x0('ca', 'restore', `${dir}/ca.backup`, '--ca-dir', `${dir}/ca`);
  assert.is(exists.code, 1);
  assert.match(exists.err, /--force/);
  const damaged = readFileSync(`${dir}/ca.backup`);
  const at = damaged.length - 100;
  damaged[at] = (damaged[at] as number) ^ 1;
  writeFileSync(`${dir}/damaged.backup`, damaged);
  const refused = await x0('ca', 'restore', `${dir}/damaged.backup`, '--ca-dir', `${dir}/fresh`, '--force');
  assert.is(refused.code, 1);
  assert.match(refused.err, /backup-(digest-mismatch|malformed); nothing was written/);
  assert.not.ok(existsSync(`${dir}/fresh`));
  // --force replaces a different CA entirely, files it did not have included.
  await must('ca', 'init', '--trust-domain', 'other.x0', '--ca-dir', `${dir}/other`);
  await must('ca', 'revoke', '--serial', '00'.repeat(16), '--ca-dir', `${dir}/other`);
  const noRevocations = tempDir('backup-plain');
  await must('ca', 'init', '--trust-domain', 'plain.x0', '--ca-dir', `${noRevocations}/ca`);
  await must('ca', 'backup', '--out', `${noRevocations}/plain.backup`, '--ca-dir', `${noRevocations}/ca`);
  await must('ca', 'restore', `${noRevocations}/plain.backup`, '--ca-dir', `${dir}/other`, '--force');
  assert.not.ok(existsSync(`${dir}/other/revocations.cbor`), 'the replaced CA left no list behind');
  assert.equal(readFileSync(`${dir}/other/ca.key`), readFileSync(`${noRevocations}/ca/ca.key`));
});

test('ca rollover: both roots trusted, re-issued under the new one, then the old one dropped', async () => {
  const dir = tempDir('rollover');
  await enrol(dir, 'roll.x0', ['alpha', 'bravo']);
  await must('ca', 'revoke', '--node', 'bravo', '--ca-dir', `${dir}/ca`);
  const oldKeyId = JSON.parse((await must('ca', 'list', '--json', '--ca-dir', `${dir}/ca`)).out).roots[0].keyId;
  assert.is((await x0('ca', 'rollover', 'activate', '--ca-dir', `${dir}/ca`)).code, 1, 'nothing to activate');
  await must('ca', 'rollover', 'start', '--ca-dir', `${dir}/ca`);
  let list = JSON.parse((await must('ca', 'list', '--json', '--ca-dir', `${dir}/ca`)).out);
  assert.is(list.rollover, 'started');
  assert.is(list.roots.length, 2);
  assert.is(list.roots.find((r: { signing: boolean }) => r.signing).keyId, oldKeyId, 'the old root still signs');
  // A node holding the two-root bundle accepts the old chain; after activate, new chains come from the new root.
  copyFileSync(`${dir}/ca/bundle.cbor`, `${dir}/alpha/bundle.cbor`);
  assert.is((await x0('ca', 'verify', `${dir}/alpha/node.chain`, '--trust', `${dir}/alpha/bundle.cbor`)).code, 0);
  assert.is((await x0('ca', 'rollover', 'start', '--ca-dir', `${dir}/ca`)).code, 1, 'one rollover at a time');
  await must('ca', 'rollover', 'activate', '--ca-dir', `${dir}/ca`);
  list = JSON.parse((await must('ca', 'list', '--json', '--ca-dir', `${dir}/ca`)).out);
  assert.is(list.rollover, 'activated');
  const newKeyId = list.roots.find((r: { signing: boolean }) => r.signing).keyId;
  assert.is.not(newKeyId, oldKeyId);
  assert.is(list.revocations.version, 2, 'the list is signed again by the new root');
  assert.equal(list.revocations.nodes, ['spiffe://roll.x0/node/bravo']);
  await enrol(dir, 'roll.x0', ['alpha2'], '24h', false);
  const reissued = JSON.parse(
    (await must('ca', 'verify', `${dir}/alpha2/node.chain`, '--trust', `${dir}/alpha/bundle.cbor`, '--json')).out,
  );
  assert.is(reissued.root, newKeyId);
  // Finishing warns about certificates still under the old root; then the old chain no longer verifies.
  const finished = await must('ca', 'rollover', 'finish', '--ca-dir', `${dir}/ca`);
  assert.match(finished.out, /not re-issued.*alpha/);
  assert.not.ok(existsSync(`${dir}/ca/previous/ca.key`), 'the old root key is gone');
  list = JSON.parse((await must('ca', 'list', '--json', '--ca-dir', `${dir}/ca`)).out);
  assert.equal(
    list.roots.map((r: { keyId: string }) => r.keyId),
    [newKeyId],
  );
  const old = await x0('ca', 'verify', `${dir}/alpha/node.chain`, '--ca-dir', `${dir}/ca`);
  assert.is(old.code, 1);
  assert.match(old.err, /unknown-issuer/);
  assert.is((await x0('ca', 'verify', `${dir}/alpha2/node.chain`, '--ca-dir', `${dir}/ca`)).code, 0);
  await must('ca', 'revoke', '--node', 'alpha', '--ca-dir', `${dir}/ca`);
});

test.run();
