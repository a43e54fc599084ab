// Bad input at the gossip engine: every kind of refusal has a stable reason code and a counter, and leaves
// the document, the version vector and the retained deltas exactly as they were. Then fuzzing: random and
// mutated datagrams never throw. Engine-neutral.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import type { Gossip } from '../../src/core/gossip/gossip.js';
import { limits } from '../../src/core/gossip/limits.js';
import { setStatus } from '../../src/core/gossip/local.js';
import { encodeMessage } from '../../src/core/gossip/messages.js';
import { signedDocToWire, type SignedDoc } from '../../src/core/gossip/signed-doc.js';
import { encodeCbor } from '../../src/core/wire/cbor.js';
import { bytesEqual } from '../../src/core/wire/hex.js';
import { engine, syncedWallMs } from './harness.js';
import { docPool, revocationDoc } from './kinds.js';

const members = ['a', 'b', 'c', 'x'];

/** A receiver that already holds some state (so "unchanged" means something), plus its sender b. */
function receiver(wallMs = syncedWallMs): Gossip {
  const a = engine('a', { members, wallMs });
  setStatus(a, { online: true, uptimeS: 5, loadMilli: 1 }, wallMs);
  a.receive(deltas('b', [['b~1', 1, statusWire('b~1', wallMs)]]), wallMs, 'b');
  assert.is(a.doc.status('b')?.uptimeS, 7, 'the receiver took a good delta');
  return a;
}

const statusWire = (stream: string, atMs: number, writer = stream) => ({
  s: [
    [atMs, 0, writer],
    [1, 7, 0],
  ],
});
const deltas = (from: string, items: unknown[][]) => encodeCbor([4, from, items]);

function state(g: Gossip): { doc: Uint8Array; root: number; retained: number; revocations: number } {
  return {
    doc: encodeCbor(g.doc.toWire()),
    root: g.vv.root(),
    retained: g.retainedDeltas,
    revocations: g.doc.revocations.version,
  };
}

/** Delivers `bytes` and checks: the reason counted once, nothing else changed. */
function refuses(
  reason: string,
  bytes: Uint8Array,
  options: { from?: string; wallMs?: number; g?: Gossip } = {},
): Gossip {
  const g = options.g ?? receiver();
  const before = state(g);
  const counted = g.counters.get(`refused:${reason}`) ?? 0;
  const out = g.receive(bytes, options.wallMs ?? syncedWallMs, options.from ?? 'b');
  assert.is(
    g.counters.get(`refused:${reason}`) ?? 0,
    counted + 1,
    `refused:${reason} counted (counters: ${JSON.stringify(g.counters.snapshot())})`,
  );
  const after = state(g);
  assert.ok(bytesEqual(after.doc, before.doc), 'document unchanged');
  assert.is(after.root, before.root, 'version vector unchanged');
  assert.is(after.retained, before.retained, 'retained deltas unchanged');
  assert.is(after.revocations, before.revocations, 'revocation list unchanged');
  assert.ok(out.every((m) => m.bytes.length <= limits.datagramBytesMax));
  return g;
}

test('oversized, undecodable and malformed datagrams are refused', () => {
  refuses('cbor-too-large', encodeCbor([1, 'b', 0, 0, 0, new Uint8Array(limits.datagramBytesMax)]));
  refuses('cbor-malformed', new Uint8Array([0xff, 0xfe, 0x00, 0x9f]));
  refuses('cbor-malformed', encodeCbor([1, 'b', 2, 0, 0]).subarray(0, 4));
  refuses('message-malformed', encodeCbor({ type: 1 }));
  refuses('message-malformed', encodeCbor([1, 'b']));
  refuses('message-malformed', encodeCbor([1, 'b', -1, 0, 0]));
  refuses('message-malformed', encodeCbor([2, 'b', 1, 0, 0, [1, 2, 3]]));
  refuses('message-malformed', encodeCbor([3, 'b', [limits.digestBuckets], [], 0]));
  refuses('message-malformed', deltas('b', [['b~1']]));
  refuses('message-malformed', deltas('b', [['b~1', 2, new Uint8Array(4), 0, limits.sectionChunksMax + 1]]));
  refuses('message-malformed', encodeCbor([6, 'b', 1, 2, 2, new Uint8Array(4)]));
  refuses('message-type-unknown', encodeCbor([99, 'b', 0]));
});

test('messages from unknown, revoked or impersonated senders are refused', () => {
  const syn = (from: string) => encodeMessage({ type: 1, from, root: 1, doc: [0, 0] });
  refuses('sender-unknown', syn('z'), { from: 'z' });
  refuses('sender-mismatch', syn('b'), { from: 'c' });
  const g = receiver();
  assert.is(g.offerDoc(revocationDoc(1, ['x'])), null);
  refuses('sender-revoked', syn('x'), { from: 'x', g });
  refuses('sender-revoked', deltas('x', [['x~1', 1, statusWire('x~1', syncedWallMs)]]), { from: 'x', g });
});

test('deltas relayed from unknown or revoked origins are refused', () => {
  refuses('origin-unknown', deltas('b', [['z~1', 1, statusWire('z~1', syncedWallMs)]]));
  const g = receiver();
  assert.is(g.offerDoc(revocationDoc(1, ['x'])), null);
  refuses('origin-revoked', deltas('b', [['x~1', 1, statusWire('x~1', syncedWallMs)]]), { g });
});

test('malformed deltas are refused: shape, writer, entry counts, stream names, gaps, our own stream', () => {
  refuses('delta-malformed', deltas('b', [['b~1', 2, { q: 1 }]]));
  refuses(
    'delta-malformed',
    deltas('b', [
      [
        'b~1',
        2,
        {
          s: [
            [syncedWallMs, 0, 'b~1'],
            [2, 7, 0],
          ],
        },
      ],
    ]),
  );
  refuses('delta-malformed', deltas('b', [['b~1', 2, { c: [['k', [['b~1', -1, 0]]]] }]]));
  refuses('delta-wrong-writer', deltas('b', [['b~1', 2, statusWire('b~1', syncedWallMs, 'c~1')]]));
  refuses('delta-wrong-writer', deltas('b', [['b~1', 2, { c: [['k', [['b~2', 1, 0]]]] }]]));
  const counters = Array.from({ length: limits.countersMax + 1 }, (_, i) => [`k${i}`, [['b~1', 1, 0]]]);
  refuses('delta-too-many-entries', deltas('b', [['b~1', 2, { c: counters }]]));
  refuses('delta-bad-stream', deltas('b', [['no-incarnation', 2, statusWire('b~1', syncedWallMs)]]));
  refuses('delta-bad-stream', deltas('b', [['b~0', 2, statusWire('b~0', syncedWallMs)]]));
  refuses('seq-gap-too-large', deltas('b', [['b~1', 2 + limits.streamGapMax, statusWire('b~1', syncedWallMs)]]));
  refuses('delta-own-stream', deltas('b', [['a~1', 50, statusWire('a~1', syncedWallMs)]]));
  const g = refuses('own-incarnation-ahead', deltas('b', [['a~9', 1, statusWire('a~9', syncedWallMs)]]));
  assert.is(g.ownIncarnationSeen, 9, 'a later life of this node is noticed');
});

test('timestamps far in the future are refused, with a bounded horizon for clocks still at 1970', () => {
  const aheadMs = limits.clockAheadMsMax + 60_000;
  refuses('clock-future', deltas('b', [['b~1', 2, statusWire('b~1', syncedWallMs + aheadMs)]]));
  // A router before NTP (wall clock near 0) cannot judge "now": it accepts up to the floor plus a horizon.
  const early = receiver(1_000);
  early.receive(deltas('c', [['c~1', 1, statusWire('c~1', syncedWallMs)]]), 1_000, 'c');
  assert.is(early.doc.status('c')?.uptimeS, 7, "a synced peer's timestamp is taken before NTP");
  const tooFar = limits.wallClockFloorMs + limits.unsyncedHorizonMs + 1;
  refuses('clock-future', deltas('b', [['b~1', 2, statusWire('b~1', tooFar)]]), { g: early, wallMs: 1_000 });
});

test('revocation lists with a bad signature or garbage are refused and never merged', () => {
  const chunk = (doc: SignedDoc) => encodeCbor([6, 'b', doc.version, 0, 1, encodeCbor(signedDocToWire(doc))]);
  const forged = docPool.find((d) => d.version === 9) as SignedDoc;
  const g = refuses('signature-invalid', chunk(forged));
  assert.is(g.doc.revocations.doc, null);
  refuses('signed-doc-malformed', encodeCbor([6, 'b', 3, 0, 1, new Uint8Array([1, 2, 3])]));
  refuses(
    'signed-doc-malformed',
    encodeCbor([6, 'b', 4, 0, 1, encodeCbor(['revocations', 4, 'not bytes', new Uint8Array(64)])]),
  );
  const good = revocationDoc(2, ['x']);
  refuses('signed-doc-malformed', encodeCbor([6, 'b', 3, 0, 1, encodeCbor(signedDocToWire(good))]), { g });
  assert.is(g.offerDoc({ ...good, kind: 'not-revocations' }), 'signed-doc-kind');
  assert.is(g.offerDoc(good), null);
  assert.is(g.doc.revocations.version, 2);
});

test('a state transfer whose reassembled bytes are garbage is refused', () => {
  const g = receiver();
  const bytes = new Uint8Array(limits.chunkBytes + 10).fill(0xff);
  g.receive(deltas('b', [['c~1', 3, bytes.subarray(0, limits.chunkBytes), 0, 2]]), syncedWallMs, 'b');
  refuses('delta-malformed', deltas('b', [['c~1', 3, bytes.subarray(limits.chunkBytes), 1, 2]]), { g });
});

// Fuzzing: nothing a peer sends can throw. Valid messages of every type are mutated byte by byte, and
// random values are encoded as messages.
const samples = (() => {
  const b = engine('b', { members });
  setStatus(b, { online: true, uptimeS: 3, loadMilli: 3 }, syncedWallMs);
  return [
    encodeMessage({ type: 1, from: 'b', root: 12345, doc: [1, 7] }),
    encodeMessage({ type: 2, from: 'b', root: 1, doc: [0, 0], hashes: new Array(limits.digestBuckets).fill(3) }),
    encodeMessage({
      type: 3,
      from: 'b',
      buckets: [1, 2],
      entries: [
        ['b~1', 1],
        ['c~1', 4],
      ],
      reply: true,
    }),
    deltas('b', [
      ['b~1', 1, statusWire('b~1', syncedWallMs)],
      ['c~2', 2, new Uint8Array([0xa0]), 0, 1],
    ]),
    encodeCbor([6, 'b', 1, 0, 1, encodeCbor(signedDocToWire(revocationDoc(1, ['x'])))]),
    encodeMessage({ type: 7, from: 'b', sections: [['b', 1, statusWire('b~1', syncedWallMs)]] }),
  ];
})();

test('mutated and random datagrams never throw', () => {
  const g = receiver();
  fc.assert(
    fc.property(
      fc.nat(samples.length - 1),
      fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 6 }),
      (which, flips) => {
        const bytes = new Uint8Array(samples[which] as Uint8Array);
        for (const [at, value] of flips) bytes[at % bytes.length] = value;
        g.receive(bytes, syncedWallMs, 'b');
      },
    ),
    { numRuns: 400 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1400 }), (bytes) => {
      g.receive(bytes, syncedWallMs, 'b');
    }),
    { numRuns: 200 },
  );
  const value = fc.oneof(
    fc.integer(),
    fc.string({ maxLength: 8 }),
    fc.constant(null),
    fc.uint8Array({ maxLength: 8 }),
    fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 4 })), { maxLength: 4 }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 8 }), fc.array(value, { maxLength: 5 }), (type, rest) => {
      g.receive(encodeCbor([type, 'b', ...rest]), syncedWallMs, 'b');
    }),
    { numRuns: 300 },
  );
  assert.ok(
    Object.keys(g.counters.snapshot()).some((k) => k.startsWith('refused:')),
    'fuzzing was refused somewhere',
  );
  assert.ok(g.vv.size <= members.length, 'no stream outside the members');
});

test.run();
