// Our CBOR codec against cbor-x 1.6 (a devDependency kept for this test only), which wrote every byte the
// project signed and hashed before: the same bytes for arbitrary values of every shape the code encodes, and
// the same values back from those bytes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Decoder, Encoder } from 'cbor-x';
import { decodeLimited, encodeCbor } from '../../src/core/wire/cbor.js';
import { toHex } from '../../src/core/wire/hex.js';

// The options src/core/wire/cbor.ts gave cbor-x.
const reference = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  tagUint8Array: false,
  pack: false,
  variableMapSize: true,
});
const referenceDecoder = new Decoder({ useRecords: false, mapsAsObjects: true });

/** Any string, lone surrogates included (cbor-x writes them differently below and above 64 units). */
const anyString = fc.oneof(
  fc.string({ maxLength: 100, unit: 'binary' }),
  fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 100 }).map((u) => String.fromCharCode(...u)),
  fc.string({ minLength: 60, maxLength: 300 }),
);
const anyNumber = fc.oneof(
  fc.integer({ min: -(2 ** 32) - 10, max: 2 ** 32 + 10 }),
  fc.maxSafeInteger(),
  fc.integer({ min: 0, max: 2 ** 53 }).map((x) => -x),
  fc.double(),
  fc.float().map(Number),
  fc.constantFrom(0, -0, 23, 24, 255, 256, 65535, 65536, -24, -25, -256, -257, -65536, -65537, 2 ** 32, -(2 ** 32)),
);
const anyBigint = fc.oneof(
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
  fc.constantFrom(2n ** 64n, -(2n ** 64n), -(2n ** 64n) - 1n, 0n, -1n),
);
const anyBytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
  fc.uint8Array({ maxLength: 40 }).map((b) => new Uint8Array(b.buffer, 0, Math.min(3, b.length))),
);
const leaf = fc.oneof(anyNumber, anyString, anyBytes, anyBigint, fc.boolean(), fc.constantFrom(null, undefined));

const { value: anyValue } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', maxDepth: 6 }, leaf, tie('array'), tie('object'), tie('map')),
  array: fc.array(tie('value'), { maxLength: 30 }),
  object: fc.dictionary(anyString, tie('value'), { maxKeys: 30, noNullPrototype: true }),
  map: fc.array(fc.tuple(fc.oneof(anyString, anyNumber), tie('value')), { maxLength: 4 }).map((e) => new Map(e)),
}));

const referenceHex = (value: unknown) => toHex(new Uint8Array(reference.encode(value)));

test('writes the bytes cbor-x writes, for arbitrary values of every shape we encode', () => {
  fc.assert(
    fc.property(anyValue, (value) => {
      assert.is(toHex(encodeCbor(value)), referenceHex(value));
    }),
    { numRuns: 3000 },
  );
});

test('writes the bytes cbor-x writes for long arrays, maps and strings (16- and 32-bit heads)', () => {
  const big = {
    list: Array.from({ length: 70_000 }, (_, i) => i),
    map: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i * 1.5])),
    text: 'é'.repeat(40_000),
    bytes: new Uint8Array(70_000).fill(9),
  };
  assert.is(toHex(encodeCbor(big)), referenceHex(big));
});

/** cbor-x on Node hands out Buffers; compare contents. */
const plain = (x: unknown): unknown => {
  if (x instanceof Uint8Array) return Array.from(x);
  if (Array.isArray(x)) return x.map(plain);
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
  return x;
};

test('reads back what cbor-x reads from the same bytes (valid UTF-8, no Maps, 64-bit bigints at most)', () => {
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth: 6 },
      fc.oneof(anyNumber, fc.string({ maxLength: 100 }), anyBytes, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
      fc.oneof(fc.boolean(), fc.constantFrom(null, undefined)),
      tie('array'),
      tie('object'),
    ),
    array: fc.array(tie('value'), { maxLength: 10 }),
    // cbor-x renames a "__proto__" key to "__proto_"; we keep it as an own property (test/wire/cbor.test.ts).
    object: fc.dictionary(
      fc.string({ maxLength: 10 }).filter((k) => k !== '__proto__'),
      tie('value'),
      { maxKeys: 10, noNullPrototype: true },
    ),
  }));
  fc.assert(
    fc.property(value, (v) => {
      const bytes = encodeCbor(v);
      const ours = decodeLimited(bytes, 1 << 20);
      assert.ok(ours.ok);
      assert.equal(plain(ours.value), plain(referenceDecoder.decode(bytes)));
    }),
    { numRuns: 2000 },
  );
});

test('reads every CBOR item cbor-x reads from random bytes the same, or refuses it', () => {
  // Our refusals are a superset (tags, indefinite lengths, bad UTF-8, duplicate keys); never a different value.
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 24 }), (bytes) => {
      const ours = decodeLimited(bytes, 64);
      if (!ours.ok) return;
      assert.equal(plain(ours.value), plain(referenceDecoder.decode(bytes)));
    }),
    { numRuns: 20_000 },
  );
});

test.run();
