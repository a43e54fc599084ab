// The BFD-like liveness state machine (src/core/mapek/liveness.ts): detection within multiplier × interval,
// hysteresis on the way up, no verdict on a neighbour that never answered, bounded memory, and the probe codec.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decodeProbe,
  detectionTimeMs,
  encodeProbe,
  linksDegraded,
  Liveness,
  livenessDefaults,
  livenessLimits,
  probeBytesPerS,
  validateLivenessConfig,
  type LivenessTransition,
} from '../../src/core/mapek/liveness.js';
import { Rng } from '../../src/core/rng.js';

/** Drives one neighbour in 10 ms steps: `answers(seq, t)` says whether the echo of a probe comes back (after rttMs). */
function drive(
  live: Liveness,
  fromMs: number,
  toMs: number,
  answers: (seq: number, sentMs: number) => boolean,
  rttMs = 5,
): LivenessTransition[] {
  const pending: Array<[number, number]> = [];
  const out: LivenessTransition[] = [];
  for (let t = fromMs; t <= toMs; t += 10) {
    for (let i = pending.length - 1; i >= 0; i--) {
      const [seq, at] = pending[i]!;
      if (at <= t) {
        live.reply(seq, t);
        pending.splice(i, 1);
      }
    }
    const seq = live.due(t);
    if (seq !== null && answers(seq, t)) pending.push([seq, t + rttMs]);
    const tr = live.tick(t);
    if (tr !== null) out.push(tr);
  }
  return out;
}

test('a neighbour that answers goes up after upAfterReplies echoes and stays up', () => {
  const live = new Liveness(livenessDefaults, 0);
  const trs = drive(live, 0, 5_000, () => true);
  assert.is(trs.length, 1);
  assert.is(trs[0]!.to, 'up');
  assert.is(trs[0]!.reason, 'replies');
  // Third echo: probes at 0, 100, 200; the third answered at 205, seen by the tick at 210.
  assert.ok(trs[0]!.atMs <= 210, `up at ${trs[0]!.atMs}`);
  assert.is(live.state, 'up');
  assert.is(live.rttMs, 10); // echoes are seen on the next 10 ms step
  assert.is(live.counters.sent, 51);
});

test('a dead link is detected within detection time + one interval, and not before', () => {
  const live = new Liveness(livenessDefaults, 0);
  const cutMs = 2_000;
  const trs = drive(live, 0, 4_000, (_seq, sent) => sent < cutMs);
  const down = trs.find((t) => t.to === 'down');
  assert.ok(down, 'went down');
  const detect = detectionTimeMs(livenessDefaults);
  // The last echo came ~1905 ms: down once nothing for 300 ms.
  assert.ok(down.atMs - cutMs <= detect + livenessDefaults.intervalMs, `down ${down.atMs - cutMs} ms after the cut`);
  assert.ok(down.atMs - cutMs >= detect - livenessDefaults.intervalMs, `not too early: ${down.atMs - cutMs} ms`);
  assert.is(down.reason, 'detect-timeout');
  assert.ok(down.sinceReplyMs! > detect);
});

test('a neighbour that never answers stays init: never declared down (no action on a node without an agent)', () => {
  const live = new Liveness(livenessDefaults, 0);
  assert.equal(
    drive(live, 0, 10_000, () => false),
    [],
  );
  assert.is(live.state, 'init');
});

test('coming back needs upAfterReplies consecutive echoes: one stray echo does not bring it up', () => {
  const live = new Liveness({ ...livenessDefaults, upAfterReplies: 3 }, 0);
  // Up, then dead from 1 s, one stray echo at 2 s, back for good from 3 s.
  const trs = drive(live, 0, 4_000, (_seq, sent) => sent < 1_000 || (sent >= 2_000 && sent < 2_100) || sent >= 3_000);
  assert.equal(
    trs.map((t) => t.to),
    ['up', 'down', 'up'],
  );
  assert.ok(trs[2]!.atMs >= 3_200, `up again at ${trs[2]!.atMs} (third echo after 3 s)`);
});

test('loss below the detection time does not take a neighbour down (30 % random loss, 3 × 100 ms)', () => {
  // P(3 losses in a row) = 2.7 %: over 600 probes there will be some; with 50 % loss far more.
  const rng = new Rng(7);
  const live = new Liveness({ ...livenessDefaults, detectMultiplier: 10 }, 0);
  const trs = drive(live, 0, 60_000, () => rng.next() > 0.3);
  assert.equal(
    trs.map((t) => t.to),
    ['up'],
  );
});

test('the loss estimate follows the share of unanswered probes (8-probe EWMA), and a clean link reads 0', () => {
  const rng = new Rng(11);
  const lossy = new Liveness({ ...livenessDefaults, detectMultiplier: 50 }, 0);
  // 60 % loss each way: 84 % of round trips lost; the link keeps answering now and then, so it is not down.
  drive(lossy, 0, 60_000, () => rng.next() > 0.6 && rng.next() > 0.6);
  assert.is(lossy.state, 'up');
  const l = lossy.loss(60_000);
  assert.ok(l !== null && l > 0.6 && l < 0.99, `84 % lossy link reads ${l}`);
  const clean = new Liveness(livenessDefaults, 0);
  assert.is(clean.loss(0), null, 'no estimate before the first echo');
  drive(clean, 0, 10_000, () => true);
  assert.is(clean.loss(10_000), 0);
  // A link that was down a while and comes back reads lossy for a few echoes only, not for dozens.
  const back = new Liveness(livenessDefaults, 0);
  drive(back, 0, 4_500, (_seq, t) => t < 1_000 || t >= 4_000);
  assert.ok((back.loss(4_500) ?? 1) < 0.5, `a link back for 0.5 s after 3 s down reads ${back.loss(4_500)}`);
  const light = new Liveness({ ...livenessDefaults, detectMultiplier: 10 }, 0);
  drive(light, 0, 60_000, () => rng.next() > 0.1);
  assert.ok((light.loss(60_000) ?? 1) < 0.35, `10 % lossy link reads ${light.loss(60_000)}`);
});

test('probes unanswered past the echo wait count as lost at once; an echo still on its way does not', () => {
  // A link turning 84 % lossy (the lab's degraded anchor: 60 % each way, 100 ms delay) reads lossy (>= 0.5) within
  // about a second, before the next echo; 20 seeds.
  const crossedMs: number[] = [];
  for (let seed = 1; seed <= 20; seed++) {
    const rng = new Rng(seed);
    const live = new Liveness({ ...livenessDefaults, detectMultiplier: 50 }, 0);
    drive(live, 0, 3_000, () => true);
    // From 3 s: 100 ms each way, 60 % loss each way; echoes in flight are delivered across the steps.
    const inFlight: Array<[number, number]> = [];
    let crossed: number | null = null;
    for (let t = 3_010; t <= 6_000 && crossed === null; t += 10) {
      for (const [seq] of inFlight.filter(([, at]) => at <= t)) live.reply(seq, t);
      inFlight.splice(0, inFlight.length, ...inFlight.filter(([, at]) => at > t));
      const seq = live.due(t);
      if (seq !== null && rng.next() > 0.6 && rng.next() > 0.6) inFlight.push([seq, t + 200]);
      live.tick(t);
      if ((live.loss(t) ?? 0) >= 0.5) crossed = t - 3_000;
    }
    crossedMs.push(crossed ?? 3_000);
  }
  crossedMs.sort((a, b) => a - b);
  const median = crossedMs[crossedMs.length / 2]!;
  assert.ok(median <= 1_100 && crossedMs.at(-1)! <= 2_000, `lossy after ${crossedMs.join(', ')} ms`);
  // A healthy link whose echo takes 60 ms (within the wait) reads 0 between echoes.
  const slow = new Liveness(livenessDefaults, 0);
  drive(slow, 0, 5_000, () => true, 60);
  assert.is(slow.loss(5_000), 0);
  assert.ok(slow.echoWaitMs >= livenessDefaults.intervalMs && slow.echoWaitMs <= slow.detectMs);
  // Silence: every probe since the last echo is overdue; the estimate itself is unchanged until an echo comes.
  const silent = new Liveness({ ...livenessDefaults, detectMultiplier: 50 }, 0);
  drive(silent, 0, 2_000, () => true);
  drive(silent, 2_010, 2_600, () => false);
  const s = silent.loss(2_600) ?? 0;
  assert.ok(s >= 0.4 && s < 0.7, `6 probes unanswered read ${s}`);
});

test('an anchor is degraded when most of its links fail: dead, or lossy (a quarter once one is dead)', () => {
  const up = (loss: number | null) => ({ state: 'up' as const, loss });
  const down = { state: 'down' as const, loss: 0.4 };
  const init = { state: 'init' as const, loss: null };
  const verdict = (links: Parameters<typeof linksDegraded>[0]) => linksDegraded(links).degraded;
  assert.is(verdict([up(0), up(0)]), false, 'clean');
  assert.is(verdict([up(0.6), up(0.55)]), true, 'both losing over half');
  assert.is(verdict([up(0.6), up(0.3)]), false, 'one lossy, one a little: not most');
  assert.is(verdict([down, up(0)]), false, 'a single cut: the other link is clean');
  assert.is(verdict([down, up(0.3)]), true, 'one dead and the other losing a quarter: degrading together');
  assert.is(verdict([down, up(0.2)]), false);
  assert.is(verdict([down, up(0), up(0)]), false, 'a third of the links is not most');
  assert.is(verdict([down, down, up(0)]), true);
  assert.is(verdict([down, up(0.3), up(0.3), up(0)]), true, '3 of 4');
  assert.is(verdict([down, up(0.3), up(0), up(0)]), false, 'half is not most');
  assert.is(verdict([init, init]), false, 'never answered: no evidence');
  assert.is(verdict([]), false);
  assert.equal(linksDegraded([down, up(0.3), init]), { degraded: true, probed: 2, dead: 1, lossy: 1, lossMin: 0.25 });
});

test('late and unknown echoes are counted, not matched', () => {
  const live = new Liveness(livenessDefaults, 0);
  for (let t = 0; t < (livenessLimits.outstandingMax + 5) * 100; t += 100) live.due(t);
  live.reply(1, 10_000); // forgotten: more than outstandingMax probes ago
  live.reply(999_999, 10_000);
  assert.is(live.counters.late, 1);
  assert.is(live.counters.unexpected, 1);
  assert.is(live.counters.replies, 0);
});

test('a stalled caller sends one probe, not the backlog', () => {
  const live = new Liveness(livenessDefaults, 0);
  assert.is(live.due(0), 1);
  assert.is(live.due(5_000), 2);
  assert.is(live.due(5_000), null);
  assert.is(live.due(5_100), 3);
});

test('config validation names each bad field; defaults are valid', () => {
  assert.equal(validateLivenessConfig(livenessDefaults), []);
  const errors = validateLivenessConfig({ intervalMs: 5, detectMultiplier: 1, upAfterReplies: 0 });
  assert.is(errors.length, 3);
  assert.match(errors[0]!, /probe interval 5 ms/);
  assert.throws(() => new Liveness({ intervalMs: 5, detectMultiplier: 3, upAfterReplies: 3 }, 0));
});

test('overhead: 99-byte probes every 100 ms cost 1980 B/s per neighbour', () => {
  assert.is(probeBytesPerS(livenessDefaults, 99), 1980);
  assert.is(probeBytesPerS({ ...livenessDefaults, intervalMs: 1000 }, 99), 198);
  assert.is(detectionTimeMs(livenessDefaults), 300);
});

test('the probe codec round-trips and refuses anything else', () => {
  for (const seq of [0, 1, 0xffff, 0xffffffff]) {
    assert.equal(decodeProbe(encodeProbe('request', seq)), { kind: 'request', seq });
    assert.equal(decodeProbe(encodeProbe('reply', seq)), { kind: 'reply', seq });
  }
  assert.is(decodeProbe(new Uint8Array(4)), null);
  assert.is(decodeProbe(new Uint8Array([3, 0, 0, 0, 1])), null);
  assert.is(decodeProbe(new Uint8Array(6)), null);
});

test("a stall of this node is not the neighbour's silence: no verdict on a late tick, credit for the time lost", () => {
  const live = new Liveness(livenessDefaults, 0);
  drive(live, 0, 1_000, () => true);
  assert.is(live.state, 'up');
  // The event loop stalls 2 s: the echoes are waiting in the socket when it runs again.
  assert.is(live.tick(3_000), null);
  live.reply(live.due(3_000)!, 3_001);
  assert.is(live.tick(3_010), null);
  assert.is(live.state, 'up');
  // A real silence afterwards is still caught.
  const trs = drive(live, 3_020, 4_000, () => false);
  assert.equal(
    trs.map((t) => t.to),
    ['down'],
  );
});

test('down needs detectMultiplier unanswered probes, not only time', () => {
  const live = new Liveness(livenessDefaults, 0);
  drive(live, 0, 510, () => true); // the probe of 500 is answered at 510: nothing outstanding
  assert.is(live.state, 'up');
  // Ticks keep coming but no probe goes out (the caller did not call due()): silence alone is not enough.
  for (let t = 510; t <= 2_000; t += 10) assert.is(live.tick(t), null);
  live.due(2_010);
  live.due(2_110);
  assert.is(live.tick(2_120), null);
  live.due(2_210);
  assert.is(live.tick(2_220)?.to, 'down');
});

test('slow echoes stretch the wait (RFC 6298: srtt + 4 × rttvar, at most 2 detection times); fast ones do not', () => {
  const fast = new Liveness(livenessDefaults, 0);
  drive(fast, 0, 2_000, () => true, 5);
  assert.is(fast.detectMs, detectionTimeMs(livenessDefaults));
  const slow = new Liveness(livenessDefaults, 0);
  drive(slow, 0, 10_000, () => true, 800); // a neighbour whose echoes take 0.8 s
  assert.is(slow.state, 'up');
  assert.ok(slow.detectMs > detectionTimeMs(livenessDefaults), `waits ${slow.detectMs} ms`);
  assert.is(slow.detectMs, 2 * detectionTimeMs(livenessDefaults), 'at most twice the detection time');
  // Its silence is still caught, after the longer wait.
  const trs = drive(slow, 10_010, 14_000, () => false, 800);
  assert.equal(
    trs.map((t) => t.to),
    ['down'],
  );
  assert.ok(trs[0]!.sinceReplyMs! > slow.detectMs - 20);
});

test.run();
