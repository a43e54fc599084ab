// Signed telemetry on both engines: COSE_Sign1 against RFC 9052's Sig_structure (a reference vector from the
// COSE working group's examples), and every way a consumer refuses a message: unsigned, tampered, foreign
// CA, wrong topic, replayed, unknown key; and operator commands: wrong key, replay, stale, other node.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTweetnaclCrypto } from '../../src/crypto/tweetnacl.js';
import { createRoot, issueNodeCert } from '../../src/core/identity/ca.js';
import { createTrustBundle, type TrustBundle } from '../../src/core/identity/chain.js';
import type { Certificate } from '../../src/core/identity/cert.js';
import { encodeValue } from '../../src/core/telemetry/cbor.js';
import { decodeSign1, sigStructure, signSign1, verifySign1 } from '../../src/core/telemetry/cose.js';
import {
  CommandGuard,
  TelemetrySigner,
  TelemetryVerifier,
  parseTopic,
  signCommand,
  topicFor,
} from '../../src/core/telemetry/messages.js';
import { fromHex, toHex, utf8 } from '../../src/core/wire/hex.js';

const crypto = createTweetnaclCrypto();
const nowMs = 1_800_000_000_000;
const seed = (byte: number) => new Uint8Array(32).fill(byte);

function mesh(trustDomain: string, rootSeed: number) {
  const root = createRoot(crypto, {
    trustDomain,
    nowMs,
    keys: { sign: crypto.signKeyPairFromSeed(seed(rootSeed)), box: crypto.boxKeyPairFromSecretKey(seed(rootSeed + 1)) },
  });
  const bundle = createTrustBundle(crypto, trustDomain, [root.issuer.cert]);
  if (!bundle.ok) throw new Error(bundle.reason);
  const node = (name: string, byte: number) => {
    const sign = crypto.signKeyPairFromSeed(seed(byte));
    const chain: Certificate[] = [
      issueNodeCert(crypto, root.issuer, {
        name,
        signPublicKey: sign.publicKey,
        boxPublicKey: crypto.boxKeyPairFromSecretKey(seed(byte + 1)).publicKey,
        nowMs,
      }),
    ];
    return { signSecretKey: sign.secretKey, chain };
  };
  return { bundle: bundle.value as TrustBundle, node };
}

const home = mesh('mesh.test', 1);
const alpha = home.node('alpha', 10);
const bravo = home.node('bravo', 20);
const foreign = mesh('mesh.test', 40).node('alpha', 30);

test('Sig_structure matches RFC 9052 §4.4 (ToBeSign of the COSE WG example eddsa-sig-02)', () => {
  // ["Signature1", h'A10127', h'', 'This is the content.'] — from cose-wg/Examples, computed independently of us.
  const expected = '846a5369676e61747572653143a101274054546869732069732074686520636f6e74656e742e';
  assert.is(toHex(sigStructure(fromHex('a10127'), utf8('This is the content.'))), expected);
});

test('COSE_Sign1 layout: tag 18, four items, EdDSA in the protected header; RFC 8032 key verifies', () => {
  // RFC 8032 §7.1 test 1 key; Ed25519 is deterministic, so the whole message is a fixed vector.
  const keys = crypto.signKeyPairFromSeed(fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'));
  assert.is(toHex(keys.publicKey), 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
  const message = signSign1(crypto, keys.secretKey, utf8('This is the content.'), { contentType: 60, kid: utf8('11') });
  const hex = toHex(message);
  // d2 = tag 18, 84 = array(4), 4a = bstr(10) {1: -8, 3: 60, 4: '11'}, a0 = empty unprotected map, 54 = bstr(20) payload, 5840 = bstr(64)
  assert.ok(
    hex.startsWith('d2844aa301270318' + '3c' + '04423131' + 'a0' + '54' + toHex(utf8('This is the content.')) + '5840'),
    hex,
  );
  const decoded = decodeSign1(message);
  assert.ok(decoded.ok);
  assert.ok(verifySign1(crypto, decoded.value, keys.publicKey));
  assert.is(
    toHex(decoded.value.signature),
    toHex(crypto.sign(sigStructure(decoded.value.protectedBytes, decoded.value.payload), keys.secretKey)),
  );
});

test('topics: x0/<mesh>/<node>/<kind>[/<command>]', () => {
  assert.is(topicFor('mesh.test', 'alpha', 'cmd', 'ping'), 'x0/mesh.test/alpha/cmd/ping');
  assert.equal(parseTopic('x0/mesh.test/alpha/telemetry'), {
    mesh: 'mesh.test',
    node: 'alpha',
    kind: 'telemetry',
    sub: null,
  });
  for (const bad of ['x0/m/a', 'x1/m/a/status', 'x0/m/a/status/x', 'x0/m/a/cmd', 'x0/m/a/other', 'x0/m/a b/status'])
    assert.is(parseTopic(bad), null, bad);
});

test('a consumer verifies signed status and telemetry end to end against the CA, CBOR and JSON', () => {
  for (const format of ['cbor', 'json'] as const) {
    const verifier = new TelemetryVerifier(crypto, home.bundle, () => nowMs);
    const signer = new TelemetrySigner(crypto, alpha, 'b00701', format);
    const status = signer.sign('status', { state: 'online', version: '0.1.0', uptimeS: 5 }, nowMs, true);
    assert.is(status.topic, 'x0/mesh.test/alpha/status');
    const first = verifier.verify(status.topic, status.payload);
    assert.ok(first.ok, first.ok ? '' : first.reason);
    assert.equal(first.value.data, { state: 'online', version: '0.1.0', uptimeS: 5 });
    assert.is(first.value.peer.name, 'alpha');
    // Later messages carry only the key id: the verifier knows it from the chain it validated.
    const telemetry = signer.sign(
      'telemetry',
      { statistics: { loadavg: 0.25, uptime: 12.5, traffic: { rx: { bytes: 2 ** 40 } } } },
      nowMs + 1,
      false,
    );
    const second = verifier.verify(telemetry.topic, telemetry.payload);
    assert.ok(second.ok, second.ok ? '' : second.reason);
    assert.equal(second.value.data, {
      statistics: { loadavg: 0.25, uptime: 12.5, traffic: { rx: { bytes: 2 ** 40 } } },
    });
  }
});

test("the signer's fast path writes exactly encodeValue(envelope) and the same COSE_Sign1 as signSign1", () => {
  const signer = new TelemetrySigner(crypto, alpha, 'b\u00e9', 'cbor');
  const data = {
    nodeinfo: { hostname: 'r\u00f6uter' },
    statistics: { loadavg: 0.25, uptime: 3, idle: -1, skipped: undefined, big: 2 ** 40 },
    list: [true, null, 'x'],
  };
  for (let seq = 1; seq <= 3; seq++) {
    const kind = seq === 2 ? 'events' : 'telemetry';
    const signed = signer.sign(kind, data, nowMs + seq, seq === 3);
    const decoded = decodeSign1(signed.payload);
    assert.ok(decoded.ok);
    const kindSeq = kind === 'events' ? 1 : seq === 1 ? 1 : 2;
    const envelope = {
      v: 1,
      kind,
      mesh: 'mesh.test',
      node: 'alpha',
      boot: 'b\u00e9',
      seq: kindSeq,
      at: nowMs + seq,
      data,
    };
    assert.is(toHex(decoded.value.payload), toHex(encodeValue(envelope)), `body of message ${seq}`);
    const reference = signSign1(crypto, alpha.signSecretKey, encodeValue(envelope), {
      contentType: 60,
      kid: decoded.value.kid,
      ...(seq === 3 ? { chain: alpha.chain.map((c) => c.bytes) } : {}),
    });
    assert.is(toHex(signed.payload), toHex(reference), `message ${seq}`);
  }
});

test('unsigned, tampered, foreign, misplaced, replayed and unknown-key messages are refused by reason', () => {
  const verifier = new TelemetryVerifier(crypto, home.bundle, () => nowMs);
  const signer = new TelemetrySigner(crypto, alpha, 'b1', 'cbor');
  const status = signer.sign('status', { state: 'online' }, nowMs, true);
  const t1 = signer.sign('telemetry', { n: 1 }, nowMs, false);
  const t2 = signer.sign('telemetry', { n: 2 }, nowMs, false);
  const unknownKid = new TelemetryVerifier(crypto, home.bundle, () => nowMs).verify(t1.topic, t1.payload);
  assert.equal(unknownKid, { ok: false, reason: 'unknown-kid' });
  assert.ok(verifier.verify(status.topic, status.payload).ok);
  const unsigned = encodeValue({
    v: 1,
    kind: 'telemetry',
    mesh: 'mesh.test',
    node: 'alpha',
    boot: 'b1',
    seq: 9,
    at: nowMs,
    data: {},
  });
  assert.equal(verifier.verify(t1.topic, unsigned), { ok: false, reason: 'cose-not-sign1' });
  const tampered = new Uint8Array(t1.payload);
  tampered[tampered.length - 70] = (tampered[tampered.length - 70] as number) ^ 0x01;
  assert.equal(verifier.verify(t1.topic, tampered), { ok: false, reason: 'bad-signature' });
  assert.equal(verifier.verify('x0/mesh.test/bravo/telemetry', t1.payload), { ok: false, reason: 'topic-mismatch' });
  assert.equal(verifier.verify('x0/mesh.test/alpha/events', t1.payload), { ok: false, reason: 'topic-mismatch' });
  const outsider = new TelemetrySigner(crypto, foreign, 'b9', 'cbor').sign('status', { state: 'online' }, nowMs, true);
  assert.equal(verifier.verify(outsider.topic, outsider.payload), { ok: false, reason: 'unknown-issuer' });
  assert.ok(verifier.verify(t2.topic, t2.payload).ok);
  assert.equal(verifier.verify(t1.topic, t1.payload), { ok: false, reason: 'replayed' });
  assert.equal(verifier.verify(t2.topic, t2.payload), { ok: false, reason: 'duplicate' });
  const stale = signer.sign('telemetry', { n: 3 }, nowMs - 3600_000, false);
  assert.equal(verifier.verify(stale.topic, stale.payload), { ok: false, reason: 'stale' });
  // bravo's valid chain attached to a message whose key id is alpha's.
  const mixed = decodeSign1(t2.payload);
  assert.ok(mixed.ok);
  const swapped = signSign1(crypto, alpha.signSecretKey, mixed.value.payload, {
    contentType: 60,
    kid: mixed.value.kid,
    chain: bravo.chain.map((c) => c.bytes),
  });
  assert.equal(verifier.verify(t2.topic, swapped), { ok: false, reason: 'kid-mismatch' });
  assert.is(verifier.counters.get('verified'), 2);
});

test('operator commands: accepted once, only from a configured key, fresh, for this node', () => {
  const operator = crypto.signKeyPairFromSeed(seed(50));
  const stranger = crypto.signKeyPairFromSeed(seed(51));
  const guard = new CommandGuard(crypto, [operator.publicKey], 'mesh.test', 'alpha');
  const command = (key: Uint8Array, over: Partial<{ node: string; at: number; id: string }> = {}) =>
    signCommand(crypto, key, {
      mesh: 'mesh.test',
      node: over.node ?? 'alpha',
      name: 'ping',
      id: over.id ?? toHex(crypto.randomBytes(16)),
      at: over.at ?? nowMs,
      args: {},
    });
  const good = command(operator.secretKey, { id: 'aa' });
  const accepted = guard.check(good.topic, good.payload, nowMs);
  assert.ok(accepted.ok);
  assert.is(accepted.value.name, 'ping');
  assert.equal(guard.check(good.topic, good.payload, nowMs), { ok: false, reason: 'command-replayed' });
  const foreignKey = command(stranger.secretKey);
  assert.equal(guard.check(foreignKey.topic, foreignKey.payload, nowMs), { ok: false, reason: 'operator-unknown' });
  const old = command(operator.secretKey, { at: nowMs - 3600_000 });
  assert.equal(guard.check(old.topic, old.payload, nowMs), { ok: false, reason: 'command-stale' });
  const other = command(operator.secretKey, { node: 'bravo' });
  assert.equal(guard.check(other.topic, other.payload, nowMs), { ok: false, reason: 'topic-mismatch' });
  assert.equal(guard.check('x0/mesh.test/alpha/cmd/reboot', command(operator.secretKey).payload, nowMs), {
    ok: false,
    reason: 'topic-mismatch',
  });
  assert.equal(guard.check(good.topic, utf8('{"name":"ping"}'), nowMs), { ok: false, reason: 'cose-malformed' });
});

test.run();
