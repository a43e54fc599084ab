// Stale truths (issue 16), the consumer's core: a retained status message is kept by the broker for as long as
// nobody replaces it, so a new consumer can receive a month-old "online" the moment it subscribes. It must not
// show that node as up. A message stamped far in the future must be refused, not remembered: remembered, it
// made every later message of the node's next boot look "replayed". Timestamps are bounded at decode.
// Engine-neutral.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTweetnaclCrypto } from '../../src/crypto/tweetnacl.js';
import { createRoot, issueNodeCert } from '../../src/core/identity/ca.js';
import { createTrustBundle, type TrustBundle } from '../../src/core/identity/chain.js';
import { staleMsMax } from '../../src/core/telemetry/limits.js';
import { TelemetrySigner, TelemetryVerifier } from '../../src/core/telemetry/messages.js';
import { renderMetrics } from '../../src/telemetry/prometheus.js';
import { Watcher } from '../../src/telemetry/watcher.js';

const crypto = createTweetnaclCrypto();
const nowMs = 1_800_000_000_000;
const dayMs = 24 * 3600 * 1000;
const mesh = 'mesh.test';

const root = createRoot(crypto, { trustDomain: mesh, nowMs: nowMs - 40 * dayMs, ttlMs: 400 * dayMs });
const made = createTrustBundle(crypto, mesh, [root.issuer.cert]);
if (!made.ok) throw new Error(made.reason);
const bundle: TrustBundle = made.value;
const sign = crypto.signKeyPair();
const cert = issueNodeCert(crypto, root.issuer, {
  name: 'alpha',
  signPublicKey: sign.publicKey,
  boxPublicKey: crypto.boxKeyPair().publicKey,
  nowMs: nowMs - 35 * dayMs,
  ttlMs: 60 * dayMs,
});
const signer = (boot: string) =>
  new TelemetrySigner(crypto, { signSecretKey: sign.secretKey, chain: [cert] }, boot, 'cbor');
const up = (text: string): number | null => {
  const m = /^x0_node_up\{mesh="mesh\.test",node="alpha"\} (\S+)$/m.exec(text);
  return m === null ? null : Number(m[1]);
};

test('a month-old retained "online" is not taken as current: watch shows it stale, the exporter not up', () => {
  let clock = nowMs;
  const watcher = new Watcher(crypto, bundle, () => clock);
  const old = signer('boot1').sign('status', { state: 'online', version: '0.1.0' }, nowMs - 30 * dayMs, true);
  assert.ok(watcher.offer(old.topic, old.payload).ok, 'the old status is still a valid, signed fact');
  assert.match(watcher.table(), /alpha@mesh\.test\s+stale/, watcher.table());
  assert.is(up(renderMetrics(watcher, clock)), 0, 'a month-old online is not up');
  // The node is alive after all: its next telemetry makes the status current again.
  const live = signer('boot1');
  live.sign('status', { state: 'online' }, nowMs - 30 * dayMs, true);
  const fresh = live.sign('telemetry', { statistics: { uptime: 5 } }, clock, true);
  assert.ok(watcher.offer(fresh.topic, fresh.payload).ok);
  assert.match(watcher.table(), /alpha@mesh\.test\s+online/);
  assert.is(up(renderMetrics(watcher, clock)), 1);
  // ... until it goes quiet for longer than staleMsMax.
  clock += staleMsMax + 1000;
  assert.is(up(renderMetrics(watcher, clock)), 0, 'a node silent past staleMsMax is not up');
});

test('a message stamped in the future is refused and does not make the next boot look replayed', () => {
  const verifier = new TelemetryVerifier(crypto, bundle, () => nowMs);
  const future = signer('boot1').sign('telemetry', { statistics: {} }, nowMs + 365 * dayMs, true);
  const r = verifier.verify(future.topic, future.payload);
  assert.not.ok(r.ok, 'a year ahead of the consumer clock is refused');
  assert.is(r.ok ? '' : r.reason, 'from-future');
  const next = signer('boot2').sign('telemetry', { statistics: {} }, nowMs, true);
  const after = verifier.verify(next.topic, next.payload);
  assert.ok(after.ok, after.ok ? '' : `the next boot's message was refused: ${after.reason}`);
});

test('timestamps outside what the protocol allows are refused at decode', () => {
  for (const at of [-1, 1.5, 2 ** 60, Number.NaN]) {
    const verifier = new TelemetryVerifier(crypto, bundle, () => nowMs);
    const m = signer('boot1').sign('status', { state: 'online' }, at, true);
    const r = verifier.verify(m.topic, m.payload);
    assert.is(r.ok ? 'accepted' : r.reason, 'payload-malformed', `at = ${at}`);
  }
});

test.run();
