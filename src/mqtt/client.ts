// The MQTT client as a pure state machine (no I/O, no clock of its own): the driver hands it bytes, transport
// changes and the passing of time (tick); it hands back bytes to write and events, among them 'open' (open
// the transport now) and 'close' (close it). QoS 1 messages stay in flight until PUBACK, across reconnects:
// MQTT 5 §4.4 and 3.1.1 §4.4 resend unacknowledged PUBLISHes (DUP set) on the next connection, and an
// acknowledgement overdue by ackTimeoutMs is taken as a dead link (close, reconnect, resend).
import { Counters, assertThat, fail, ok, type Result } from '../core/result.js';
import { PacketReader, decodePacket, encodePacket, isValidFilter, isValidTopic, type Packet, type Properties, type QoS, type Version, type Will } from './codec.js';
import * as limits from './limits.js';
import { OfflineQueue, decodeQueue, encodeQueue, type Message } from './queue.js';

export interface ClientOptions {
  readonly clientId: string;
  readonly version?: Version;
  readonly username?: string;
  readonly password?: Uint8Array;
  readonly keepAliveS?: number;
  /** false (default): a persistent session, so QoS 1 state and subscriptions survive reconnects. */
  readonly cleanStart?: boolean;
  /** v5 Session Expiry Interval when cleanStart is false (v3.1.1 sessions do not expire). */
  readonly sessionExpiryS?: number;
  readonly will?: Will;
  readonly inflightMax?: number;
  readonly ackTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
  readonly queueMessagesMax?: number;
  readonly queueBytesMax?: number;
  readonly packetBytesMax?: number;
  readonly nowMs: () => number;
  /** Uniform in [0, 1): jitter for the reconnect backoff (the platform's randomness in production). */
  readonly random: () => number;
}

export type ClientEvent =
  | { readonly kind: 'open' }
  | { readonly kind: 'close' }
  | { readonly kind: 'connected'; readonly sessionPresent: boolean }
  | { readonly kind: 'disconnected'; readonly reason: string }
  | { readonly kind: 'message'; readonly topic: string; readonly payload: Uint8Array; readonly qos: QoS; readonly retain: boolean }
  | { readonly kind: 'acked'; readonly reasonCode: number }
  | { readonly kind: 'subscribed'; readonly topic: string; readonly granted: number };

export type PublishReason = 'topic-invalid' | 'qos-unsupported' | 'packet-too-large' | 'stopped';
export type State = 'stopped' | 'idle' | 'opening' | 'connecting' | 'connected';

interface Inflight {
  readonly message: Message;
  sentAtMs: number;
}

interface Subscription {
  readonly qos: QoS;
  acked: boolean;
}

// v5 reason codes we send in DISCONNECT when the server breaks the protocol (§3.14.2.1).
const disconnectCodes: Record<string, number> = { 'packet-too-large': 0x95, 'remaining-length-malformed': 0x81, 'packet-unexpected': 0x82, 'qos-not-granted': 0x9b, 'topic-alias-invalid': 0x94, 'receive-maximum-exceeded': 0x93 };

export class MqttClient {
  readonly counters = new Counters();
  readonly version: Version;
  #stateValue: State = 'stopped';
  readonly #queue: OfflineQueue;
  readonly #inflight = new Map<number, Inflight>();
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #pendingSubscribes = new Map<number, string[]>();
  #reader: PacketReader;
  #output: Uint8Array[] = [];
  #events: ClientEvent[] = [];
  #nextPacketId = 1;
  #attempt = 0;
  #deadlineMs = 0;
  #lastSentMs = 0;
  #pingDeadlineMs: number | null = null;
  #window: number;
  #keepAliveMs: number;
  #serverPacketBytesMax = limits.remainingLengthMax;
  /** Bumped on every change of what persist() would write, so the driver knows when flash is stale. */
  persistVersion = 0;
  will: Will | undefined;

  readonly #options: ClientOptions;

  constructor(options: ClientOptions) {
    this.#options = options;
    this.version = options.version ?? 5;
    this.will = options.will;
    this.#queue = new OfflineQueue(options.queueMessagesMax ?? limits.queueMessagesMaxDefault, options.queueBytesMax ?? limits.queueBytesMaxDefault);
    this.#reader = new PacketReader(this.#packetBytesMax);
    this.#window = options.inflightMax ?? limits.inflightMaxDefault;
    this.#keepAliveMs = (options.keepAliveS ?? limits.keepAliveSDefault) * 1000;
    assertThat(options.clientId.length > 0 && options.clientId.length <= 256, 'mqtt: clientId of 1..256 characters');
    assertThat(this.#window > 0 && this.#window < 65_535, 'mqtt: inflight window within packet ids');
  }

  get state(): State { return this.#stateValue; }
  get queuedMessages(): number { return this.#queue.length; }
  get queuedBytes(): number { return this.#queue.bytes; }
  get inflightCount(): number { return this.#inflight.size; }
  get droppedMessages(): number { return this.#queue.dropped; }
  get #packetBytesMax(): number { return this.#options.packetBytesMax ?? limits.packetBytesMaxDefault; }
  #now(): number { return this.#options.nowMs(); }

  // ---- driver side ----

  /** Starts connecting (the next tick() asks the driver to open the transport). */
  start(): void {
    if (this.#stateValue !== 'stopped') return;
    this.#stateValue = 'idle';
    this.#deadlineMs = this.#now();
    this.tick();
  }

  /** The transport the client asked for is open: greet the broker. */
  transportUp(): void {
    assertThat(this.#stateValue === 'opening', 'mqtt: transportUp only after an open event');
    this.#stateValue = 'connecting';
    this.#deadlineMs = this.#now() + (this.#options.connectTimeoutMs ?? limits.connectTimeoutMsDefault);
    this.#reader = new PacketReader(this.#packetBytesMax);
    this.#send(this.#connectPacket());
  }

  /** The transport failed to open or closed (reason null: orderly close by the peer). */
  transportDown(reason: string | null): void {
    if (this.#stateValue === 'stopped' || this.#stateValue === 'idle') return;
    this.#lost(reason ?? 'connection-closed', false);
  }

  receive(chunk: Uint8Array): void {
    if (this.#stateValue !== 'connecting' && this.#stateValue !== 'connected') return;
    this.#reader.push(chunk);
    for (;;) {
      const frame = this.#reader.next();
      if (!frame.ok) return this.#protocolError(frame.reason);
      if (frame.value === null) return;
      const packet = decodePacket(frame.value, this.version);
      if (!packet.ok) return this.#protocolError(packet.reason);
      this.#handle(packet.value);
      if (this.#stateValue !== 'connecting' && this.#stateValue !== 'connected') return;
    }
  }

  tick(): void {
    const now = this.#now();
    switch (this.#stateValue) {
      case 'idle':
        if (now < this.#deadlineMs) return;
        this.#stateValue = 'opening';
        this.#deadlineMs = now + (this.#options.connectTimeoutMs ?? limits.connectTimeoutMsDefault);
        this.#events.push({ kind: 'open' });
        return;
      case 'opening':
      case 'connecting':
        if (now >= this.#deadlineMs) this.#lost(this.#stateValue === 'opening' ? 'connect-timeout' : 'connack-timeout', true);
        return;
      case 'connected':
        return this.#tickConnected(now);
      default:
        return;
    }
  }

  #tickConnected(now: number): void {
    if (this.#pingDeadlineMs !== null && now >= this.#pingDeadlineMs) return this.#lost('ping-timeout', true);
    const oldest = this.#inflight.values().next().value as Inflight | undefined;
    if (oldest !== undefined && now - oldest.sentAtMs >= (this.#options.ackTimeoutMs ?? limits.ackTimeoutMsDefault)) return this.#lost('ack-timeout', true);
    if (this.#keepAliveMs > 0 && this.#pingDeadlineMs === null && now - this.#lastSentMs >= this.#keepAliveMs) {
      this.#send({ type: 'pingreq' });
      this.#pingDeadlineMs = now + Math.min(limits.pingTimeoutMsMax, this.#keepAliveMs);
    }
  }

  /** When tick() must run next (null: nothing timed is pending). */
  nextDeadlineMs(): number | null {
    switch (this.#stateValue) {
      case 'idle': case 'opening': case 'connecting':
        return this.#deadlineMs;
      case 'connected': {
        const oldest = this.#inflight.values().next().value as Inflight | undefined;
        const times = [this.#pingDeadlineMs ?? (this.#keepAliveMs > 0 ? this.#lastSentMs + this.#keepAliveMs : Number.POSITIVE_INFINITY)];
        if (oldest !== undefined) times.push(oldest.sentAtMs + (this.#options.ackTimeoutMs ?? limits.ackTimeoutMsDefault));
        const next = Math.min(...times);
        return Number.isFinite(next) ? next : null;
      }
      default:
        return null;
    }
  }

  /** Everything to write, as one buffer (one syscall for a burst of small packets), or null. */
  takeOutput(): Uint8Array | null {
    const chunks = this.#output;
    if (chunks.length === 0) return null;
    this.#output = [];
    if (chunks.length === 1) return chunks[0] as Uint8Array;
    let size = 0;
    for (const c of chunks) size += c.length;
    const out = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) { out.set(c, at); at += c.length; }
    return out;
  }

  takeEvents(): ClientEvent[] {
    const events = this.#events;
    this.#events = [];
    return events;
  }

  // ---- application side ----

  /** Queues a message; it goes out as soon as the connection and the in-flight window allow. */
  publish(topic: string, payload: Uint8Array, qos: 0 | 1 = 0, retain = false): Result<null, PublishReason> {
    if (this.#stateValue === 'stopped') return fail('stopped');
    if (!isValidTopic(topic)) return fail('topic-invalid');
    if (qos !== 0 && qos !== 1) return fail('qos-unsupported');
    // Fixed header (5) + topic (2 + UTF-8, ≤ 3 bytes a char) + id (2) + properties (1): the worst case.
    if (10 + 3 * topic.length + payload.length > Math.min(this.#packetBytesMax, this.#serverPacketBytesMax)) return fail('packet-too-large');
    const dropped = this.#queue.push({ topic, payload, qos, retain });
    for (let i = 0; i < dropped; i++) this.counters.add('queue-dropped');
    this.persistVersion++;
    this.#drain();
    return ok(null);
  }

  subscribe(filter: string, qos: 0 | 1 = 1): Result<null, 'filter-invalid' | 'too-many-subscriptions'> {
    if (!isValidFilter(filter)) return fail('filter-invalid');
    if (!this.#subscriptions.has(filter) && this.#subscriptions.size >= limits.subscriptionsMax) return fail('too-many-subscriptions');
    this.#subscriptions.set(filter, { qos, acked: false });
    if (this.#stateValue === 'connected') this.#sendSubscribe([filter]);
    return ok(null);
  }

  unsubscribe(filter: string): void {
    if (!this.#subscriptions.delete(filter) || this.#stateValue !== 'connected') return;
    this.#send({ type: 'unsubscribe', messageId: this.#allocateId(), unsubscriptions: [filter] });
  }

  /** Orderly end: DISCONNECT (the broker then discards the Will), then close. Queued messages stay for persist(). */
  stop(): void {
    if (this.#stateValue === 'stopped') return;
    if (this.#stateValue === 'connected') this.#send({ type: 'disconnect', reasonCode: 0 });
    const hadTransport = this.#stateValue !== 'idle';
    this.#stateValue = 'stopped';
    this.#pingDeadlineMs = null;
    if (hadTransport) this.#events.push({ kind: 'close' });
  }

  /** What to keep on flash: messages in flight (unacknowledged) first, then the queue, in order. */
  persist(): Uint8Array {
    return encodeQueue([...[...this.#inflight.values()].map((f) => f.message), ...this.#queue.toArray()]);
  }

  /** Puts persisted messages in front of anything queued since start. */
  restore(bytes: Uint8Array): Result<number, string> {
    const decoded = decodeQueue(bytes, limits.persistBytesMax, this.#queue.messagesMax);
    if (!decoded.ok) {
      this.counters.add(decoded.reason);
      return decoded;
    }
    const later = this.#queue.toArray();
    while (this.#queue.shift() !== undefined);
    for (const m of [...decoded.value, ...later]) this.#queue.push(m);
    this.#drain();
    return ok(decoded.value.length);
  }

  // ---- protocol ----

  #connectPacket(): Packet {
    const o = this.#options;
    const clean = o.cleanStart ?? false;
    const packet: Packet = { type: 'connect', protocolVersion: this.version, clientId: o.clientId, clean, keepalive: this.#keepAliveMs / 1000 };
    if (o.username !== undefined) packet.username = o.username;
    if (o.password !== undefined) packet.password = o.password;
    if (this.will !== undefined) packet.will = this.will;
    if (this.version === 5) {
      const properties: Properties = { receiveMaximum: limits.inflightMaxDefault, maximumPacketSize: this.#packetBytesMax };
      if (!clean) properties.sessionExpiryInterval = o.sessionExpiryS ?? 86_400;
      packet.properties = properties;
    }
    return packet;
  }

  #handle(p: Packet): void {
    if (this.#stateValue === 'connecting') return p.type === 'connack' ? this.#onConnack(p) : this.#protocolError('packet-unexpected');
    switch (p.type) {
      case 'publish': return this.#onPublish(p);
      case 'puback': return this.#onPuback(p.messageId, p.reasonCode ?? 0);
      case 'suback': return this.#onSuback(p.messageId, p.granted);
      case 'unsuback': return;
      case 'pingresp':
        this.#pingDeadlineMs = null;
        return;
      case 'disconnect': return this.#lost(`server-disconnect-${p.reasonCode ?? 0}`, true);
      default: return this.#protocolError('packet-unexpected');
    }
  }

  #onConnack(p: Extract<Packet, { type: 'connack' }>): void {
    if (p.reasonCode !== 0) return this.#lost(`connack-refused-${p.reasonCode}`, true);
    this.#stateValue = 'connected';
    this.#attempt = 0;
    this.#pingDeadlineMs = null;
    const props = p.properties ?? {};
    this.#window = Math.min(this.#options.inflightMax ?? limits.inflightMaxDefault, props.receiveMaximum ?? 65_535);
    this.#serverPacketBytesMax = props.maximumPacketSize ?? limits.remainingLengthMax;
    if (props.serverKeepAlive !== undefined) this.#keepAliveMs = props.serverKeepAlive * 1000;
    this.#events.push({ kind: 'connected', sessionPresent: p.sessionPresent });
    if (!p.sessionPresent) for (const s of this.#subscriptions.values()) s.acked = false;
    const unacked = [...this.#subscriptions].filter(([, s]) => !s.acked).map(([filter]) => filter);
    if (unacked.length > 0) this.#sendSubscribe(unacked);
    // Resend what the last connection left unacknowledged, with the same ids, DUP set.
    for (const [id, f] of this.#inflight) {
      this.#sendPublish(f.message, id, true);
      f.sentAtMs = this.#now();
      this.counters.add('resent');
    }
    this.#drain();
  }

  #onPublish(p: Extract<Packet, { type: 'publish' }>): void {
    // We subscribe with QoS ≤ 1 and announce no topic aliases: anything else is the broker's protocol error.
    if (p.qos === 2) return this.#protocolError('qos-not-granted');
    if (p.properties?.topicAlias !== undefined) return this.#protocolError('topic-alias-invalid');
    if (p.qos === 1) this.#send({ type: 'puback', messageId: p.messageId as number });
    this.#events.push({ kind: 'message', topic: p.topic, payload: p.payload, qos: p.qos, retain: p.retain });
  }

  #onPuback(id: number, reasonCode: number): void {
    if (!this.#inflight.delete(id)) return this.counters.add('puback-unknown');
    if (reasonCode >= 0x80) this.counters.add(`puback-refused-${reasonCode}`);
    this.persistVersion++;
    this.#events.push({ kind: 'acked', reasonCode });
    this.#drain();
  }

  #onSuback(id: number, granted: readonly number[]): void {
    const filters = this.#pendingSubscribes.get(id);
    if (filters === undefined) return this.counters.add('suback-unknown');
    this.#pendingSubscribes.delete(id);
    filters.forEach((filter, i) => {
      const code = granted[i] ?? 0x80;
      const s = this.#subscriptions.get(filter);
      if (s !== undefined && code < 0x80) s.acked = true;
      if (code >= 0x80) this.counters.add('subscribe-refused');
      this.#events.push({ kind: 'subscribed', topic: filter, granted: code });
    });
  }

  /** Sends queued messages while connected and the QoS 1 window has room, in order. */
  #drain(): void {
    while (this.#stateValue === 'connected') {
      const next = this.#queue.peek();
      if (next === undefined || (next.qos === 1 && this.#inflight.size >= this.#window)) return;
      this.#queue.shift();
      if (next.qos === 1) {
        const id = this.#allocateId();
        this.#inflight.set(id, { message: next, sentAtMs: this.#now() });
        this.#sendPublish(next, id, false);
      } else {
        this.#sendPublish(next, 0, false);
        this.persistVersion++;
      }
    }
  }

  #sendPublish(m: Message, id: number, dup: boolean): void {
    const packet: Packet = { type: 'publish', topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain, dup: dup && m.qos > 0 };
    if (m.qos > 0) packet.messageId = id;
    this.#send(packet);
  }

  #sendSubscribe(filters: string[]): void {
    const id = this.#allocateId();
    this.#pendingSubscribes.set(id, filters);
    this.#send({ type: 'subscribe', messageId: id, subscriptions: filters.map((topic) => ({ topic, qos: (this.#subscriptions.get(topic) as Subscription).qos })) });
  }

  /** Packet ids 1..65535, never one still in use (§2.2.1). The window keeps fewer than 65535 in use. */
  #allocateId(): number {
    for (;;) {
      const id = this.#nextPacketId;
      this.#nextPacketId = id === 65_535 ? 1 : id + 1;
      if (!this.#inflight.has(id) && !this.#pendingSubscribes.has(id)) return id;
    }
  }

  #send(packet: Packet): void {
    this.#output.push(encodePacket(packet, this.version));
    this.#lastSentMs = this.#now();
  }

  /** The broker broke the protocol: tell it why (v5), count it, drop the connection. Never a throw. */
  #protocolError(reason: string): void {
    this.counters.add(reason);
    if (this.version === 5) this.#send({ type: 'disconnect', reasonCode: disconnectCodes[reason] ?? 0x81 });
    this.#lost(reason, true);
  }

  /** The connection is gone (or must go): count why, close the transport, and reconnect after a backoff. */
  #lost(reason: string, closeTransport: boolean): void {
    const wasConnected = this.#stateValue === 'connected';
    this.counters.add(reason);
    this.#pendingSubscribes.clear();
    this.#pingDeadlineMs = null;
    if (closeTransport) this.#events.push({ kind: 'close' });
    // The transport is already gone: nothing produced for it may leak onto the next connection.
    else this.#output = [];
    if (wasConnected) this.#events.push({ kind: 'disconnected', reason });
    this.#stateValue = 'idle';
    this.#deadlineMs = this.#now() + this.#backoffMs();
    this.#attempt++;
  }

  /** Exponential backoff with "equal jitter": half the step fixed, half random, so retries spread out. */
  #backoffMs(): number {
    const min = this.#options.backoffMinMs ?? limits.backoffMinMsDefault;
    const max = this.#options.backoffMaxMs ?? limits.backoffMaxMsDefault;
    const step = Math.min(max, min * 2 ** Math.min(this.#attempt, 30));
    return Math.round(step / 2 + this.#options.random() * (step / 2));
  }
}
