import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { createTweetnaclCrypto } from '../../src/crypto/tweetnacl.js';
import { maxHelloBytes, openHello, sealHello, type Hello } from '../../src/core/hello/hello.js';
import { encodeCbor } from '../../src/core/wire/cbor.js';

const crypto = createTweetnaclCrypto();
const keys = crypto.signKeyPairFromSeed(new Uint8Array(32).fill(7));
const hello: Hello = {
  node: 'a',
  publicKey: keys.publicKey,
  sentAtMs: 1_700_000_000_000,
  seq: 3,
  heard: false,
  text: 'hello from a',
};

test('a sealed hello opens to the same fields', () => {
  const opened = openHello(sealHello(hello, crypto, keys.secretKey), crypto);
  assert.ok(opened.ok);
  if (opened.ok) assert.equal(opened.hello, hello);
});

test('a flipped byte anywhere is rejected, never accepted', () => {
  const sealed = sealHello(hello, crypto, keys.secretKey);
  for (let i = 0; i < sealed.length; i++) {
    const forged = Uint8Array.from(sealed);
    forged[i] = (forged[i] as number) ^ 0x01;
    assert.not.ok(openHello(forged, crypto).ok, `byte ${i}`);
  }
});

test('a hello signed by another key is a bad signature', () => {
  const other = crypto.signKeyPairFromSeed(new Uint8Array(32).fill(9));
  const opened = openHello(sealHello(hello, crypto, other.secretKey), crypto);
  assert.equal(opened, { ok: false, reason: 'hello-bad-signature' });
});

test('oversized, truncated and wrong-version datagrams get their reason', () => {
  assert.equal(openHello(new Uint8Array(maxHelloBytes + 1), crypto), { ok: false, reason: 'hello-too-large' });
  const sealed = sealHello(hello, crypto, keys.secretKey);
  assert.equal(openHello(sealed.subarray(0, sealed.length - 3), crypto), { ok: false, reason: 'hello-malformed' });
  const body = encodeCbor([2, 'a', keys.publicKey, 0, 0, false, '']);
  assert.equal(openHello(encodeCbor([body, crypto.sign(body, keys.secretKey)]), crypto), {
    ok: false,
    reason: 'hello-bad-version',
  });
  const badField = encodeCbor([1, '', keys.publicKey, 0, 0, false, '']);
  assert.equal(openHello(encodeCbor([badField, crypto.sign(badField, keys.secretKey)]), crypto), {
    ok: false,
    reason: 'hello-bad-field',
  });
});

test('random bytes never throw and never verify', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => !openHello(bytes, crypto).ok),
    { numRuns: 200 },
  );
});

test.run();
