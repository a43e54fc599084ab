// Planning: damping, the circuit breaker, outcomes (timeouts, unknown ids), one action in flight per target,
// and the choice among candidates by the knowledge of past outcomes (ours and, weighted, the peers').
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Mapek } from '../../src/core/mapek/mapek.js';
import type { Decision, MeshKnowledge } from '../../src/core/mapek/types.js';
import { config, core, kinds, macA, macB, nb } from './helpers.js';

/** eth-a's neighbour dies for 1 s every `periodMs` (slow enough not to count as a flap). */
const every =
  (periodMs: number) =>
  (t: number): boolean =>
    !(t >= periodMs && t % periodMs < 1000);
const dead = (): boolean => false;

/** eth-a's neighbour alive as `alive(t)` says, eth-b's always; outcomes 100 ms later as `ok(d)` says (null: none). */
function run(
  m: Mapek,
  untilMs: number,
  alive: (t: number) => boolean,
  ok: (d: Decision) => boolean | null = () => true,
): Decision[] {
  const out: Decision[] = [];
  const pending: { d: Decision; atMs: number }[] = [];
  for (let t = 0; t <= untilMs; t += 100) {
    m.observe(nb(t, macA, 'eth-a', alive(t)));
    m.observe(nb(t, macB, 'eth-b', true));
    const due = pending.filter((x) => x.atMs <= t);
    pending.splice(0, pending.length, ...pending.filter((x) => x.atMs > t));
    for (const p of due) {
      const result = ok(p.d);
      if (result !== null)
        m.outcome({ traceId: p.d.traceId, ok: result, reason: result ? null : 'batctl-failed', atMs: t });
    }
    const ds = m.tick(t);
    for (const d of ds) pending.push({ d, atMs: t + 100 });
    out.push(...ds);
  }
  return out;
}

test('damping: at most dampingActionsMax link-downs per target per window; undo actions never wait', () => {
  const m = core({ dampingActionsMax: 3, dampingWindowMs: 120_000, flapTransitionsMin: 10 });
  const ds = run(m, 200_000, every(20_000));
  const downs = ds.filter((d) => d.action.kind === 'link-down').map((d) => d.atMs);
  assert.equal(downs, [20_000, 40_000, 60_000, 140_000, 160_000, 180_000], 'never more than three in any 120 s');
  const ups = ds.filter((d) => d.action.kind === 'link-up');
  assert.is(ups.length, downs.length, 'every link-down was undone');
  assert.is(m.counters()['held-damped'], 4, 'held at 80, 100, 120 and 200 s (counted once per hold)');
  assert.ok(
    m
      .drainEvents()
      .some(
        (e) => e.kind === 'held' && /damped, 3 actions in dampingWindowMs=120000 >= dampingActionsMax=3/.test(e.text),
      ),
  );
});

test('the circuit breaker opens after breakerFailuresMax failures, is reported, half-opens after the cool-down', () => {
  let failing = true;
  const m = core({
    breakerFailuresMax: 3,
    breakerCooldownMs: 30_000,
    escalateAfterMs: 1000,
    flapTransitionsMin: 10,
    dampingActionsMax: 10,
  });
  const ds = run(m, 3000, dead, () => !failing);
  assert.equal(kinds(ds), ['link-down@iface:eth-a', 'link-down@iface:eth-a', 'link-down@iface:eth-a']);
  assert.equal(
    ds.map((d) => d.atMs),
    [0, 1100, 2200].map((x) => x),
    'a retry every escalateAfterMs after each failure',
  );
  const c = m.counters();
  assert.is(c['breaker-opened'], 1);
  const inc = m.incidents().find((i) => i.symptom === 'breaker-open');
  assert.ok(inc !== undefined && inc.state === 'open', 'an open breaker is an incident');
  assert.match(inc?.lastWhy ?? '', /failed 3 times in a row \(breakerFailuresMax=3\), last: executor: batctl-failed/);
  assert.equal(m.knowledge().breakers, [{ key: 'link-down iface:eth-a', state: 'open', failures: 3, opened: 1 }]);
  // Still dead: nothing while open; one trial after the cool-down (from 2.3 s); it fails and re-opens.
  const more: Decision[] = [];
  const pending: Decision[] = [];
  for (let t = 3100; t <= 70_000; t += 100) {
    m.observe(nb(t, macA, 'eth-a', false));
    m.observe(nb(t, macB, 'eth-b', true));
    for (const d of pending.splice(0))
      m.outcome({ traceId: d.traceId, ok: !failing, reason: 'batctl-failed', atMs: t });
    const now = m.tick(t);
    pending.push(...now);
    more.push(...now);
    if (t === 40_000) failing = false;
  }
  assert.equal(
    more.map((d) => d.atMs),
    [32_300, 62_400],
    'a trial at 2.3 + 30 s (fails, re-opens), the next 30 s later (succeeds)',
  );
  assert.is(m.counters()['breaker-opened'], 2);
  assert.is(m.counters()['breaker-closed'], 1);
  assert.equal(m.knowledge().breakers, [], 'a closed breaker is forgotten');
  assert.is(m.incidents().find((i) => i.symptom === 'breaker-open')?.state, 'cleared');
});

test('an action without an outcome fails after outcomeTimeoutMs; unknown and repeated outcomes are counted', () => {
  const m = core({ outcomeTimeoutMs: 2000, escalateAfterMs: 500, flapTransitionsMin: 10 });
  const ds = run(m, 2500, dead, () => null);
  assert.equal(
    ds.map((d) => d.atMs),
    [0, 2500],
    'one in flight; the next only after the timeout + spacing',
  );
  assert.is(m.counters()['action-failed-outcome-timeout'], 1);
  m.outcome({ traceId: 'f'.repeat(32), ok: true, reason: null, atMs: 2600 });
  assert.is(m.counters()['outcome-unknown'], 1);
  const d = ds[1] as Decision;
  m.outcome({ traceId: d.traceId, ok: true, reason: null, atMs: 2600 });
  m.outcome({ traceId: d.traceId, ok: true, reason: null, atMs: 2700 });
  assert.is(m.counters()['outcome-unknown'], 2, 'an outcome after the action finished is unknown');
});

/** A flood on macA; the XDP model honours the limits; returns the first flood decision. */
function floodDecision(m: Mapek): Decision {
  let packets = 0;
  for (let s = 0; s <= 30; s++) {
    packets += s < 20 ? 100 + (s % 3) * 10 : 9000;
    m.observe({ kind: 'xdp', atMs: s * 1000, mac: macA, packets, dropped: 0, ogms: s });
    const ds = m.tick(s * 1000);
    if (ds.length > 0) return ds[0] as Decision;
  }
  throw new Error('no flood decision');
}

test('the planner picks by past outcomes: a rate limit that never cleared a flood loses to isolate', () => {
  assert.is(floodDecision(core()).action.kind, 'rate-limit', 'without knowledge: the catalogue order');
  const bad = {
    version: 1 as const,
    stats: {
      'flood/rate-limit': { tries: 6, successes: 0, clearMsMean: 0 },
      'flood/isolate': { tries: 2, successes: 2, clearMsMean: 300 },
    },
    breakers: [],
    incidents: [],
  };
  const d = floodDecision(core({}, bad));
  assert.is(d.action.kind, 'isolate');
});

test("peers' knowledge counts with a bounded weight: one peer cannot outvote our own record", () => {
  const peer: MeshKnowledge = {
    version: 1,
    stats: { 'flood/rate-limit': { tries: 1_000_000, successes: 0, clearMsMean: 0 } },
    incidents: [],
  };
  const m = core({ peerWeight: 0.25, peerTriesMax: 20 });
  assert.equal(m.adoptPeerKnowledge('n2', peer), { ok: true });
  assert.is(floodDecision(m).action.kind, 'isolate', "with no record of our own, the peer's failures steer us");
  const own = {
    version: 1 as const,
    stats: { 'flood/rate-limit': { tries: 30, successes: 30, clearMsMean: 500 } },
    breakers: [],
    incidents: [],
  };
  const m2 = new Mapek(
    config({ peerWeight: 0.25, peerTriesMax: 20 }),
    (() => {
      let i = 0;
      return () => (++i).toString(16).padStart(32, '0');
    })(),
    own,
  );
  m2.adoptPeerKnowledge('n2', peer);
  assert.is(
    floodDecision(m2).action.kind,
    'rate-limit',
    'thirty own successes outweigh a million peer failures (capped at 20 tries x 0.25)',
  );
});

test('randomHex must give W3C trace ids: anything else is a programmer error', () => {
  const m = new Mapek(config({ flapTransitionsMin: 10 }), () => 'not-hex');
  assert.throws(() => run(m, 1000, dead), /not a W3C trace id/);
  const zeros = new Mapek(config(), () => '0'.repeat(32));
  assert.throws(() => run(zeros, 1000, dead), /not a W3C trace id/);
});

test.run();
