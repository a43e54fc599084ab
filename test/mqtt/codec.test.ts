// The packet codec on both engines: round trips of every packet type (3.1.1 and 5.0), each protocol limit
// refused by its reason code, and random / mutated bytes never throwing (fast-check).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  CONNACK,
  CONNECT,
  PINGREQ,
  PUBLISH,
  PacketReader,
  decodePacket,
  encodePacket,
  isValidFilter,
  isValidTopic,
  type Packet,
  type Version,
} from '../../src/mqtt/codec.js';
import { decodeAnyPacket, encodeAnyPacket, packetNames } from '../../src/mqtt/codec-broker.js';
import { samplePackets } from './packets.js';

const bytes = (...b: number[]) => Uint8Array.from(b);

for (const version of [4, 5] as Version[]) {
  test(`every packet type round-trips (MQTT ${version === 5 ? '5.0' : '3.1.1'})`, () => {
    for (const packet of samplePackets(version)) {
      const encoded = encodeAnyPacket(packet, version);
      const decoded = decodeAnyPacket(encoded, version);
      assert.ok(decoded.ok, `${packetNames[packet.type]}: ${decoded.ok ? '' : decoded.reason}`);
      assert.equal(decoded.value, packet, packetNames[packet.type]);
    }
  });
}

test('the client codec refuses packets only a broker receives, by reason', () => {
  const connect = encodeAnyPacket({ type: CONNECT, protocolVersion: 5, clientId: 'x', clean: true, keepalive: 10 }, 5);
  assert.equal(decodePacket(connect, 5), { ok: false, reason: 'packet-unexpected' });
  assert.throws(() => encodePacket({ type: CONNACK, sessionPresent: false, reasonCode: 0 }, 5));
});

test('protocol limits are enforced on decode, each with its reason', () => {
  const cases: [string, Uint8Array, Version, string][] = [
    ['remaining length of five bytes', bytes(0x30, 0xff, 0xff, 0xff, 0xff, 0x01), 5, 'remaining-length-malformed'],
    ['publish with QoS 3', bytes(0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01), 4, 'qos-invalid'],
    ['QoS 0 publish with DUP', bytes(0x38, 0x03, 0x00, 0x01, 0x61), 4, 'flags-invalid'],
    ['wildcard in a topic name', bytes(0x30, 0x03, 0x00, 0x01, 0x23), 4, 'topic-invalid'],
    ['empty topic without alias', bytes(0x30, 0x03, 0x00, 0x00, 0x00), 5, 'topic-invalid'],
    ['U+0000 in a topic', bytes(0x30, 0x03, 0x00, 0x01, 0x00), 4, 'utf8-invalid'],
    ['invalid UTF-8 in a topic', bytes(0x30, 0x04, 0x00, 0x02, 0xc3, 0x28), 4, 'utf8-invalid'],
    ['packet id zero', bytes(0x40, 0x02, 0x00, 0x00), 4, 'packet-id-zero'],
    ['PUBACK with wrong flags', bytes(0x41, 0x02, 0x00, 0x01), 4, 'flags-invalid'],
    ['reserved packet type 0', bytes(0x00, 0x00), 4, 'packet-type-reserved'],
    ['AUTH in 3.1.1', bytes(0xf0, 0x00), 4, 'packet-type-reserved'],
    ['AUTH in 5.0 (not spoken)', bytes(0xf0, 0x00), 5, 'packet-unsupported'],
    ['truncated body', bytes(0x30, 0x05, 0x00, 0x05, 0x61), 4, 'truncated'],
    ['trailing bytes after PINGRESP', bytes(0xd0, 0x01, 0x00), 4, 'trailing-bytes'],
    ['unknown v5 property', bytes(0x20, 0x05, 0x00, 0x00, 0x02, 0x7f, 0x00), 5, 'property-unknown'],
    ['properties longer than the packet', bytes(0x20, 0x05, 0x00, 0x00, 0x03, 0x21, 0x00), 5, 'truncated'],
    ['topic alias in CONNACK', bytes(0x20, 0x06, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01), 5, 'property-not-allowed'],
    [
      'duplicate property',
      bytes(0x20, 0x09, 0x00, 0x00, 0x06, 0x21, 0x00, 0x01, 0x21, 0x00, 0x02),
      5,
      'property-duplicate',
    ],
    ['receive maximum zero', bytes(0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x00), 5, 'property-invalid'],
    ['CONNACK reserved flag bits', bytes(0x20, 0x02, 0x02, 0x00), 4, 'flags-invalid'],
    ['SUBACK with reason 3 in 3.1.1', bytes(0x90, 0x03, 0x00, 0x01, 0x03), 4, 'reason-code-invalid'],
    ['SUBACK without codes', bytes(0x90, 0x02, 0x00, 0x01), 4, 'list-empty'],
  ];
  for (const [what, input, version, reason] of cases)
    assert.equal(decodePacket(input, version), { ok: false, reason }, what);
});

test('broker-side limits: SUBSCRIBE filters, options and CONNECT flags', () => {
  const subscribe = (filter: string, options: number) => {
    const t = new TextEncoder().encode(filter);
    return Uint8Array.from([0x82, 5 + t.length, 0x00, 0x01, 0x00, t.length, ...t, options]);
  };
  assert.equal(decodeAnyPacket(subscribe('a/#/b', 1), 4), { ok: false, reason: 'filter-invalid' });
  assert.equal(decodeAnyPacket(subscribe('a/b+', 1), 4), { ok: false, reason: 'filter-invalid' });
  assert.equal(decodeAnyPacket(subscribe('a/+/#', 0xc1), 4), { ok: false, reason: 'options-invalid' });
  assert.ok(decodeAnyPacket(subscribe('a/+/#', 1), 4).ok);
  const badConnect = Uint8Array.from([
    0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x01, 0x00, 0x0a, 0x00, 0x00,
  ]);
  assert.equal(decodeAnyPacket(badConnect, 4), { ok: false, reason: 'connect-flags-invalid' });
  const mqisdp = Uint8Array.from([
    0x10, 0x0e, 0x00, 0x06, 0x4d, 0x51, 0x49, 0x73, 0x64, 0x70, 0x03, 0x02, 0x00, 0x0a, 0x00, 0x00,
  ]);
  assert.equal(decodeAnyPacket(mqisdp, 4), { ok: false, reason: 'protocol-unsupported' });
});

test('topic and filter rules', () => {
  assert.ok(isValidTopic('x0/mesh.example/alpha/telemetry'));
  for (const bad of ['', 'a/+', 'a/#', `${'a/'.repeat(40)}b`]) assert.not.ok(isValidTopic(bad), bad);
  for (const good of ['#', '+', 'x0/+/+/cmd/+', 'a/b/#', '/']) assert.ok(isValidFilter(good), good);
  for (const bad of ['', 'a#', '#/a', 'a/b#', 'a/+b']) assert.not.ok(isValidFilter(bad), bad);
});

test('the packet reader frames split and coalesced input and refuses oversize packets from the header', () => {
  const a = encodePacket(
    {
      type: PUBLISH,
      topic: 't',
      payload: new Uint8Array(300).fill(7),
      qos: 1,
      retain: false,
      dup: false,
      messageId: 9,
    },
    4,
  );
  const b = encodePacket({ type: PINGREQ }, 4);
  const all = new Uint8Array([...a, ...b]);
  for (let cut = 0; cut <= all.length; cut++) {
    const reader = new PacketReader(1024);
    const frames: Uint8Array[] = [];
    for (const part of [all.slice(0, cut), all.slice(cut)]) {
      reader.push(part);
      for (let f = reader.next(); f.ok && f.value !== null; f = reader.next()) frames.push(f.value);
    }
    assert.equal(
      frames.map((f) => f.length),
      [a.length, b.length],
      `cut at ${cut}`,
    );
  }
  const small = new PacketReader(100);
  small.push(a.slice(0, 4));
  assert.equal(small.next(), { ok: false, reason: 'packet-too-large' });
});

test('random and mutated bytes never throw: a packet or a reason (fast-check)', () => {
  const valid = [4, 5].flatMap((v) =>
    samplePackets(v as Version).map((p) => ({ v: v as Version, bytes: encodeAnyPacket(p, v as Version) })),
  );
  const mutated = fc
    .tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }))
    .map(([{ v, bytes }, flips]) => {
      const out = new Uint8Array(bytes);
      for (const [at, value] of flips) out[at % out.length] = value;
      return { v, bytes: out };
    });
  const random = fc
    .tuple(fc.constantFrom(4 as Version, 5 as Version), fc.uint8Array({ maxLength: 300 }))
    .map(([v, bytes]) => ({ v, bytes }));
  fc.assert(
    fc.property(fc.oneof(mutated, random), ({ v, bytes: input }) => {
      for (const decode of [decodePacket, decodeAnyPacket]) {
        const result = decode(input, v);
        if (!result.ok) assert.type(result.reason, 'string');
        // What decodes must re-encode to the same meaning.
        else assert.equal(decodeAnyPacket(encodeAnyPacket(result.value as Packet, v), v), result);
      }
      const reader = new PacketReader(4096);
      reader.push(input);
      for (let i = 0; i < 64; i++) {
        const frame = reader.next();
        if (!frame.ok || frame.value === null) break;
      }
    }),
    { numRuns: 400 },
  );
});

test.run();
