// The CA's ledger, its one-file backup and verifyCertificates (src/core/identity/ledger.ts): engine-neutral.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  backupFilesMax,
  decodeBackup,
  decodeLedger,
  emptyLedger,
  encodeBackup,
  encodeLedger,
  knowsNode,
  ledgerEntriesMax,
  verifyCertificates,
  withCert,
  withToken,
} from '../../src/core/identity/ledger.js';
import { noRevocations } from '../../src/core/identity/chain.js';
import { RevocationStore, signRevocationList } from '../../src/core/identity/revocation.js';
import { buildWorld, hourMs, nowMs } from './fixtures.js';

const world = buildWorld();
const c = world.crypto;
const token = (name: string, byte: number) => ({
  tokenId: new Uint8Array(16).fill(byte),
  name,
  roles: ['member'],
  issuedAtMs: nowMs,
  notAfterMs: nowMs + hourMs,
});

test('the ledger round-trips, knows the nodes it issued for, and keeps the newest entries', () => {
  let ledger = withToken(emptyLedger, token('a', 1));
  ledger = withCert(c, ledger, world.b.chain[0]!);
  ledger = withCert(c, ledger, world.anchor.cert);
  const decoded = decodeLedger(encodeLedger(ledger));
  assert.ok(decoded.ok);
  assert.equal(decoded.ok && decoded.value, ledger);
  assert.ok(knowsNode(ledger, 'a'), 'a token was issued for a');
  assert.ok(knowsNode(ledger, 'b'), 'a certificate was signed for b');
  assert.not.ok(knowsNode(ledger, 'anchor-1'), 'an intermediate is not a node');
  assert.not.ok(knowsNode(ledger, 'c'));
  let full = emptyLedger;
  for (let i = 0; i < ledgerEntriesMax + 3; i++) full = withToken(full, token(`n${i}`, i % 256));
  assert.is(full.tokens.length, ledgerEntriesMax);
  assert.is(full.tokens[0]?.name, 'n3', 'the oldest went first');
});

test('a damaged ledger is refused, never read as empty', () => {
  const bytes = encodeLedger(withToken(emptyLedger, token('a', 1)));
  assert.is(decodeLedger(bytes.subarray(0, bytes.length - 3)).ok, false);
  const bad = encodeLedger({ tokens: [{ ...token('a', 1), name: 'Not A Name' }], certs: [] });
  assert.equal(decodeLedger(bad), { ok: false, reason: 'ledger-malformed' });
});

test('a backup round-trips; a flipped byte, a foreign name or too many files are refused', () => {
  const files = [
    { name: 'ca.key', mode: 0o600, data: new Uint8Array([1, 2, 3]) },
    { name: 'next/ca.cert', mode: 0o644, data: new Uint8Array([4]) },
  ];
  const bytes = encodeBackup(c, { createdAtMs: nowMs, files });
  assert.equal(decodeBackup(c, bytes), { ok: true, value: { createdAtMs: nowMs, files } });
  for (let i = 0; i < bytes.length; i += 7) {
    const damaged = new Uint8Array(bytes);
    damaged[i] = (damaged[i] as number) ^ 0x40;
    assert.is(decodeBackup(c, damaged).ok, false, `byte ${i}`);
  }
  const outside = encodeBackup(c, {
    createdAtMs: nowMs,
    files: [{ name: '../etc/passwd', mode: 0o644, data: new Uint8Array() }],
  });
  assert.equal(decodeBackup(c, outside), { ok: false, reason: 'backup-malformed' });
  const many = Array.from({ length: backupFilesMax + 1 }, (_, i) => ({
    name: `f${i}`,
    mode: 0o644,
    data: new Uint8Array(),
  }));
  assert.equal(decodeBackup(c, encodeBackup(c, { createdAtMs: nowMs, files: many })), {
    ok: false,
    reason: 'backup-malformed',
  });
});

test('verifyCertificates: node chains, a lone intermediate or root, expiry and revocation by serial', () => {
  const b = verifyCertificates(c, world.b.chain, world.bundle, nowMs, noRevocations);
  assert.ok(b.ok);
  assert.equal(b.ok && b.value.rootKeyId, world.root.cert.issuerKeyId);
  assert.ok(verifyCertificates(c, [world.anchor.cert], world.bundle, nowMs, noRevocations).ok);
  assert.ok(verifyCertificates(c, [world.root.cert], world.bundle, nowMs, noRevocations).ok);
  const late = nowMs + 400 * 24 * hourMs;
  assert.equal(verifyCertificates(c, [world.anchor.cert], world.bundle, late, noRevocations), {
    ok: false,
    reason: 'cert-expired',
  });
  const store = new RevocationStore();
  store.offer(
    signRevocationList(c, world.root, 1, { issuedAtMs: nowMs, serials: [world.anchor.cert.serial], nodeIds: [] }),
  );
  assert.equal(verifyCertificates(c, [world.anchor.cert], world.bundle, nowMs, store), {
    ok: false,
    reason: 'cert-revoked',
  });
  assert.equal(verifyCertificates(c, world.b.chain, world.bundle, nowMs, store), { ok: false, reason: 'cert-revoked' });
  assert.equal(verifyCertificates(c, [], world.bundle, nowMs, noRevocations), { ok: false, reason: 'chain-empty' });
  const other = buildWorld(c, 'mesh.example', 60);
  assert.equal(verifyCertificates(c, [other.anchor.cert], world.bundle, nowMs, noRevocations), {
    ok: false,
    reason: 'unknown-issuer',
  });
  assert.equal(verifyCertificates(c, [other.root.cert], world.bundle, nowMs, noRevocations), {
    ok: false,
    reason: 'issuer-not-in-bundle',
  });
});

test.run();
