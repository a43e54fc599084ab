import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { FrameDecoder, encodeFrame } from '../../src/core/wire/frames.js';

test('frames split at any points come out whole and in order', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
      fc.array(fc.nat(50), { maxLength: 20 }),
      (frames, cuts) => {
        const wire = frames.map(encodeFrame).reduce((a, b) => {
          const o = new Uint8Array(a.length + b.length);
          o.set(a);
          o.set(b, a.length);
          return o;
        }, new Uint8Array(0));
        const decoder = new FrameDecoder(300);
        const out: Uint8Array[] = [];
        let offset = 0;
        for (const cut of cuts) {
          const result = decoder.push(wire.subarray(offset, Math.min(wire.length, offset + cut)));
          out.push(...result.frames);
          offset = Math.min(wire.length, offset + cut);
        }
        out.push(...decoder.push(wire.subarray(offset)).frames);
        assert.equal(
          out.map((f) => Array.from(f)),
          frames.map((f) => Array.from(f)),
        );
      },
    ),
    { numRuns: 100 },
  );
});

test('a length over the limit is an error, not a buffer', () => {
  const decoder = new FrameDecoder(10);
  const result = decoder.push(new Uint8Array([0, 11, 1, 2]));
  assert.is(result.error, 'frame-too-large');
  assert.is(result.frames.length, 0);
});

test.run();
