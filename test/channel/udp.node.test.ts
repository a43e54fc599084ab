// Done-when of issue 3: separate processes with certificates from one CA establish a channel over loopback
// UDP and exchange sealed messages; a revoked, an expired and another CA's node are refused with the
// right reason. Once with Node processes, once with x0-runtime (QuickJS-ng, native crypto).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync } from 'node:fs';
import { freePort, root, run, runtimePath, type RunResult } from '../lib/processes.js';
import { enrol, must, tempDir } from '../identity/cli-lib.js';

const nodeCmd = [process.execPath, '--import', 'tsx', `${root}src/entry/node.ts`];
const qjsBundle = `${root}dist/x0tta6bl4.js`;

async function world(): Promise<string> {
  const dir = tempDir('udp');
  await enrol(dir, 'mesh.test', ['a', 'b', 'c']);
  await enrol(dir, 'mesh.test', ['e'], '1s', false);
  await must('ca', 'revoke', '--node', 'c', '--dir', `${dir}/ca`);
  copyFileSync(`${dir}/ca/revocations.cbor`, `${dir}/a/revocations.cbor`);
  await enrol(`${dir}/other`, 'mesh.test', ['x']); // another CA, same trust-domain name
  return dir;
}

const channel = (cmd: string[], dir: string, listen: number, extra: string[]) =>
  run([...cmd, 'channel', '--dir', dir, '--listen', `127.0.0.1:${listen}`, ...extra], 30_000);

async function scenario(
  cmd: string[],
  dir: string,
): Promise<{ a: RunResult; b: RunResult; c: RunResult; e: RunResult; x: RunResult }> {
  const [pa, pb, pc, pe, px] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const peerA = ['--peer', `127.0.0.1:${pa}`];
  await new Promise((r) => setTimeout(r, 1500)); // e's 1 s certificate is now expired
  const a = channel(cmd, `${dir}/a`, pa, [
    '--send',
    'hello from a',
    '--expect',
    '1',
    '--timeout-ms',
    '12000',
    '--linger-ms',
    '5000',
  ]);
  await new Promise((r) => setTimeout(r, 300));
  const others = [
    channel(cmd, `${dir}/b`, pb!, [...peerA, '--send', 'hello from b', '--expect', '1', '--timeout-ms', '8000']),
    channel(cmd, `${dir}/c`, pc!, [...peerA, '--expect', '1', '--timeout-ms', '3000']),
    channel(cmd, `${dir}/e`, pe!, [...peerA, '--expect', '1', '--timeout-ms', '3000']),
    channel(cmd, `${dir}/other/x`, px!, [...peerA, '--expect', '1', '--timeout-ms', '3000']),
  ];
  const [b, c, e, x] = await Promise.all(others);
  return { a: await a, b: b!, c: c!, e: e!, x: x! };
}

function check(r: Awaited<ReturnType<typeof scenario>>): void {
  assert.is(r.b.code, 0, r.b.stdout + r.b.stderr);
  assert.match(r.b.stdout, /established 127\.0\.0\.1:\d+ spiffe:\/\/mesh\.test\/node\/a initiator/);
  assert.match(r.b.stdout, /received spiffe:\/\/mesh\.test\/node\/a hello from a/);
  assert.match(r.a.stdout, /received spiffe:\/\/mesh\.test\/node\/b hello from b/);
  assert.is(r.a.code, 0, r.a.stdout + r.a.stderr);
  // The refusing side names the reason in its counters; the refused side never gets a message through.
  assert.match(r.a.stdout, /cert-revoked=\d/);
  assert.match(r.a.stdout, /cert-expired=\d/);
  assert.is(r.c.code, 1);
  assert.is(r.e.code, 1);
  assert.not.match(r.c.stdout, /received spiffe/);
  assert.is(r.x.code, 1);
  assert.match(r.x.stdout, /handshake-failed 127\.0\.0\.1:\d+\s+unknown-issuer/);
  assert.not.match(r.a.stdout, /node\/x/);
}

test('Node processes: two nodes talk over sealed UDP; revoked, expired and foreign nodes are refused', async () => {
  const dir = await world();
  check(await scenario(nodeCmd, dir));
});

test('x0-runtime processes (QuickJS-ng, native crypto): the same scenario', async () => {
  if (!existsSync(runtimePath)) throw new Error(`${runtimePath} is missing: run bash scripts/setup.sh`);
  if (!existsSync(qjsBundle)) throw new Error(`${qjsBundle} is missing: run npm run build`);
  const dir = await world();
  check(await scenario([runtimePath, qjsBundle], dir));
});

test.run();
