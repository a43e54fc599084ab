// The liveness probe's sealed path (src/mapek/probe.ts) between real UDP sockets on the Node platform: a probe is
// answered only inside a channel session with an enrolled node of the same mesh; a node of another CA gets no
// answer; the BFD-like state machine driven by the real probe goes up, then down within the detection time once
// the neighbour stops answering. Link-local addresses: the EUI-64 form Linux gives an interface, RFC 5952 text.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRoot, issueNodeCert, type Issuer } from '../../src/core/identity/ca.js';
import { createTrustBundle, noRevocations, type TrustBundle } from '../../src/core/identity/chain.js';
import { detectionTimeMs, Liveness, livenessDefaults } from '../../src/core/mapek/liveness.js';
import { ipv6Text, linkLocalOf, ProbeLink, probeWireBytes } from '../../src/mapek/probe.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { freePort } from '../lib/processes.js';

const platform = createNodePlatform({ argv: [] });
const crypto = platform.crypto;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ca(domain: string): { issuer: Issuer; bundle: TrustBundle } {
  const root = createRoot(crypto, { trustDomain: domain, nowMs: Date.now() });
  const bundle = createTrustBundle(crypto, domain, [root.issuer.cert]);
  if (!bundle.ok) throw new Error(bundle.reason);
  return { issuer: root.issuer, bundle: bundle.value };
}

async function probe(
  mesh: { issuer: Issuer; bundle: TrustBundle },
  name: string,
  port: number,
  replies: Array<[string, number]>,
): Promise<ProbeLink> {
  const sign = crypto.signKeyPair();
  const cert = issueNodeCert(crypto, mesh.issuer, {
    name,
    signPublicKey: sign.publicKey,
    boxPublicKey: crypto.boxKeyPair().publicKey,
    nowMs: Date.now(),
  });
  return ProbeLink.open(platform, {
    port,
    chain: [cert],
    signSecretKey: sign.secretKey,
    bundle: mesh.bundle,
    revocations: noRevocations,
    onReply: (address, seq) => replies.push([address, seq]),
  });
}

test('link-local addresses: EUI-64 of the MAC, printed as inet_ntop prints them', () => {
  assert.is(linkLocalOf('52:54:00:01:00:01'), 'fe80::5054:ff:fe01:1'); // seen on the lab guest's eth1
  assert.is(linkLocalOf('02:00:00:00:00:01'), 'fe80::ff:fe00:1');
  assert.is(linkLocalOf('not-a-mac'), null);
  assert.is(ipv6Text([0xfe80, 0, 0, 0, 0, 0, 0, 1]), 'fe80::1');
  assert.is(ipv6Text([1, 0, 2, 0, 0, 3, 0, 0]), '1:0:2::3:0:0'); // the first longest run; single zeros stay
  assert.equal(ProbeLink.addressOf('52:54:00:01:00:01', 'eth1', 7403), {
    host: 'fe80::5054:ff:fe01:1%eth1',
    port: 7403,
  });
  assert.is(probeWireBytes, 99);
});

test('a probe is answered inside a sealed session; a node of another CA gets nothing', async () => {
  const mesh = ca('probe.test');
  const [pa, pb, px] = await Promise.all([freePort(), freePort(), freePort()]);
  const gotA: Array<[string, number]> = [];
  const gotX: Array<[string, number]> = [];
  const a = await probe(mesh, 'a', pa as number, gotA);
  const b = await probe(mesh, 'b', pb as number, []);
  const x = await probe(ca('other.test'), 'x', px as number, gotX);
  try {
    const toB = { host: '::1', port: pb as number };
    const live = new Liveness(livenessDefaults, platform.monotonicMs());
    let upAt: number | null = null;
    for (let i = 0; i < 40 && upAt === null; i++) {
      const now = platform.monotonicMs();
      const seq = live.due(now);
      if (seq !== null) a.request(toB, seq);
      x.request(toB, 1000 + i);
      await sleep(25);
      for (const [, s] of gotA.splice(0)) live.reply(s, platform.monotonicMs());
      if (live.tick(platform.monotonicMs())?.to === 'up') upAt = i;
    }
    assert.ok(upAt !== null, 'the real probe brought the neighbour up');
    assert.is(a.peer(toB), 'spiffe://probe.test/node/b');
    assert.is(gotX.length, 0, 'no answer to the foreign node');
    assert.ok(
      Object.keys(b.channelCounters()).some((k) => /trust|bundle|chain|foreign|domain/.test(k)),
      JSON.stringify(b.channelCounters()),
    );
    // b stops answering: down within detection time plus one interval.
    b.close();
    const stoppedAt = platform.monotonicMs();
    let downAfter: number | null = null;
    while (downAfter === null && platform.monotonicMs() - stoppedAt < 2000) {
      const now = platform.monotonicMs();
      const seq = live.due(now);
      if (seq !== null) a.request(toB, seq);
      await sleep(20);
      for (const [, s] of gotA.splice(0)) live.reply(s, platform.monotonicMs());
      if (live.tick(platform.monotonicMs())?.to === 'down') downAfter = platform.monotonicMs() - stoppedAt;
    }
    assert.ok(downAfter !== null, 'went down');
    assert.ok(
      downAfter <= detectionTimeMs(livenessDefaults) + livenessDefaults.intervalMs + 60,
      `down after ${downAfter} ms`,
    );
  } finally {
    a.close();
    b.close();
    x.close();
  }
});

test.run();
