// Enrolment connections an anchor serves at once (issue 16): a trickle of idle TCP connections, each held until
// the anchor's timeout and replaced as it closes, must not keep a new node from enrolling. The listener is the
// real one (src/identity/enrol.ts) on Node's platform, with real sockets on loopback.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import { enrolConnectionsMax, requestEnrolment, serveEnrolment } from '../../src/identity/enrol.js';
import { createNodePlatform } from '../../src/platform/node/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a trickle of idle connections does not keep a new node from enrolling; requests in progress are kept', async () => {
  const platform = createNodePlatform({ argv: [] });
  let slowRelease: () => void = () => {};
  const service = await serveEnrolment(platform, { host: '127.0.0.1', port: 0 }, async (request) => {
    if (request[0] === 0x53) await new Promise<void>((r) => (slowRelease = r)); // 'S': a request being served
    return new Uint8Array([0x4f, 0x4b]);
  });
  const port = service.local.port;
  const sockets: net.Socket[] = [];
  try {
    // One node whose request is being served (it must not be evicted), the rest idle; topped up as they go.
    const slow = requestEnrolment(platform, { host: '127.0.0.1', port }, new Uint8Array([0x53]), 3000);
    await sleep(100);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < enrolConnectionsMax; i++) sockets.push(net.connect(port, '127.0.0.1').on('error', () => {}));
      await sleep(100);
    }
    const answer = await requestEnrolment(platform, { host: '127.0.0.1', port }, new Uint8Array([0x52]), 2000);
    assert.ok(
      answer.ok,
      `the new node got no answer: ${answer.ok ? '' : answer.reason} (${JSON.stringify(service.counters.snapshot())})`,
    );
    slowRelease();
    const served = await slow;
    assert.ok(served.ok, 'the request in progress was answered');
    assert.ok((service.counters.get('enrol-evicted') ?? 0) > 0, 'idle connections were evicted');
  } finally {
    for (const s of sockets) s.destroy();
    service.close();
  }
});

test.run();
