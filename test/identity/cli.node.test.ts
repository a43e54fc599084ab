import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { statSync, readFileSync, copyFileSync, writeFileSync } from 'node:fs';
import { enrol, tempDir, x0 } from './cli-lib.js';

const mode = (path: string) => statSync(path).mode & 0o777;

test('every command has --help', async () => {
  for (const args of [
    ['ca', '--help'],
    ['ca', 'init', '--help'],
    ['cert', '--help'],
    ['cert', 'show', '--help'],
    ['channel', '--help'],
  ]) {
    const ran = await x0(...args);
    assert.is(ran.code, 0, args.join(' '));
    assert.match(ran.out, /usage: x0/);
  }
  assert.is((await x0('ca', 'frobnicate')).code, 2);
  assert.is((await x0('ca', 'init', '--trust-domain', 'Bad_Domain!')).code, 2);
  const badTransport = await x0('channel', '--dir', '/nonexistent', '--listen', '0', '--transport', 'quic');
  assert.is(badTransport.code, 2);
  assert.match(badTransport.err, /--transport is udp or tcp/);
  assert.is((await x0('channel', '--dir', '/nonexistent', '--listen', '0', '--renew-from', 'x:y')).code, 2);
  assert.match((await x0('channel', '--help')).out, /--renew-from HOST:PORT/);
});

test('ca init writes the key 0600 and refuses to overwrite an existing CA without --force', async () => {
  const dir = tempDir('ca');
  const first = await x0('ca', 'init', '--trust-domain', 'mesh.test', '--dir', dir);
  assert.is(first.code, 0, first.err);
  assert.is(mode(`${dir}/ca.key`), 0o600);
  const cert = readFileSync(`${dir}/ca.cert`);
  const again = await x0('ca', 'init', '--trust-domain', 'mesh.test', '--dir', dir);
  assert.is(again.code, 1);
  assert.match(again.err, /already exists/);
  assert.equal(readFileSync(`${dir}/ca.cert`), cert);
  assert.is((await x0('ca', 'init', '--trust-domain', 'mesh.test', '--dir', dir, '--force')).code, 0);
  assert.not.equal(readFileSync(`${dir}/ca.cert`), cert);
});

test('join by token end to end: node keys 0600, certificate issued, token cannot be used twice', async () => {
  const dir = tempDir('join');
  await enrol(dir, 'mesh.test', ['r1']);
  assert.is(mode(`${dir}/r1/node.key`), 0o600);
  assert.is(mode(`${dir}/ca/used-tokens.cbor`), 0o600);
  const again = await x0(
    'ca',
    'sign',
    '--request',
    `${dir}/r1/join-request.cbor`,
    '--out',
    `${dir}/r1/again.chain`,
    '--dir',
    `${dir}/ca`,
  );
  assert.is(again.code, 1);
  assert.match(again.err, /token-used/);
  const shown = await x0('cert', 'show', '--dir', `${dir}/r1`, '--json');
  assert.is(shown.code, 0, shown.err);
  const json = JSON.parse(shown.out);
  assert.is(json.chain[0].subject, 'spiffe://mesh.test/node/r1');
  assert.is(json.status, 'valid');
  const human = await x0('cert', 'show', '--dir', `${dir}/r1`);
  assert.match(human.out, /node certificate spiffe:\/\/mesh.test\/node\/r1/);
  assert.match(human.out, /chain: valid/);
  const bad = await x0('cert', 'request', '--token', 'x0jt1.AAAA', '--dir', `${dir}/r2`);
  assert.is(bad.code, 1);
  assert.match(bad.err, /token-malformed/);
});

test('ca revoke signs lists whose version only moves forward', async () => {
  const dir = tempDir('revoke');
  await enrol(dir, 'mesh.test', ['r1']);
  const one = await x0('ca', 'revoke', '--node', 'r1', '--dir', `${dir}/ca`);
  assert.is(one.code, 0, one.err);
  assert.match(one.out, /version 1: 0 serials, 1 nodes/);
  const serial = JSON.parse((await x0('cert', 'show', '--dir', `${dir}/r1`, '--json')).out).chain[0].serial;
  const two = await x0('ca', 'revoke', '--serial', serial, '--dir', `${dir}/ca`);
  assert.match(two.out, /version 2: 1 serials, 1 nodes/);
  assert.is((await x0('ca', 'revoke', '--serial', 'zz', '--dir', `${dir}/ca`)).code, 2);
  copyFileSync(`${dir}/ca/revocations.cbor`, `${dir}/r1/revocations.cbor`);
  // A damaged list is refused, never replaced by a fresh version 1 that would un-revoke r1.
  const list = readFileSync(`${dir}/ca/revocations.cbor`);
  list[list.length - 1]! ^= 1;
  writeFileSync(`${dir}/ca/revocations.cbor`, list);
  const damaged = await x0('ca', 'revoke', '--node', 'r2', '--force', '--dir', `${dir}/ca`);
  assert.is(damaged.code, 1);
  assert.match(damaged.err, /revocation-bad-signature/);
  assert.equal(readFileSync(`${dir}/ca/revocations.cbor`), list);
});

test.run();
