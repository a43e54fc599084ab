// The thin edge around UbusClient: a Unix stream from the platform, timers for deadlines and reconnects,
// promises for requests, handlers for our objects. All protocol decisions live in client.ts.
import type { ByteStream, Platform, TimerHandle } from '../platform/types.js';
import { UbusClient, type ClientEvent, type LookupEntry, type ObjectDefinition, type Reply } from './client.js';
import * as limits from './limits.js';
import { Status } from './message.js';
import { fail, ok, type Result } from './result.js';
import type { JsTable } from './values.js';

export const defaultSocketPath = '/var/run/ubus/ubus.sock';

export interface ConnectionOptions {
  readonly path?: string;
  /** Keep reconnecting when ubusd goes away (the agent); a CLI run connects once. */
  readonly reconnect?: boolean;
  readonly requestTimeoutMs?: number;
}

export interface CallContext {
  readonly user: string | null;
  readonly group: string | null;
}

/** A method's answer: a status (default 0) and an optional table sent as DATA before it. */
export interface MethodResult {
  readonly status?: number;
  readonly data?: JsTable;
}

export type MethodHandler = (args: JsTable, context: CallContext) => MethodResult | Promise<MethodResult>;

export interface CallResult {
  readonly status: number;
  readonly data: readonly JsTable[];
}

type Waiter = (result: Result<Reply, string>) => void;

/** What an owner of the connection hears about: the link going up and down, and each registration's outcome. */
export type ConnectionEvent =
  | { readonly kind: 'ready' }
  | { readonly kind: 'lost'; readonly reason: string }
  | { readonly kind: 'registered'; readonly registration: number }
  | { readonly kind: 'registration-failed'; readonly registration: number; readonly reason: string };

export class UbusConnection {
  readonly client: UbusClient;
  private listener: ((event: ConnectionEvent) => void) | null = null;
  private stream: ByteStream | null = null;
  private connecting = false;
  private stopped = false;
  private deadlineTimer: TimerHandle | null = null;
  private reconnectTimer: TimerHandle | null = null;
  private readonly waiters = new Map<number, Waiter>();
  private readyWaiters: ((result: Result<number, string>) => void)[] = [];
  private readonly handlers = new Map<string, Readonly<Record<string, MethodHandler>>>();
  private readonly eventCallbacks = new Map<number, (name: string, data: JsTable) => void>();
  readonly path: string;

  constructor(
    private readonly platform: Platform,
    private readonly options: ConnectionOptions = {},
  ) {
    this.path = options.path ?? defaultSocketPath;
    this.client = new UbusClient({
      nowMs: () => platform.monotonicMs(),
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
    });
  }

  /** One listener (the agent's ubus component): connection state and registration outcomes. */
  onEvent(listener: (event: ConnectionEvent) => void): void {
    this.listener = listener;
  }

  get ready(): boolean {
    return this.client.connectionState === 'ready';
  }

  /** Connects (and, with reconnect, keeps reconnecting). Resolves once connected and greeted, or on timeout. */
  async start(timeoutMs = limits.helloTimeoutMs): Promise<Result<number, string>> {
    this.stopped = false;
    void this.connect();
    return this.waitReady(timeoutMs);
  }

  waitReady(timeoutMs: number): Promise<Result<number, string>> {
    if (this.ready) return Promise.resolve(ok(this.client.localId));
    return new Promise((resolve) => {
      const timer = this.platform.setTimer(timeoutMs, () => resolve(fail('connect-timeout')));
      this.readyWaiters.push((result) => {
        this.platform.clearTimer(timer);
        resolve(result);
      });
    });
  }

  close(): void {
    this.stopped = true;
    if (this.reconnectTimer !== null) this.platform.clearTimer(this.reconnectTimer);
    if (this.deadlineTimer !== null) this.platform.clearTimer(this.deadlineTimer);
    this.reconnectTimer = null;
    this.deadlineTimer = null;
    const stream = this.stream;
    this.stream = null;
    this.client.disconnected(null);
    stream?.close();
    this.pump();
  }

  // ---- requests ----

  lookup(path?: string, timeoutMs?: number): Promise<Result<LookupEntry[], string>> {
    return this.await(this.client.lookup(path, timeoutMs)).then((r) => {
      if (!r.ok) return r;
      return r.value.status === Status.ok ? ok([...r.value.objects]) : fail(`status-${r.value.status}`);
    });
  }

  invoke(
    objectId: number,
    method: string,
    args: JsTable = {},
    timeoutMs?: number,
  ): Promise<Result<CallResult, string>> {
    return this.await(this.client.invoke(objectId, method, args, timeoutMs)).then((r) =>
      r.ok ? ok({ status: r.value.status, data: r.value.data }) : r,
    );
  }

  /** `ubus call`: LOOKUP the path, then INVOKE the method on the id found. */
  async call(
    path: string,
    method: string,
    args: JsTable = {},
    timeoutMs?: number,
  ): Promise<Result<CallResult, string>> {
    const found = await this.lookup(path, timeoutMs);
    if (!found.ok) return found;
    const object = found.value[0];
    if (object === undefined) return fail(`status-${Status.notFound}`);
    return this.invoke(object.id, method, args, timeoutMs);
  }

  sendEvent(name: string, data: JsTable = {}): Promise<Result<CallResult, string>> {
    return this.await(this.client.sendEvent(name, data)).then((r) =>
      r.ok ? ok({ status: r.value.status, data: r.value.data }) : r,
    );
  }

  // ---- registrations (re-announced after every reconnect by the client) ----

  addObject(definition: ObjectDefinition, handlers: Readonly<Record<string, MethodHandler>>): Result<number, string> {
    const added = this.client.addObject(definition);
    if (added.ok) this.handlers.set(definition.name, handlers);
    this.pump();
    return added;
  }

  listen(pattern: string, callback: (name: string, data: JsTable) => void): Result<number, string> {
    const added = this.client.listen(pattern);
    if (added.ok) this.eventCallbacks.set(added.value, callback);
    this.pump();
    return added;
  }

  subscribe(target: string, callback: (type: string, data: JsTable) => void): Result<number, string> {
    const added = this.client.subscribe(target);
    if (added.ok) this.eventCallbacks.set(added.value, callback);
    this.pump();
    return added;
  }

  notify(registration: number, type: string, data: JsTable = {}): Result<null, string> {
    const sent = this.client.notify(registration, type, data);
    this.pump();
    return sent;
  }

  // ---- plumbing ----

  private await(started: Result<number, string>): Promise<Result<Reply, string>> {
    if (!started.ok) return Promise.resolve(started);
    const promise = new Promise<Result<Reply, string>>((resolve) => this.waiters.set(started.value, resolve));
    this.pump();
    return promise;
  }

  private async connect(): Promise<void> {
    if (this.connecting || this.stream !== null || this.stopped) return;
    this.connecting = true;
    try {
      // The handlers may run before the await below hands over the stream (the loop decides the order): what
      // arrives that early waits in `early` and is read once the stream is ours. `opened` is never in its TDZ.
      let opened: ByteStream | null = null;
      const early: Uint8Array[] = [];
      const stream = await this.platform.net.connect(
        { kind: 'unix', path: this.path },
        {
          onData: (chunk) => {
            if (opened === null) {
              if (early.length < limits.earlyChunksMax) early.push(chunk.slice());
              return;
            }
            if (this.stream !== opened) return;
            this.client.receive(chunk);
            this.pump();
          },
          onClose: (reason) => {
            if (opened === null || this.stream !== opened) return;
            this.stream = null;
            this.listener?.({ kind: 'lost', reason: reason ?? 'closed' });
            this.client.disconnected(reason);
            this.pump();
            this.scheduleReconnect();
          },
        },
      );
      this.connecting = false;
      opened = stream;
      if (this.stopped) return stream.close();
      this.stream = stream;
      this.client.connected();
      for (const chunk of early.splice(0)) this.client.receive(chunk);
      this.pump();
    } catch (error) {
      this.connecting = false;
      const reason = `connect-${(error as Error).message}`;
      this.client.counters.add(reason);
      // Without reconnect nobody will ever be greeted: tell the waiters now instead of at their timeout.
      if (this.options.reconnect !== true) for (const waiter of this.readyWaiters.splice(0)) waiter(fail(reason));
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.options.reconnect !== true || this.reconnectTimer !== null) return;
    this.reconnectTimer = this.platform.setTimer(limits.reconnectDelayMs, () => {
      this.reconnectTimer = null;
      void this.connect();
    });
  }

  /** Writes what the client produced, acts on its events, re-arms the deadline timer. */
  private pump(): void {
    for (let round = 0; round < 16; round++) {
      const output = this.client.takeOutput();
      const events = this.client.takeEvents();
      if (output.length === 0 && events.length === 0) break;
      for (const bytes of output) this.stream?.write(bytes);
      if (this.stream !== null && this.stream.queuedBytes > limits.outputQueueBytesMax)
        this.resetStream('output-overflow');
      for (const event of events) this.dispatch(event);
    }
    this.armDeadline();
  }

  private resetStream(reason: string): void {
    this.client.counters.add(reason);
    this.listener?.({ kind: 'lost', reason });
    const stream = this.stream;
    this.stream = null;
    this.client.disconnected(reason);
    stream?.close();
    this.scheduleReconnect();
  }

  private dispatch(event: ClientEvent): void {
    switch (event.kind) {
      case 'ready':
        this.listener?.({ kind: 'ready' });
        for (const waiter of this.readyWaiters.splice(0)) waiter(ok(event.localId));
        return;
      case 'reply': {
        const waiter = this.waiters.get(event.request);
        this.waiters.delete(event.request);
        return waiter?.(event.result);
      }
      case 'invoke':
        return void this.runHandler(event);
      case 'event':
      case 'notification': {
        const name = event.kind === 'event' ? event.name : event.type;
        return this.eventCallbacks.get(event.registration)?.(name, event.data);
      }
      case 'reset': {
        this.listener?.({ kind: 'lost', reason: event.reason });
        // The stream cannot be framed any more: close it; requests already failed in the client.
        const stream = this.stream;
        this.stream = null;
        stream?.close();
        return this.scheduleReconnect();
      }
      case 'registration-failed':
        if (this.listener !== null)
          return this.listener({ kind: 'registration-failed', registration: event.registration, reason: event.reason });
        this.platform.logger.log('warn', 'ubus registration failed', {
          registration: event.registration,
          reason: event.reason,
        });
        return;
      case 'registered':
        return this.listener?.({ kind: 'registered', registration: event.registration });
      default:
        return;
    }
  }

  private async runHandler(event: Extract<ClientEvent, { kind: 'invoke' }>): Promise<void> {
    const handler = this.handlerFor(event);
    let result: MethodResult;
    try {
      result =
        handler === undefined
          ? { status: Status.methodNotFound }
          : await handler(event.args, { user: event.user, group: event.group });
    } catch (error) {
      this.client.counters.add('handler-error');
      this.platform.logger.log('error', 'ubus method handler threw', {
        object: event.object,
        method: event.method,
        error: String(error),
      });
      result = { status: Status.unknownError };
    }
    this.client.reply(event.token, result.status ?? Status.ok, result.data);
    this.pump();
  }

  private handlerFor(event: Extract<ClientEvent, { kind: 'invoke' }>): MethodHandler | undefined {
    const handlers = this.handlers.get(event.object);
    return handlers !== undefined && Object.hasOwn(handlers, event.method) ? handlers[event.method] : undefined;
  }

  private armDeadline(): void {
    if (this.deadlineTimer !== null) this.platform.clearTimer(this.deadlineTimer);
    this.deadlineTimer = null;
    const deadline = this.client.nextDeadlineMs();
    if (deadline === null || this.stopped) return;
    this.deadlineTimer = this.platform.setTimer(Math.max(0, deadline - this.platform.monotonicMs()) + 1, () => {
      this.deadlineTimer = null;
      this.client.tick();
      this.pump();
    });
  }
}
