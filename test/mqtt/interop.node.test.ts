// Interoperability with an independent codec, mqtt-packet (the one mqtt.js and aedes use): every packet type,
// random fields (fast-check), both versions: what we encode, mqtt-packet parses to the same packet, and what
// mqtt-packet generates, we decode to the same packet.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { CONNACK, CONNECT, PUBLISH, type Packet, type Properties, type Version } from '../../src/mqtt/codec.js';
import { decodeAnyPacket, encodeAnyPacket, packetNames, propertyNames } from '../../src/mqtt/codec-broker.js';
import { props as named, samplePackets } from './packets.js';

type Mp = Record<string, unknown>;
const flagProps = new Set([
  'payloadFormatIndicator',
  'requestProblemInformation',
  'requestResponseInformation',
  'retainAvailable',
  'wildcardSubscriptionAvailable',
  'subscriptionIdentifiersAvailable',
  'sharedSubscriptionAvailable',
]);
const binaryProps = new Set(['correlationData', 'authenticationData']);

// Our properties are keyed by id; mqtt-packet's by name, with flags as booleans, binaries as Buffers, user
// properties as an object and a lone subscription id as a number.
function propsToMp(p: Properties | undefined, packetType: string): Mp | undefined {
  if (p === undefined) return undefined;
  const out: Mp = {};
  for (const [k, v] of Object.entries(p).map(([id, value]) => [propertyNames[Number(id)] as string, value] as const)) {
    if (k === 'userProperties') {
      const o: Record<string, string[]> = {};
      for (const [a, b] of v as [string, string][]) (o[a] ??= []).push(b);
      out.userProperties = o;
    } else if (k === 'subscriptionIdentifier') out[k] = packetType === 'publish' ? v : (v as number[])[0];
    else if (flagProps.has(k)) out[k] = v === 1;
    else if (binaryProps.has(k)) out[k] = Buffer.from(v as Uint8Array);
    else out[k] = v;
  }
  return out;
}

function propsFromMp(p: Mp | undefined): Properties | undefined {
  if (p === undefined || Object.keys(p).length === 0) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (k === 'userProperties')
      out[k] = Object.entries(v as Record<string, string | string[]>).flatMap(([a, b]) =>
        (Array.isArray(b) ? b : [b]).map((x) => [a, x]),
      );
    else if (k === 'subscriptionIdentifier') out[k] = Array.isArray(v) ? v : [v];
    else if (flagProps.has(k)) out[k] = v ? 1 : 0;
    else if (binaryProps.has(k)) out[k] = new Uint8Array(v as Buffer);
    else out[k] = v;
  }
  return named(out);
}

const bytes = (b: unknown) => new Uint8Array(b as Buffer);
const clean = <T extends Mp>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

function toMp(p: Packet, v: Version): Mp {
  const cmd = packetNames[p.type] as string;
  const base: Mp = {
    ...p,
    cmd,
    type: undefined,
    properties: propsToMp((p as { properties?: Properties }).properties, cmd),
  };
  if (p.type === CONNECT)
    Object.assign(base, {
      protocolId: 'MQTT',
      password: p.password && Buffer.from(p.password),
      will:
        p.will &&
        clean({ ...p.will, payload: Buffer.from(p.will.payload), properties: propsToMp(p.will.properties, 'will') }),
    });
  if (p.type === CONNACK && v === 4) Object.assign(base, { returnCode: p.reasonCode, reasonCode: undefined });
  if (p.type === PUBLISH) base.payload = Buffer.from(p.payload);
  return clean(base);
}

function fromMp(m: Mp, v: Version): Packet {
  const name = m.cmd as string;
  const type = packetNames.indexOf(name);
  const props = propsFromMp(m.properties as Mp | undefined);
  const withProps = (o: Mp) => (props === undefined ? o : { ...o, properties: props });
  switch (name) {
    case 'connect': {
      const will = m.will as Mp | undefined;
      return clean(
        withProps({
          type,
          protocolVersion: m.protocolVersion,
          clientId: m.clientId,
          clean: m.clean,
          keepalive: m.keepalive,
          username: m.username,
          password: m.password === undefined ? undefined : bytes(m.password),
          will:
            will &&
            clean({
              topic: will.topic,
              payload: bytes(will.payload),
              qos: will.qos,
              retain: will.retain,
              properties: propsFromMp(will.properties as Mp | undefined),
            }),
        }),
      ) as Packet;
    }
    case 'connack':
      return withProps({
        type,
        sessionPresent: m.sessionPresent,
        reasonCode: v === 4 ? m.returnCode : m.reasonCode,
      }) as Packet;
    case 'publish':
      return clean(
        withProps({
          type,
          topic: m.topic,
          payload: bytes(m.payload),
          qos: m.qos,
          retain: m.retain,
          dup: m.dup,
          messageId: m.qos === 0 ? undefined : m.messageId,
        }),
      ) as Packet;
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
    case 'disconnect':
      return clean(
        withProps({
          type,
          messageId: m.messageId,
          reasonCode: v === 5 && (m.reasonCode !== 0 || props !== undefined) ? m.reasonCode : undefined,
        }),
      ) as Packet;
    case 'subscribe':
      return withProps({
        type,
        messageId: m.messageId,
        subscriptions: (m.subscriptions as Mp[]).map((s) =>
          v === 5 ? { topic: s.topic, qos: s.qos, nl: s.nl, rap: s.rap, rh: s.rh } : { topic: s.topic, qos: s.qos },
        ),
      }) as Packet;
    case 'suback':
      return withProps({ type, messageId: m.messageId, granted: m.granted }) as Packet;
    case 'unsubscribe':
      return withProps({ type, messageId: m.messageId, unsubscriptions: m.unsubscriptions }) as Packet;
    case 'unsuback':
      return clean(withProps({ type, messageId: m.messageId, granted: v === 5 ? m.granted : undefined })) as Packet;
    default:
      return { type } as Packet;
  }
}

function parseWithMqttPacket(data: Uint8Array, v: Version): Mp[] {
  const parser = mqttPacket.parser({ protocolVersion: v }) as unknown as {
    on(event: string, f: (x: never) => void): void;
    parse(b: Buffer): void;
  };
  const out: Mp[] = [];
  parser.on('packet', (p: Mp) => out.push(p));
  parser.on('error', (e: Error) => {
    throw e;
  });
  parser.parse(Buffer.from(data));
  return out;
}

function check(p: Packet, v: Version): void {
  const ours = encodeAnyPacket(p, v);
  const parsed = parseWithMqttPacket(ours, v);
  const name = packetNames[p.type];
  assert.is(parsed.length, 1, `mqtt-packet parsed our ${name}`);
  assert.equal(fromMp(parsed[0]!, v), p, `mqtt-packet reads our ${name} as we meant it`);
  const theirs = new Uint8Array(mqttPacket.generate(toMp(p, v) as never, { protocolVersion: v }));
  const decoded = decodeAnyPacket(theirs, v);
  assert.ok(decoded.ok, `we decode mqtt-packet's ${name}: ${decoded.ok ? '' : decoded.reason}`);
  assert.equal(decoded.value, p, `we read mqtt-packet's ${name} as it meant it`);
}

for (const v of [4, 5] as Version[]) {
  test(`every packet type, both directions, with mqtt-packet (MQTT ${v === 5 ? '5.0' : '3.1.1'})`, () => {
    for (const p of samplePackets(v)) check(p, v);
  });
}

const topic = fc.stringMatching(/^[a-z0-9]{1,8}(\/[a-z0-9]{1,8}){0,4}$/);
const id = fc.integer({ min: 1, max: 65535 });
const payload = fc.uint8Array({ maxLength: 200 });

/** fast-check builds objects without a prototype; the packets we compare with are plain objects. */
function plain(x: unknown): unknown {
  if (x instanceof Uint8Array || x === null || typeof x !== 'object') return x;
  if (Array.isArray(x)) return x.map(plain);
  return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
}

function packetArb(v: Version): fc.Arbitrary<Packet> {
  const v5 = v === 5;
  const userProps = v5
    ? fc.option(
        fc.uniqueArray(
          fc.tuple(
            fc.stringMatching(/^[a-z]{1,5}$/),
            fc.string({ maxLength: 8 }).filter((s) => !s.includes('\u0000')),
          ),
          { minLength: 1, maxLength: 3, selector: (t) => t[0] },
        ),
        { nil: undefined },
      )
    : fc.constant(undefined);
  // Distinct keys: mqtt-packet keeps user properties as an object and merges repeated identical pairs.
  const props = (extra: Record<string, fc.Arbitrary<unknown>> = {}) =>
    fc
      .record({ userProperties: userProps, ...extra })
      .map((o) => clean(o as Mp))
      .map((o) => (Object.keys(o).length === 0 ? undefined : named(o)));
  const withProps = <T extends Mp>(arb: fc.Arbitrary<T>, p: fc.Arbitrary<Properties | undefined>) =>
    fc.tuple(arb, p).map(([o, pr]) => (pr === undefined ? o : { ...o, properties: pr }) as unknown as Packet);
  return fc
    .oneof(
      withProps(
        fc
          .record({
            type: fc.constant('publish'),
            topic,
            payload,
            qos: fc.constantFrom(0, 1, 2),
            retain: fc.boolean(),
            dup: fc.boolean(),
            messageId: id,
          })
          .map((p) =>
            clean({ ...p, dup: p.qos === 0 ? false : p.dup, messageId: p.qos === 0 ? undefined : p.messageId }),
          ),
        props(
          v5
            ? {
                messageExpiryInterval: fc.option(fc.nat(100000), { nil: undefined }),
                contentType: fc.option(fc.constant('application/cose'), { nil: undefined }),
              }
            : {},
        ),
      ),
      fc.record({
        type: fc.constantFrom('puback', 'pubrec', 'pubrel', 'pubcomp'),
        messageId: id,
      }) as unknown as fc.Arbitrary<Packet>,
      withProps(
        fc.record({
          type: fc.constant('subscribe'),
          messageId: id,
          subscriptions: fc.array(
            fc
              .record({ topic, qos: fc.constantFrom(0, 1, 2) })
              .map((s) => (v5 ? { ...s, nl: false, rap: true, rh: 1 } : s)),
            { minLength: 1, maxLength: 3 },
          ),
        }),
        props(),
      ),
      withProps(
        fc.record({
          type: fc.constant('suback'),
          messageId: id,
          granted: fc.array(fc.constantFrom(0, 1, 2, 0x80), { minLength: 1, maxLength: 3 }),
        }),
        props(),
      ),
      withProps(
        fc.record({
          type: fc.constant('unsubscribe'),
          messageId: id,
          unsubscriptions: fc.array(topic, { minLength: 1, maxLength: 3 }),
        }),
        props(),
      ),
      withProps(
        fc.record({
          type: fc.constant('connack'),
          sessionPresent: fc.boolean(),
          reasonCode: fc.constantFrom(0, v5 ? 0x87 : 5),
        }),
        props(
          v5
            ? {
                receiveMaximum: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
                maximumPacketSize: fc.option(fc.integer({ min: 1, max: 2 ** 28 }), { nil: undefined }),
              }
            : {},
        ),
      ),
      withProps(
        fc
          .record({
            type: fc.constant('connect'),
            protocolVersion: fc.constant(v),
            clientId: fc.stringMatching(/^[a-z0-9-]{1,20}$/),
            clean: fc.boolean(),
            keepalive: fc.nat(65535),
            username: fc.option(fc.stringMatching(/^[a-z]{1,8}$/), { nil: undefined }),
          })
          .map((c) => clean(c as Mp)),
        props(v5 ? { sessionExpiryInterval: fc.option(fc.nat(2 ** 31), { nil: undefined }) } : {}),
      ),
      fc.constantFrom({ type: 'pingreq' } as Mp, { type: 'pingresp' } as Mp),
    )
    .map((p) => ({ ...p, type: packetNames.indexOf((p as Mp).type as string) }) as Packet);
}

for (const v of [4, 5] as Version[]) {
  test(`random packets agree with mqtt-packet both ways (fast-check, MQTT ${v === 5 ? '5.0' : '3.1.1'})`, () => {
    fc.assert(
      fc.property(packetArb(v).map(plain), (p) => check(p as Packet, v)),
      { numRuns: 300 },
    );
  });
}

test.run();
