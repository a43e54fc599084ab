// x0:net between two x0-runtime processes on 127.0.0.1 (UDP and TCP echo), a Unix-domain round trip, and
// the error conventions (errno names as values, bad arguments as TypeError/RangeError).
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { root, runAsync, scriptPath, startServer } from './lib.js';

const fixture = (name: string) => join(root, 'test/native/fixtures', name);

test('UDP echo between two x0-runtime processes', async () => {
  const server = await startServer([fixture('net-udp-echo.js'), '3']);
  const client = await runAsync([fixture('net-udp-client.js'), String(server.port), '3']);
  assert.is(client.status, 0, client.stderr);
  assert.equal(client.stdout.trim().split('\n').sort(), [
    'echo:msg0 from 127.0.0.1:server',
    'echo:msg1 from 127.0.0.1:server',
    'echo:msg2 from 127.0.0.1:server',
  ]);
  const finished = await server.done;
  assert.is(finished.status, 0, finished.stderr);
});

test('TCP echo of 1 MB between two x0-runtime processes (partial writes, EAGAIN, half-close)', async () => {
  const server = await startServer([fixture('net-tcp-echo.js')]);
  const client = await runAsync([fixture('net-tcp-client.js'), String(server.port), String(1_000_000)]);
  assert.is(client.status, 0, client.stderr);
  assert.is(client.stdout, 'connected from port true to true\nechoed 1000000 bytes, equal true\n');
  const finished = await server.done;
  assert.is(finished.status, 0, finished.stderr);
});

test('Unix socket round trip; ECONNREFUSED and ENOENT as errno names; bad arguments throw', async () => {
  const result = await runAsync([fixture('net-unix-and-errors.js'), scriptPath(`unix-${process.pid}.sock`)]);
  assert.is(result.status, 0, result.stderr);
  const lines = new Map(
    result.stdout
      .trim()
      .split('\n')
      .map((line) => {
        const at = line.indexOf(': ');
        return [line.slice(0, at), JSON.parse(line.slice(at + 2)) as unknown];
      }),
  );
  assert.is(lines.get('unix bind'), null);
  assert.is(lines.get('unix connect'), null);
  assert.is(lines.get('unix server got'), 'ping');
  assert.is(lines.get('unix client got'), 'pong');
  assert.is(lines.get('unix client eof'), true);
  assert.is(lines.get('tcp connect started'), true);
  assert.is(lines.get('tcp refused'), 'ECONNREFUSED');
  assert.equal(lines.get('unix missing path'), { error: 'ENOENT' });
  assert.equal(lines.get('recv on a closed fd'), { error: 'EBADF' });
  assert.equal(lines.get('close twice'), { error: 'EBADF' });
  assert.equal(lines.get('recvfrom with nothing queued'), { error: 'EAGAIN' });
  assert.equal(lines.get('send without a peer'), { error: 'EDESTADDRREQ' });
  assert.is(lines.get('bad family'), "TypeError: family: unknown value 'ipx'");
  assert.is(lines.get('bad host'), "TypeError: address.host 'example.com' is not a numeric IPv4 or IPv6 address");
  assert.is(lines.get('bad port'), 'RangeError: address.port must be an integer in [0, 65535], got 70000');
  assert.is(lines.get('bad address'), 'TypeError: address must be an object { host, port } or { path }');
  assert.match(String(lines.get('long unix path')), /^RangeError: address.path must be 1\.\.107 bytes/);
  assert.match(String(lines.get('bad maxBytes')), /^RangeError: maxBytes must be an integer in \[1, /);
  assert.match(String(lines.get('bad fd')), /^RangeError: fd must be an integer/);
  assert.is(lines.get('send window past the end'), 'RangeError: offset 2 + length 3 is past the end of data (4 bytes)');
  assert.is(lines.get('bad option'), "TypeError: option: unknown value 'SO_BOGUS'");
});

test.run();
