// The UTF-8 core of the TextEncoder/TextDecoder polyfill (src/platform/qjs/utf8.ts), on both engines:
// known byte sequences, WHATWG replacement of invalid input, fatal mode, round trips.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeUtf8, encodeUtf8 } from '../../src/platform/qjs/utf8.js';

const bytes = (...values: number[]) => Uint8Array.from(values);

test('encodes ASCII, 2-, 3- and 4-byte characters', () => {
  assert.equal(Array.from(encodeUtf8('A')), [0x41]);
  assert.equal(Array.from(encodeUtf8('é')), [0xc3, 0xa9]);
  assert.equal(Array.from(encodeUtf8('✓')), [0xe2, 0x9c, 0x93]);
  assert.equal(Array.from(encodeUtf8('😀')), [0xf0, 0x9f, 0x98, 0x80]);
});

test('a lone surrogate encodes as U+FFFD', () => {
  assert.equal(Array.from(encodeUtf8('a\ud800b')), [0x61, 0xef, 0xbf, 0xbd, 0x62]);
  assert.equal(Array.from(encodeUtf8('\udc00')), [0xef, 0xbf, 0xbd]);
});

test('decodes what it encodes', () => {
  const text = 'héllo ✓ 😀 \u0000 end';
  assert.is(decodeUtf8(encodeUtf8(text), false), text);
  const long = 'ж'.repeat(10_000);
  assert.is(decodeUtf8(encodeUtf8(long), false), long);
});

test('invalid input: one U+FFFD per maximal subpart, or a TypeError when fatal', () => {
  assert.is(decodeUtf8(bytes(0x61, 0xff, 0x62), false), 'a\ufffdb');
  assert.is(decodeUtf8(bytes(0xe2, 0x9c), false), '\ufffd'); // truncated 3-byte sequence
  assert.is(decodeUtf8(bytes(0xed, 0xa0, 0x80), false), '\ufffd\ufffd\ufffd'); // encoded surrogate
  assert.is(decodeUtf8(bytes(0xc0, 0xaf), false), '\ufffd\ufffd'); // overlong
  assert.is(decodeUtf8(bytes(0xf4, 0x90, 0x80, 0x80), false), '\ufffd\ufffd\ufffd\ufffd'); // past U+10FFFF
  assert.throws(
    () => decodeUtf8(bytes(0x80), true),
    (error: unknown) => error instanceof TypeError,
  );
});

test.run();
