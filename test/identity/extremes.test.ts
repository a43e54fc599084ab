// Extreme but well-formed identity values (issue 16): a certificate signed by the CA whose validity runs to
// 2^53 - 1 ms decoded fine and then made every place that prints it throw (Date's range ends at 8.64e15 ms:
// `x0 cert show`, the agent's 'enrolled' journal line, the renewal log). Times are bounded at decode to what a
// date can hold (year 9999). Engine-neutral.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeBounded, encodeCanonical, type Canon } from '../../src/core/identity/canonical.js';
import { certSignedMessage, decodeCertificate, describeCertificate } from '../../src/core/identity/cert.js';
import { limits } from '../../src/core/identity/limits.js';
import { toHex } from '../../src/core/wire/hex.js';
import { buildWorld, crypto } from './fixtures.js';

const world = buildWorld();

/** The node certificate of `world.a`, re-signed by the root with another notBefore / notAfter. */
function resigned(notBeforeMs: number, notAfterMs: number): Uint8Array {
  const leaf = world.a.chain[0]!;
  const tbs = decodeBounded(leaf.tbs, 2048);
  assert.ok(tbs.ok);
  const fields = [...(tbs.value as Canon[])];
  fields[9] = notBeforeMs;
  fields[10] = notAfterMs;
  const bytes = encodeCanonical(fields);
  const signature = crypto.sign(certSignedMessage(bytes), world.root.signSecretKey);
  return encodeCanonical([bytes, signature]);
}

test('a certificate whose times a date cannot hold is refused at decode, never printed', () => {
  for (const notAfterMs of [2 ** 53 - 1, 8.64e15 + 1, limits.timeMsMax + 1]) {
    const decoded = decodeCertificate(resigned(1, notAfterMs));
    if (decoded.ok)
      assert.not.throws(() => describeCertificate(decoded.value, toHex), `printing notAfter ${notAfterMs}`);
    assert.not.ok(decoded.ok, `notAfter ${notAfterMs} decoded`);
  }
  const edge = decodeCertificate(resigned(1, limits.timeMsMax));
  assert.ok(edge.ok, 'the last millisecond of year 9999 is a valid time');
  assert.not.throws(() => describeCertificate(edge.ok ? edge.value : (null as never), toHex));
});

test.run();
