// The broker's half of the codec: CONNECT, SUBSCRIBE and UNSUBSCRIBE decoding and CONNACK, SUBACK and
// UNSUBACK encoding. The router's client never needs them (it refuses them as 'packet-unexpected'), so they
// live here, out of its bundle: tests, the interoperability checks and broker stand-ins use them.
import type { Result } from '../core/result.js';
import {
  CONNECT, SUBSCRIBE, W, Writer, bad, decodePacket, encodePacket, isValidFilter, isValidTopic, packetId, qosOf, readProperties, writeProperties,
  type DecodeReason, type Packet, type Reader, type Subscription, type Version,
} from './codec.js';

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
  const p: Packet = { type: 'connect', protocolVersion: level as Version, clean: (flags & 2) !== 0, keepalive: r.u16(), clientId: '' };
  const props = v5 ? readProperties(r, CONNECT) : undefined;
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
  const p: Packet = { type: 'subscribe', messageId: packetId(r), subscriptions: [] };
  const props = v5 ? readProperties(r, SUBSCRIBE) : undefined;
  if (props) p.properties = props;
  while (r.left > 0) {
    const topic = r.str();
    if (!isValidFilter(topic)) bad('filter-invalid');
    const options = r.u8();
    if ((options & (v5 ? 0xc0 : 0xfc)) !== 0 || ((options >> 4) & 3) === 3) bad('options-invalid');
    const s: Subscription = { topic, qos: qosOf(options & 3) };
    if (v5) { s.nl = (options & 4) !== 0; s.rap = (options & 8) !== 0; s.rh = (options >> 4) & 3; }
    p.subscriptions.push(s);
  }
  if (p.subscriptions.length === 0) bad('list-empty');
  return p;
}

function decodeUnsubscribe(r: Reader, v5: boolean): Packet {
  const p: Packet = { type: 'unsubscribe', messageId: packetId(r), unsubscriptions: [] };
  const props = v5 ? readProperties(r, 0x400) : undefined;
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
  if (type === 1) return decodeConnect(r);
  if (type === 8) return decodeSubscribe(r, v5);
  return decodeUnsubscribe(r, v5);
}

function writeBrokerBody(w: Writer, p: Packet, v5: boolean): number {
  if (p.type === 'connack') {
    w.u8(p.sessionPresent ? 1 : 0);
    w.u8(p.reasonCode);
    if (v5) writeProperties(w, p.properties);
    return 0;
  }
  if (p.type !== 'suback' && p.type !== 'unsuback') return bad('packet-unexpected');
  w.u16(p.messageId);
  if (v5) writeProperties(w, p.properties);
  if (p.type === 'suback' || v5) for (const code of p.granted ?? []) w.u8(code);
  return 0;
}

/** Decodes any packet either side may send. */
export function decodeAnyPacket(bytes: Uint8Array, version: Version): Result<Packet, DecodeReason> {
  return decodePacket(bytes, version, readBrokerBody);
}

/** Encodes any packet either side may send. */
export function encodeAnyPacket(p: Packet, version: Version): Uint8Array {
  return encodePacket(p, version, writeBrokerBody);
}
