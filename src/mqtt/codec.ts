// MQTT 3.1.1 (protocol level 4) and 5.0 (level 5) packets, the client's half: a pure codec. Encoding trusts
// its caller (our own packets: a bad one is a bug and asserts); decoding trusts nothing: every field is
// checked against the specification's rules and our limits, and a violation is a returned reason code,
// never a throw. Router-sized: packet types and v5 property ids are the protocol's own numbers (names for
// people live in codec-broker.ts), and the encoder writes into reusable buffers, allocating nothing per packet.
import { assertThat, fail, ok, type Result } from '../core/result.js';
import { propertiesMax, remainingLengthMax, topicBytesMax, topicLevelsMax } from './limits.js';

export type Version = 4 | 5;
export type QoS = 0 | 1 | 2;

// Packet types (§2.1.2): the high nibble of the fixed header. AUTH (15) is not spoken by this client.
export const CONNECT = 1,
  CONNACK = 2,
  PUBLISH = 3,
  PUBACK = 4,
  PUBREC = 5,
  PUBREL = 6,
  PUBCOMP = 7,
  SUBSCRIBE = 8;
export const SUBACK = 9,
  UNSUBSCRIBE = 10,
  UNSUBACK = 11,
  PINGREQ = 12,
  PINGRESP = 13,
  DISCONNECT = 14;

// v5 property ids (§2.2.2.2) the client itself reads or writes; every id is in propertySpec below.
export const propTopicAlias = 0x23,
  propSessionExpiryInterval = 0x11,
  propServerKeepAlive = 0x13;
export const propReceiveMaximum = 0x21,
  propMaximumPacketSize = 0x27;

/** v5 properties by id. Byte-sized ones are 0/1 flags; 0x0b (subscription ids) is a list; 0x26 is [key, value] pairs. */
export type Properties = Record<number, number | string | Uint8Array | number[] | [string, string][]>;

export interface Will {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  properties?: Properties;
}
export interface Subscription {
  topic: string;
  qos: QoS;
  nl?: boolean;
  rap?: boolean;
  rh?: number;
}

export type Packet =
  | {
      type: typeof CONNECT;
      protocolVersion: Version;
      clientId: string;
      clean: boolean;
      keepalive: number;
      username?: string;
      password?: Uint8Array;
      will?: Will;
      properties?: Properties;
    }
  | { type: typeof CONNACK; sessionPresent: boolean; reasonCode: number; properties?: Properties }
  | {
      type: typeof PUBLISH;
      topic: string;
      payload: Uint8Array;
      qos: QoS;
      retain: boolean;
      dup: boolean;
      messageId?: number;
      properties?: Properties;
    }
  | {
      type: typeof PUBACK | typeof PUBREC | typeof PUBREL | typeof PUBCOMP;
      messageId: number;
      reasonCode?: number;
      properties?: Properties;
    }
  | { type: typeof SUBSCRIBE; messageId: number; subscriptions: Subscription[]; properties?: Properties }
  | { type: typeof SUBACK; messageId: number; granted: number[]; properties?: Properties }
  | { type: typeof UNSUBSCRIBE; messageId: number; unsubscriptions: string[]; properties?: Properties }
  | { type: typeof UNSUBACK; messageId: number; granted?: number[]; properties?: Properties }
  | { type: typeof PINGREQ | typeof PINGRESP }
  | { type: typeof DISCONNECT; reasonCode?: number; properties?: Properties };

export type DecodeReason =
  | 'remaining-length-malformed'
  | 'packet-too-large'
  | 'packet-type-reserved'
  | 'packet-unsupported'
  | 'packet-unexpected'
  | 'flags-invalid'
  | 'truncated'
  | 'trailing-bytes'
  | 'utf8-invalid'
  | 'topic-invalid'
  | 'filter-invalid'
  | 'qos-invalid'
  | 'packet-id-zero'
  | 'property-unknown'
  | 'property-duplicate'
  | 'property-not-allowed'
  | 'property-invalid'
  | 'protocol-unsupported'
  | 'connect-flags-invalid'
  | 'options-invalid'
  | 'list-empty'
  | 'reason-code-invalid';

// Which packets may carry a property: bit n = packet type n, bit 0 = the Will's properties.
export const W = 1;
const ACKS = 0xf0,
  ALL = 0xffff,
  cP = 1 << CONNECT,
  aP = 1 << CONNACK,
  pP = 1 << PUBLISH,
  dP = 1 << DISCONNECT;

// Wire kinds of property values.
const FLAG = 1,
  U16 = 2,
  U32 = 4,
  VARINTS = 5,
  UTF8 = 6,
  BINARY = 7,
  PAIRS = 8;

/** id → kind | packets allowed << 4. FLAG is a 0/1 byte; VARINTS and PAIRS repeat the id per list item. */
export const propertySpec: Readonly<Record<number, number>> = {
  0x01: FLAG | ((pP | W) << 4),
  0x02: U32 | ((pP | W) << 4),
  0x03: UTF8 | ((pP | W) << 4),
  0x08: UTF8 | ((pP | W) << 4),
  0x09: BINARY | ((pP | W) << 4),
  0x0b: VARINTS | ((pP | (1 << SUBSCRIBE)) << 4),
  0x11: U32 | ((cP | aP | dP) << 4),
  0x12: UTF8 | (aP << 4),
  0x13: U16 | (aP << 4),
  0x15: UTF8 | ((cP | aP) << 4),
  0x16: BINARY | ((cP | aP) << 4),
  0x17: FLAG | (cP << 4),
  0x18: U32 | (W << 4),
  0x19: FLAG | (cP << 4),
  0x1a: UTF8 | (aP << 4),
  0x1c: UTF8 | ((aP | dP) << 4),
  0x1f: UTF8 | ((aP | ACKS | (1 << SUBACK) | (1 << UNSUBACK) | dP) << 4),
  0x21: U16 | ((cP | aP) << 4),
  0x22: U16 | ((cP | aP) << 4),
  0x23: U16 | (pP << 4),
  0x24: FLAG | (aP << 4),
  0x25: FLAG | (aP << 4),
  0x26: PAIRS | (ALL << 4),
  0x27: U32 | ((cP | aP) << 4),
  0x28: FLAG | (aP << 4),
  0x29: FLAG | (aP << 4),
  0x2a: FLAG | (aP << 4),
};

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

// ---- encoding ----

/** A growable byte buffer; reused, so that steady-state encoding allocates nothing. */
export class Writer {
  buf = new Uint8Array(256);
  n = 0;

  need(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }

  u8(v: number): void {
    this.need(1);
    this.buf[this.n++] = v;
  }
  u16(v: number): void {
    this.u8(v >> 8);
    this.u8(v & 255);
  }
  u32(v: number): void {
    this.u16(Math.floor(v / 65_536));
    this.u16(v & 65_535);
  }

  varint(v: number): void {
    assertThat(v >= 0 && v <= remainingLengthMax, 'mqtt: varint in range');
    do this.u8((v > 127 ? 128 : 0) | (v & 127));
    while ((v = Math.floor(v / 128)) > 0);
  }

  raw(bytes: Uint8Array): void {
    this.need(bytes.length);
    this.buf.set(bytes, this.n);
    this.n += bytes.length;
  }
  bin(bytes: Uint8Array): void {
    assertThat(bytes.length < 65_536, 'mqtt: field fits 65535 bytes');
    this.u16(bytes.length);
    this.raw(bytes);
  }

  /** UTF-8 with a 2-byte length. Topics repeat, so the last string's bytes are kept (QuickJS-ng has no native encoder). */
  str(text: string): void {
    if (text !== lastText) {
      lastText = text;
      lastBytes = textEncoder.encode(text);
    }
    this.bin(lastBytes);
  }

  /** The bytes written, copied out, and the buffer emptied for reuse. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.n);
    this.n = 0;
    return out;
  }
}
let lastText = '';
let lastBytes = new Uint8Array(0);

const propsScratch = new Writer();

export function writeProperties(w: Writer, props: Properties | undefined): void {
  if (props === undefined) return w.u8(0);
  const p = propsScratch;
  p.n = 0;
  for (const key in props) {
    const id = Number(key);
    const value = props[id] as never;
    const kind = (propertySpec[id] as number) & 15;
    for (const item of kind === VARINTS || kind === PAIRS ? (value as never[]) : [value]) {
      p.u8(id);
      if (kind === FLAG) p.u8(item);
      else if (kind === U16) p.u16(item);
      else if (kind === U32) p.u32(item);
      else if (kind === VARINTS) p.varint(item);
      else if (kind === UTF8) p.str(item);
      else if (kind === BINARY) p.bin(item);
      else {
        p.str((item as string[])[0] as string);
        p.str((item as string[])[1] as string);
      }
    }
  }
  w.varint(p.n);
  w.raw(p.buf.subarray(0, p.n));
}

/** The fixed header's low nibble is fixed for every type but PUBLISH (§2.1.3). */
const fixedFlags = (type: number): number => (type === PUBREL || type === SUBSCRIBE || type === UNSUBSCRIBE ? 2 : 0);

export type BodyWriter = (w: Writer, p: Packet, v5: boolean) => void;

function writeBody(w: Writer, p: Packet, v5: boolean, extra: BodyWriter | null): number {
  switch (p.type) {
    case CONNECT: {
      const will = p.will;
      w.str('MQTT');
      w.u8(p.protocolVersion);
      w.u8(
        (p.username !== undefined ? 128 : 0) |
          (p.password !== undefined ? 64 : 0) |
          (will?.retain === true ? 32 : 0) |
          ((will?.qos ?? 0) << 3) |
          (will ? 4 : 0) |
          (p.clean ? 2 : 0),
      );
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
    case PUBLISH:
      w.str(p.topic);
      if (p.qos > 0) w.u16(p.messageId as number);
      if (v5) writeProperties(w, p.properties);
      w.raw(p.payload);
      return (p.dup ? 8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0);
    case SUBSCRIBE:
      w.u16(p.messageId);
      if (v5) writeProperties(w, p.properties);
      for (const s of p.subscriptions) {
        w.str(s.topic);
        w.u8(s.qos | (v5 ? (s.nl ? 4 : 0) | (s.rap ? 8 : 0) | ((s.rh ?? 0) << 4) : 0));
      }
      return 2;
    case PUBACK:
    case PUBREC:
    case PUBREL:
    case PUBCOMP:
    case DISCONNECT:
      if (p.type !== DISCONNECT) w.u16(p.messageId);
      // v5 §3.4.2.1: reason 0 without properties is sent short.
      if (v5 && ((p.reasonCode ?? 0) !== 0 || p.properties !== undefined)) {
        w.u8(p.reasonCode ?? 0);
        if (p.properties !== undefined) writeProperties(w, p.properties);
      }
      return fixedFlags(p.type);
    case PINGREQ:
    case PINGRESP:
      return 0;
    default:
      assertThat(extra !== null, `mqtt: packet type ${p.type} is a broker's (codec-broker.ts)`);
      extra(w, p, v5);
      return fixedFlags(p.type);
  }
}

/** Appends one of our own packets to out (programmer errors assert). CONNECT takes its version from the packet. */
export function writePacket(out: Writer, p: Packet, version: Version, extra: BodyWriter | null = null): void {
  // The body goes straight after room for the longest fixed header (5 bytes); once its length is known, the
  // header is written and the body moved up against it (one memmove, no copy through a second buffer).
  const start = out.n;
  out.need(5);
  out.n += 5;
  const flags = writeBody(out, p, (p.type === CONNECT ? p.protocolVersion : version) === 5, extra);
  const end = out.n;
  out.n = start;
  out.u8((p.type << 4) | flags);
  out.varint(end - start - 5);
  out.buf.copyWithin(out.n, start + 5, end);
  out.n += end - start - 5;
}

export function encodePacket(p: Packet, version: Version, extra: BodyWriter | null = null): Uint8Array {
  const w = new Writer();
  writePacket(w, p, version, extra);
  return w.take();
}

// ---- decoding ----

/** Refuses outside bytes: thrown as the bare reason, caught by readGuarded (it never escapes the codec). */
export const bad = (reason: DecodeReason): never => {
  throw reason;
};

export class Reader {
  constructor(
    readonly b: Uint8Array,
    public i: number,
    readonly end: number,
  ) {}
  get left(): number {
    return this.end - this.i;
  }
  u8(): number {
    return this.i < this.end ? (this.b[this.i++] as number) : bad('truncated');
  }
  u16(): number {
    return (this.u8() << 8) | this.u8();
  }
  u32(): number {
    return this.u16() * 65_536 + this.u16();
  }
  varint(): number {
    for (let k = 0, mul = 1, value = 0; k < 4; k++, mul *= 128) {
      const byte = this.u8();
      value += (byte & 127) * mul;
      if (byte < 128) return value;
    }
    return bad('remaining-length-malformed');
  }
  raw(n: number): Uint8Array {
    if (n > this.left) bad('truncated');
    return this.b.subarray(this.i, (this.i += n));
  }
  bin(): Uint8Array {
    return this.raw(this.u16());
  }
  str(): string {
    const bytes = this.bin();
    let text = '';
    try {
      text = textDecoder.decode(bytes);
    } catch {
      bad('utf8-invalid');
    }
    // MQTT §1.5.4: a UTF-8 string must not contain U+0000.
    return text.includes('\u0000') ? bad('utf8-invalid') : text;
  }
}

/** v5 properties of a packet type (mask: its bit in propertySpec), each checked against the specification. */
export function readProperties(r: Reader, mask: number): Properties | undefined {
  const length = r.varint();
  if (length === 0) return undefined;
  if (length > r.left) bad('truncated');
  const sub = new Reader(r.b, r.i, (r.i += length));
  const out: Properties = {};
  for (let count = 0; sub.left > 0; count++) {
    if (count >= propertiesMax) bad('property-invalid');
    const id = sub.varint();
    const spec = propertySpec[id] ?? bad('property-unknown');
    const kind = spec & 15;
    if (((spec >> 4) & mask) === 0) bad('property-not-allowed');
    if (kind === VARINTS || kind === PAIRS) {
      const item = kind === VARINTS ? sub.varint() : [sub.str(), sub.str()];
      if (item === 0) bad('property-invalid');
      ((out[id] ??= []) as unknown[]).push(item);
      continue;
    }
    if (out[id] !== undefined) bad('property-duplicate');
    const value =
      kind === FLAG
        ? sub.u8()
        : kind === U16
          ? sub.u16()
          : kind === U32
            ? sub.u32()
            : kind === UTF8
              ? sub.str()
              : sub.bin();
    // §3.1.2.11, §3.2.2.3: flags are 0 or 1; Receive Maximum, Maximum Packet Size and Topic Alias are never 0.
    if (
      (kind === FLAG && (value as number) > 1) ||
      (value === 0 && (id === propReceiveMaximum || id === propMaximumPacketSize || id === propTopicAlias))
    )
      bad('property-invalid');
    out[id] = value;
  }
  return out;
}

const bounded = (topic: string): boolean =>
  topic.length > 0 && topic.length <= topicBytesMax && topic.split('/').length <= topicLevelsMax;

/** Topic name rules (§4.7): non-empty, no wildcards, no U+0000 (checked by str()), bounded. */
export const isValidTopic = (topic: string): boolean => bounded(topic) && !/[+#]/.test(topic);

/** Topic filter rules (§4.7.1): '+' alone in its level, '#' alone in the last level. */
export const isValidFilter = (filter: string): boolean =>
  bounded(filter) && /^(([^+#/]*|\+)\/)*([^+#/]*|[+#])$/.test(filter);

export const packetId = (r: Reader): number => r.u16() || bad('packet-id-zero');
export const qosOf = (bits: number): QoS => (bits > 2 ? bad('qos-invalid') : (bits as QoS));

/** Adds decoded properties to a packet (absent when there are none: one representation for one meaning). */
function withProperties<P extends Packet>(p: P, props: Properties | undefined): P {
  if (props !== undefined) (p as { properties?: Properties }).properties = props;
  return p;
}

function decodePublish(r: Reader, flags: number, v5: boolean): Packet {
  const qos = qosOf((flags >> 1) & 3);
  const dup = (flags & 8) > 0;
  if (qos === 0 && dup) bad('flags-invalid');
  const topic = r.str();
  const p: Packet = { type: PUBLISH, topic, payload: r.b, qos, retain: (flags & 1) > 0, dup };
  if (qos > 0) p.messageId = packetId(r);
  const props = v5 ? readProperties(r, pP) : undefined;
  // v5 §3.3.2.1: an empty topic is allowed only with a Topic Alias.
  if (!isValidTopic(topic) && !(topic === '' && props?.[propTopicAlias] !== undefined)) bad('topic-invalid');
  p.payload = r.raw(r.left);
  return withProperties(p, props);
}

export type BodyReader = (type: number, r: Reader, v5: boolean) => Packet;

function decodeBody(type: number, flags: number, r: Reader, v5: boolean, extra: BodyReader | null): Packet {
  if (type !== PUBLISH && flags !== fixedFlags(type)) bad('flags-invalid');
  const mask = 1 << type;
  switch (type) {
    case CONNACK: {
      const ack = r.u8();
      if (ack > 1) bad('flags-invalid');
      const reasonCode = r.u8();
      return withProperties({ type, sessionPresent: ack === 1, reasonCode }, v5 ? readProperties(r, mask) : undefined);
    }
    case PUBLISH:
      return decodePublish(r, flags, v5);
    case PUBACK:
    case PUBREC:
    case PUBREL:
    case PUBCOMP:
    case DISCONNECT: {
      // v5 may shorten these to drop the reason code and the properties (§3.4.2.1).
      const p = (type === DISCONNECT ? { type } : { type, messageId: packetId(r) }) as Packet & { reasonCode?: number };
      if (v5 && r.left > 0) {
        const reasonCode = r.u8();
        const props = r.left > 0 ? readProperties(r, mask) : undefined;
        if (reasonCode !== 0 || props !== undefined) p.reasonCode = reasonCode;
        withProperties(p, props);
      }
      return p;
    }
    case SUBACK:
    case UNSUBACK: {
      const messageId = packetId(r);
      const props = v5 ? readProperties(r, mask) : undefined;
      const granted: number[] = [];
      while (r.left > 0) granted.push(r.u8());
      const suback = type === SUBACK;
      if (suback && !v5 && granted.some((c) => c > 2 && c !== 128)) bad('reason-code-invalid');
      if ((suback || v5) && granted.length === 0) bad('list-empty');
      // A 3.1.1 UNSUBACK has no payload.
      return withProperties((suback || v5 ? { type, messageId, granted } : { type, messageId }) as Packet, props);
    }
    case PINGREQ:
    case PINGRESP:
      return { type };
    case 0:
      return bad('packet-type-reserved');
    case 15:
      return bad(v5 ? 'packet-unsupported' : 'packet-type-reserved');
    // CONNECT, SUBSCRIBE, UNSUBSCRIBE travel to a broker only: a client refuses them here.
    default:
      return extra === null ? bad('packet-unexpected') : extra(type, r, v5);
  }
}

/** Runs a read over outside bytes: what a Reader refuses becomes its reason; anything else is a bug and throws. */
export function readGuarded<T>(read: () => T): Result<T, DecodeReason> {
  try {
    return ok(read());
  } catch (error) {
    if (typeof error === 'string') return fail(error as DecodeReason);
    throw error;
  }
}

/** Decodes one whole packet (fixed header included), as PacketReader hands it out. */
export function decodePacket(
  bytes: Uint8Array,
  version: Version,
  extra: BodyReader | null = null,
): Result<Packet, DecodeReason> {
  return readGuarded(() => {
    const head = new Reader(bytes, 0, bytes.length);
    const first = head.u8();
    const length = head.varint();
    if (length !== head.left) bad(length > head.left ? 'truncated' : 'trailing-bytes');
    const packet = decodeBody(first >> 4, first & 15, head, version === 5, extra);
    return head.left === 0 ? packet : bad('trailing-bytes');
  });
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
    const rest = this.buffer.subarray(this.offset);
    if (rest.length === 0) {
      this.buffer = chunk;
    } else {
      this.buffer = new Uint8Array(rest.length + chunk.length);
      this.buffer.set(rest);
      this.buffer.set(chunk, rest.length);
    }
    this.offset = 0;
  }

  /** The next whole packet, null when more bytes are needed, or the reason the stream cannot be framed. */
  next(): FrameResult {
    const b = this.buffer;
    let i = this.offset + 1;
    let length = 0;
    for (let mul = 1; ; mul *= 128) {
      if (mul > 128 ** 3) return fail('remaining-length-malformed');
      if (i >= b.length) return ok(null);
      const byte = b[i++] as number;
      length += (byte & 127) * mul;
      if (byte < 128) break;
    }
    const total = i - this.offset + length;
    if (total > this.maxPacketBytes) return fail('packet-too-large');
    if (b.length - this.offset < total) return ok(null);
    return ok(b.subarray(this.offset, (this.offset += total)));
  }
}
