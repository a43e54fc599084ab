// The thin edge around MqttClient: a TCP stream from platform.net, one timer for the client's deadlines and
// the flash writes, and callbacks. The same code runs on Node and on x0-runtime. All protocol decisions are
// the client's (client.ts); this file only moves bytes, time and files.
import type { ByteStream, Platform, TimerHandle } from '../platform/types.js';
import { MqttClient, type ClientEvent, type ClientOptions, type PublishReason } from './client.js';
import type { QoS } from './codec.js';
import * as limits from './limits.js';
import { PersistPolicy } from './queue.js';
import type { Result } from '../core/result.js';

export interface ConnectionOptions extends Omit<ClientOptions, 'nowMs' | 'random'> {
  readonly host: string;
  readonly port: number;
  /** Where the offline queue lives across restarts (on flash); none: kept in memory only. */
  readonly persistPath?: string;
  readonly persistIntervalMs?: number;
}

export type MessageHandler = (topic: string, payload: Uint8Array, qos: QoS, retain: boolean) => void;

export class MqttConnection {
  readonly client: MqttClient;
  #stream: ByteStream | null = null;
  #generation = 0;
  #timer: TimerHandle | null = null;
  #timerAtMs = Number.POSITIVE_INFINITY;
  readonly #persistPolicy: PersistPolicy;
  #lastWrittenEmpty = true;
  readonly #messageHandlers: MessageHandler[] = [];
  readonly #eventHandlers: ((event: ClientEvent) => void)[] = [];
  #waiters: (() => void)[] = [];

  readonly #platform: Platform;
  readonly #options: ConnectionOptions;

  constructor(platform: Platform, options: ConnectionOptions) {
    this.#platform = platform;
    this.#options = options;
    this.client = new MqttClient({ ...options, nowMs: () => platform.monotonicMs(), random: () => randomUnit(platform) });
    this.#persistPolicy = new PersistPolicy(options.persistIntervalMs ?? limits.persistIntervalMsDefault);
  }

  get connected(): boolean {
    return this.client.state === 'connected';
  }

  get persistWrites(): number {
    return this.#persistPolicy.writes;
  }

  onMessage(handler: MessageHandler): void {
    this.#messageHandlers.push(handler);
  }

  onEvent(handler: (event: ClientEvent) => void): void {
    this.#eventHandlers.push(handler);
  }

  /** Restores the persisted queue (if any) and starts connecting; reconnects on its own until stop(). */
  start(): void {
    const path = this.#options.persistPath;
    const saved = path === undefined ? null : this.#platform.files.read(path);
    if (saved !== null) {
      const restored = this.client.restore(saved);
      if (!restored.ok) this.#platform.logger.log('warn', 'mqtt: persisted queue refused', { path, reason: restored.reason });
      this.#lastWrittenEmpty = false;
    }
    this.client.start();
    this.#pump();
  }

  publish(topic: string, payload: Uint8Array, qos: 0 | 1 = 0, retain = false): Result<null, PublishReason> {
    const queued = this.client.publish(topic, payload, qos, retain);
    this.#pump();
    return queued;
  }

  subscribe(filter: string, qos: 0 | 1 = 1): Result<null, string> {
    const added = this.client.subscribe(filter, qos);
    this.#pump();
    return added;
  }

  /** Resolves true once connected, false after timeoutMs. */
  waitConnected(timeoutMs: number): Promise<boolean> {
    return this.#waitFor(() => this.connected, timeoutMs);
  }

  /** Resolves true once nothing is queued or in flight (every QoS 1 message acknowledged). */
  flush(timeoutMs: number): Promise<boolean> {
    return this.#waitFor(() => this.connected && this.client.queuedMessages === 0 && this.client.inflightCount === 0, timeoutMs);
  }

  /** DISCONNECT (the broker discards the Will), close, and write the queue to flash one last time. */
  stop(): void {
    this.client.stop();
    this.#pump();
    this.#persist(true);
    if (this.#timer !== null) this.#platform.clearTimer(this.#timer);
    this.#timer = null;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  #waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = this.#platform.setTimer(timeoutMs, () => {
        this.#waiters = this.#waiters.filter((w) => w !== check);
        resolve(false);
      });
      const check = (): void => {
        if (!condition() && this.client.state !== 'stopped') return;
        this.#platform.clearTimer(timer);
        this.#waiters = this.#waiters.filter((w) => w !== check);
        resolve(condition());
      };
      this.#waiters.push(check);
    });
  }

  #open(): void {
    const generation = ++this.#generation;
    let stream: ByteStream | null = null;
    this.#platform.net.connect({ kind: 'tcp', host: this.#options.host, port: this.#options.port }, {
      onData: (chunk) => {
        if (stream === null || this.#stream !== stream) return;
        this.client.receive(chunk);
        this.#pump();
      },
      onClose: (reason) => {
        if (stream === null || this.#stream !== stream) return;
        this.#stream = null;
        this.client.transportDown(reason);
        this.#pump();
      },
    }).then((opened) => {
      stream = opened;
      // The client gave up on this attempt (timeout, stop) while the kernel was still connecting.
      if (generation !== this.#generation || this.client.state !== 'opening') return opened.close();
      this.#stream = opened;
      this.client.transportUp();
      this.#pump();
    }, (error: unknown) => {
      if (generation !== this.#generation || this.client.state !== 'opening') return;
      this.client.transportDown(`connect-${(error as Error).message}`);
      this.#pump();
    });
  }

  /** Writes what the client produced, acts on its events, keeps flash and the timer up to date. */
  #pump(): void {
    for (let round = 0; round < 16; round++) {
      const output = this.client.takeOutput();
      const events = this.client.takeEvents();
      if (output === null && events.length === 0) break;
      if (output !== null && this.#stream !== null) {
        this.#stream.write(output);
        if (this.#stream.queuedBytes > limits.outputQueueBytesMax) {
          this.#dropStream();
          this.client.transportDown('output-overflow');
        }
      }
      for (const event of events) this.#dispatch(event);
    }
    this.#persist(false);
    this.#armTimer();
    if (this.#waiters.length > 0) for (const wake of [...this.#waiters]) wake();
  }

  #dropStream(): void {
    const stream = this.#stream;
    this.#stream = null;
    this.#generation++;
    stream?.close();
  }

  #dispatch(event: ClientEvent): void {
    if (event.kind === 'open') return this.#open();
    if (event.kind === 'close') return this.#dropStream();
    if (event.kind === 'message') for (const handler of this.#messageHandlers) handler(event.topic, event.payload, event.qos, event.retain);
    for (const handler of this.#eventHandlers) handler(event);
  }

  /** Bounded flash writes: only a changed queue, at most once per interval (and once more at stop). */
  #persist(final: boolean): void {
    const path = this.#options.persistPath;
    const version = this.client.persistVersion;
    const now = this.#platform.monotonicMs();
    if (path === undefined || !(final ? this.#persistPolicy.nextDueMs(version) !== null : this.#persistPolicy.due(version, now))) return;
    const empty = this.client.queuedMessages === 0 && this.client.inflightCount === 0;
    if (empty && this.#lastWrittenEmpty) return this.#persistPolicy.written(version, now);
    try {
      this.#platform.files.writeAtomic(path, this.client.persist());
      this.#lastWrittenEmpty = empty;
      this.#persistPolicy.written(version, now);
    } catch (error) {
      this.client.counters.add('persist-failed');
      this.#platform.logger.log('warn', 'mqtt: cannot persist the queue', { path, error: String(error) });
      this.#persistPolicy.written(version, now);
    }
  }

  /** One timer for the earliest deadline; re-armed only when that deadline moves earlier or fired. */
  #armTimer(): void {
    const deadlines = [this.client.nextDeadlineMs() ?? Number.POSITIVE_INFINITY];
    if (this.#options.persistPath !== undefined) deadlines.push(this.#persistPolicy.nextDueMs(this.client.persistVersion) ?? Number.POSITIVE_INFINITY);
    const at = Math.min(...deadlines);
    if (!Number.isFinite(at) || (this.#timer !== null && at >= this.#timerAtMs)) return;
    if (this.#timer !== null) this.#platform.clearTimer(this.#timer);
    this.#timerAtMs = at;
    this.#timer = this.#platform.setTimer(Math.max(0, at - this.#platform.monotonicMs()) + 1, () => {
      this.#timer = null;
      this.#timerAtMs = Number.POSITIVE_INFINITY;
      this.client.tick();
      this.#pump();
    });
  }
}

function randomUnit(platform: Platform): number {
  const b = platform.randomBytes(4);
  return ((((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) >>> 0) / 2 ** 32;
}
