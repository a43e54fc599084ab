// Issue 14 item 9: `x0 channel` printed "send to ... failed: no-transport" for every datagram it sent
// successfully (a transport's send() returns null on success, and `null ?? 'no-transport'` is the string).
// Two Node processes exchange one message over UDP and over TCP: both arrive, and no send is reported failed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort, root, run } from '../lib/processes.js';
import { enrol, tempDir } from '../identity/cli-lib.js';

const nodeCmd = [process.execPath, '--import', 'tsx', `${root}src/entry/node.ts`];

for (const transport of ['udp', 'tcp']) {
  test(`${transport}: a successful exchange reports no failed send`, async () => {
    const dir = tempDir(`send-${transport}`);
    await enrol(dir, 'mesh.test', ['a', 'b']);
    const [pa, pb] = await Promise.all([freePort(), freePort()]);
    const channel = (name: string, listen: number, extra: string[]) =>
      run(
        [
          ...nodeCmd,
          'channel',
          '--transport',
          transport,
          '--dir',
          `${dir}/${name}`,
          '--listen',
          `127.0.0.1:${listen}`,
          ...extra,
        ],
        30_000,
      );
    const a = channel('a', pa, [
      '--send',
      'hello from a',
      '--expect',
      '1',
      '--timeout-ms',
      '15000',
      '--linger-ms',
      '1500',
    ]);
    await new Promise((r) => setTimeout(r, 800));
    const b = await channel('b', pb, [
      '--peer',
      `127.0.0.1:${pa}`,
      '--send',
      'hello from b',
      '--expect',
      '1',
      '--timeout-ms',
      '15000',
      '--linger-ms',
      '500',
    ]);
    const ra = await a;
    assert.is(ra.code, 0, ra.stdout + ra.stderr);
    assert.is(b.code, 0, b.stdout + b.stderr);
    assert.match(ra.stdout, /received spiffe:\/\/mesh\.test\/node\/b hello from b/);
    assert.match(b.stdout, /received spiffe:\/\/mesh\.test\/node\/a hello from a/);
    for (const r of [ra, b]) assert.not.match(r.stderr, /failed/, `a send reported failed: ${r.stderr}`);
  });
}

test.run();
