// Knowledge: when it is due for flash (only after a change, at most once per knowledgePersistMs), the JSON
// round trip through loadKnowledge, refusals of bad snapshots and bad peer summaries, and its size bound.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadKnowledge } from '../../src/core/mapek/knowledge.js';
import { mapekLimits } from '../../src/core/mapek/limits.js';
import { Mapek } from '../../src/core/mapek/mapek.js';
import type { Decision, KnowledgeSnapshot } from '../../src/core/mapek/types.js';
import { config, core, hexCounter, macA, macB, nb, okAll } from './helpers.js';

/** eth-a dies at 1 s and comes back at 3 s: link-down then link-up, both ok. */
function cutAndHeal(m: Mapek, fromMs = 0, toMs = 5000): Decision[] {
  const out: Decision[] = [];
  for (let t = fromMs; t <= toMs; t += 100) {
    m.observe(nb(t, macA, 'eth-a', !(t - fromMs >= 1000 && t - fromMs < 3000)));
    m.observe(nb(t, macB, 'eth-b', true));
    const ds = m.tick(t);
    okAll(m, ds, t);
    out.push(...ds);
  }
  return out;
}

test('knowledge is never due on a healthy mesh, due after a change, then at most once per knowledgePersistMs', () => {
  const m = core({ knowledgePersistMs: 60_000 });
  for (let t = 0; t <= 600_000; t += 1000) {
    m.observe(nb(t, macA, 'eth-a', true));
    m.tick(t);
    assert.not.ok(m.knowledgeDue(t), 'nothing happened, nothing to write');
  }
  cutAndHeal(m, 601_000, 606_000);
  assert.ok(m.knowledgeDue(606_000), 'the first change may be written at once');
  m.knowledgePersisted(606_000);
  assert.not.ok(m.knowledgeDue(606_000));
  cutAndHeal(m, 607_000, 612_000);
  assert.not.ok(m.knowledgeDue(612_000), 'changed, but the last write was 6 s ago');
  assert.not.ok(m.knowledgeDue(665_999));
  assert.ok(m.knowledgeDue(666_000), 'knowledgePersistMs after the last write');
});

test('knowledge survives a JSON round trip and a restart: statistics and open breakers come back', () => {
  const m = core({ breakerFailuresMax: 1, breakerCooldownMs: 10_000 });
  cutAndHeal(m);
  // one failing restart opens the restart-component breaker
  for (let t = 5100; t <= 25_000; t += 1000) {
    m.observe({ kind: 'component', atMs: t, name: 'gossip', state: 'down' });
    for (const d of m.tick(t)) m.outcome({ traceId: d.traceId, ok: false, reason: 'ubus-timeout', atMs: t });
  }
  const snap = JSON.parse(JSON.stringify(m.knowledge())) as unknown;
  const loaded = loadKnowledge(snap);
  assert.ok(loaded.ok);
  if (!loaded.ok) return;
  assert.equal(loaded.value.stats['neighbour-dead/link-down'], { tries: 1, successes: 1, clearMsMean: 0 });
  assert.equal(loaded.value.stats['neighbour-alive/link-up'], { tries: 1, successes: 1, clearMsMean: 0 });
  assert.equal(loaded.value.breakers, [
    { key: 'restart-component component:gossip', state: 'open', failures: 1, opened: 1 },
  ]);
  const again = new Mapek(
    config({ breakerFailuresMax: 1, breakerCooldownMs: 10_000, componentDownMs: 1000 }),
    hexCounter(),
    loaded.value,
  );
  assert.equal(again.knowledge().stats, loaded.value.stats);
  const ds: Decision[] = [];
  for (let t = 0; t <= 12_000; t += 1000) {
    again.observe({ kind: 'component', atMs: t, name: 'gossip', state: 'down' });
    ds.push(...again.tick(t));
  }
  assert.equal(
    ds.map((d) => d.atMs),
    [11_000],
    'the restored breaker holds a full cool-down from the first check (at 1 s)',
  );
  assert.ok(
    again.incidents().every((i) => i.state !== 'open' || i.symptom !== 'neighbour-dead'),
    'open incidents are not carried over',
  );
});

test('loadKnowledge refuses what is not a snapshot, naming what is wrong', () => {
  const good: KnowledgeSnapshot = { version: 1, stats: {}, breakers: [], incidents: [] };
  const cases: [unknown, string][] = [
    [null, 'knowledge-not-an-object'],
    [{ ...good, version: 2 }, 'knowledge-bad-version'],
    [{ ...good, stats: { 'flood/isolate': { tries: 1, successes: 2, clearMsMean: 0 } } }, 'knowledge-bad-stats'],
    [{ ...good, stats: { 'flood/reboot': { tries: 1, successes: 0, clearMsMean: 0 } } }, 'knowledge-bad-stats'],
    [{ ...good, breakers: [{ key: 'explode x', state: 'open', failures: 1, opened: 1 }] }, 'knowledge-bad-breakers'],
    [
      { ...good, incidents: Array.from({ length: mapekLimits.incidentsMax + 1 }, () => ({})) },
      'knowledge-bad-incidents',
    ],
  ];
  for (const [input, reason] of cases) {
    const r = loadKnowledge(input);
    assert.equal(r, { ok: false, reason }, JSON.stringify(input)?.slice(0, 80));
  }
  assert.ok(loadKnowledge(good).ok);
  const bad = { ...good, version: 2 } as unknown as KnowledgeSnapshot;
  assert.throws(() => new Mapek(config(), hexCounter(), bad), /knowledge snapshot is invalid .*knowledge-bad-version/);
});

test('peer summaries are validated and the peer table is bounded', () => {
  const m = core();
  assert.equal(
    m.adoptPeerKnowledge('n2', {
      version: 1,
      stats: { 'flood/isolate': { tries: -1, successes: 0, clearMsMean: 0 } },
      incidents: [],
    }),
    { ok: false, reason: 'peer-bad-stats' },
  );
  assert.equal(m.adoptPeerKnowledge('n2', 'hello'), { ok: false, reason: 'peer-bad-summary' });
  assert.equal(m.adoptPeerKnowledge('', { version: 1, stats: {}, incidents: [] }), {
    ok: false,
    reason: 'peer-bad-node',
  });
  for (let i = 0; i < mapekLimits.peersMax; i++)
    assert.ok(m.adoptPeerKnowledge(`p${i}`, { version: 1, stats: {}, incidents: [] }).ok);
  assert.equal(m.adoptPeerKnowledge('one-more', { version: 1, stats: {}, incidents: [] }), {
    ok: false,
    reason: 'peer-table-full',
  });
  assert.ok(m.adoptPeerKnowledge('p0', { version: 1, stats: {}, incidents: [] }).ok, 'a known peer is updated');
  assert.is(m.counters()['peer-table-full'], 1);
});

test('the mesh summary is compact: at most summaryStatsMax statistics and summaryIncidentsMax incidents', () => {
  const m = core({ dampingActionsMax: 64, flapTransitionsMin: 32 });
  for (let i = 0; i < 10; i++) cutAndHeal(m, i * 6000, i * 6000 + 5000);
  const s = m.meshKnowledge();
  assert.ok(Object.keys(s.stats).length <= mapekLimits.summaryStatsMax);
  assert.is(s.incidents.length, mapekLimits.summaryIncidentsMax);
  assert.equal(s.incidents[0], ['neighbour-dead', 'iface:eth-a', 'undone', 2]);
  assert.ok(JSON.stringify(s).length < 1024, `${JSON.stringify(s).length} bytes in the mesh document`);
});

test('a full knowledge snapshot stays under 32 KiB (the bound on one flash write)', () => {
  const stats: Record<string, { tries: number; successes: number; clearMsMean: number }> = {};
  const syms = [
    'neighbour-dead',
    'neighbour-alive',
    'link-flapping',
    'link-calm',
    'flood',
    'flood-stopped',
    'auth-failing',
    'auth-calm',
  ];
  const acts = [
    'link-down',
    'link-up',
    'retune',
    'restore-tuning',
    'rate-limit',
    'isolate',
    'lift',
    'bounce-interface',
  ];
  for (const s of syms)
    for (const a of acts) stats[`${s}/${a}`] = { tries: 999_999, successes: 999_998, clearMsMean: 99_999 };
  const long = 'x'.repeat(mapekLimits.nameCharsMax);
  const snap = {
    version: 1,
    stats,
    breakers: Array.from({ length: mapekLimits.breakersMax }, (_, i) => ({
      key: `bounce-interface iface:${long.slice(0, 60)}${i}`,
      state: 'open',
      failures: 99,
      opened: 99,
    })),
    incidents: Array.from({ length: mapekLimits.incidentsMax }, (_, i) => ({
      id: 'f'.repeat(32),
      symptom: 'neighbour-dead',
      target: `iface:${long}`,
      openedAtMs: 1e12 + i,
      closedAtMs: 1e12,
      actions: 99,
      lastAction: 'bounce-interface',
      lastWhy: 'w'.repeat(mapekLimits.whyCharsMax),
      state: 'failed',
    })),
  };
  assert.ok(loadKnowledge(snap).ok, 'the largest snapshot is still a valid one');
  const bytes = JSON.stringify(snap).length;
  assert.ok(bytes > 16 * 1024, `the test fills every table (${bytes} bytes)`);
  assert.ok(bytes < 32 * 1024, `${bytes} bytes`);
});

test.run();
