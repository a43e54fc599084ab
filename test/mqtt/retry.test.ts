// Issue 14 item 9: every failed connection attempt is an event with its reason, attempt number and the
// backoff before the next one (the uplink logs it), and a broker that refuses MQTT 5 is named as such, both
// when it answers in 3.1.1's own form (aedes: CONNACK 20 02 00 01) and with v5's 0x84. Engine-neutral.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createMqttClient, type ClientEvent } from '../../src/mqtt/client.js';
import { CONNACK } from '../../src/mqtt/codec.js';
import { encodeAnyPacket } from '../../src/mqtt/codec-broker.js';

function client(version: 4 | 5 = 5) {
  const clock = { now: 1000 };
  const c = createMqttClient({
    clientId: 'x0-test',
    version,
    backoffMinMs: 500,
    backoffMaxMs: 4000,
    nowMs: () => clock.now,
    random: () => 0.5,
  });
  const retries = (): Extract<ClientEvent, { kind: 'retry' }>[] =>
    c.takeEvents().filter((e): e is Extract<ClientEvent, { kind: 'retry' }> => e.kind === 'retry');
  return { c, clock, retries };
}

test('each failed attempt is reported with its reason, its number and a bounded, growing delay', () => {
  const { c, clock, retries } = client();
  c.start();
  const seen: { reason: string; attempt: number; delayMs: number }[] = [];
  for (let i = 0; i < 6; i++) {
    assert.is(c.state, 'opening');
    c.transportDown(i % 2 === 0 ? 'connect-ECONNREFUSED' : 'connect-ENOTFOUND');
    const [retry] = retries();
    assert.ok(retry !== undefined, `attempt ${i + 1} reported`);
    seen.push({ reason: retry.reason, attempt: retry.attempt, delayMs: retry.delayMs });
    assert.is(c.nextDeadlineMs(), clock.now + retry.delayMs, 'the reported delay is the real one');
    clock.now += retry.delayMs;
    c.tick();
  }
  assert.equal(
    seen.map((s) => s.attempt),
    [1, 2, 3, 4, 5, 6],
  );
  assert.equal(
    seen.map((s) => s.reason),
    [
      'connect-ECONNREFUSED',
      'connect-ENOTFOUND',
      'connect-ECONNREFUSED',
      'connect-ENOTFOUND',
      'connect-ECONNREFUSED',
      'connect-ENOTFOUND',
    ],
  );
  // random() = 0.5: three quarters of the step, the step doubling from 500 ms up to the 4000 ms ceiling.
  assert.equal(
    seen.map((s) => s.delayMs),
    [375, 750, 1500, 3000, 3000, 3000],
  );
});

test('a connect timeout is reported as connect-timeout', () => {
  const { c, clock, retries } = client();
  c.start();
  c.takeEvents();
  clock.now += 10_000;
  c.tick();
  assert.equal(
    retries().map((r) => r.reason),
    ['connect-timeout'],
  );
});

test('a 3.1.1-only broker refusing a v5 CONNECT (CONNACK 20 02 00 01) is protocol-version-refused', () => {
  const { c, retries } = client(5);
  c.start();
  c.transportUp();
  c.takeEvents();
  c.receive(Uint8Array.of(0x20, 0x02, 0x00, 0x01));
  assert.equal(
    retries().map((r) => r.reason),
    ['protocol-version-refused'],
  );
  assert.is(c.counters.snapshot()['protocol-version-refused'], 1);
  assert.is(c.state, 'idle');
});

test('v5 reason code 0x84 (Unsupported Protocol Version) is protocol-version-refused too', () => {
  const { c, retries } = client(5);
  c.start();
  c.transportUp();
  c.takeEvents();
  c.receive(encodeAnyPacket({ type: CONNACK, sessionPresent: false, reasonCode: 0x84 }, 5));
  assert.equal(
    retries().map((r) => r.reason),
    ['protocol-version-refused'],
  );
});

test('over 3.1.1, CONNACK return code 1 keeps its plain name; code 5 (not authorized) too', () => {
  for (const code of [1, 5]) {
    const { c, retries } = client(4);
    c.start();
    c.transportUp();
    c.takeEvents();
    c.receive(Uint8Array.of(0x20, 0x02, 0x00, code));
    assert.equal(
      retries().map((r) => r.reason),
      [`connack-refused-${code}`],
    );
  }
});

test.run();
