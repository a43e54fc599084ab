// The CRDT building blocks one by one: hybrid logical clocks (monotonic on a stuck clock, bounded tolerance
// before NTP), causal contexts (out-of-order dots compact into the version vector), OR types without
// tombstone growth, and the signed-document register (an invalid signature never merges). Engine-neutral.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CausalContext } from '../../src/core/gossip/causal.js';
import { compareHlc, HlcClock, hlcAcceptLimitMs, type Hlc } from '../../src/core/gossip/hlc.js';
import { limits } from '../../src/core/gossip/limits.js';
import { AWORMap, AWORSet } from '../../src/core/gossip/or.js';
import { natCodec } from '../../src/core/gossip/codec.js';
import { PnCounter } from '../../src/core/gossip/pn-counter.js';
import { SignedDocRegister, signatureCheck } from '../../src/core/gossip/signed-doc.js';
import { encodeCbor } from '../../src/core/wire/cbor.js';
import { authority, docPool, signDoc, verify } from './kinds.js';

test('HLC: strictly increasing on a stuck or backward wall clock; the counter overflow borrows a millisecond', () => {
  const clock = new HlcClock('r~1');
  let last: Hlc = clock.now(1000);
  for (const wall of [1000, 1000, 999, 0, 1000]) {
    const next = clock.now(wall);
    assert.ok(compareHlc(next, last) > 0, `${next} after ${last}`);
    last = next;
  }
  for (let i = 0; i < limits.hlcCounterMax + 5; i++) last = clock.now(0);
  assert.is(last[0], 1001, 'moved 1 ms ahead instead of overflowing');
  assert.ok(last[1] <= limits.hlcCounterMax);
});

test('HLC: timestamps from the future are refused, against the wall clock once NTP set it, else a bounded horizon', () => {
  const synced = 1_750_000_000_000;
  assert.is(hlcAcceptLimitMs(synced), synced + limits.clockAheadMsMax);
  assert.is(
    hlcAcceptLimitMs(0),
    limits.wallClockFloorMs + limits.unsyncedHorizonMs,
    'a router at 1970 cannot judge "now"',
  );
  const clock = new HlcClock('r~1');
  assert.not.ok(clock.observe([synced + limits.clockAheadMsMax + 1, 0, 'q~1'], synced).ok);
  assert.ok(clock.observe([synced + 1000, 3, 'q~1'], synced).ok);
  assert.ok(
    compareHlc(clock.now(synced), [synced + 1000, 3, 'q~1']) > 0,
    'an observed timestamp orders our next one after it',
  );
  assert.not.ok(clock.observe([limits.wallClockFloorMs + limits.unsyncedHorizonMs + 1, 0, 'q~1'], 5).ok);
});

test('causal context: dots arriving out of order live in the cloud until contiguous, then compact into the vector', () => {
  const cc = new CausalContext();
  for (const n of [3, 5, 4]) cc.add(['r', n]);
  assert.is(cc.cloudSize, 3);
  assert.not.ok(cc.has(['r', 1]));
  cc.add(['r', 1]);
  cc.add(['r', 2]);
  assert.is(cc.cloudSize, 0);
  assert.equal(cc.toWire(), [['r', 5, []]]);
  assert.equal(CausalContext.fromWire([['r', 2, [4]]])?.toWire(), [['r', 2, [4]]]);
  assert.is(CausalContext.fromWire([['r', 2, [-1]]]), null, 'a bad dot is refused');
});

test('OR set and map: removals leave no tombstones, the state stays as small as what is live', () => {
  const set = new AWORSet();
  const map = new AWORMap(natCodec);
  const empty = [encodeCbor(set.toWire()).length, encodeCbor(map.toWire()).length];
  for (let i = 0; i < 500; i++) {
    set.add('r~1', `e${i}`);
    set.remove(`e${i}`);
    map.set('r~1', `k${i % 7}`, i, [i, 0, 'r~1']);
    map.remove(`k${i % 7}`);
  }
  assert.is(set.size, 0);
  assert.is(map.size, 0);
  assert.equal(set.toWire(), [[], [['r~1', 500, []]]], 'only the version vector remembers the removed dots');
  assert.ok(encodeCbor(set.toWire()).length <= (empty[0] as number) + 12);
  assert.ok(encodeCbor(map.toWire()).length <= (empty[1] as number) + 12);
  // Add wins over a concurrent remove.
  const a = new AWORSet();
  a.add('a~1', 'x');
  const b = a.clone();
  const removal = b.remove('x');
  const readd = a.add('a~1', 'x');
  const merged = b.clone();
  merged.merge(readd);
  merged.merge(removal);
  assert.ok(merged.has('x'));
});

test('signed document register: an invalid signature is never merged; the highest valid version wins', () => {
  const register = new SignedDocRegister('revocations', signatureCheck(authority.publicKey, verify));
  const forged = docPool.find((d) => d.version === 9);
  assert.ok(forged !== undefined);
  assert.equal(register.offer(forged), { ok: false, reason: 'signature-invalid' });
  assert.is(register.doc, null);
  assert.equal(register.offer(signDoc(2, 'b')), { ok: true, value: true });
  assert.equal(register.offer(signDoc(1, 'a')), { ok: true, value: false }, 'an older version does not win');
  const other = new SignedDocRegister('revocations', () => ({ ok: true, value: null }));
  other.doc = forged;
  assert.equal(
    register.merge(other),
    { ok: false, reason: 'signature-invalid' },
    'merging a register checks its document too',
  );
  assert.is(register.version, 2);
});

test('a PN counter whose entries from the network sum past 2^53 folds by saturating, never by an assertion', () => {
  const big = Number.MAX_SAFE_INTEGER;
  const counter = PnCounter.fromWire([
    ['a~1', big, 1],
    ['b~1', big, big],
  ]);
  assert.ok(counter !== null, 'each entry alone is a valid safe integer');
  const folded = counter.folded('a~2');
  assert.equal(folded.toWire(), [['a~2', big, big]]);
});

test.run();
