// The supervisor's decisions (pure): start order, backoff after failures, restarts counted, health transitions,
// the agent's overall state, and the journal's bounds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backoffMs, Supervisor, supervisorLimits } from '../../src/agent/supervisor.js';
import { eventsMax, Journal } from '../../src/agent/events.js';

const up = { state: 'up', reason: null } as const;

test('every added component is due at once; a disabled one never is', () => {
  const s = new Supervisor();
  s.add('identity', 0);
  s.add('gossip', 0);
  s.disable('xdp', 'xdp disabled in the configuration', 0);
  assert.equal(s.due(0), ['identity', 'gossip']);
  assert.equal(s.due(0), [], 'a component being started is not due twice');
  assert.is(s.health('xdp')?.state, 'disabled');
  assert.is(s.health('xdp')?.reason, 'xdp disabled in the configuration');
  assert.is(s.overall(), 'starting');
  s.started('identity', up, 10);
  s.started('gossip', { state: 'degraded', reason: 'no-peer-heard' }, 10);
  assert.is(s.overall(), 'degraded');
  assert.ok(s.observed('gossip', up, 20));
  assert.is(s.overall(), 'running');
});

test('a failed start is retried after an exponential backoff up to its ceiling, and each restart is counted', () => {
  const s = new Supervisor();
  s.add('raft', 0);
  let now = 0;
  const delays: number[] = [];
  for (let i = 0; i < 10; i++) {
    assert.equal(s.due(now), ['raft']);
    const t = s.failed('raft', 'storage-failed', now);
    delays.push(t?.retryInMs ?? -1);
    assert.equal(s.due(now + (t?.retryInMs ?? 0) - 1), [], 'not due before its backoff');
    now += t?.retryInMs ?? 0;
  }
  assert.equal(delays.slice(0, 4), [500, 1000, 2000, 4000]);
  assert.is(Math.max(...delays), supervisorLimits.backoffMaxMs);
  assert.is(s.health('raft')?.restarts, 9);
  assert.is(s.health('raft')?.state, 'down');
  assert.is(s.health('raft')?.reason, 'storage-failed');
  assert.is(backoffMs(1), supervisorLimits.backoffBaseMs);
  assert.throws(() => backoffMs(0), /backoff before any failure/);
});

test('a running component that reports down is restarted after its backoff; a stable one forgets its failures', () => {
  const s = new Supervisor();
  s.add('gossip', 0);
  s.due(0);
  s.started('gossip', up, 0);
  const t = s.observed('gossip', { state: 'down', reason: 'socket-closed' }, 100);
  assert.equal({ ...t }, { component: 'gossip', from: 'up', to: 'down', reason: 'socket-closed', retryInMs: 500 });
  assert.equal(s.running(), []);
  assert.equal(s.due(599), []);
  assert.equal(s.due(600), ['gossip']);
  s.started('gossip', up, 600);
  assert.is(s.health('gossip')?.restarts, 1);
  // Up for stableAfterMs: the next failure starts again at the base delay.
  s.observed('gossip', up, 600 + supervisorLimits.stableAfterMs);
  const again = s.observed(
    'gossip',
    { state: 'down', reason: 'socket-closed' },
    600 + supervisorLimits.stableAfterMs + 1,
  );
  assert.is(again?.retryInMs, supervisorLimits.backoffBaseMs);
});

test('a requested restart is due at once, counted, and not a failure (its backoff stays at the base)', () => {
  const s = new Supervisor();
  s.add('raft', 0);
  s.due(0);
  s.started('raft', up, 0);
  const t = s.restart('raft', 'restart-requested', 50);
  assert.equal({ ...t }, { component: 'raft', from: 'up', to: 'starting', reason: 'restart-requested' });
  assert.is(s.overall(), 'degraded', 'a restarting component makes the agent degraded, not starting');
  assert.equal(s.due(50), ['raft']);
  s.started('raft', up, 60);
  assert.is(s.health('raft')?.restarts, 1);
  assert.is(s.failed('raft', 'x', 70)?.retryInMs, 500);
  s.disable('xdp', 'off', 0);
  assert.throws(() => s.restart('xdp', 'r', 0), /disabled/);
});

test('a restart asked for while a start is under way leaves that start alone (it then reports as usual)', () => {
  const s = new Supervisor();
  s.add('link', 0);
  assert.equal(s.due(0), ['link']);
  assert.ok(s.isStarting('link'));
  assert.is(s.restart('link', 'restart-enrolled', 5), null);
  assert.ok(s.started('link', up, 10), 'the start in flight still reports');
  assert.is(s.health('link')?.state, 'up');
  assert.is(s.health('link')?.restarts, 0);
});

test('misuse is an assertion: a component added twice, a start reported without one, an unknown name', () => {
  const s = new Supervisor();
  s.add('ubus', 0);
  assert.throws(() => s.add('ubus', 0), /added twice/);
  assert.throws(() => s.started('ubus', up, 0), /without a start/);
  assert.throws(() => s.failed('nope', 'x', 0), /unknown component/);
});

test('the journal keeps the newest events within its bound and logs only at or above its level', () => {
  const lines: string[] = [];
  let now = 1_000;
  const journal = new Journal(
    (l) => lines.push(l),
    () => now++,
    'warn',
  );
  journal.record('info', 'gossip', 'started', { listen: '127.0.0.1:7400' });
  journal.record('warn', 'uplink', 'failed', { reason: 'broker-unreachable', trace_id: 'abc' });
  assert.is(lines.length, 1, 'info is below the log level');
  assert.match(
    lines[0] as string,
    /^1970-01-01T00:00:01\.001Z warn uplink failed reason=broker-unreachable trace_id=abc\n$/,
  );
  const events = journal.last(10);
  assert.is(events.length, 2, 'the journal keeps info whatever the log level');
  assert.equal(events[1], {
    time_ms: 1001,
    level: 'warn',
    component: 'uplink',
    event: 'failed',
    reason: 'broker-unreachable',
    trace_id: 'abc',
    fields: {},
  });
  journal.record('debug', 'gossip', 'tick', {});
  assert.is(journal.last().length, 2, 'debug events are not kept');
  for (let i = 0; i < eventsMax + 10; i++) journal.record('info', 'raft', 'role', { term: i });
  assert.is(journal.last().length, eventsMax);
  assert.equal(journal.last(1)[0]?.fields, { term: eventsMax + 9 });
});

test.run();
