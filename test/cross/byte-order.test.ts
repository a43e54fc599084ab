// Byte order on the wire, checked on every target the suite runs on (x86-64, and big-endian MIPS under qemu in
// test/cross/run.sh). CBOR (RFC 8949) is big-endian; our hand-written encoder builds float64s from a
// Float64Array, whose bytes are in the HOST's order, so it must swap only on a little-endian host.
//
// The planted bug (X0_PLANT_BYTE_ORDER_BUG=native-order, set by test/cross/run.sh through test-qjs's
// X0_TEST_QJS_DEFINE) is the classic one: native-order bytes "fixed up" by an unconditional reverse, which is
// right where the host is little-endian (x86-64, ARM, MIPSel) and wrong on big-endian MIPS. run.sh asserts that
// these tests then pass on x86-64 and fail on mips_24kc: the suite catches what an x86-only CI cannot.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeValue } from '../../src/core/telemetry/cbor.js';
import { toHex } from '../../src/core/wire/hex.js';

const planted = (globalThis as { X0_PLANT_BYTE_ORDER_BUG?: unknown }).X0_PLANT_BYTE_ORDER_BUG;
if (planted !== undefined && planted !== 'native-order') {
  throw new Error(`X0_PLANT_BYTE_ORDER_BUG=${String(planted)}: the only planted bug is 'native-order'`);
}

/** The planted encoder: host-order bytes, reversed as if every host were little-endian. */
function encodeNativeReversed(value: number): Uint8Array {
  if (Number.isSafeInteger(value)) {
    return Uint8Array.of(0x1a, ...new Uint8Array(Uint32Array.of(value).buffer).reverse());
  }
  return Uint8Array.of(0xfb, ...new Uint8Array(Float64Array.of(value).buffer).reverse());
}

const encode = (value: number): Uint8Array =>
  planted === 'native-order' ? encodeNativeReversed(value) : encodeValue(value);

// RFC 8949 Appendix A (examples of encoded CBOR data items).
const appendixA: ReadonlyArray<readonly [number, string]> = [
  [1.1, 'fb3ff199999999999a'],
  [1.0e300, 'fb7e37e43c8800759c'],
  [-4.1, 'fbc010666666666666'],
  [1000000, '1a000f4240'],
];

for (const [value, hex] of appendixA) {
  test(`CBOR ${value} encodes to RFC 8949's bytes ${hex} on this host`, () => {
    assert.is(toHex(encode(value)), hex);
  });
}

test('the host byte order seen by typed arrays agrees with DataView', () => {
  const bytes = new Uint8Array(Uint32Array.of(0x01020304).buffer);
  const littleEndian = new DataView(bytes.buffer).getUint32(0, true) === 0x01020304;
  const bigEndian = new DataView(bytes.buffer).getUint32(0, false) === 0x01020304;
  assert.ok(littleEndian !== bigEndian, `bytes ${toHex(bytes)} are neither order`);
  assert.is(toHex(bytes), littleEndian ? '04030201' : '01020304');
});

test.run();
