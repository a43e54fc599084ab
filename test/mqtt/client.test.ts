// The client state machine in virtual time against a scripted broker (engine-neutral): connect and session,
// the QoS 1 window, retransmission on reconnect, keep-alive, jittered backoff, the bounded offline queue and
// its persistence, and protocol violations closing the connection with a reason code (never a throw).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { createMqttClient, type ClientEvent, type ClientOptions, type MqttClient } from '../../src/mqtt/client.js';
import {
  CONNACK,
  CONNECT,
  DISCONNECT,
  PINGREQ,
  PINGRESP,
  PUBACK,
  PUBLISH,
  SUBACK,
  SUBSCRIBE,
  PacketReader,
  propSessionExpiryInterval,
  type Packet,
  type Version,
} from '../../src/mqtt/codec.js';
import { decodeAnyPacket, encodeAnyPacket } from '../../src/mqtt/codec-broker.js';
import { Rng } from '../../src/core/rng.js';
import { props } from './packets.js';

function harness(options: Partial<ClientOptions> = {}, seed = 1) {
  const rng = new Rng(seed);
  const h = {
    now: 1000,
    events: [] as ClientEvent[],
    sent: [] as Packet[],
    client: null as unknown as MqttClient,
    version: (options.version ?? 5) as Version,
    /** Moves virtual time, running every tick the client asked for on the way. */
    advance(ms: number) {
      const end = h.now + ms;
      for (let i = 0; i < 10_000; i++) {
        const next = h.client.nextDeadlineMs();
        if (next === null || next > end) break;
        h.now = Math.max(h.now, next);
        h.client.tick();
        h.collect();
      }
      h.now = end;
      h.client.tick();
      h.collect();
    },
    collect() {
      const out = h.client.takeOutput();
      if (out !== null) {
        const reader = new PacketReader(1 << 20);
        reader.push(out);
        for (let f = reader.next(); f.ok && f.value !== null; f = reader.next()) {
          const p = decodeAnyPacket(f.value, h.version);
          if (!p.ok) throw new Error(`client wrote a bad packet: ${p.reason}`);
          h.sent.push(p.value);
        }
      }
      h.events.push(...h.client.takeEvents());
    },
    deliver(p: Packet) {
      h.client.receive(encodeAnyPacket(p, h.version));
      h.collect();
    },
    take(type?: Packet['type']) {
      const out = h.sent.filter((p) => type === undefined || p.type === type);
      h.sent = [];
      return out;
    },
    kinds() {
      const out = h.events.map((e) => e.kind);
      h.events = [];
      return out;
    },
    /** Start, open the transport and accept the CONNECT. */
    connect(sessionPresent = false, properties?: Record<string, unknown>) {
      if (h.client.state === 'stopped') h.client.start();
      h.collect();
      if (h.client.state !== 'opening') h.advance(h.client.nextDeadlineMs()! - h.now);
      h.client.transportUp();
      h.collect();
      h.deliver({
        type: CONNACK,
        sessionPresent,
        reasonCode: 0,
        ...(properties ? { properties: props(properties) } : {}),
      });
    },
  };
  h.client = createMqttClient({
    clientId: 'x0-test',
    nowMs: () => h.now,
    random: () => rng.nextUint32() / 2 ** 32,
    ...options,
  });
  return h;
}

const payload = (n: number) => Uint8Array.of(n);

test('connects with a persistent session, Last Will and v5 limits, then subscribes', () => {
  const h = harness({ will: { topic: 'x0/m/a/status', payload: payload(0), qos: 1, retain: true }, keepAliveS: 30 });
  h.client.subscribe('x0/m/a/cmd/+', 1);
  h.client.start();
  h.collect();
  assert.equal(h.kinds(), ['open']);
  h.client.transportUp();
  h.collect();
  const [connect] = h.take(CONNECT) as Extract<Packet, { type: typeof CONNECT }>[];
  assert.is(connect!.clean, false);
  assert.is(connect!.keepalive, 30);
  assert.equal(connect!.will, { topic: 'x0/m/a/status', payload: payload(0), qos: 1, retain: true });
  assert.is(connect!.properties?.[propSessionExpiryInterval], 86_400);
  h.deliver({ type: CONNACK, sessionPresent: false, reasonCode: 0 });
  assert.equal(h.kinds(), ['connected']);
  const [subscribe] = h.take(SUBSCRIBE) as Extract<Packet, { type: typeof SUBSCRIBE }>[];
  assert.equal(
    subscribe!.subscriptions.map((s) => [s.topic, s.qos]),
    [['x0/m/a/cmd/+', 1]],
  );
});

test('QoS 1 in-flight window: only the window goes out, each PUBACK lets the next one go', () => {
  const h = harness({ inflightMax: 2 });
  h.connect();
  for (let i = 0; i < 5; i++) h.client.publish('t', payload(i), 1);
  h.collect();
  let out = h.take(PUBLISH) as Extract<Packet, { type: typeof PUBLISH }>[];
  assert.equal(
    out.map((p) => p.payload[0]),
    [0, 1],
  );
  h.deliver({ type: PUBACK, messageId: out[0]!.messageId! });
  h.collect();
  out = h.take(PUBLISH) as Extract<Packet, { type: typeof PUBLISH }>[];
  assert.equal(
    out.map((p) => p.payload[0]),
    [2],
  );
  assert.is(h.client.inflightCount, 2);
  assert.is(h.client.queuedMessages, 2);
});

test("the broker's Receive Maximum lowers the window", () => {
  const h = harness({ inflightMax: 10 });
  h.connect(false, { receiveMaximum: 1 });
  for (let i = 0; i < 3; i++) h.client.publish('t', payload(i), 1);
  h.collect();
  assert.is(h.take(PUBLISH).length, 1);
});

test('an overdue PUBACK drops the link; after the backoff the same ids are resent with DUP', () => {
  const h = harness({ ackTimeoutMs: 5000, backoffMinMs: 1000 });
  h.connect();
  h.client.publish('t', payload(1), 1);
  h.client.publish('t', payload(2), 1);
  h.collect();
  const first = h.take(PUBLISH) as Extract<Packet, { type: typeof PUBLISH }>[];
  h.kinds();
  h.advance(5000);
  assert.equal(h.kinds(), ['close', 'disconnected', 'retry']);
  assert.is(h.client.counters.get('ack-timeout'), 1);
  h.advance(1000);
  assert.equal(h.kinds(), ['open']);
  h.client.transportUp();
  h.collect();
  h.deliver({ type: CONNACK, sessionPresent: true, reasonCode: 0 });
  const resent = h.take(PUBLISH) as Extract<Packet, { type: typeof PUBLISH }>[];
  assert.equal(
    resent.map((p) => [p.messageId, p.dup, p.payload[0]]),
    first.map((p) => [p.messageId, true, p.payload[0]]),
  );
  h.deliver({ type: PUBACK, messageId: resent[0]!.messageId! });
  h.deliver({ type: PUBACK, messageId: resent[1]!.messageId! });
  assert.is(h.client.inflightCount, 0);
});

test('a lost session gets its subscriptions back; a kept one is not re-subscribed', () => {
  const h = harness();
  h.client.subscribe('c/+', 1);
  h.connect(false);
  const [sub] = h.take(SUBSCRIBE) as Extract<Packet, { type: typeof SUBSCRIBE }>[];
  h.deliver({ type: SUBACK, messageId: sub!.messageId, granted: [1] });
  h.client.transportDown('ECONNRESET');
  h.connect(true);
  assert.is(h.take(SUBSCRIBE).length, 0);
  h.client.transportDown('ECONNRESET');
  h.connect(false);
  assert.is(h.take(SUBSCRIBE).length, 1);
});

test('reconnect backoff grows exponentially with equal jitter, capped (fast-check over seeds)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
      const h = harness({ backoffMinMs: 500, backoffMaxMs: 8000 }, seed);
      h.client.start();
      h.collect();
      let step = 500;
      for (let attempt = 0; attempt < 8; attempt++) {
        assert.is(h.client.state, 'opening');
        h.client.transportDown('ECONNREFUSED');
        const delay = h.client.nextDeadlineMs()! - h.now;
        assert.ok(delay >= step / 2 && delay <= step, `attempt ${attempt}: ${delay} not in [${step / 2}, ${step}]`);
        h.advance(delay);
        step = Math.min(8000, step * 2);
      }
    }),
    { numRuns: 50 },
  );
});

test('a successful CONNACK resets the backoff', () => {
  const h = harness({ backoffMinMs: 100, backoffMaxMs: 60_000 });
  h.client.start();
  for (let i = 0; i < 6; i++) {
    h.client.transportDown('ECONNREFUSED');
    h.advance(h.client.nextDeadlineMs()! - h.now);
  }
  h.client.transportUp();
  h.collect();
  h.deliver({ type: CONNACK, sessionPresent: false, reasonCode: 0 });
  h.client.transportDown('ECONNRESET');
  assert.ok(h.client.nextDeadlineMs()! - h.now <= 100);
});

test('keep-alive: PINGREQ when idle, and a missing PINGRESP closes the connection', () => {
  const h = harness({ keepAliveS: 10 });
  h.connect();
  h.take();
  h.advance(10_000);
  assert.is(h.take(PINGREQ).length, 1);
  h.deliver({ type: PINGRESP });
  h.advance(10_000);
  assert.is(h.take(PINGREQ).length, 1);
  h.kinds();
  h.advance(10_000);
  assert.equal(h.kinds(), ['close', 'disconnected', 'retry']);
  assert.is(h.client.counters.get('ping-timeout'), 1);
});

test('the offline queue is bounded: the oldest messages are dropped and counted', () => {
  const h = harness({ queueMessagesMax: 3 });
  h.client.start();
  for (let i = 0; i < 5; i++) h.client.publish('t', payload(i), 1);
  assert.is(h.client.queuedMessages, 3);
  assert.is(h.client.counters.get('queue-dropped'), 2);
  h.connect();
  assert.equal(
    (h.take(PUBLISH) as Extract<Packet, { type: typeof PUBLISH }>[]).map((p) => p.payload[0]),
    [2, 3, 4],
  );
  const bytes = harness({ queueBytesMax: 10 });
  bytes.client.start();
  for (let i = 0; i < 4; i++) bytes.client.publish('t', new Uint8Array(4), 0);
  assert.is(bytes.client.queuedMessages, 2);
});

test('the queue survives a restart through persist() and restore(); corruption is refused by reason', () => {
  const h = harness({ inflightMax: 1 });
  h.connect();
  for (let i = 0; i < 3; i++) h.client.publish(`t/${i}`, payload(i), 1, i === 2);
  h.client.publish('q0', payload(9), 0);
  const saved = h.client.persist();
  const next = harness();
  assert.equal(next.client.restore(saved), { ok: true, value: 4 });
  next.connect();
  const out = next.take(PUBLISH) as Extract<Packet, { type: typeof PUBLISH }>[];
  assert.equal(
    out.map((p) => [p.topic, p.payload[0], p.qos, p.retain]),
    [
      ['t/0', 0, 1, false],
      ['t/1', 1, 1, false],
      ['t/2', 2, 1, true],
      ['q0', 9, 0, false],
    ],
  );
  const flipped = new Uint8Array(saved);
  flipped[10] = (flipped[10] as number) ^ 1;
  assert.equal(harness().client.restore(flipped), { ok: false, reason: 'queue-file-checksum' });
  assert.equal(harness().client.restore(saved.slice(0, 5)), { ok: false, reason: 'queue-file-malformed' });
});

test('incoming QoS 1 messages are acknowledged and delivered', () => {
  const h = harness();
  h.connect();
  h.take();
  h.kinds();
  h.deliver({
    type: PUBLISH,
    topic: 'x0/m/a/cmd/ping',
    payload: payload(1),
    qos: 1,
    retain: false,
    dup: false,
    messageId: 77,
  });
  assert.equal(h.take(), [{ type: PUBACK, messageId: 77 }]);
  assert.equal(h.kinds(), ['message']);
});

for (const version of [5, 4] as Version[]) {
  test(`protocol violations close the connection with a reason (MQTT ${version}), never a throw`, () => {
    const cases: [string, Uint8Array | Packet, string, number][] = [
      ['malformed bytes', Uint8Array.of(0x30, 0x02, 0x00, 0x05), 'truncated', 0x81],
      [
        'a CONNECT from the broker',
        { type: CONNECT, protocolVersion: version, clientId: 'b', clean: true, keepalive: 0 },
        'packet-unexpected',
        0x82,
      ],
      ['a second CONNACK', { type: CONNACK, sessionPresent: false, reasonCode: 0 }, 'packet-unexpected', 0x82],
      [
        'QoS 2 we never asked for',
        { type: PUBLISH, topic: 't', payload: payload(1), qos: 2, retain: false, dup: false, messageId: 5 },
        'qos-not-granted',
        0x9b,
      ],
      ['an oversize packet', Uint8Array.of(0x30, 0xff, 0xff, 0x7f), 'packet-too-large', 0x95],
    ];
    for (const [what, input, reason, code] of cases) {
      const h = harness({ version, packetBytesMax: 64 * 1024 });
      h.connect();
      h.take();
      h.kinds();
      h.client.receive(input instanceof Uint8Array ? input : encodeAnyPacket(input, version));
      h.collect();
      assert.is(h.client.counters.get(reason), 2, `${what}: counted`);
      assert.equal(h.kinds(), ['close', 'disconnected', 'retry'], what);
      const sent = h.take();
      assert.equal(sent, version === 5 ? [{ type: DISCONNECT, reasonCode: code }] : [], `${what}: DISCONNECT`);
      assert.is(h.client.state, 'idle');
    }
  });
}

test('random bytes from the broker never throw; the client ends idle or connected (fast-check)', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
      const h = harness();
      h.connect();
      for (const chunk of chunks) h.client.receive(chunk);
      h.collect();
      assert.ok(h.client.state === 'idle' || h.client.state === 'connected');
    }),
    { numRuns: 200 },
  );
});

test('publish refuses bad input by reason', () => {
  const h = harness({ packetBytesMax: 1024 });
  assert.equal(h.client.publish('t', payload(1)), { ok: false, reason: 'stopped' });
  h.client.start();
  assert.equal(h.client.publish('a/#', payload(1)), { ok: false, reason: 'topic-invalid' });
  assert.equal(h.client.publish('t', payload(1), 2 as 1), { ok: false, reason: 'qos-unsupported' });
  assert.equal(h.client.publish('t', new Uint8Array(2000)), { ok: false, reason: 'packet-too-large' });
  assert.equal(h.client.subscribe('a/#/b'), { ok: false, reason: 'filter-invalid' });
});

test('stop sends DISCONNECT (the broker drops the Will) and closes', () => {
  const h = harness();
  h.connect();
  h.take();
  h.kinds();
  h.client.stop();
  h.collect();
  assert.equal(h.take(), [{ type: DISCONNECT }]);
  assert.equal(h.kinds(), ['close']);
});

test.run();
