// The MQTT client as a pure state machine (no I/O, no clock of its own): the driver hands it bytes, transport
// changes and the passing of time (tick); it hands back bytes to write and events, among them 'open' (open
// the transport now) and 'close' (close it). QoS 1 messages stay in flight until PUBACK, across reconnects:
// MQTT 5 §4.4 and 3.1.1 §4.4 resend unacknowledged PUBLISHes (DUP set) on the next connection, and an
// acknowledgement overdue by ackTimeoutMs is taken as a dead link (close, reconnect, resend).
// A closure rather than a class: its state is local variables, which the minifier shortens to a letter
// (the client's bundle has a size budget, test/mqtt/size.node.test.ts).
import { Counters, assertThat, fail, ok, type Result } from '../core/result.js';
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
  UNSUBACK,
  PacketReader,
  Writer,
  decodePacket,
  isValidFilter,
  isValidTopic,
  propMaximumPacketSize,
  propReceiveMaximum,
  propServerKeepAlive,
  propSessionExpiryInterval,
  propTopicAlias,
  writePacket,
  type Packet,
  type QoS,
  type Version,
  type Will,
} from './codec.js';
import * as limits from './limits.js';
import { decodeQueue, encodeQueue, type Message } from './queue.js';

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
  /** A connection attempt failed or a connection was lost: why, which attempt (1, 2, ...), and when the next one starts. */
  | { readonly kind: 'retry'; readonly reason: string; readonly attempt: number; readonly delayMs: number }
  | {
      readonly kind: 'message';
      readonly topic: string;
      readonly payload: Uint8Array;
      readonly qos: QoS;
      readonly retain: boolean;
    };

export type PublishReason = 'topic-invalid' | 'qos-unsupported' | 'packet-too-large' | 'stopped';
export type State = 'stopped' | 'idle' | 'opening' | 'connecting' | 'connected';

export interface MqttClient {
  /** Reasons counted: protocol violations, timeouts, 'queue-dropped', 'resent', ... */
  readonly counters: Counters;
  readonly version: Version;
  readonly state: State;
  readonly queuedMessages: number;
  /** Topic and payload bytes held in the offline queue. */
  readonly queuedBytes: number;
  readonly inflightCount: number;
  /** Bytes produced and not yet taken by takeOutput(). */
  readonly outputBytes: number;
  /** Bumped on every change of what persist() would write, so the driver knows when flash is stale. */
  readonly persistVersion: number;
  /** The Last Will sent with the next CONNECT (the uplink re-signs it before each connection). */
  will: Will | undefined;
  /** Starts connecting (the next tick() asks the driver to open the transport). */
  start(): void;
  /** The transport the client asked for is open: greet the broker. */
  transportUp(): void;
  /** The transport failed to open or closed (reason null: orderly close by the peer). */
  transportDown(reason: string | null): void;
  receive(chunk: Uint8Array): void;
  tick(): void;
  /** When tick() must run next (null: nothing timed is pending). */
  nextDeadlineMs(): number | null;
  /** Everything to write, as one buffer (one syscall for a burst of small packets), or null. */
  takeOutput(): Uint8Array | null;
  takeEvents(): ClientEvent[];
  /** Queues a message; it goes out as soon as the connection and the in-flight window allow. */
  publish(topic: string, payload: Uint8Array, qos?: 0 | 1, retain?: boolean): Result<null, PublishReason>;
  subscribe(filter: string, qos?: 0 | 1): Result<null, 'filter-invalid' | 'too-many-subscriptions'>;
  /** Orderly end: DISCONNECT (the broker then discards the Will), then close. Queued messages stay for persist(). */
  stop(): void;
  /** What to keep on flash: messages in flight (unacknowledged) first, then the queue, in order. */
  persist(): Uint8Array;
  /** Puts persisted messages in front of anything queued since start. */
  restore(bytes: Uint8Array): Result<number, string>;
}

// Numbers inside (compared on every call), names outside.
const STOPPED = 0,
  IDLE = 1,
  OPENING = 2,
  CONNECTING = 3,
  CONNECTED = 4;
const stateNames: readonly State[] = ['stopped', 'idle', 'opening', 'connecting', 'connected'];

// v5 reason codes we send in DISCONNECT when the server breaks the protocol (§3.14.2.1); 0x81 otherwise.
const disconnectCodes: Record<string, number> = {
  'packet-too-large': 0x95,
  'packet-unexpected': 0x82,
  'qos-not-granted': 0x9b,
  'topic-alias-invalid': 0x94,
};

const done = ok(null);

export function createMqttClient(options: ClientOptions): MqttClient {
  const counters = new Counters();
  const version = options.version ?? 5;
  const packetBytesMax = options.packetBytesMax ?? limits.packetBytesMaxDefault;
  const ackTimeoutMs = options.ackTimeoutMs ?? limits.ackTimeoutMsDefault;
  const connectTimeoutMs = options.connectTimeoutMs ?? limits.connectTimeoutMsDefault;
  const inflightMax = options.inflightMax ?? limits.inflightMaxDefault;
  const queueMessagesMax = options.queueMessagesMax ?? limits.queueMessagesMaxDefault;
  const queueBytesMax = options.queueBytesMax ?? limits.queueBytesMaxDefault;
  const now = options.nowMs;
  // The offline queue, bounded in count and bytes (the oldest is dropped and counted). A plain array:
  // bounded by queueMessagesMax, so shift()'s move stays small.
  const queue: Message[] = [];
  let queueBytes = 0;
  /** QoS 1 messages sent and not yet acknowledged, by packet id, oldest first. */
  const inflight = new Map<number, { readonly message: Message; sentAtMs: number }>();
  const subscriptions = new Map<string, { readonly qos: QoS; acked: boolean }>();
  const pendingSubscribes = new Map<number, string[]>();
  const output = new Writer();
  let reader = new PacketReader(packetBytesMax);
  let events: ClientEvent[] = [];
  let state = STOPPED;
  let persistVersion = 0;
  let nextPacketId = 1;
  let attempt = 0;
  let deadlineMs = 0;
  let lastSentMs = 0;
  let pingDeadlineMs: number | null = null;
  let window = inflightMax;
  let keepAliveMs = (options.keepAliveS ?? limits.keepAliveSDefault) * 1000;
  let serverPacketBytesMax = limits.remainingLengthMax;
  /** The last topic that passed isValidTopic: a node publishes to the same few topics over and over. */
  let validTopic = '';
  assertThat(options.clientId.length > 0 && options.clientId.length <= 256, 'mqtt: clientId of 1..256 characters');
  assertThat(window > 0 && window < 65_535, 'mqtt: inflight window within packet ids');

  const enqueue = (m: Message): void => {
    queue.push(m);
    queueBytes += m.topic.length + m.payload.length;
    while (queue.length > 1 && (queue.length > queueMessagesMax || queueBytes > queueBytesMax)) {
      dequeue();
      counters.add('queue-dropped');
    }
  };

  const dequeue = (): Message | undefined => {
    const m = queue.shift();
    if (m !== undefined) queueBytes -= m.topic.length + m.payload.length;
    return m;
  };

  const send = (packet: Packet): void => {
    writePacket(output, packet, version);
    lastSentMs = now();
  };

  const sendPublish = (m: Message, id: number, dup: boolean): void => {
    const packet: Packet = {
      type: PUBLISH,
      topic: m.topic,
      payload: m.payload,
      qos: m.qos,
      retain: m.retain,
      dup: dup && m.qos > 0,
    };
    if (m.qos > 0) packet.messageId = id;
    send(packet);
  };

  /** Packet ids 1..65535, never one still in use (§2.2.1). The window keeps fewer than 65535 in use. */
  const allocateId = (): number => {
    for (;;) {
      const id = nextPacketId;
      nextPacketId = id === 65_535 ? 1 : id + 1;
      if (!inflight.has(id) && !pendingSubscribes.has(id)) return id;
    }
  };

  const sendSubscribe = (filters: string[]): void => {
    const id = allocateId();
    pendingSubscribes.set(id, filters);
    send({
      type: SUBSCRIBE,
      messageId: id,
      subscriptions: filters.map((topic) => ({ topic, qos: subscriptions.get(topic)?.qos ?? 1 })),
    });
  };

  const oldestInflight = (): { readonly sentAtMs: number } | undefined =>
    inflight.size > 0 ? inflight.values().next().value : undefined;

  /**
   * The broker's Maximum Packet Size can shrink between a publish() and its send (a reconnect to another
   * broker): a message past it must not be sent (MQTT 5 §3.1.2.11.4), or the broker drops the connection and
   * the resend after each reconnect wedges the queue. It is dropped and counted.
   */
  const fitsBroker = (m: Message): boolean => {
    if (10 + 3 * m.topic.length + m.payload.length <= serverPacketBytesMax) return true;
    counters.add('publish-too-large-for-broker');
    return false;
  };

  /** Sends queued messages while connected and the QoS 1 window has room, in order. */
  const drain = (): void => {
    while (state === CONNECTED) {
      const next = queue[0];
      if (next === undefined || (next.qos === 1 && inflight.size >= window)) return;
      dequeue();
      if (!fitsBroker(next)) {
        persistVersion++;
        continue;
      }
      let id = 0;
      if (next.qos === 1) inflight.set((id = allocateId()), { message: next, sentAtMs: now() });
      else persistVersion++;
      sendPublish(next, id, false);
    }
  };

  /** The connection is gone (or must go): count why, close the transport, and reconnect after a backoff. */
  const lost = (reason: string, closeTransport: boolean): void => {
    counters.add(reason);
    pendingSubscribes.clear();
    pingDeadlineMs = null;
    if (closeTransport) events.push({ kind: 'close' });
    // The transport is already gone: nothing produced for it may leak onto the next connection.
    else output.n = 0;
    if (state === CONNECTED) events.push({ kind: 'disconnected', reason });
    state = IDLE;
    // Exponential backoff with "equal jitter": half the step fixed, half random, so retries spread out.
    const step = Math.min(
      options.backoffMaxMs ?? limits.backoffMaxMsDefault,
      (options.backoffMinMs ?? limits.backoffMinMsDefault) * 2 ** Math.min(attempt++, 30),
    );
    const delayMs = Math.round(step / 2 + options.random() * (step / 2));
    deadlineMs = now() + delayMs;
    events.push({ kind: 'retry', reason, attempt, delayMs });
  };

  /** The broker broke the protocol: tell it why (v5), count it, drop the connection. Never a throw. */
  const protocolError = (reason: string): void => {
    counters.add(reason);
    if (version === 5) send({ type: DISCONNECT, reasonCode: disconnectCodes[reason] ?? 0x81 });
    lost(reason, true);
  };

  const connectPacket = (): Packet => {
    const clean = options.cleanStart ?? false;
    const packet: Packet = {
      type: CONNECT,
      protocolVersion: version,
      clientId: options.clientId,
      clean,
      keepalive: keepAliveMs / 1000,
    };
    if (options.username !== undefined) packet.username = options.username;
    if (options.password !== undefined) packet.password = options.password;
    if (client.will !== undefined) packet.will = client.will;
    if (version === 5) {
      packet.properties = { [propReceiveMaximum]: limits.inflightMaxDefault, [propMaximumPacketSize]: packetBytesMax };
      if (!clean) packet.properties[propSessionExpiryInterval] = options.sessionExpiryS ?? 86_400;
    }
    return packet;
  };

  const onConnack = (p: Extract<Packet, { type: typeof CONNACK }>): void => {
    // v5 0x84 Unsupported Protocol Version: one name for it, as for a 3.1.1 broker's answer (receive()).
    if (p.reasonCode !== 0)
      return lost(p.reasonCode === 0x84 ? 'protocol-version-refused' : `connack-refused-${p.reasonCode}`, true);
    const props = p.properties ?? {};
    state = CONNECTED;
    attempt = 0;
    pingDeadlineMs = null;
    window = Math.min(inflightMax, (props[propReceiveMaximum] as number | undefined) ?? 65_535);
    serverPacketBytesMax = (props[propMaximumPacketSize] as number | undefined) ?? limits.remainingLengthMax;
    keepAliveMs = ((props[propServerKeepAlive] as number | undefined) ?? keepAliveMs / 1000) * 1000;
    events.push({ kind: 'connected', sessionPresent: p.sessionPresent });
    const unacked: string[] = [];
    for (const [filter, s] of subscriptions) {
      if (!p.sessionPresent) s.acked = false;
      if (!s.acked) unacked.push(filter);
    }
    if (unacked.length > 0) sendSubscribe(unacked);
    // Resend what the last connection left unacknowledged, with the same ids, DUP set.
    for (const [id, f] of [...inflight]) {
      if (!fitsBroker(f.message)) {
        inflight.delete(id);
        persistVersion++;
        continue;
      }
      sendPublish(f.message, id, true);
      f.sentAtMs = now();
      counters.add('resent');
    }
    drain();
  };

  const handle = (p: Packet): void => {
    if (state === CONNECTING) return p.type === CONNACK ? onConnack(p) : protocolError('packet-unexpected');
    switch (p.type) {
      case PUBLISH:
        // We subscribe with QoS ≤ 1 and announce no topic aliases: anything else is the broker's protocol error.
        if (p.qos === 2) return protocolError('qos-not-granted');
        if (p.properties?.[propTopicAlias] !== undefined) return protocolError('topic-alias-invalid');
        if (p.qos === 1) send({ type: PUBACK, messageId: p.messageId as number });
        events.push({ kind: 'message', topic: p.topic, payload: p.payload, qos: p.qos, retain: p.retain });
        return;
      case PUBACK:
        if (!inflight.delete(p.messageId)) return counters.add('puback-unknown');
        if ((p.reasonCode ?? 0) >= 0x80) counters.add(`puback-refused-${p.reasonCode}`);
        persistVersion++;
        return drain();
      case SUBACK: {
        const filters = pendingSubscribes.get(p.messageId);
        if (filters === undefined) return counters.add('suback-unknown');
        pendingSubscribes.delete(p.messageId);
        filters.forEach((filter, i) => {
          const s = subscriptions.get(filter);
          if ((p.granted[i] ?? 0x80) >= 0x80) counters.add('subscribe-refused');
          else if (s !== undefined) s.acked = true;
        });
        return;
      }
      case UNSUBACK:
        return;
      case PINGRESP:
        pingDeadlineMs = null;
        return;
      case DISCONNECT:
        return lost(`server-disconnect-${p.reasonCode ?? 0}`, true);
      default:
        return protocolError('packet-unexpected');
    }
  };

  const client: MqttClient = {
    counters,
    version,
    will: options.will,
    get state() {
      return stateNames[state] as State;
    },
    get queuedMessages() {
      return queue.length;
    },
    get queuedBytes() {
      return queueBytes;
    },
    get inflightCount() {
      return inflight.size;
    },
    get outputBytes() {
      return output.n;
    },
    get persistVersion() {
      return persistVersion;
    },

    start() {
      if (state !== STOPPED) return;
      state = IDLE;
      deadlineMs = now();
      client.tick();
    },

    transportUp() {
      assertThat(state === OPENING, 'mqtt: transportUp only after an open event');
      state = CONNECTING;
      deadlineMs = now() + connectTimeoutMs;
      reader = new PacketReader(packetBytesMax);
      send(connectPacket());
    },

    transportDown(reason) {
      if (state > IDLE) lost(reason ?? 'connection-closed', false);
    },

    receive(chunk) {
      if (state < CONNECTING) return;
      reader.push(chunk);
      while (state >= CONNECTING) {
        const frame = reader.next();
        if (!frame.ok) return protocolError(frame.reason);
        if (frame.value === null) return;
        // A 3.1.1-only broker (aedes) answers a v5 CONNECT with its own 2-byte CONNACK, return code 1
        // "unacceptable protocol version" (3.1.1 §3.2.2.3), which is not a valid v5 CONNACK: name it.
        const f = frame.value;
        if (state === CONNECTING && version === 5 && f.length === 4 && f[0] === 0x20 && f[3] === 1)
          return lost('protocol-version-refused', true);
        const packet = decodePacket(frame.value, version);
        if (!packet.ok) return protocolError(packet.reason);
        handle(packet.value);
      }
    },

    tick() {
      const t = now();
      const oldest = oldestInflight();
      if (state === IDLE && t >= deadlineMs) {
        state = OPENING;
        deadlineMs = t + connectTimeoutMs;
        events.push({ kind: 'open' });
      } else if ((state === OPENING || state === CONNECTING) && t >= deadlineMs) {
        lost(state === OPENING ? 'connect-timeout' : 'connack-timeout', true);
      } else if (state === CONNECTED) {
        if (pingDeadlineMs !== null && t >= pingDeadlineMs) lost('ping-timeout', true);
        else if (oldest !== undefined && t - oldest.sentAtMs >= ackTimeoutMs) lost('ack-timeout', true);
        else if (keepAliveMs > 0 && pingDeadlineMs === null && t - lastSentMs >= keepAliveMs) {
          send({ type: PINGREQ });
          pingDeadlineMs = t + Math.min(limits.pingTimeoutMsMax, keepAliveMs);
        }
      }
    },

    nextDeadlineMs() {
      if (state === STOPPED) return null;
      if (state < CONNECTED) return deadlineMs;
      const oldest = oldestInflight();
      let next = pingDeadlineMs ?? (keepAliveMs > 0 ? lastSentMs + keepAliveMs : Infinity);
      if (oldest !== undefined) next = Math.min(next, oldest.sentAtMs + ackTimeoutMs);
      return next < Infinity ? next : null;
    },

    takeOutput() {
      return output.n > 0 ? output.take() : null;
    },

    takeEvents() {
      const taken = events;
      if (taken.length > 0) events = [];
      return taken;
    },

    publish(topic, payload, qos = 0, retain = false) {
      if (state === STOPPED) return fail('stopped');
      if (topic !== validTopic) {
        if (!isValidTopic(topic)) return fail('topic-invalid');
        validTopic = topic;
      }
      if (qos !== 0 && qos !== 1) return fail('qos-unsupported');
      // Fixed header (5) + topic (2 + UTF-8, ≤ 3 bytes a char) + id (2) + properties (1): the worst case.
      if (10 + 3 * topic.length + payload.length > Math.min(packetBytesMax, serverPacketBytesMax))
        return fail('packet-too-large');
      enqueue({ topic, payload, qos, retain });
      persistVersion++;
      drain();
      return done;
    },

    subscribe(filter, qos = 1) {
      if (!isValidFilter(filter)) return fail('filter-invalid');
      if (!subscriptions.has(filter) && subscriptions.size >= limits.subscriptionsMax)
        return fail('too-many-subscriptions');
      subscriptions.set(filter, { qos, acked: false });
      if (state === CONNECTED) sendSubscribe([filter]);
      return done;
    },

    stop() {
      if (state === CONNECTED) send({ type: DISCONNECT, reasonCode: 0 });
      if (state > IDLE) events.push({ kind: 'close' });
      state = STOPPED;
      pingDeadlineMs = null;
    },

    persist() {
      return encodeQueue([...[...inflight.values()].map((f) => f.message), ...queue]);
    },

    restore(bytes) {
      const decoded = decodeQueue(bytes, limits.persistBytesMax, queueMessagesMax);
      if (!decoded.ok) {
        counters.add(decoded.reason);
        return decoded;
      }
      const later = queue.splice(0);
      queueBytes = 0;
      for (const m of [...decoded.value, ...later]) enqueue(m);
      drain();
      return ok(decoded.value.length);
    },
  };
  return client;
}
