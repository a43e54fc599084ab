// The thin edge around the client: a TCP stream from platform.net, one timer for the client's deadlines and
// the flash writes, and callbacks. The same code runs on Node and on x0-runtime. All protocol decisions are
// the client's (client.ts); this file only moves bytes, time and files. A closure, like the client, for size.
import type { ByteStream, Platform, TimerHandle, TlsOptions } from '../platform/types.js';
import type { Result } from '../core/result.js';
import {
  createMqttClient,
  type ClientEvent,
  type ClientOptions,
  type MqttClient,
  type PublishReason,
} from './client.js';
import type { QoS } from './codec.js';
import * as limits from './limits.js';

export interface ConnectionOptions extends Omit<ClientOptions, 'nowMs' | 'random'> {
  readonly host: string;
  readonly port: number;
  /** MQTT over TLS (port 8883 by convention): the broker's certificate is verified before CONNECT is sent. */
  readonly tls?: TlsOptions;
  /** Where the offline queue lives across restarts (on flash); none: kept in memory only. */
  readonly persistPath?: string;
  readonly persistIntervalMs?: number;
}

export type MessageHandler = (topic: string, payload: Uint8Array, qos: QoS, retain: boolean) => void;

export interface MqttConnection {
  readonly client: MqttClient;
  readonly connected: boolean;
  /** Flash writes of the queue so far (bounded: only when it changed, at most once per persistIntervalMs). */
  readonly persistWrites: number;
  onMessage(handler: MessageHandler): void;
  onEvent(handler: (event: ClientEvent) => void): void;
  /** Restores the persisted queue (if any) and starts connecting; reconnects on its own until stop(). */
  start(): void;
  publish(topic: string, payload: Uint8Array, qos?: 0 | 1, retain?: boolean): Result<null, PublishReason>;
  subscribe(filter: string, qos?: 0 | 1): Result<null, string>;
  /** Resolves true once connected, false after timeoutMs. */
  waitConnected(timeoutMs: number): Promise<boolean>;
  /** Resolves true once nothing is queued or in flight (every QoS 1 message acknowledged). */
  flush(timeoutMs: number): Promise<boolean>;
  /** DISCONNECT (the broker discards the Will), close, and write the queue to flash one last time. */
  stop(): void;
}

export function createMqttConnection(platform: Platform, options: ConnectionOptions): MqttConnection {
  const client = createMqttClient({
    ...options,
    nowMs: () => platform.monotonicMs(),
    random: () => platform.randomBytes(4).reduce((sum, byte) => sum * 256 + byte, 0) / 2 ** 32,
  });
  const path = options.persistPath;
  const messageHandlers: MessageHandler[] = [];
  const eventHandlers: ((event: ClientEvent) => void)[] = [];
  let waiters: (() => void)[] = [];
  let stream: ByteStream | null = null;
  let generation = 0;
  let timer: TimerHandle | null = null;
  let timerAtMs = Infinity;
  let flushQueued = false;
  let persistWrites = 0;
  let writtenVersion = 0;
  let writtenAtMs = -Infinity;
  let writtenEmpty = true;
  const connected = (): boolean => client.state === 'connected';
  const empty = (): boolean => client.queuedMessages + client.inflightCount === 0;

  const waitFor = (condition: () => boolean, timeoutMs: number): Promise<boolean> =>
    new Promise((resolve) => {
      const end = (): void => {
        platform.clearTimer(giveUp);
        waiters = waiters.filter((w) => w !== check);
        resolve(condition());
      };
      const check = (): void => {
        if (condition() || client.state === 'stopped') end();
      };
      const giveUp = platform.setTimer(timeoutMs, end);
      waiters.push(check);
      check();
    });

  const open = (): void => {
    const attempt = ++generation;
    let opened: ByteStream | null = null;
    // Events of a stream that is no longer ours (closed by us, or replaced) are ignored.
    const current = (): boolean => opened !== null && stream === opened;
    platform.net
      .connect(
        { kind: 'tcp', host: options.host, port: options.port, ...(options.tls ? { tls: options.tls } : {}) },
        {
          onData: (chunk) => {
            if (!current()) return;
            client.receive(chunk);
            pump();
          },
          onClose: (reason) => {
            if (!current()) return;
            stream = null;
            client.transportDown(reason);
            pump();
          },
        },
      )
      .then(
        (s) => {
          opened = s;
          // The client gave up on this attempt (timeout, stop) while the kernel was still connecting.
          if (attempt !== generation || client.state !== 'opening') return s.close();
          stream = s;
          client.transportUp();
          pump();
        },
        (error: unknown) => {
          if (attempt !== generation || client.state !== 'opening') return;
          client.transportDown(`connect-${(error as Error).message}`);
          pump();
        },
      );
  };

  /** Closes our stream, after writing what the client produced for it (a DISCONNECT, say). */
  const dropStream = (): void => {
    const s = stream;
    const bytes = client.takeOutput();
    stream = null;
    generation++;
    if (s === null) return;
    if (bytes !== null) s.write(bytes);
    s.close();
  };

  const write = (): void => {
    flushQueued = false;
    const bytes = client.takeOutput();
    if (bytes === null || stream === null) return;
    stream.write(bytes);
    if (stream.queuedBytes <= limits.outputQueueBytesMax) return;
    dropStream();
    client.transportDown('output-overflow');
    pump();
  };

  /** When the queue may go to flash next: it changed, and the last write is an interval old. Infinity: unchanged. */
  const persistDueMs = (): number =>
    path === undefined || client.persistVersion === writtenVersion
      ? Infinity
      : writtenAtMs + (options.persistIntervalMs ?? limits.persistIntervalMsDefault);

  /** Bounded flash writes: only a changed queue, at most once per interval (and once more at stop). */
  const persist = (final: boolean): void => {
    const due = persistDueMs();
    if (due === Infinity) return;
    const t = platform.monotonicMs();
    if (!final && t < due) return;
    writtenVersion = client.persistVersion;
    writtenAtMs = t;
    // An empty queue is written once, not at every change of nothing.
    if (empty() && writtenEmpty) return;
    const errno = platform.files.writeAtomic(path as string, client.persist());
    if (errno === null) {
      writtenEmpty = empty();
      persistWrites++;
    } else {
      client.counters.add(`persist-${errno}`);
      platform.logger.log('warn', 'mqtt: cannot persist the queue', { path, errno });
    }
  };

  /** One timer for the earliest deadline; re-armed only when that deadline moves earlier or fired. */
  const armTimer = (): void => {
    const at = Math.min(client.nextDeadlineMs() ?? Infinity, persistDueMs());
    if (at === Infinity || (timer !== null && at >= timerAtMs)) return;
    if (timer !== null) platform.clearTimer(timer);
    timerAtMs = at;
    timer = platform.setTimer(Math.max(0, at - platform.monotonicMs()) + 1, () => {
      timer = null;
      timerAtMs = Infinity;
      client.tick();
      pump();
    });
  };

  const dispatch = (event: ClientEvent): void => {
    if (event.kind === 'open') return open();
    if (event.kind === 'close') return dropStream();
    if (event.kind === 'message')
      for (const handler of messageHandlers) handler(event.topic, event.payload, event.qos, event.retain);
    for (const handler of eventHandlers) handler(event);
  };

  /** Acts on the client's events, keeps flash and the timer up to date, and schedules the write. */
  const pump = (): void => {
    for (
      let round = 0, events = client.takeEvents();
      events.length > 0 && round < 16;
      round++, events = client.takeEvents()
    ) {
      for (const event of events) dispatch(event);
    }
    // Bytes go out once per turn of the event loop, as one write: a burst of publishes is one syscall, not one each.
    if (client.outputBytes > 0 && !flushQueued) {
      flushQueued = true;
      void Promise.resolve().then(write);
    }
    persist(false);
    armTimer();
    if (waiters.length > 0) for (const wake of [...waiters]) wake();
  };

  return {
    client,
    get connected() {
      return connected();
    },
    get persistWrites() {
      return persistWrites;
    },
    onMessage: (handler) => {
      messageHandlers.push(handler);
    },
    onEvent: (handler) => {
      eventHandlers.push(handler);
    },

    start() {
      const saved = path === undefined ? null : platform.files.read(path);
      if (saved !== null) {
        const restored = client.restore(saved);
        if (!restored.ok)
          platform.logger.log('warn', 'mqtt: persisted queue refused', { path, reason: restored.reason });
        writtenEmpty = false;
      }
      client.start();
      pump();
    },

    publish(topic, payload, qos = 0, retain = false) {
      const queued = client.publish(topic, payload, qos, retain);
      pump();
      return queued;
    },

    subscribe(filter, qos = 1) {
      const added = client.subscribe(filter, qos);
      pump();
      return added;
    },

    waitConnected: (timeoutMs) => waitFor(connected, timeoutMs),
    flush: (timeoutMs) => waitFor(() => connected() && empty(), timeoutMs),

    stop() {
      client.stop();
      pump();
      persist(true);
      if (timer !== null) platform.clearTimer(timer);
      timer = null;
      for (const wake of waiters.splice(0)) wake();
    },
  };
}
