// MQTT 3.1.1 (protocol level 4) and 5.0 (level 5) packets: a pure codec. Encoding trusts its caller (our own
// packets: a bad one is a bug and asserts); decoding trusts nothing: every field is checked against the
// specification's rules and our limits, and a violation is a returned reason code, never a throw.
import { assertThat, fail, ok, type Result } from '../core/result.js';
import { propertiesMax, remainingLengthMax, topicBytesMax, topicLevelsMax } from './limits.js';

export type Version = 4 | 5;
export type QoS = 0 | 1 | 2;
export type UserProperties = [string, string][];

/** v5 properties, named as in the specification (and as mqtt-packet names them). Flags are 0/1 numbers. */
export interface Properties {
  payloadFormatIndicator?: number; messageExpiryInterval?: number; contentType?: string; responseTopic?: string;
  correlationData?: Uint8Array; subscriptionIdentifier?: number[]; sessionExpiryInterval?: number;
  assignedClientIdentifier?: string; serverKeepAlive?: number; authenticationMethod?: string; authenticationData?: Uint8Array;
  requestProblemInformation?: number; willDelayInterval?: number; requestResponseInformation?: number;
  responseInformation?: string; serverReference?: string; reasonString?: string; receiveMaximum?: number;
  topicAliasMaximum?: number; topicAlias?: number; maximumQoS?: number; retainAvailable?: number;
  userProperties?: UserProperties; maximumPacketSize?: number; wildcardSubscriptionAvailable?: number;
  subscriptionIdentifiersAvailable?: number; sharedSubscriptionAvailable?: number;
}

export interface Will { topic: string; payload: Uint8Array; qos: QoS; retain: boolean; properties?: Properties }
export interface Subscription { topic: string; qos: QoS; nl?: boolean; rap?: boolean; rh?: number }

export type Packet =
  | { type: 'connect'; protocolVersion: Version; clientId: string; clean: boolean; keepalive: number; username?: string; password?: Uint8Array; will?: Will; properties?: Properties }
  | { type: 'connack'; sessionPresent: boolean; reasonCode: number; properties?: Properties }
  | { type: 'publish'; topic: string; payload: Uint8Array; qos: QoS; retain: boolean; dup: boolean; messageId?: number; properties?: Properties }
  | { type: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp'; messageId: number; reasonCode?: number; properties?: Properties }
  | { type: 'subscribe'; messageId: number; subscriptions: Subscription[]; properties?: Properties }
  | { type: 'suback'; messageId: number; granted: number[]; properties?: Properties }
  | { type: 'unsubscribe'; messageId: number; unsubscriptions: string[]; properties?: Properties }
  | { type: 'unsuback'; messageId: number; granted?: number[]; properties?: Properties }
  | { type: 'pingreq' | 'pingresp' }
  | { type: 'disconnect'; reasonCode?: number; properties?: Properties };

export type PacketType = Packet['type'];

export type DecodeReason =
  | 'remaining-length-malformed' | 'packet-too-large' | 'packet-type-reserved' | 'packet-unsupported' | 'packet-unexpected' | 'flags-invalid'
  | 'truncated' | 'trailing-bytes' | 'utf8-invalid' | 'topic-invalid' | 'filter-invalid' | 'qos-invalid'
  | 'packet-id-zero' | 'property-unknown' | 'property-duplicate' | 'property-not-allowed' | 'property-invalid'
  | 'protocol-unsupported' | 'connect-flags-invalid' | 'options-invalid' | 'list-empty' | 'reason-code-invalid';

/** Packet type numbers (§2.1.2), index = number. AUTH (15) is not spoken by this client. */
export const typeNames: readonly (PacketType | null)[] = [null, 'connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', null];
const typeNumber = (type: PacketType): number => typeNames.indexOf(type);

// ---- v5 properties (§2.2.2.2): id → name, wire kind, and the packet types that may carry it ----
// Kinds: 1 byte, 2 u16, 4 u32, 5 varint, 6 UTF-8 string, 7 binary, 8 string pair. Mask bit n = packet type n,
// bit 0 = will properties.
export const W = 1, CONNECT = 2, CONNACK = 4, PUBLISH = 8, ACKS = 0xf0, SUBSCRIBE = 0x100, SUBACK = 0x200, UNSUBACK = 0x800, DISCONNECT = 0x4000;
const propertyTable: readonly (readonly [number, keyof Properties, number, number])[] = [
  [0x01, 'payloadFormatIndicator', 1, PUBLISH | W], [0x02, 'messageExpiryInterval', 4, PUBLISH | W],
  [0x03, 'contentType', 6, PUBLISH | W], [0x08, 'responseTopic', 6, PUBLISH | W], [0x09, 'correlationData', 7, PUBLISH | W],
  [0x0b, 'subscriptionIdentifier', 5, PUBLISH | SUBSCRIBE], [0x11, 'sessionExpiryInterval', 4, CONNECT | CONNACK | DISCONNECT],
  [0x12, 'assignedClientIdentifier', 6, CONNACK], [0x13, 'serverKeepAlive', 2, CONNACK], [0x15, 'authenticationMethod', 6, CONNECT | CONNACK],
  [0x16, 'authenticationData', 7, CONNECT | CONNACK], [0x17, 'requestProblemInformation', 1, CONNECT], [0x18, 'willDelayInterval', 4, W],
  [0x19, 'requestResponseInformation', 1, CONNECT], [0x1a, 'responseInformation', 6, CONNACK], [0x1c, 'serverReference', 6, CONNACK | DISCONNECT],
  [0x1f, 'reasonString', 6, CONNACK | ACKS | SUBACK | UNSUBACK | DISCONNECT], [0x21, 'receiveMaximum', 2, CONNECT | CONNACK],
  [0x22, 'topicAliasMaximum', 2, CONNECT | CONNACK], [0x23, 'topicAlias', 2, PUBLISH], [0x24, 'maximumQoS', 1, CONNACK],
  [0x25, 'retainAvailable', 1, CONNACK], [0x26, 'userProperties', 8, 0xffff], [0x27, 'maximumPacketSize', 4, CONNECT | CONNACK],
  [0x28, 'wildcardSubscriptionAvailable', 1, CONNACK], [0x29, 'subscriptionIdentifiersAvailable', 1, CONNACK], [0x2a, 'sharedSubscriptionAvailable', 1, CONNACK],
];
const propertyById = new Map(propertyTable.map((row) => [row[0], row]));

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

// ---- encoding ----

export class Writer {
  buf = new Uint8Array(256);
  n = 0;

  need(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }

  u8(v: number): void { this.need(1); this.buf[this.n++] = v; }
  u16(v: number): void { this.need(2); this.buf[this.n++] = v >> 8; this.buf[this.n++] = v & 0xff; }
  u32(v: number): void { this.u16(Math.floor(v / 0x10000)); this.u16(v & 0xffff); }

  varint(v: number): void {
    assertThat(Number.isInteger(v) && v >= 0 && v <= remainingLengthMax, 'mqtt: varint in range');
    do {
      let byte = v % 128;
      v = Math.floor(v / 128);
      if (v > 0) byte |= 0x80;
      this.u8(byte);
    } while (v > 0);
  }

  raw(bytes: Uint8Array): void { this.need(bytes.length); this.buf.set(bytes, this.n); this.n += bytes.length; }
  bin(bytes: Uint8Array): void { assertThat(bytes.length <= 0xffff, 'mqtt: field fits 65535 bytes'); this.u16(bytes.length); this.raw(bytes); }
  str(text: string): void { this.bin(textEncoder.encode(text)); }
}

export function writeProperties(w: Writer, props: Properties | undefined): void {
  const p = new Writer();
  for (const [id, name, kind] of propertyTable) {
    const value = props?.[name];
    if (value === undefined) continue;
    if (kind === 8) for (const [k, v] of value as UserProperties) { p.u8(id); p.str(k); p.str(v); }
    else if (kind === 5) for (const v of value as number[]) { p.u8(id); p.varint(v); }
    else {
      p.u8(id);
      if (kind === 1) p.u8(value as number);
      else if (kind === 2) p.u16(value as number);
      else if (kind === 4) p.u32(value as number);
      else if (kind === 6) p.str(value as string);
      else p.bin(value as Uint8Array);
    }
  }
  w.varint(p.n);
  w.raw(p.buf.subarray(0, p.n));
}

export type BodyWriter = (w: Writer, p: Packet, v5: boolean) => number;

function writeBody(w: Writer, p: Packet, v: Version, extra: BodyWriter | null): number {
  const v5 = v === 5;
  switch (p.type) {
    case 'connect': {
      const will = p.will;
      w.str('MQTT');
      w.u8(p.protocolVersion);
      w.u8((p.username !== undefined ? 0x80 : 0) | (p.password !== undefined ? 0x40 : 0) | (will?.retain === true ? 0x20 : 0) | ((will?.qos ?? 0) << 3) | (will ? 4 : 0) | (p.clean ? 2 : 0));
      w.u16(p.keepalive);
      if (v5) writeProperties(w, p.properties);
      w.str(p.clientId);
      if (will) {
        if (v5) writeProperties(w, will.properties);
        w.str(will.topic);
        w.bin(will.payload);
      }
      if (p.username !== undefined) w.str(p.username);
      if (p.password !== undefined) w.bin(p.password);
      return 0;
    }
    case 'publish':
      w.str(p.topic);
      if (p.qos > 0) w.u16(p.messageId as number);
      if (v5) writeProperties(w, p.properties);
      w.raw(p.payload);
      return (p.dup ? 8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0);
    case 'puback': case 'pubrec': case 'pubrel': case 'pubcomp':
      w.u16(p.messageId);
      if (v5 && ((p.reasonCode ?? 0) !== 0 || p.properties !== undefined)) w.u8(p.reasonCode ?? 0);
      if (v5 && p.properties !== undefined) writeProperties(w, p.properties);
      return p.type === 'pubrel' ? 2 : 0;
    case 'subscribe':
      w.u16(p.messageId);
      if (v5) writeProperties(w, p.properties);
      for (const s of p.subscriptions) {
        w.str(s.topic);
        w.u8(s.qos | (v5 ? (s.nl ? 4 : 0) | (s.rap ? 8 : 0) | ((s.rh ?? 0) << 4) : 0));
      }
      return 2;
    case 'unsubscribe':
      w.u16(p.messageId);
      if (v5) writeProperties(w, p.properties);
      for (const topic of p.unsubscriptions) w.str(topic);
      return 2;
    case 'disconnect':
      if (v5 && ((p.reasonCode ?? 0) !== 0 || p.properties !== undefined)) w.u8(p.reasonCode ?? 0);
      if (v5 && p.properties !== undefined) writeProperties(w, p.properties);
      return 0;
    case 'pingreq': case 'pingresp':
      return 0;
    default:
      return extra === null ? assertThat(false, `mqtt: ${p.type} is a broker's packet (codec-broker.ts)`) as never : extra(w, p, v5);
  }
}

/** Encodes one of our own packets (programmer errors assert). CONNECT takes its version from the packet. */
export function encodePacket(p: Packet, version: Version, extra: BodyWriter | null = null): Uint8Array {
  const w = new Writer();
  const flags = writeBody(w, p, p.type === 'connect' ? p.protocolVersion : version, extra);
  const head = new Writer();
  head.u8((typeNumber(p.type) << 4) | flags);
  head.varint(w.n);
  const out = new Uint8Array(head.n + w.n);
  out.set(head.buf.subarray(0, head.n));
  out.set(w.buf.subarray(0, w.n), head.n);
  return out;
}

// ---- decoding ----

class Malformed {
  constructor(readonly reason: DecodeReason) {}
}
export const bad = (reason: DecodeReason): never => { throw new Malformed(reason); };

export class Reader {
  constructor(readonly b: Uint8Array, public i: number, readonly end: number) {}
  get left(): number { return this.end - this.i; }
  u8(): number { if (this.i >= this.end) bad('truncated'); return this.b[this.i++] as number; }
  u16(): number { return (this.u8() << 8) | this.u8(); }
  u32(): number { return this.u16() * 0x10000 + this.u16(); }
  varint(): number {
    let value = 0;
    for (let k = 0, mul = 1; k < 4; k++, mul *= 128) {
      const byte = this.u8();
      value += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) return value;
    }
    return bad('remaining-length-malformed');
  }
  raw(n: number): Uint8Array { if (n > this.left) bad('truncated'); this.i += n; return this.b.subarray(this.i - n, this.i); }
  bin(): Uint8Array { return this.raw(this.u16()); }
  str(): string {
    const bytes = this.bin();
    let text = '';
    try { text = textDecoder.decode(bytes); } catch { bad('utf8-invalid'); }
    // MQTT §1.5.4: a UTF-8 string must not contain U+0000.
    if (text.includes('\u0000')) bad('utf8-invalid');
    return text;
  }
}

export function readProperties(r: Reader, mask: number): Properties | undefined {
  const length = r.varint();
  if (length === 0) return undefined;
  if (length > r.left) bad('truncated');
  const sub = new Reader(r.b, r.i, r.i + length);
  r.i += length;
  const out: Properties = {};
  const record = out as Record<string, unknown>;
  for (let count = 0; sub.left > 0; count++) {
    if (count >= propertiesMax) bad('property-invalid');
    const row = propertyById.get(sub.varint());
    if (row === undefined) return bad('property-unknown');
    const [, name, kind, allowed] = row;
    if ((allowed & mask) === 0) bad('property-not-allowed');
    if (kind === 8) { (out.userProperties ??= []).push([sub.str(), sub.str()]); continue; }
    if (kind === 5) { const id = sub.varint(); if (id === 0) bad('property-invalid'); (out.subscriptionIdentifier ??= []).push(id); continue; }
    if (record[name] !== undefined) bad('property-duplicate');
    record[name] = kind === 1 ? sub.u8() : kind === 2 ? sub.u16() : kind === 4 ? sub.u32() : kind === 6 ? sub.str() : sub.bin();
  }
  checkPropertyValues(out);
  return out;
}

// §3.1.2.11 / §3.2.2.3: values the specification forbids.
function checkPropertyValues(p: Properties): void {
  for (const flag of [p.payloadFormatIndicator, p.requestProblemInformation, p.requestResponseInformation, p.maximumQoS, p.retainAvailable, p.wildcardSubscriptionAvailable, p.subscriptionIdentifiersAvailable, p.sharedSubscriptionAvailable]) {
    if (flag !== undefined && flag > 1) bad('property-invalid');
  }
  if (p.receiveMaximum === 0 || p.maximumPacketSize === 0 || p.topicAlias === 0) bad('property-invalid');
}

/** Topic name rules (§4.7): non-empty, no wildcards, no U+0000 (checked by str()), bounded. */
export function isValidTopic(topic: string): boolean {
  return topic.length > 0 && topic.length <= topicBytesMax && !/[+#]/.test(topic) && levels(topic) <= topicLevelsMax;
}

/** Topic filter rules (§4.7.1): '#' alone and last, '+' alone in its level. */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.length > topicBytesMax || levels(filter) > topicLevelsMax) return false;
  const parts = filter.split('/');
  return parts.every((part, i) => (!part.includes('#') || (part === '#' && i === parts.length - 1)) && (!part.includes('+') || part === '+'));
}

function levels(topic: string): number {
  let n = 1;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 47) n++;
  return n;
}

export function packetId(r: Reader): number {
  const id = r.u16();
  return id === 0 ? bad('packet-id-zero') : id;
}

export const qosOf = (bits: number): QoS => (bits > 2 ? bad('qos-invalid') : (bits as QoS));

function decodePublish(r: Reader, flags: number, v5: boolean): Packet {
  const qos = qosOf((flags >> 1) & 3);
  const dup = (flags & 8) !== 0;
  if (qos === 0 && dup) bad('flags-invalid');
  const topic = r.str();
  const p: Packet = { type: 'publish', topic, payload: new Uint8Array(0), qos, retain: (flags & 1) !== 0, dup };
  if (qos > 0) p.messageId = packetId(r);
  const props = v5 ? readProperties(r, PUBLISH) : undefined;
  if (props) p.properties = props;
  // v5 §3.3.2.1: an empty topic is allowed only with a Topic Alias.
  if (!isValidTopic(topic) && !(topic === '' && props?.topicAlias !== undefined)) bad('topic-invalid');
  p.payload = r.raw(r.left);
  return p;
}

function decodeAckList(r: Reader, type: 'suback' | 'unsuback', v5: boolean): Packet {
  const messageId = packetId(r);
  const props = v5 ? readProperties(r, type === 'suback' ? SUBACK : UNSUBACK) : undefined;
  const granted: number[] = [];
  while (r.left > 0) granted.push(r.u8());
  if (type === 'suback' && !v5 && granted.some((c) => c > 2 && c !== 0x80)) bad('reason-code-invalid');
  if ((type === 'suback' || v5) && granted.length === 0) bad('list-empty');
  const p: Packet & { properties?: Properties } = type === 'suback' || v5 ? { type, messageId, granted } : { type, messageId };
  if (props) p.properties = props;
  return p;
}

/** PUBACK..PUBCOMP, DISCONNECT: v5 may shorten them to drop the reason code and the properties (§3.4.2.1). */
function decodeShort(r: Reader, type: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp' | 'disconnect', v5: boolean, mask: number): Packet {
  const p = (type === 'disconnect' ? { type } : { type, messageId: packetId(r) }) as Packet & { reasonCode?: number; properties?: Properties };
  if (v5 && r.left > 0) {
    const reasonCode = r.u8();
    const props = r.left > 0 ? readProperties(r, mask) : undefined;
    // Reason 0 without properties is what the short form means: one representation for one meaning.
    if (reasonCode !== 0 || props !== undefined) p.reasonCode = reasonCode;
    if (props) p.properties = props;
  }
  return p;
}

export type BodyReader = (type: number, r: Reader, v5: boolean) => Packet;

function decodeBody(type: number, flags: number, r: Reader, v: Version, extra: BodyReader | null): Packet {
  const v5 = v === 5;
  // §2.1.3: the fixed header's flags are fixed for every type but PUBLISH.
  if (type !== 3 && flags !== (type === 6 || type === 8 || type === 10 ? 2 : 0)) bad('flags-invalid');
  switch (type) {
    case 2: {
      const ack = r.u8();
      if ((ack & 0xfe) !== 0) bad('flags-invalid');
      const p: Packet = { type: 'connack', sessionPresent: ack === 1, reasonCode: r.u8() };
      const props = v5 ? readProperties(r, CONNACK) : undefined;
      if (props) p.properties = props;
      return p;
    }
    case 3: return decodePublish(r, flags, v5);
    case 4: case 5: case 6: case 7: return decodeShort(r, typeNames[type] as 'puback', v5, 1 << type);
    case 9: return decodeAckList(r, 'suback', v5);
    case 11: return decodeAckList(r, 'unsuback', v5);
    case 12: return { type: 'pingreq' };
    case 13: return { type: 'pingresp' };
    case 14: return decodeShort(r, 'disconnect', v5, DISCONNECT);
    case 0: return bad('packet-type-reserved');
    case 15: return bad(v5 ? 'packet-unsupported' : 'packet-type-reserved');
    // CONNECT, SUBSCRIBE, UNSUBSCRIBE travel to a broker only: a client refuses them here.
    default: return extra === null ? bad('packet-unexpected') : extra(type, r, v5);
  }
}

/** Decodes one whole packet (fixed header included), as PacketReader hands it out. */
export function decodePacket(bytes: Uint8Array, version: Version, extra: BodyReader | null = null): Result<Packet, DecodeReason> {
  try {
    const head = new Reader(bytes, 0, bytes.length);
    const first = head.u8();
    const length = head.varint();
    if (length !== head.left) return fail(length > head.left ? 'truncated' : 'trailing-bytes');
    const r = new Reader(bytes, head.i, bytes.length);
    const packet = decodeBody(first >> 4, first & 15, r, version, extra);
    return r.left === 0 ? ok(packet) : fail('trailing-bytes');
  } catch (error) {
    if (error instanceof Malformed) return fail(error.reason);
    throw error;
  }
}

export type FrameResult = Result<Uint8Array | null, 'remaining-length-malformed' | 'packet-too-large'>;

/**
 * Cuts a byte stream into whole packets without decoding them. Bounded: a packet announcing more than
 * maxPacketBytes is refused from its header, before its body arrives. Chunks given to push() are kept
 * by reference (the platform hands out fresh buffers), so frames are views, not copies.
 */
export class PacketReader {
  private buffer: Uint8Array = new Uint8Array(0);
  private offset = 0;

  constructor(private readonly maxPacketBytes: number) {}

  push(chunk: Uint8Array): void {
    const rest = this.buffer.length - this.offset;
    if (rest === 0) {
      this.buffer = chunk;
    } else {
      const joined = new Uint8Array(rest + chunk.length);
      joined.set(this.buffer.subarray(this.offset));
      joined.set(chunk, rest);
      this.buffer = joined;
    }
    this.offset = 0;
  }

  /** The next whole packet, null when more bytes are needed, or the reason the stream cannot be framed. */
  next(): FrameResult {
    const b = this.buffer;
    let i = this.offset + 1;
    let length = 0;
    for (let mul = 1, k = 0; ; k++, mul *= 128) {
      if (k === 4) return fail('remaining-length-malformed');
      if (i >= b.length) return ok(null);
      const byte = b[i++] as number;
      length += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) break;
    }
    const total = i - this.offset + length;
    if (total > this.maxPacketBytes) return fail('packet-too-large');
    if (b.length - this.offset < total) return ok(null);
    const frame = b.subarray(this.offset, this.offset + total);
    this.offset += total;
    return ok(frame);
  }

  /** Bytes held of an unfinished packet. */
  get pendingBytes(): number {
    return this.buffer.length - this.offset;
  }
}
