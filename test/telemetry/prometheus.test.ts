// The exporter's text (engine-neutral): a node's agent section (`statistics.x0`, the shape `x0 agent` and
// `x0 uplink --simulate` report) becomes per-component metrics; uplink queue and certificate expiry are
// exported; every family is declared once with HELP and TYPE, before its samples.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTweetnaclCrypto } from '../../src/crypto/tweetnacl.js';
import { createRoot, issueNodeCert } from '../../src/core/identity/ca.js';
import { createTrustBundle } from '../../src/core/identity/chain.js';
import { TelemetrySigner } from '../../src/core/telemetry/messages.js';
import { SimulatedMetrics } from '../../src/telemetry/metrics.js';
import { Watcher } from '../../src/telemetry/watcher.js';
import { renderMetrics } from '../../src/telemetry/prometheus.js';
import type { Platform } from '../../src/platform/types.js';

const crypto = createTweetnaclCrypto();
const nowMs = 1_800_000_000_000;

test('agent components, uplink queue and certificate expiry are exported; the exposition is well formed', async () => {
  const root = createRoot(crypto, { trustDomain: 'mesh.test', nowMs });
  const bundle = createTrustBundle(crypto, 'mesh.test', [root.issuer.cert]);
  if (!bundle.ok) throw new Error(bundle.reason);
  const sign = crypto.signKeyPair();
  const cert = issueNodeCert(crypto, root.issuer, {
    name: 'alpha',
    signPublicKey: sign.publicKey,
    boxPublicKey: crypto.boxKeyPair().publicKey,
    nowMs,
    ttlMs: 3600_000,
  });
  const signer = new TelemetrySigner(crypto, { signSecretKey: sign.secretKey, chain: [cert] }, 'boot1', 'cbor');
  const platform = { monotonicMs: () => 0 } as unknown as Platform;
  const data = await new SimulatedMetrics(platform, 'alpha', 'mesh.test', 1).collect();
  const watcher = new Watcher(crypto, bundle.value, () => nowMs);
  const m = signer.sign('telemetry', { ...data, uplink: { queued: 3, dropped: 7 } }, nowMs, true);
  assert.ok(watcher.offer(m.topic, m.payload).ok);
  const text = renderMetrics(watcher, nowMs);
  const id = 'mesh="mesh.test",node="alpha"';
  assert.match(text, new RegExp(`^x0_component_up\\{${id},component="raft"\\} 1$`, 'm'));
  assert.match(text, new RegExp(`^x0_component_restarts_total\\{${id},component="xdp"\\} 0$`, 'm'));
  assert.match(text, new RegExp(`^x0_raft_is_leader\\{${id}\\} 1$`, 'm'));
  assert.match(text, new RegExp(`^x0_raft_term\\{${id}\\} 2$`, 'm'));
  assert.match(text, new RegExp(`^x0_xdp_dropped_total\\{${id},reason="blocked"\\} 8$`, 'm'));
  assert.match(text, new RegExp(`^x0_xdp_dropped_total\\{${id},reason="rate-limit"\\} 2$`, 'm'));
  assert.match(text, new RegExp(`^x0_node_uplink_queued_messages\\{${id}\\} 3$`, 'm'));
  assert.match(text, new RegExp(`^x0_node_uplink_queue_dropped_total\\{${id}\\} 7$`, 'm'));
  assert.match(
    text,
    new RegExp(`^x0_node_cert_expiry_timestamp_seconds\\{${id}\\} ${Math.floor(cert.notAfterMs / 1000)}$`, 'm'),
  );
  // Well formed: HELP and TYPE once per family, before any of its samples; samples only of declared families.
  const declared = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
    if (meta !== null) {
      if (meta[1] === 'TYPE') {
        assert.not.ok(declared.has(meta[2] as string), `${meta[2]} declared twice`);
        declared.add(meta[2] as string);
      }
      continue;
    }
    const name = /^([a-z_:][a-z0-9_:]*)[{ ]/.exec(line)?.[1];
    assert.ok(name !== undefined && declared.has(name), `sample of an undeclared family: ${line}`);
  }
});

test.run();
