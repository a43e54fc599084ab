// A broker's extreme but well-formed values (issue 16): every CONNACK limit at the edges the codec accepts
// (Receive Maximum 1 and 65535, Maximum Packet Size from tiny to 2^32 - 1, Server Keep Alive 0 and 65535),
// acknowledgements for ids never used, unsolicited packets, in sequences with reconnects. The client must never
// throw, and must never wedge: a message queued before the broker announced a smaller Maximum Packet Size is
// dropped and counted (MQTT 5 §3.1.2.11.4: the client must not send it), not resent forever. Engine-neutral.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createMqttClient, type MqttClient } from '../../src/mqtt/client.js';
import {
  CONNACK,
  PINGRESP,
  PUBACK,
  PUBLISH,
  SUBACK,
  PacketReader,
  propMaximumPacketSize,
  propReceiveMaximum,
  propServerKeepAlive,
  type Packet,
  type Properties,
} from '../../src/mqtt/codec.js';
import { decodeAnyPacket, encodeAnyPacket } from '../../src/mqtt/codec-broker.js';
import { Rng } from '../../src/core/rng.js';

function harness() {
  const rng = new Rng(7);
  let now = 1000;
  const sent: Packet[] = [];
  const client: MqttClient = createMqttClient({
    clientId: 'x0-hostile',
    nowMs: () => now,
    random: () => rng.nextUint32() / 2 ** 32,
  });
  const collect = () => {
    const out = client.takeOutput();
    if (out === null) return;
    const reader = new PacketReader(1 << 20);
    reader.push(out);
    for (let f = reader.next(); f.ok && f.value !== null; f = reader.next()) {
      const p = decodeAnyPacket(f.value, 5);
      if (!p.ok) throw new Error(`client wrote a bad packet: ${p.reason}`);
      sent.push(p.value);
    }
    client.takeEvents();
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (let i = 0; i < 10_000; i++) {
      const next = client.nextDeadlineMs();
      if (next === null || next > end) break;
      now = Math.max(now, next);
      client.tick();
      collect();
    }
    now = end;
    client.tick();
    collect();
  };
  const deliver = (p: Packet) => {
    client.receive(encodeAnyPacket(p, 5));
    collect();
  };
  const connect = (properties: Record<string, unknown>) => {
    if (client.state === 'stopped') client.start();
    collect();
    if (client.state !== 'opening') advance((client.nextDeadlineMs() ?? now) - now);
    client.transportUp();
    collect();
    deliver({ type: CONNACK, sessionPresent: true, reasonCode: 0, properties: properties as Properties });
  };
  return { client, sent, advance, deliver, connect, collect };
}

const edges = [
  {},
  { [propReceiveMaximum]: 1 },
  { [propReceiveMaximum]: 65_535 },
  { [propMaximumPacketSize]: 64 },
  { [propMaximumPacketSize]: 2 ** 32 - 1 },
  { [propServerKeepAlive]: 0 },
  { [propServerKeepAlive]: 65_535 },
  { [propReceiveMaximum]: 1, [propMaximumPacketSize]: 64, [propServerKeepAlive]: 1 },
];

test('CONNACK limits at their edges, stray acknowledgements and unsolicited packets never throw', () => {
  const h = harness();
  h.client.subscribe('x0/m/+/status', 1);
  for (const [i, limits] of edges.entries()) {
    h.connect(limits);
    assert.is(h.client.state, 'connected', `CONNACK ${JSON.stringify(limits)}`);
    for (let k = 0; k < 3; k++) h.client.publish('x0/m/a/telemetry', new Uint8Array(40), 1);
    for (const id of [1, 2, 255, 65_535]) h.deliver({ type: PUBACK, messageId: id });
    h.deliver({ type: SUBACK, messageId: 65_535, granted: [1] });
    h.deliver({ type: PINGRESP });
    h.deliver({
      type: PUBLISH,
      topic: 'x0/m/b/status',
      payload: new Uint8Array(1),
      qos: 1,
      retain: false,
      dup: false,
      messageId: 65_535,
    });
    h.advance(70_000 * (i + 1));
    h.client.transportDown('ECONNRESET');
    h.advance(60_000);
  }
});

test('a message queued before the broker announced a smaller Maximum Packet Size is dropped, not resent forever', () => {
  const h = harness();
  h.connect({});
  h.client.transportDown('ECONNRESET'); // offline: messages queue
  assert.ok(h.client.publish('x0/m/a/telemetry', new Uint8Array(500), 1).ok);
  assert.ok(h.client.publish('x0/m/a/telemetry', new Uint8Array(10), 1).ok);
  h.advance(60_000);
  h.sent.length = 0;
  h.connect({ [propMaximumPacketSize]: 200 });
  const out = h.sent.filter((p) => p.type === PUBLISH) as Extract<Packet, { type: typeof PUBLISH }>[];
  assert.ok(
    out.every((p) => p.payload.length < 200),
    `sent a PUBLISH of ${Math.max(...out.map((p) => p.payload.length))} bytes past the broker's 200`,
  );
  assert.is(out.length, 1, 'the small message still goes');
  assert.is(h.client.counters.get('publish-too-large-for-broker'), 1, JSON.stringify(h.client.counters.snapshot()));
});

test.run();
