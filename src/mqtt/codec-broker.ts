// The broker's half of the codec: CONNECT, SUBSCRIBE and UNSUBSCRIBE decoding and CONNACK, SUBACK and
// UNSUBACK encoding, plus the names of packet types and v5 properties for people. The router's client never
// needs them (it refuses broker-bound packets as 'packet-unexpected'), so they live here, out of its bundle:
// tests, the interoperability checks, broker stand-ins and debugging use them.
import type { Result } from '../core/result.js';
import {
  CONNACK,
  CONNECT,
  SUBACK,
  SUBSCRIBE,
  UNSUBACK,
  UNSUBSCRIBE,
  W,
  bad,
  decodePacket,
  encodePacket,
  isValidFilter,
  isValidTopic,
  packetId,
  qosOf,
  readProperties,
  writeProperties,
  type DecodeReason,
  type Packet,
  type Reader,
  type Subscription,
  type Version,
  type Writer,
} from './codec.js';

/** Packet type names (§2.1.2), index = type number, as mqtt-packet names them. */
export const packetNames: readonly string[] = [
  'reserved',
  'connect',
  'connack',
  'publish',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'subscribe',
  'suback',
  'unsubscribe',
  'unsuback',
  'pingreq',
  'pingresp',
  'disconnect',
  'auth',
];

/** v5 property names by id (§2.2.2.2), as mqtt-packet names them. */
export const propertyNames: Readonly<Record<number, string>> = {
  0x01: 'payloadFormatIndicator',
  0x02: 'messageExpiryInterval',
  0x03: 'contentType',
  0x08: 'responseTopic',
  0x09: 'correlationData',
  0x0b: 'subscriptionIdentifier',
  0x11: 'sessionExpiryInterval',
  0x12: 'assignedClientIdentifier',
  0x13: 'serverKeepAlive',
  0x15: 'authenticationMethod',
  0x16: 'authenticationData',
  0x17: 'requestProblemInformation',
  0x18: 'willDelayInterval',
  0x19: 'requestResponseInformation',
  0x1a: 'responseInformation',
  0x1c: 'serverReference',
  0x1f: 'reasonString',
  0x21: 'receiveMaximum',
  0x22: 'topicAliasMaximum',
  0x23: 'topicAlias',
  0x24: 'maximumQoS',
  0x25: 'retainAvailable',
  0x26: 'userProperties',
  0x27: 'maximumPacketSize',
  0x28: 'wildcardSubscriptionAvailable',
  0x29: 'subscriptionIdentifiersAvailable',
  0x2a: 'sharedSubscriptionAvailable',
};

/** Property id by name: the inverse of propertyNames. */
export const propertyIds: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(propertyNames).map(([id, name]) => [name, Number(id)]),
);

function decodeConnect(r: Reader): Packet {
  if (r.str() !== 'MQTT') bad('protocol-unsupported');
  const level = r.u8();
  if (level !== 4 && level !== 5) bad('protocol-unsupported');
  const v5 = level === 5;
  const flags = r.u8();
  const hasWill = (flags & 4) !== 0;
  const willQos = qosOf((flags >> 3) & 3);
  if ((flags & 1) !== 0 || (!hasWill && (flags & 0x38) !== 0)) bad('connect-flags-invalid');
  if (!v5 && (flags & 0x40) !== 0 && (flags & 0x80) === 0) bad('connect-flags-invalid');
  const p: Packet = {
    type: CONNECT,
    protocolVersion: level as Version,
    clean: (flags & 2) !== 0,
    keepalive: r.u16(),
    clientId: '',
  };
  const props = v5 ? readProperties(r, 1 << CONNECT) : undefined;
  if (props) p.properties = props;
  p.clientId = r.str();
  if (hasWill) {
    const willProps = v5 ? readProperties(r, W) : undefined;
    const topic = r.str();
    if (!isValidTopic(topic)) bad('topic-invalid');
    p.will = { topic, payload: r.bin(), qos: willQos, retain: (flags & 0x20) !== 0 };
    if (willProps) p.will.properties = willProps;
  }
  if ((flags & 0x80) !== 0) p.username = r.str();
  if ((flags & 0x40) !== 0) p.password = r.bin();
  return p;
}

function decodeSubscribe(r: Reader, v5: boolean): Packet {
  const p: Packet = { type: SUBSCRIBE, messageId: packetId(r), subscriptions: [] };
  const props = v5 ? readProperties(r, 1 << SUBSCRIBE) : undefined;
  if (props) p.properties = props;
  while (r.left > 0) {
    const topic = r.str();
    if (!isValidFilter(topic)) bad('filter-invalid');
    const options = r.u8();
    if ((options & (v5 ? 0xc0 : 0xfc)) !== 0 || ((options >> 4) & 3) === 3) bad('options-invalid');
    const s: Subscription = { topic, qos: qosOf(options & 3) };
    if (v5) {
      s.nl = (options & 4) !== 0;
      s.rap = (options & 8) !== 0;
      s.rh = (options >> 4) & 3;
    }
    p.subscriptions.push(s);
  }
  if (p.subscriptions.length === 0) bad('list-empty');
  return p;
}

function decodeUnsubscribe(r: Reader, v5: boolean): Packet {
  const p: Packet = { type: UNSUBSCRIBE, messageId: packetId(r), unsubscriptions: [] };
  const props = v5 ? readProperties(r, 1 << UNSUBSCRIBE) : undefined;
  if (props) p.properties = props;
  while (r.left > 0) {
    const topic = r.str();
    if (!isValidFilter(topic)) bad('filter-invalid');
    p.unsubscriptions.push(topic);
  }
  if (p.unsubscriptions.length === 0) bad('list-empty');
  return p;
}

function readBrokerBody(type: number, r: Reader, v5: boolean): Packet {
  if (type === CONNECT) return decodeConnect(r);
  if (type === SUBSCRIBE) return decodeSubscribe(r, v5);
  return decodeUnsubscribe(r, v5);
}

function writeBrokerBody(w: Writer, p: Packet, v5: boolean): void {
  // The router's client never unsubscribes: UNSUBSCRIBE is written here, for tests and other clients.
  if (p.type === UNSUBSCRIBE) {
    w.u16(p.messageId);
    if (v5) writeProperties(w, p.properties);
    for (const topic of p.unsubscriptions) w.str(topic);
    return;
  }
  if (p.type === CONNACK) {
    w.u8(p.sessionPresent ? 1 : 0);
    w.u8(p.reasonCode);
    if (v5) writeProperties(w, p.properties);
    return;
  }
  if (p.type !== SUBACK && p.type !== UNSUBACK) return bad('packet-unexpected');
  w.u16(p.messageId);
  if (v5) writeProperties(w, p.properties);
  if (p.type === SUBACK || v5) for (const code of p.granted ?? []) w.u8(code);
}

/** Decodes any packet either side may send. */
export function decodeAnyPacket(bytes: Uint8Array, version: Version): Result<Packet, DecodeReason> {
  return decodePacket(bytes, version, readBrokerBody);
}

/** Encodes any packet either side may send. */
export function encodeAnyPacket(p: Packet, version: Version): Uint8Array {
  return encodePacket(p, version, writeBrokerBody);
}
