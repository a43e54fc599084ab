// The analysis rules one by one: hysteresis on neighbour liveness, flap detection, EWMA + z-score on rates
// (floods, auth failures), the degraded anchor, components, bad input and bounds. Engine-neutral.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Mapek } from '../../src/core/mapek/mapek.js';
import { mapekLimits } from '../../src/core/mapek/limits.js';
import {
  defaultMapekConfig,
  type Decision,
  type Observation,
  validateMapekConfig,
} from '../../src/core/mapek/types.js';
import { config, core, hexCounter, kinds, macA, macB, macC, nb, okAll, raftObs, twoLinks } from './helpers.js';

test('the default configuration is valid, and validate names every bad field', () => {
  assert.equal(validateMapekConfig(defaultMapekConfig()), []);
  const errors = validateMapekConfig(
    config({ ewmaAlpha: 1, rateLimitPps: 5000, flapCalmMs: 10, aliveGoodMin: 0, retuneSettings: { 'Bad Key': 1 } }),
  );
  for (const field of ['ewmaAlpha', 'rateLimitPps', 'flapCalmMs', 'aliveGoodMin', 'retuneSettings.Bad Key']) {
    assert.ok(
      errors.some((e) => e.startsWith(`${field}:`)),
      `an error names ${field}: ${errors.join('; ')}`,
    );
  }
  assert.throws(() => new Mapek(config({ ewmaAlpha: 0 }), hexCounter()), /ewmaAlpha/);
});

test('a healthy pair of links gives no decision, ever', () => {
  const m = core();
  assert.equal(twoLinks(m, 0, 120_000), []);
  assert.equal(m.counters().decisions ?? 0, 0);
});

test('neighbour dead at the probe\'s first "not alive": link-down at once, naming the probe and the reroute', () => {
  const m = core();
  const ds = twoLinks(m, 0, 2000, (t) => t < 1000);
  assert.equal(kinds(ds), ['link-down@iface:eth-a']);
  const d = ds[0] as Decision;
  assert.is(d.atMs, 1000);
  assert.is(d.symptom, 'neighbour-dead');
  assert.is(d.rule, 'neighbour-dead-link-down');
  assert.match(d.why, /probe: neighbour 02:00:00:00:00:0a on eth-a not alive/);
  assert.match(d.why, /reroute via eth-b/);
  assert.match(d.traceId, /^[0-9a-f]{32}$/);
  assert.is(d.incidentId, d.traceId, 'the first decision opens the incident');
});

test('hysteresis: alive again only after aliveGoodMin consecutive good observations', () => {
  const m = core({ aliveGoodMin: 3, flapTransitionsMin: 10 }); // the pattern below would also be a flap
  okAll(
    m,
    twoLinks(m, 0, 1000, (t) => t < 1000),
    1000,
  );
  assert.equal(m.inForceNow().linkDown, ['eth-a']);
  // good, good, bad, good, good: never three in a row
  const pattern = [true, true, false, true, true, false];
  assert.equal(
    twoLinks(m, 1100, 1600, (t) => pattern[(t - 1100) / 100] as boolean),
    [],
  );
  const up = twoLinks(m, 1700, 2200);
  assert.equal(kinds(up), ['link-up@iface:eth-a']);
  assert.is((up[0] as Decision).atMs, 1900, 'third good observation in a row (1700, 1800, 1900)');
  assert.match((up[0] as Decision).why, /3 good probes >= aliveGoodMin=3/);
});

test('no link-down without another way: the only link, or a shared interface with a live neighbour', () => {
  const only = core();
  for (let t = 0; t <= 3000; t += 100) {
    only.observe(nb(t, macA, 'eth-a', t < 1000));
    assert.equal(only.tick(t), []);
  }
  const shared = core();
  for (let t = 0; t <= 3000; t += 100) {
    shared.observe(nb(t, macA, 'wlan0', t < 1000));
    shared.observe(nb(t, macB, 'wlan0', true));
    shared.observe(nb(t, macC, 'eth-c', true));
    assert.equal(shared.tick(t), [], 'wlan0 still reaches macB');
  }
});

test('flap detection: flapTransitionsMin transitions in the window retune; one fewer does not', () => {
  const flapping =
    (downs: number) =>
    (t: number): boolean =>
      !(t >= 1000 && t < 1000 + downs * 4000 && (t - 1000) % 4000 < 2000);
  const m = core({ flapTransitionsMin: 4, flapWindowMs: 30_000 });
  const ds: Decision[] = [];
  for (let t = 0; t <= 20_000; t += 100) {
    m.observe(nb(t, macA, 'eth-a', flapping(2)(t)));
    m.observe(nb(t, macB, 'eth-b', true));
    const now = m.tick(t);
    okAll(m, now, t);
    ds.push(...now);
  }
  const retunes = ds.filter((d) => d.action.kind === 'retune');
  assert.is(retunes.length, 1);
  assert.match((retunes[0] as Decision).why, /4 transitions in flapWindowMs=30000 >= flapTransitionsMin=4/);
  assert.equal((retunes[0] as Decision).action, { kind: 'retune', iface: 'eth-a', settings: { hop_penalty: 96 } });
  const m3 = core({ flapTransitionsMin: 4 });
  const three = twoLinks(m3, 0, 20_000, (t) => !(t >= 1000 && t < 3000));
  assert.not.ok(
    three.some((d) => d.action.kind === 'retune'),
    'two transitions are no flap',
  );
});

test('a link that starts flapping while we keep it out is put back first, then retuned (batctl needs it in bat0)', () => {
  // Dead 1000-3000 and 5000-7000: link-down at the first death, the fourth transition (alive at 7000) comes while
  // the second link-down is in force; retune must wait for the link-up (the lab saw retune fail not-in-mesh).
  const m = core({ flapTransitionsMin: 4, flapWindowMs: 30_000 });
  const ds: Decision[] = [];
  for (let t = 0; t <= 20_000; t += 100) {
    m.observe(nb(t, macA, 'eth-a', !(t >= 1000 && t < 7000 && (t - 1000) % 4000 < 2000)));
    m.observe(nb(t, macB, 'eth-b', true));
    const now = m.tick(t);
    okAll(m, now, t);
    ds.push(...now);
  }
  const order = ds.filter((d) => d.target === 'iface:eth-a').map((d) => d.action.kind);
  assert.equal(order, ['link-down', 'link-up', 'link-down', 'link-up', 'retune'], order.join(' '));
  const retune = ds.find((d) => d.action.kind === 'retune') as Decision;
  const lastUp = ds.filter((d) => d.action.kind === 'link-up').at(-1) as Decision;
  assert.ok(retune.atMs > lastUp.atMs, `retune at ${retune.atMs} after the link-up at ${lastUp.atMs}`);
});

test('a calm link gets its tuning back after flapCalmMs, not before', () => {
  const m = core({ flapTransitionsMin: 2, flapWindowMs: 10_000, flapCalmMs: 20_000 });
  const ds: Decision[] = [];
  for (let t = 0; t <= 40_000; t += 100) {
    m.observe(nb(t, macA, 'eth-a', !(t >= 1000 && t < 1500)));
    m.observe(nb(t, macB, 'eth-b', true));
    const now = m.tick(t);
    okAll(m, now, t);
    ds.push(...now);
  }
  const restore = ds.find((d) => d.action.kind === 'restore-tuning') as Decision;
  assert.ok(restore !== undefined, kinds(ds).join(' '));
  assert.is(restore.atMs, 21_500, 'last transition at 1500 + flapCalmMs');
  assert.match(restore.why, /no transition for 20\.0s >= flapCalmMs=20000/);
  assert.equal(m.inForceNow().retuned, []);
});

/** XDP samples once a second for macA: `pps(t)` packets/s, `limit` applied by the test's XDP model. */
function xdpRun(
  m: Mapek,
  fromS: number,
  toS: number,
  pps: (s: number) => number,
  state: { packets: number; dropped: number; limit: number | null },
): Decision[] {
  const out: Decision[] = [];
  for (let s = fromS; s <= toS; s++) {
    const arrivals = pps(s);
    state.packets += arrivals;
    if (state.limit !== null) state.dropped += Math.max(0, arrivals - state.limit);
    m.observe({ kind: 'xdp', atMs: s * 1000, mac: macA, packets: state.packets, dropped: state.dropped, ogms: s });
    const ds = m.tick(s * 1000);
    for (const d of ds) {
      if (d.action.kind === 'rate-limit') state.limit = d.action.pps;
      if (d.action.kind === 'isolate') state.limit = 0;
      if (d.action.kind === 'lift') state.limit = null;
    }
    okAll(m, ds, s * 1000);
    out.push(...ds);
  }
  return out;
}

const noisy = (s: number): number => 100 + ((s * 37) % 41) - 20;

test('EWMA + z-score: a flood is rate-limited after floodSamplesMin anomalous samples, lifted after floodCalmMs', () => {
  const m = core({ floodSamplesMin: 2, floodCalmMs: 10_000 });
  const st = { packets: 0, dropped: 0, limit: null as number | null };
  assert.equal(xdpRun(m, 0, 30, noisy, st), [], 'noise around 100 pps is normal');
  const flood = xdpRun(m, 31, 40, () => 6000, st);
  assert.equal(kinds(flood), ['rate-limit@mac:02:00:00:00:00:0a']);
  assert.is((flood[0] as Decision).atMs, 32_000, 'second anomalous sample');
  assert.match(
    (flood[0] as Decision).why,
    /z=\d+\.\d >= zScoreMin=6 for >= floodSamplesMin=2 samples .* >= floodPpsMin=2000/,
  );
  const after = xdpRun(m, 41, 60, noisy, st);
  assert.equal(kinds(after), ['lift@mac:02:00:00:00:00:0a']);
  assert.is((after[0] as Decision).atMs, 51_000, 'calm since 41 s, + floodCalmMs');
  assert.is(
    m.counters()['action-succeeded'],
    2,
    'the rate limit was verified by the passed rate, the lift by its outcome',
  );
});

test('regression (golden flood.txt, seed 3): a flood that starts before warmupSamples is still caught', () => {
  // The first version let every warm-up sample teach the baseline, so a flood starting at sample 9 became
  // the normal (variance in the millions) and was never flagged. Outliers now never teach it.
  const m = core({ warmupSamples: 10 });
  const st = { packets: 0, dropped: 0, limit: null as number | null };
  assert.equal(xdpRun(m, 0, 8, noisy, st), []);
  const ds = xdpRun(m, 9, 20, () => 5000, st);
  assert.equal(kinds(ds), ['rate-limit@mac:02:00:00:00:00:0a']);
  assert.is((ds[0] as Decision).atMs, 12_000, 'samples 11 and 12 are the first two after warm-up');
});

test('a rate below floodPpsMin is no flood whatever its z-score; a busy but steady MAC is no flood', () => {
  const m = core();
  const st = { packets: 0, dropped: 0, limit: null as number | null };
  assert.equal(
    xdpRun(m, 0, 20, () => 10, st),
    [],
  );
  assert.equal(
    xdpRun(m, 21, 40, () => 1900, st),
    [],
    'z is huge but 1900 < floodPpsMin',
  );
  const busy = core();
  const st2 = { packets: 0, dropped: 0, limit: null as number | null };
  assert.equal(
    xdpRun(busy, 0, 120, (s) => 3000 + noisy(s) * 3, st2),
    [],
    'a steady 3,000 pps is its normal',
  );
});

test("the rate limit is twice a busy MAC's normal, but always below floodPpsMin so it can contain", () => {
  const m = core();
  const st = { packets: 0, dropped: 0, limit: null as number | null };
  assert.equal(
    xdpRun(m, 0, 20, (s) => 1500 + noisy(s), st),
    [],
  );
  const ds = xdpRun(m, 21, 30, () => 20_000, st);
  assert.equal(
    ds.map((d) => d.action),
    [{ kind: 'rate-limit', mac: macA, pps: 1999 }],
  );
  assert.is(m.counters()['action-succeeded'], 1, 'contained: the passed rate fell below floodPpsMin');
});

test('a rate limit that does not contain the flood escalates to isolate', () => {
  const m = core({ clearTimeoutMs: 3000, escalateAfterMs: 1000 });
  const st = { packets: 0, dropped: 0, limit: null as number | null };
  xdpRun(m, 0, 20, noisy, st);
  // The XDP model ignores the limit (a broken rule): the passed rate stays at the flood's.
  const ds: Decision[] = [];
  for (let s = 21; s <= 35; s++) {
    st.packets += 8000;
    m.observe({ kind: 'xdp', atMs: s * 1000, mac: macA, packets: st.packets, dropped: 0, ogms: s });
    const now = m.tick(s * 1000);
    okAll(m, now, s * 1000);
    ds.push(...now);
  }
  assert.equal(kinds(ds), ['rate-limit@mac:02:00:00:00:00:0a', 'isolate@mac:02:00:00:00:00:0a']);
  assert.match((ds[1] as Decision).why, /still passes 8000 pps through the rate limit/);
  assert.is(m.counters()['action-failed-not-cleared'], 1);
});

test('auth failures: a burst above authFailuresPerSecMin isolates the MAC, lifted after authCalmMs', () => {
  const m = core({ authCalmMs: 20_000 });
  const ds: Decision[] = [];
  for (let t = 0; t <= 40_000; t += 100) {
    if (t % 5000 === 0 && t <= 15_000)
      m.observe({ kind: 'auth-failure', atMs: t, mac: macA, peer: null, reason: 'stale-key' });
    if (t >= 10_000 && t < 12_000)
      m.observe({ kind: 'auth-failure', atMs: t, mac: macA, peer: 'n9', reason: 'bad-signature' });
    const now = m.tick(t);
    okAll(m, now, t);
    ds.push(...now);
  }
  assert.equal(kinds(ds), ['isolate@mac:02:00:00:00:00:0a', 'lift@mac:02:00:00:00:00:0a']);
  assert.match(
    (ds[0] as Decision).why,
    /auth failures\/s \(bad-signature\), z=\d+\.\d >= zScoreMin=6, >= authFailuresPerSecMin=5/,
  );
  assert.is((ds[1] as Decision).atMs, 35_000, 'lifted authCalmMs after the last failure (at 15 s)');
  m.observe({ kind: 'auth-failure', atMs: 40_100, mac: null, peer: 'x', reason: 'no-mac' });
  assert.is(m.counters()['auth-failure-without-mac'], 1);
});

test('the degraded anchor: a blip below anchorDegradedMs is ignored, a lasting one moves leadership', () => {
  const m = core({ anchorDegradedMs: 1000 });
  const raft = (t: number, degraded: boolean, role = 'leader') => m.observe(raftObs(t, degraded, role));
  const ds: Decision[] = [];
  for (let t = 0; t <= 4000; t += 100) {
    raft(t, (t >= 1000 && t < 1800) || t >= 3000);
    ds.push(...m.tick(t));
  }
  assert.equal(kinds(ds), ['transfer-leadership@raft:n1']);
  assert.is((ds[0] as Decision).atMs, 4000);
  assert.match((ds[0] as Decision).why, /degraded for 1\.0s >= anchorDegradedMs=1000/);
  okAll(m, ds, 4100);
  raft(4200, true, 'follower');
  assert.equal(m.tick(4200), []);
  assert.is(m.counters()['action-succeeded'], 1, 'verified when a later observation shows another leader');
  assert.is(m.incidents()[0]?.state, 'cleared');
});

test('a degraded Raft leader hands over before it takes a link out; once another leads, the dead link goes', () => {
  const m = core({ anchorDegradedMs: 1000 });
  const ds: Decision[] = [];
  let role = 'leader';
  for (let t = 0; t <= 3000; t += 100) {
    // eth-a dies at 1000 ms; the edge calls this leader degraded from then on (half its links dead).
    m.observe(raftObs(t, t >= 1000, role));
    m.observe(nb(t, macA, 'eth-a', t < 1000));
    m.observe(nb(t, macB, 'eth-b', true));
    const now = m.tick(t);
    okAll(m, now, t);
    ds.push(...now);
    if (now.some((d) => d.action.kind === 'transfer-leadership')) role = 'follower';
  }
  assert.equal(kinds(ds), ['transfer-leadership@raft:n1', 'link-down@iface:eth-a']);
  assert.is((ds[0] as Decision).atMs, 2000, 'the hand-over after anchorDegradedMs, no link-down meanwhile');
  assert.is((ds[1] as Decision).atMs, 2100, 'the link goes once this node no longer leads');
});

test('a Raft leader with other voters holds a link-down for anchorDegradedMs; a lone voter does not', () => {
  const first = (voters: number) => {
    const m = core({ anchorDegradedMs: 500 });
    for (let t = 0; t <= 2000; t += 100) {
      // eth-a dies at 1000 ms; this leader is not (yet) degraded: its other link is alive.
      m.observe({ ...(raftObs(t, false, 'leader') as Extract<Observation, { kind: 'raft' }>), voters });
      m.observe(nb(t, macA, 'eth-a', t < 1000));
      m.observe(nb(t, macB, 'eth-b', true));
      const ds = m.tick(t);
      okAll(m, ds, t);
      if (ds.length > 0) return `${kinds(ds).join(',')} at ${(ds[0] as Decision).atMs}`;
    }
    return 'nothing';
  };
  assert.is(first(3), 'link-down@iface:eth-a at 1500', 'held until the link was dead for anchorDegradedMs');
  assert.is(first(1), 'link-down@iface:eth-a at 1000', 'a lone voter takes it out at once');
});

test('a voter holds its dead link to the Raft leader for leaderLinkHoldMs, for the hand-over to cross it', () => {
  const first = (leadsRaft: boolean, role: string) => {
    const m = core({ anchorDegradedMs: 500, leaderLinkHoldMs: 1000 });
    for (let t = 0; t <= 3000; t += 100) {
      // eth-a to the leader (n2) dies at 1000 ms; eth-b is alive.
      m.observe({ ...(raftObs(t, false, role) as Extract<Observation, { kind: 'raft' }>), voters: 3 });
      m.observe({ ...(nb(t, macA, 'eth-a', t < 1000) as Extract<Observation, { kind: 'neighbour' }>), leadsRaft });
      m.observe(nb(t, macB, 'eth-b', true));
      const ds = m.tick(t);
      okAll(m, ds, t);
      if (ds.length > 0) return `${kinds(ds).join(',')} at ${(ds[0] as Decision).atMs}`;
    }
    return 'nothing';
  };
  assert.is(first(true, 'follower'), 'link-down@iface:eth-a at 2000', 'held until dead for leaderLinkHoldMs');
  assert.is(first(false, 'follower'), 'link-down@iface:eth-a at 1000', 'a link to another neighbour goes at once');
  assert.is(first(true, 'leader'), 'link-down@iface:eth-a at 1500', 'a leader has its own hold (anchorDegradedMs)');
});

test("the degraded anchor's why names what the edge saw (cut to 64 characters), and nothing when it said nothing", () => {
  const why = (degradedWhy: string | undefined) => {
    const m = core({ anchorDegradedMs: 1000 });
    const ds: Decision[] = [];
    for (let t = 0; t <= 1000; t += 100) {
      m.observe(raftObs(t, true, 'leader', degradedWhy));
      ds.push(...m.tick(t));
    }
    return (ds[0] as Decision).why;
  };
  assert.is(
    why('3 of 4 probed links dead'),
    'this node n1 leads term 3 and reports itself degraded (3 of 4 probed links dead) for 1.0s >= anchorDegradedMs=1000',
  );
  assert.is(why(undefined), 'this node n1 leads term 3 and reports itself degraded for 1.0s >= anchorDegradedMs=1000');
  assert.ok(why('x'.repeat(500)).length < 240, 'an overlong reason is cut');
});

test('a component down longer than componentDownMs is restarted; degraded or briefly down is not', () => {
  const m = core({ componentDownMs: 5000 });
  const ds: Decision[] = [];
  for (let t = 0; t <= 20_000; t += 1000) {
    m.observe({ kind: 'component', atMs: t, name: 'gossip', state: t === 2000 ? 'down' : 'up' });
    m.observe({ kind: 'component', atMs: t, name: 'xdp', state: 'degraded' });
    m.observe({ kind: 'component', atMs: t, name: 'raft', state: t >= 10_000 ? 'down' : 'up' });
    ds.push(...m.tick(t));
  }
  assert.equal(kinds(ds), ['restart-component@component:raft']);
  assert.is((ds[0] as Decision).atMs, 15_000);
});

test('bad observations are refused with a counted reason and change nothing', () => {
  const m = core();
  m.observe({
    kind: 'neighbour',
    atMs: 0,
    neighbour: 'not-a-mac',
    iface: 'eth-a',
    alive: false,
    rttMs: null,
    tq: null,
  });
  m.observe({ kind: 'xdp', atMs: 0, mac: macA, packets: 5, dropped: 9, ogms: 0 });
  m.observe({ kind: 'xdp', atMs: Number.NaN, mac: macA, packets: 5, dropped: 0, ogms: 0 });
  m.observe({ kind: 'component', atMs: 0, name: 'x'.repeat(mapekLimits.nameCharsMax + 1), state: 'down' });
  const c = m.counters();
  assert.is(c['observation-bad-mac'], 1);
  assert.is(c['observation-bad-counter'], 1);
  assert.is(c['observation-bad-time'], 1);
  assert.is(c['observation-bad-name'], 1);
  assert.equal(m.tick(100_000), []);
});

test('a neighbour whose link we took out and that is never heard of again gets its link back', () => {
  const m = core({ neighbourStaleMs: 10_000 });
  okAll(
    m,
    twoLinks(m, 0, 1000, (t) => t < 1000),
    1000,
  );
  const ds: Decision[] = [];
  for (let t = 1100; t <= 13_000; t += 100) {
    m.observe(nb(t, macB, 'eth-b', true));
    ds.push(...m.tick(t));
  }
  assert.equal(kinds(ds), ['link-up@iface:eth-a']);
  assert.match((ds[0] as Decision).why, /forgotten/);
});

test('every table is bounded: a thousand MACs and two hundred neighbours', () => {
  const m = core();
  const mac = (i: number): string =>
    `02:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
  for (let i = 0; i < 1000; i++) {
    m.observe({ kind: 'xdp', atMs: i, mac: mac(i), packets: i, dropped: 0, ogms: 0 });
    m.observe({ kind: 'auth-failure', atMs: i, mac: mac(i + 5000), peer: null, reason: 'x' });
  }
  for (let i = 0; i < 200; i++) m.observe(nb(i, mac(i), `eth${i % 20}`, true));
  m.tick(2000);
  const a = (m as unknown as { analysis: { macs: Map<string, unknown>; neighbours: Map<string, unknown> } }).analysis;
  assert.ok(a.macs.size <= mapekLimits.macsMax, `${a.macs.size} MACs`);
  assert.ok(a.neighbours.size <= mapekLimits.neighboursMax, `${a.neighbours.size} neighbours`);
  assert.ok((m.counters()['observation-forgotten'] ?? 0) > 0);
});

test.run();
