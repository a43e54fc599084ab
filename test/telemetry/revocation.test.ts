// Issue 21 item 3, the consumer's core (engine-neutral): once the mesh's signed revocation list names a node,
// its telemetry is rejected as cert-revoked, and the exporter shows it revoked and not up (by node ID, by
// certificate serial, and a revoked node never seen); operator commands are seen, never rejected; a list
// from another CA or an older one changes nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTweetnaclCrypto } from '../../src/crypto/tweetnacl.js';
import { createRoot, issueNodeCert } from '../../src/core/identity/ca.js';
import { createTrustBundle, type TrustBundle } from '../../src/core/identity/chain.js';
import { encodeRevocationList, signRevocationList } from '../../src/core/identity/revocation.js';
import { TelemetrySigner, signCommand } from '../../src/core/telemetry/messages.js';
import { Watcher } from '../../src/telemetry/watcher.js';
import { renderMetrics } from '../../src/telemetry/prometheus.js';

const crypto = createTweetnaclCrypto();
const nowMs = 1_800_000_000_000;
const mesh = 'mesh.test';

function world() {
  const root = createRoot(crypto, { trustDomain: mesh, nowMs });
  const bundle = createTrustBundle(crypto, mesh, [root.issuer.cert]);
  if (!bundle.ok) throw new Error(bundle.reason);
  const node = (name: string) => {
    const sign = crypto.signKeyPair();
    const cert = issueNodeCert(crypto, root.issuer, {
      name,
      signPublicKey: sign.publicKey,
      boxPublicKey: crypto.boxKeyPair().publicKey,
      nowMs,
    });
    return {
      cert,
      signer: new TelemetrySigner(crypto, { signSecretKey: sign.secretKey, chain: [cert] }, 'boot1', 'cbor'),
    };
  };
  const list = (version: number, nodeIds: string[], serials: Uint8Array[] = []) =>
    encodeRevocationList(
      signRevocationList(crypto, { cert: root.issuer.cert, signSecretKey: root.issuer.signSecretKey }, version, {
        issuedAtMs: nowMs,
        serials,
        nodeIds,
      }),
    );
  return { bundle: bundle.value as TrustBundle, node, list };
}

const metric = (text: string, name: string, node: string): number | null => {
  const m = new RegExp(`^${name}\\{mesh="mesh\\.test",node="${node}"\\} (\\S+)$`, 'm').exec(text);
  return m === null ? null : Number(m[1]);
};

test('a node revoked by ID: rejected as cert-revoked, exported revoked and not up; the others unaffected', () => {
  const w = world();
  const watcher = new Watcher(crypto, w.bundle, () => nowMs);
  const alpha = w.node('alpha');
  const bravo = w.node('bravo');
  for (const n of [alpha, bravo]) {
    for (const kind of ['status', 'telemetry'] as const) {
      const m = n.signer.sign(
        kind,
        kind === 'status' ? { state: 'online' } : { statistics: { uptime: 5 } },
        nowMs,
        true,
      );
      assert.ok(watcher.offer(m.topic, m.payload).ok);
    }
  }
  let text = renderMetrics(watcher, nowMs);
  assert.is(metric(text, 'x0_node_up', 'bravo'), 1);
  assert.is(metric(text, 'x0_node_revoked', 'bravo'), 0);
  assert.match(text, /^x0_revocation_list_version 0$/m);

  assert.ok(watcher.revocations.offerBytes(crypto, w.list(1, ['spiffe://mesh.test/node/bravo']), w.bundle).ok);
  // With and without the chain (the verifier remembers bravo's key): both refused.
  for (const chain of [false, true]) {
    const m = bravo.signer.sign('telemetry', { statistics: { uptime: 6 } }, nowMs, chain);
    const outcome = watcher.offer(m.topic, m.payload);
    assert.equal(outcome, { ok: false, reason: 'cert-revoked', benign: false });
  }
  const a = alpha.signer.sign('telemetry', { statistics: { uptime: 6 } }, nowMs, false);
  assert.ok(watcher.offer(a.topic, a.payload).ok, 'alpha still verified');
  text = renderMetrics(watcher, nowMs);
  assert.is(metric(text, 'x0_node_up', 'bravo'), 0);
  assert.is(metric(text, 'x0_node_revoked', 'bravo'), 1);
  assert.is(metric(text, 'x0_node_up', 'alpha'), 1);
  assert.is(metric(text, 'x0_node_revoked', 'alpha'), 0);
  assert.match(text, /^x0_messages_rejected_total\{reason="cert-revoked"\} 2$/m);
  assert.match(text, /^x0_revocation_list_version 1$/m);
  assert.match(watcher.table(), /bravo@mesh\.test\s+REVOKED/);
});

test('revoked by serial; and a revoked node never seen here is exported as revoked', () => {
  const w = world();
  const watcher = new Watcher(crypto, w.bundle, () => nowMs);
  const charlie = w.node('charlie');
  const m = charlie.signer.sign('status', { state: 'online' }, nowMs, true);
  assert.ok(watcher.offer(m.topic, m.payload).ok);
  assert.ok(
    watcher.revocations.offerBytes(
      crypto,
      w.list(1, ['spiffe://mesh.test/node/delta'], [charlie.cert.serial]),
      w.bundle,
    ).ok,
  );
  const text = renderMetrics(watcher, nowMs);
  assert.is(metric(text, 'x0_node_revoked', 'charlie'), 1);
  assert.is(metric(text, 'x0_node_up', 'charlie'), 0);
  assert.is(metric(text, 'x0_node_revoked', 'delta'), 1);
  assert.is(metric(text, 'x0_node_up', 'delta'), 0);
});

test('a list from another CA, or not newer, is refused and changes nothing', () => {
  const w = world();
  const other = world();
  const watcher = new Watcher(crypto, w.bundle, () => nowMs);
  assert.equal(watcher.revocations.offerBytes(crypto, other.list(5, ['spiffe://mesh.test/node/alpha']), w.bundle), {
    ok: false,
    reason: 'revocation-unknown-signer',
  });
  assert.ok(watcher.revocations.offerBytes(crypto, w.list(2, []), w.bundle).ok);
  assert.equal(watcher.revocations.offerBytes(crypto, w.list(2, ['spiffe://mesh.test/node/alpha']), w.bundle), {
    ok: false,
    reason: 'revocation-stale',
  });
  assert.is(watcher.nodeRevoked({ mesh, node: 'alpha', serialHex: null }), false);
});

test('operator commands on .../cmd/NAME are seen, never counted as rejected telemetry', () => {
  const w = world();
  const watcher = new Watcher(crypto, w.bundle, () => nowMs);
  const operator = crypto.signKeyPair();
  const cmd = signCommand(crypto, operator.secretKey, {
    mesh,
    node: 'alpha',
    name: 'ping',
    id: '00'.repeat(16),
    at: nowMs,
    args: {},
  });
  assert.equal(watcher.offer(cmd.topic, cmd.payload), { ok: false, reason: 'operator-command', benign: true });
  assert.is(watcher.rejectedTotal, 0);
  const text = renderMetrics(watcher, nowMs);
  assert.match(text, /^x0_operator_commands_seen_total 1$/m);
  assert.not.match(text, /x0_messages_rejected_total\{/);
});

test.run();
