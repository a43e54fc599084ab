// The wire CBOR codec on both engines (Node and x0-runtime): the bytes cbor-x 1.6 wrote (recorded below with
// cbor-x on Node; test/wire/cbor.node.test.ts compares the two over arbitrary values), and the decoder's
// refusals of hostile input: failure as a value, never a throw, never an allocation the input cannot back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { CborTag, decodeCbor, decodeDepthMax, decodeLimited, encodeCbor } from '../../src/core/wire/cbor.js';
import { fromHex, toHex } from '../../src/core/wire/hex.js';

// [name, value, hex written by cbor-x's Encoder (useRecords false, mapsAsObjects true, tagUint8Array false,
// pack false, variableMapSize true) on Node]
const recorded: [string, unknown, string][] = [
  [
    'gossip digest',
    [1, 'alpha', 4294967295, 2 ** 40, Number.MAX_SAFE_INTEGER],
    '850165616c7068611afffffffffb4270000000000000fb433fffffffffffff',
  ],
  [
    'negative integers',
    [-1, -24, -25, -256, -257, -65536, -65537, -(2 ** 32), -(2 ** 32) - 1],
    '892037381838ff39010039ffff3a000100003afffffffffbc1f0000000100000',
  ],
  ['fractions', [0.5, 0.1, -1.25, 1e300], '84fb3fe0000000000000fb3fb999999999999afbbff4000000000000fb7e37e43c8800759c'],
  [
    'text',
    ['', 'a', 'ü', '€', '😀', 'x'.repeat(24), 'ж'.repeat(40)],
    `8760616162c3bc63e282ac64f09f98807818${'78'.repeat(24)}7850${'d0b6'.repeat(40)}`,
  ],
  [
    'bytes',
    [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(24).fill(7)],
    `834043010203${'5818'}${'07'.repeat(24)}`,
  ],
  [
    'object in insertion order',
    { z: 1, a: [true, false, null, undefined], m: { n: 'o' } },
    'a3617a01616184f5f4f6f7616da1616e616f',
  ],
  ['bigint', [2n ** 64n - 1n, -(2n ** 63n)], '821bffffffffffffffff3b7fffffffffffffff'],
];

test('encodes every value shape to the bytes cbor-x wrote', () => {
  for (const [name, value, hex] of recorded) assert.is(toHex(encodeCbor(value)), hex, name);
});

test('encodes correctly after an encoding that outgrew the scratch buffer (regression: stale bound)', () => {
  assert.is(encodeCbor(new Uint8Array(100_000)).length, 100_005);
  const after = encodeCbor([new Uint8Array(2000).fill(1), new Uint8Array(2000).fill(2)]);
  assert.is(toHex(after.subarray(0, 4)), '825907d0');
  assert.is(after.length, 1 + 2 * 2003);
  assert.is(after[after.length - 1], 2);
});

test('decodes the recorded bytes back (64-bit heads as bigint, bytes as Uint8Array)', () => {
  for (const [name, value, hex] of recorded) {
    const decoded = decodeLimited(fromHex(hex), 4096);
    assert.ok(decoded.ok, name);
    assert.equal(decoded.value, value, name);
  }
});

const refuses = (hex: string, why: string) =>
  assert.equal(decodeLimited(fromHex(hex), 1 << 20), { ok: false, reason: 'cbor-malformed' }, why);

test('refuses malformed and unsupported input with a reason, never a throw', () => {
  refuses('', 'empty');
  refuses('8301', 'truncated array');
  refuses('6461', 'truncated text');
  refuses('1a0000', 'truncated head');
  refuses('0000', 'trailing bytes');
  refuses('9f01ff', 'indefinite-length array');
  refuses('bf616101ff', 'indefinite-length map');
  refuses('5f4101ff', 'indefinite-length byte string');
  refuses('ff', 'break outside an indefinite item');
  refuses('1c', 'reserved head');
  refuses('f810', 'simple value');
  refuses('e0', 'unassigned simple value');
  refuses('c11a5f000000', 'a tag (epoch time) not asked for');
  refuses('d903010000', 'tag 259');
  refuses('62c328', 'invalid UTF-8');
  refuses('63eda080', 'UTF-8 of a surrogate');
  refuses('62c0af', 'overlong UTF-8');
  refuses('a2616101616102', 'duplicate key');
  refuses('a18001', 'an array as an object key');
  refuses('9bffffffffffffffff', 'array longer than the input');
  refuses('bb0000000100000000', 'map longer than the input');
  refuses('5affffffff00', 'byte string longer than the input');
});

test('refuses nesting beyond decodeDepthMax without exhausting the stack', () => {
  const deep = (levels: number) => fromHex(`${'81'.repeat(levels)}00`);
  assert.ok(decodeLimited(deep(decodeDepthMax), 1 << 20).ok);
  refuses(toHex(deep(decodeDepthMax + 1)), 'one level too deep');
  assert.equal(decodeLimited(deep(200_000), 1 << 20), { ok: false, reason: 'cbor-malformed' });
  assert.throws(() => encodeCbor(JSON.parse(`${'['.repeat(decodeDepthMax + 1)}${']'.repeat(decodeDepthMax + 1)}`)));
});

test('refuses input over the size cap before decoding it', () => {
  assert.equal(decodeLimited(encodeCbor(new Uint8Array(100)), 50), { ok: false, reason: 'cbor-too-large' });
});

test('a "__proto__" key is an own property, not a prototype', () => {
  const decoded = decodeLimited<Record<string, unknown>>(fromHex('a1695f5f70726f746f5f5fa1617801'), 100);
  assert.ok(decoded.ok);
  assert.is(Object.getPrototypeOf(decoded.value), Object.prototype);
  assert.equal(Object.keys(decoded.value), ['__proto__']);
  assert.is((decoded.value as { x?: unknown }).x, undefined);
});

test('integer keys become their decimal strings; floats of every width decode', () => {
  assert.equal(decodeLimited(fromHex('a2016161206162'), 100), { ok: true, value: { '1': 'a', '-1': 'b' } });
  assert.equal(decodeLimited(fromHex('83f93e00fa3fc00000f97c00'), 100), { ok: true, value: [1.5, 1.5, Infinity] });
});

test('options: maps as Maps, tags asked for, 64-bit integers as numbers only when exact', () => {
  const sign1 = decodeCbor(fromHex('d28443a10126a0f64100'), 100, { maps: 'maps', tags: [18] });
  assert.ok(sign1.ok);
  const tagged = sign1.value as CborTag;
  assert.ok(tagged instanceof CborTag);
  assert.is(tagged.tag, 18);
  assert.ok((tagged.value as unknown[])[1] instanceof Map);
  assert.equal(decodeCbor(fromHex('1b001fffffffffffff'), 100, { int64: 'number' }), {
    ok: true,
    value: Number.MAX_SAFE_INTEGER,
  });
  assert.equal(decodeCbor(fromHex('1b0020000000000000'), 100, { int64: 'number' }), {
    ok: false,
    reason: 'cbor-malformed',
  });
  assert.equal(decodeLimited(fromHex('1b0020000000000000'), 100), { ok: true, value: 2n ** 53n });
  assert.equal(decodeLimited(fromHex('3b0020000000000000'), 100), { ok: true, value: -(2n ** 53n) - 1n });
});

test('byte strings are views of the input, as before (callers copy what they keep)', () => {
  const input = fromHex('4401020304');
  const decoded = decodeLimited<Uint8Array>(input, 100);
  assert.ok(decoded.ok);
  assert.is(decoded.value.buffer, input.buffer);
  assert.is(Object.getPrototypeOf(decoded.value), Uint8Array.prototype);
});

test('arbitrary bytes decode or fail as a value, and what decodes re-encodes to a decodable value', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const decoded = decodeLimited(bytes, 64);
      if (decoded.ok) assert.ok(decodeLimited(encodeCbor(decoded.value), 1 << 16).ok);
    }),
    { numRuns: 2000 },
  );
});

test('encode then decode gives the value back', () => {
  const leaf = fc.oneof(
    fc.integer({ min: -(2 ** 32), max: 2 ** 32 - 1 }),
    fc.double({ noNaN: true }).filter((x) => !Object.is(x, -0)),
    fc.string({ maxLength: 80 }),
    fc.uint8Array({ maxLength: 40 }),
    fc.boolean(),
    fc.constant(null),
  );
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 5 }),
    object: fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 5, noNullPrototype: true }),
  }));
  fc.assert(
    fc.property(value, (v) => {
      assert.equal(decodeLimited(encodeCbor(v), 1 << 20), { ok: true, value: v });
    }),
    { numRuns: 300 },
  );
});

test.run();
