// The mesh view of knowledge (src/core/mapek/mesh-view.ts): a node's statistics as gossip text of at most 64
// characters a value, and the reading side that treats a peer's text as outside input (every number bounded,
// every refusal a counted reason). Engine-neutral.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Mapek } from '../../src/core/mapek/mapek.js';
import { mapekLimits } from '../../src/core/mapek/limits.js';
import { decodeMeshStats, encodeMeshStats } from '../../src/core/mapek/mesh-view.js';
import { defaultMapekConfig } from '../../src/core/mapek/types.js';

let n = 0;
const hex = () => (++n).toString(16).padStart(32, '0');

test('statistics go out as short text and come back the same', () => {
  const stats = {
    'flood/isolate': { tries: 3, successes: 3, clearMsMean: 1200 },
    'flood/rate-limit': { tries: 2, successes: 0, clearMsMean: 0 },
    'anchor-degraded/transfer-leadership': { tries: 1, successes: 1, clearMsMean: 103 },
  };
  const { values, left } = encodeMeshStats(stats);
  assert.equal(values, ['fl.is=3/3/1200 fl.rl=2/0/0 ad.tl=1/1/103']);
  assert.is(left, 0);
  const back = decodeMeshStats(values);
  assert.ok(back.ok);
  if (back.ok) assert.equal(back.value, stats);
});

test('every value fits the mesh document (64 characters), at most two values; what does not fit is counted', () => {
  const stats: Record<string, { tries: number; successes: number; clearMsMean: number }> = {};
  const pairs = [
    'neighbour-dead/link-down',
    'neighbour-alive/link-up',
    'link-flapping/retune',
    'link-calm/restore-tuning',
    'flood/rate-limit',
    'flood/isolate',
    'flood-stopped/lift',
    'auth-failing/isolate',
    'auth-calm/lift',
    'anchor-degraded/transfer-leadership',
    'component-down/restart-component',
    'neighbour-dead/bounce-interface',
  ];
  for (const key of pairs) stats[key] = { tries: 9_999_999, successes: 9_999_999, clearMsMean: 99_999_999 };
  const { values, left } = encodeMeshStats(stats);
  assert.ok(values.length <= mapekLimits.meshValuesMax);
  for (const v of values) assert.ok(v.length <= mapekLimits.meshValueCharsMax, v);
  assert.ok(left > 0, 'twelve clamped entries do not fit in two values');
  const back = decodeMeshStats(values);
  assert.ok(back.ok, 'clamped numbers are within what a peer accepts');
  if (back.ok)
    for (const s of Object.values(back.value)) {
      assert.is(s.tries, mapekLimits.meshTriesMax);
      assert.is(s.clearMsMean, mapekLimits.meshClearMsMax);
    }
});

test("a peer's text is refused whole when anything in it is wrong, with a reason", () => {
  const cases: [unknown[], string][] = [
    [['fl.is=1/1/100', 'fl.rl=1/0/0', 'ad.tl=1/1/1'], 'peer-text-too-many'],
    [['x'.repeat(65)], 'peer-text-too-long'],
    [[42], 'peer-text-too-long'],
    [['fl.is=1/1/100  fl.rl=1/0/0'], 'peer-text-bad-entry'],
    [['fl.is=1/1'], 'peer-text-bad-entry'],
    [['fl.is=-1/0/0'], 'peer-text-bad-entry'],
    [['fl.is=12345678/0/0'], 'peer-text-bad-entry'],
    [['zz.is=1/1/100'], 'peer-text-unknown-code'],
    [['fl.zz=1/1/100'], 'peer-text-unknown-code'],
    [['fl.is=1/2/100'], 'peer-text-out-of-range'],
    [['fl.is=1000001/0/0'], 'peer-text-out-of-range'],
    [['fl.is=1/1/3600001'], 'peer-text-out-of-range'],
    [['fl.is=1/1/100 fl.is=2/2/100'], 'peer-text-duplicate'],
  ];
  for (const [values, reason] of cases) {
    const r = decodeMeshStats(values);
    assert.equal(r, { ok: false, reason }, JSON.stringify(values));
  }
  assert.equal(decodeMeshStats([undefined, '']), { ok: true, value: {} }, 'absent or empty values are no record');
});

test("the core adopts a peer through its text, bounds a peer's numbers and counts every refusal", () => {
  const m = new Mapek(defaultMapekConfig(), hex);
  assert.equal(m.adoptPeerValues('n2', ['fl.rl=500/0/0 fl.is=500/500/100']), { ok: true });
  assert.equal(m.peerKnowledge().n2?.['flood/rate-limit'], { tries: 500, successes: 0, clearMsMean: 0 });
  assert.equal(m.adoptPeerValues('n3', ['fl.is=1/2/100']), { ok: false, reason: 'peer-text-out-of-range' });
  assert.equal(
    m.adoptPeerKnowledge('n4', {
      version: 1,
      stats: { 'flood/isolate': { tries: 2e6, successes: 0, clearMsMean: 0 } },
      incidents: [],
    }),
    {
      ok: false,
      reason: 'peer-bad-stats',
    },
  );
  assert.equal(
    m.adoptPeerKnowledge('n4', {
      version: 1,
      stats: { 'flood/isolate': { tries: 1, successes: 1, clearMsMean: 4e6 } },
      incidents: [],
    }),
    {
      ok: false,
      reason: 'peer-bad-stats',
    },
  );
  const c = m.counters();
  assert.is(c['peer-text-out-of-range'], 1);
  assert.is(c['peer-bad-stats'], 2);
  assert.is(m.peerKnowledge().n3, undefined, 'a refused peer leaves nothing behind');
  assert.equal(m.meshValues(), [], 'no record of our own: nothing to publish');
});

test.run();
