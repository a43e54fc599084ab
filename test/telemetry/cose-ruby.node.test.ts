// Our COSE_Sign1 against an independent implementation: cose-ruby (Debian's ruby-cose) builds the
// Sig_structure its own way and OpenSSL checks the Ed25519 signature; and the other way round, a message
// cose-ruby + OpenSSL produce verifies with our decoder and crypto.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { decodeSign1, signSign1, verifySign1 } from '../../src/core/telemetry/cose.js';
import { encodeValue } from '../../src/core/telemetry/cbor.js';
import { fromHex, toHex, utf8 } from '../../src/core/wire/hex.js';
import { root, run } from '../lib/processes.js';
import { crypto } from '../mqtt/lib.js';

const script = `${root}test/mqtt/fixtures/cose-cross.rb`;
const keys = crypto.signKeyPairFromSeed(new Uint8Array(32).fill(7));

test.before(() => {
  assert.ok(
    existsSync('/usr/bin/ruby') && existsSync('/usr/share/rubygems-integration/all/gems/cose-1.2.0'),
    'ruby-cose is missing: apt-get install ruby-cose (scripts/apt-packages/mqtt.txt)',
  );
});

test('cose-ruby + OpenSSL verify our COSE_Sign1 (CBOR telemetry payload, with a chain header)', async () => {
  const payload = encodeValue({ v: 1, kind: 'telemetry', data: { loadavg: 0.5, seq: 2 ** 40 } });
  const message = signSign1(crypto, keys.secretKey, payload, {
    contentType: 60,
    kid: utf8('node-kid'),
    chain: [new Uint8Array([1, 2, 3])],
  });
  const ok = await run(['ruby', script, 'verify', toHex(message), toHex(keys.publicKey)]);
  assert.is(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /verified=true payload_bytes=\d+ kid=6e6f64652d6b6964/);
  const tampered = new Uint8Array(message);
  tampered[30] = (tampered[30] as number) ^ 1;
  const bad = await run(['ruby', script, 'verify', toHex(tampered), toHex(keys.publicKey)]);
  assert.is.not(bad.code, 0, 'a tampered message fails there too');
});

test('a COSE_Sign1 made by cose-ruby + OpenSSL verifies with our decoder', async () => {
  const made = await run(['ruby', script, 'sign', toHex(new Uint8Array(32).fill(7)), 'k1', 'from ruby']);
  assert.is(made.code, 0, made.stderr);
  const decoded = decodeSign1(fromHex(made.stdout.trim()));
  assert.ok(decoded.ok, decoded.ok ? '' : decoded.reason);
  assert.is(toHex(decoded.value.kid), toHex(utf8('k1')));
  assert.ok(verifySign1(crypto, decoded.value, keys.publicKey));
});

test.run();
