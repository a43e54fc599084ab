// createQjsPlatform() on x0-runtime: a bundled program (test/native/fixtures/platform-peer.ts) uses the
// adapter's UDP and TCP between two runtime processes, a Unix stream, files and exec.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bundleFixture, runAsync, startServer } from './lib.js';

const lines = (stdout: string) => stdout.trim().split('\n');

test('UDP through the adapter between two x0-runtime processes', async () => {
  const bundle = await bundleFixture('platform-peer');
  const server = await startServer([bundle, 'udp-server', '3']);
  const client = await runAsync([bundle, 'udp-client', String(server.port), '3']);
  assert.is(client.status, 0, client.stdout + client.stderr);
  const out = lines(client.stdout);
  assert.equal(
    out.filter((l) => l.startsWith('send')),
    ['send null', 'send null', 'send null'],
  );
  assert.equal(out.filter((l) => l.startsWith('echo')).sort(), [
    'echo:m0 from-server=true',
    'echo:m1 from-server=true',
    'echo:m2 from-server=true',
  ]);
  assert.is((await server.done).status, 0);
});

test('TCP through the adapter: 2 MB echoed intact, orderly close on both ends, ECONNREFUSED', async () => {
  const bundle = await bundleFixture('platform-peer');
  const server = await startServer([bundle, 'tcp-server']);
  const client = await runAsync([bundle, 'tcp-client', String(server.port), String(2_000_000)]);
  assert.is(client.status, 0, client.stdout + client.stderr);
  const out = lines(client.stdout);
  assert.ok(out.includes('echoed 2000000 equal true'), client.stdout);
  assert.ok(out.includes('port 1 ECONNREFUSED'), client.stdout);
  assert.ok(out.includes('client closed null'), client.stdout);
  const finished = await server.done;
  assert.is(finished.status, 0, finished.stderr);
  assert.match(finished.stdout, 'server saw close null');
});

test('a Unix stream through the adapter; the listener removes its socket file on close', async () => {
  const bundle = await bundleFixture('platform-peer');
  const dir = mkdtempSync(join(tmpdir(), 'x0-unix-'));
  try {
    const result = await runAsync([bundle, 'unix', dir]);
    assert.is(result.status, 0, result.stderr);
    assert.equal(lines(result.stdout), [
      'unix local true',
      'unix server got ping from unix',
      'unix client got pong',
      'unix client closed null',
      'socket file removed true',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('files: mkdirp, atomic write (mode exact), append, read, list, remove, missing paths', async () => {
  const bundle = await bundleFixture('platform-peer');
  const dir = mkdtempSync(join(tmpdir(), 'x0-files-'));
  try {
    const result = await runAsync([bundle, 'files', dir]);
    assert.is(result.status, 0, result.stderr);
    assert.equal(lines(result.stdout), [
      'text term 2 ✓',
      'bytes 1,2,3',
      'log ab',
      'list ["key","log","raft"]',
      'list raft ["term"]',
      'missing null null [] false',
      'after remove false true',
      'write into a missing dir ENOENT',
    ]);
    assert.is(statSync(join(dir, 'state/key')).mode & 0o777, 0o600);
    assert.is(statSync(join(dir, 'state/raft/term')).mode & 0o777, 0o644);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('exec: /bin/echo, stdin through a pipe, exit codes, output cap, timeout kill, missing program, a starved loop, a grandchild holding the pipe', async () => {
  const bundle = await bundleFixture('platform-peer');
  const result = await runAsync([bundle, 'exec']);
  assert.is(result.status, 0, result.stderr);
  assert.equal(lines(result.stdout), [
    'echo 0 "hello from echo\\n" false false',
    'cat 0 100000',
    'sh 3 "oops\\n"',
    'capped 100 true',
    'slow null true',
    'missing 127',
    'starved 0 30000 false',
    'grandchild 0 "hi\\n" true',
  ]);
});

test.run();
