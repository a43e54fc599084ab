// The ubus client as a pure state machine (libubus's protocol, no I/O): the driver hands it bytes, connection
// changes and the passing of time; it hands back bytes to write and events. Requests are matched by seq and
// peer like ubus_find_request; objects, event listeners and subscriptions are re-registered on every HELLO,
// like ubus_refresh_state after ubus_reconnect.
import { decodeBlobmsg, type BlobmsgNode } from './blobmsg.js';
import * as limits from './limits.js';
import {
  Attr,
  MessageReader,
  MessageType,
  Status,
  buildMessage,
  eventObjectId,
  readFields,
  type Fields,
  type FieldsReason,
  type UbusMessage,
} from './message.js';
import { Counters, assert, fail, ok, type Result } from './result.js';
import {
  argumentsFromBlobmsg,
  blobmsgTypeOfArg,
  fromBlobmsg,
  toBlobmsg,
  type JsTable,
  type ValueReason,
  type JsValue,
  type Policy,
} from './values.js';

export type ClientReason =
  | 'not-connected'
  | 'connection-lost'
  | 'timeout'
  | 'too-many-requests'
  | 'reply-too-large'
  | 'bad-reply'
  | 'too-many-objects'
  | 'bad-definition'
  | 'bad-arguments'
  | 'connection-reset'
  | `status-${number}`
  | ValueReason
  | FieldsReason;

export interface ObjectDefinition {
  readonly name: string;
  /** Method name → its policy (argument name → type), in the order they are announced. */
  readonly methods: Readonly<Record<string, Policy>>;
}

export interface LookupEntry {
  readonly path: string;
  readonly id: number;
  readonly typeId: number;
  readonly signature: Readonly<Record<string, Record<string, number>>>;
}

export interface Reply {
  readonly status: number;
  /** Every DATA message's UBUS_ATTR_DATA as a JS object, in arrival order. */
  readonly data: readonly JsTable[];
  readonly objects: readonly LookupEntry[];
}

export type ClientEvent =
  | { readonly kind: 'ready'; readonly localId: number }
  | { readonly kind: 'reply'; readonly request: number; readonly result: Result<Reply, ClientReason> }
  | { readonly kind: 'registered'; readonly registration: number; readonly objectId: number }
  | { readonly kind: 'registration-failed'; readonly registration: number; readonly reason: ClientReason }
  | {
      readonly kind: 'invoke';
      readonly token: number;
      readonly object: string;
      readonly method: string;
      readonly args: JsTable;
      readonly user: string | null;
      readonly group: string | null;
    }
  | { readonly kind: 'event'; readonly registration: number; readonly name: string; readonly data: JsTable }
  | { readonly kind: 'notification'; readonly registration: number; readonly type: string; readonly data: JsTable }
  | { readonly kind: 'subscribers'; readonly registration: number; readonly active: boolean }
  | { readonly kind: 'unsubscribed'; readonly registration: number }
  | { readonly kind: 'error'; readonly reason: string }
  | { readonly kind: 'reset'; readonly reason: string };

type Registration =
  | { readonly kind: 'object'; readonly definition: ObjectDefinition; objectId: number }
  | { readonly kind: 'listener'; readonly pattern: string; objectId: number }
  | { readonly kind: 'subscriber'; readonly target: string; objectId: number };

type PendingKind = 'call' | 'add' | 'listen' | 'subscribe-lookup' | 'subscribe';

interface Pending {
  readonly kind: PendingKind;
  readonly seq: number;
  readonly peer: number;
  readonly deadlineMs: number;
  /** The public request id for 'call', the registration key otherwise. */
  readonly key: number;
  readonly data: Fields[];
}

interface IncomingInvoke {
  readonly seq: number;
  readonly peer: number;
  readonly objectId: number;
  readonly deadlineMs: number;
}

export interface ClientOptions {
  readonly nowMs: () => number;
  readonly requestTimeoutMs?: number;
}

type State = 'disconnected' | 'awaiting-hello' | 'ready';

export class UbusClient {
  readonly counters = new Counters();
  private state: State = 'disconnected';
  private reader = new MessageReader();
  private localIdValue = 0;
  private seq = 0;
  private nextKey = 1;
  private helloDeadlineMs = 0;
  private readonly pending: Pending[] = [];
  private readonly registrations = new Map<number, Registration>();
  private readonly incoming = new Map<number, IncomingInvoke>();
  /** Invokes past pendingInvokesMax wait here (in arrival order, up to queuedInvokesMax) for a handler slot. */
  private queued: Array<{ readonly token: number; readonly invoke: IncomingInvoke; readonly event: ClientEvent }> = [];
  private output: Uint8Array[] = [];
  private events: ClientEvent[] = [];

  constructor(private readonly options: ClientOptions) {}

  get connectionState(): State {
    return this.state;
  }

  get localId(): number {
    return this.localIdValue;
  }

  get inflight(): number {
    return this.pending.length;
  }

  // ---- driver side ----

  /** The transport is connected: ubusd speaks first with HELLO. */
  connected(): void {
    assert(this.state === 'disconnected', 'connected() twice');
    this.state = 'awaiting-hello';
    this.reader = new MessageReader();
    this.seq = 0;
    this.helloDeadlineMs = this.options.nowMs() + limits.helloTimeoutMs;
  }

  /** The transport closed (reason null: orderly). Everything in flight fails; registrations wait for the next HELLO. */
  disconnected(reason: string | null): void {
    if (this.state === 'disconnected') return;
    // Why the transport closed (EOF, ECONNRESET) is the driver's to log; callers see one reason.
    if (reason !== null) this.counters.add(`transport-${reason}`);
    this.dropConnection('connection-lost');
  }

  receive(chunk: Uint8Array): void {
    if (this.state === 'disconnected') return;
    const { messages, error } = this.reader.push(chunk);
    for (const message of messages) {
      if ((this.state as State) === 'disconnected') return;
      this.handle(message);
    }
    if (error !== null) this.reset(error);
  }

  /** Expires requests, handler replies and the HELLO wait whose time has come. */
  tick(): void {
    const now = this.options.nowMs();
    if (this.state === 'awaiting-hello' && now >= this.helloDeadlineMs) this.reset('hello-timeout');
    for (const request of this.pending.filter((p) => now >= p.deadlineMs)) this.finish(request, fail('timeout'));
    for (const [token, invoke] of this.incoming) {
      if (now < invoke.deadlineMs) continue;
      this.counters.add('handler-timeout');
      this.sendStatus(invoke, Status.timeout);
      this.incoming.delete(token);
    }
    for (const waiting of this.queued.filter((q) => now >= q.invoke.deadlineMs)) {
      this.counters.add('handler-timeout');
      this.sendStatus(waiting.invoke, Status.timeout);
    }
    this.queued = this.queued.filter((q) => now < q.invoke.deadlineMs);
    this.promote();
  }

  /** Hands queued invokes to handlers while there are free slots. */
  private promote(): void {
    while (this.queued.length > 0 && this.incoming.size < limits.pendingInvokesMax) {
      const next = this.queued.shift() as (typeof this.queued)[number];
      this.incoming.set(next.token, next.invoke);
      this.events.push(next.event);
    }
  }

  /** The earliest time tick() has something to do, or null. */
  nextDeadlineMs(): number | null {
    const times = [
      ...this.pending.map((p) => p.deadlineMs),
      ...[...this.incoming.values()].map((i) => i.deadlineMs),
      ...this.queued.map((q) => q.invoke.deadlineMs),
    ];
    if (this.state === 'awaiting-hello') times.push(this.helloDeadlineMs);
    return times.length === 0 ? null : Math.min(...times);
  }

  takeOutput(): Uint8Array[] {
    const out = this.output;
    this.output = [];
    return out;
  }

  takeEvents(): ClientEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  // ---- requests ----

  /** LOOKUP: every object (path undefined), one path, or a prefix ending in '*'. */
  lookup(path?: string, timeoutMs?: number): Result<number, ClientReason> {
    return this.request('call', MessageType.lookup, 0, timeoutMs, (w) => {
      if (path !== undefined) w.string(Attr.objpath, path);
    });
  }

  /** INVOKE by object id; args become UBUS_ATTR_DATA (blobmsg_json rules, or the given policy). */
  invoke(
    objectId: number,
    method: string,
    args: JsTable = {},
    timeoutMs?: number,
    policy?: Policy,
  ): Result<number, ClientReason> {
    const nodes = toBlobmsg(args, policy);
    if (!nodes.ok) return this.refuse(nodes.reason);
    return this.request('call', MessageType.invoke, objectId, timeoutMs, (w) => {
      w.int32(Attr.objid, objectId);
      w.string(Attr.method, method);
      w.blobmsg(Attr.data, nodes.value);
    });
  }

  /** ubus_send_event: an INVOKE of "send" on ubusd's event object. */
  sendEvent(name: string, data: JsTable = {}, timeoutMs?: number): Result<number, ClientReason> {
    const nodes = toBlobmsg(data);
    if (!nodes.ok) return this.refuse(nodes.reason);
    return this.request('call', MessageType.invoke, eventObjectId, timeoutMs, (w) => {
      w.int32(Attr.objid, eventObjectId);
      w.string(Attr.method, 'send');
      w.blobmsg(Attr.data, [
        { type: 'string', name: 'id', value: name },
        { type: 'table', name: 'data', children: nodes.value },
      ]);
    });
  }

  /** NOTIFY to our object's subscribers without waiting for them (ubus_notify with timeout < 0). */
  notify(registration: number, type: string, data: JsTable = {}): Result<null, ClientReason> {
    const entry = this.registrations.get(registration);
    if (entry === undefined || entry.kind !== 'object') return this.refuse('bad-definition');
    if (this.state !== 'ready' || entry.objectId === 0) return this.refuse('not-connected');
    const nodes = toBlobmsg(data);
    if (!nodes.ok) return this.refuse(nodes.reason);
    this.output.push(
      buildMessage(MessageType.notify, this.nextSeq(), entry.objectId, (w) => {
        w.int32(Attr.objid, entry.objectId);
        w.string(Attr.method, type);
        w.int8(Attr.noReply, 1);
        w.blobmsg(Attr.data, nodes.value);
      }),
    );
    return ok(null);
  }

  // ---- registrations (kept across reconnects) ----

  addObject(definition: ObjectDefinition): Result<number, ClientReason> {
    const checked = checkDefinition(definition);
    if (!checked.ok) return this.refuse(checked.reason);
    for (const entry of this.registrations.values())
      if (entry.kind === 'object' && entry.definition.name === definition.name) return this.refuse('bad-definition');
    return this.register({ kind: 'object', definition, objectId: 0 });
  }

  /** ubus_register_event_handler: an anonymous object plus "register" on the event object. */
  listen(pattern: string): Result<number, ClientReason> {
    if (pattern.length === 0) return this.refuse('bad-definition');
    return this.register({ kind: 'listener', pattern, objectId: 0 });
  }

  /** ubus_register_subscriber + ubus_subscribe to the object at target (looked up on every connect). */
  subscribe(target: string): Result<number, ClientReason> {
    if (target.length === 0) return this.refuse('bad-definition');
    return this.register({ kind: 'subscriber', target, objectId: 0 });
  }

  /** Forgets a registration; it is not re-announced (ubusd drops its objects when we reconnect). */
  unregister(registration: number): Result<null, ClientReason> {
    const entry = this.registrations.get(registration);
    if (entry === undefined) return this.refuse('bad-definition');
    this.registrations.delete(registration);
    if (this.state === 'ready' && entry.objectId !== 0) {
      this.output.push(
        buildMessage(MessageType.removeObject, this.nextSeq(), 0, (w) => w.int32(Attr.objid, entry.objectId)),
      );
    }
    return ok(null);
  }

  objectId(registration: number): number {
    return this.registrations.get(registration)?.objectId ?? 0;
  }

  /** The answer to an 'invoke' event. A token that expired or belongs to a closed connection is ignored. */
  reply(token: number, status: number, data?: JsTable): boolean {
    const invoke = this.incoming.get(token);
    if (invoke === undefined) {
      this.counters.add('late-handler-reply');
      return false;
    }
    this.incoming.delete(token);
    this.promote();
    if (data !== undefined) {
      const nodes = toBlobmsg(data);
      if (!nodes.ok) {
        this.counters.add(`reply-${nodes.reason}`);
        this.sendStatus(invoke, Status.unknownError);
        return true;
      }
      this.output.push(
        buildMessage(MessageType.data, invoke.seq, invoke.peer, (w) => {
          w.int32(Attr.objid, invoke.objectId);
          w.blobmsg(Attr.data, nodes.value);
        }),
      );
    }
    this.sendStatus(invoke, status);
    return true;
  }

  // ---- internals ----

  private refuse<T>(reason: ClientReason): Result<T, ClientReason> {
    this.counters.add(reason);
    return fail(reason);
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) & 0xffff;
    return this.seq;
  }

  private request(
    kind: PendingKind,
    type: number,
    peer: number,
    timeoutMs: number | undefined,
    body: Parameters<typeof buildMessage>[3],
    key = this.nextKey++,
  ): Result<number, ClientReason> {
    if (this.state !== 'ready') return this.refuse('not-connected');
    if (this.pending.length >= limits.inflightRequestsMax) return this.refuse('too-many-requests');
    const seq = this.nextSeq();
    const timeout = timeoutMs ?? this.options.requestTimeoutMs ?? limits.requestTimeoutMsDefault;
    this.output.push(buildMessage(type, seq, peer, body));
    this.pending.push({ kind, seq, peer, deadlineMs: this.options.nowMs() + timeout, key, data: [] });
    return ok(key);
  }

  private register(entry: Registration): Result<number, ClientReason> {
    if (this.registrations.size >= limits.objectsMax) return this.refuse('too-many-objects');
    const key = this.nextKey++;
    this.registrations.set(key, entry);
    if (this.state === 'ready') this.announce(key, entry);
    return ok(key);
  }

  /** ADD_OBJECT as ubus_add_object writes it: path and signature for a named object, nothing for anonymous ones. */
  private announce(key: number, entry: Registration): void {
    const sent = this.request(
      'add',
      MessageType.addObject,
      0,
      undefined,
      (w) => {
        if (entry.kind !== 'object') return;
        w.string(Attr.objpath, entry.definition.name);
        w.blobmsg(Attr.signature, signatureNodes(entry.definition));
      },
      key,
    );
    if (!sent.ok) this.events.push({ kind: 'registration-failed', registration: key, reason: sent.reason });
  }

  private handle(message: UbusMessage): void {
    if (this.state === 'awaiting-hello') return this.handleHello(message);
    const fields = readFields(message);
    if (!fields.ok) return this.handleMalformed(message, fields.reason);
    switch (message.type) {
      case MessageType.status:
      case MessageType.data:
        return this.handleReply(message, fields.value);
      case MessageType.invoke:
        return this.handleInvoke(message, fields.value);
      case MessageType.notify:
        return this.handleSubscriberChange(fields.value);
      case MessageType.unsubscribe:
        return this.handleUnsubscribe(fields.value);
      default:
        this.counters.add('unexpected-message-type');
    }
  }

  private handleHello(message: UbusMessage): void {
    if (message.type !== MessageType.hello || message.peer === 0) return this.reset('bad-hello');
    this.state = 'ready';
    this.localIdValue = message.peer;
    this.events.push({ kind: 'ready', localId: message.peer });
    for (const [key, entry] of this.registrations) this.announce(key, entry);
  }

  /** Framing was fine but an attribute was not: fail what it answers, refuse what it asks, keep the connection. */
  private handleMalformed(message: UbusMessage, reason: FieldsReason): void {
    this.counters.add(reason);
    this.events.push({ kind: 'error', reason });
    const request = this.findPending(message);
    if (request !== undefined && (message.type === MessageType.status || message.type === MessageType.data))
      this.finish(request, fail(reason));
    if (message.type !== MessageType.invoke) return;
    const objid = message.attrs.find((a) => a.id === Attr.objid && a.payload.length === 4);
    if (objid === undefined) return;
    const objectId = new DataView(objid.payload.buffer, objid.payload.byteOffset, 4).getUint32(0);
    this.sendStatus({ seq: message.seq, peer: message.peer, objectId, deadlineMs: 0 }, Status.invalidArgument);
  }

  private findPending(message: UbusMessage): Pending | undefined {
    return this.pending.find((p) => p.seq === message.seq && p.peer === message.peer);
  }

  private handleReply(message: UbusMessage, fields: Fields): void {
    const request = this.findPending(message);
    if (request === undefined) {
      this.counters.add('unmatched-reply');
      return;
    }
    if (message.type === MessageType.data) {
      if (request.data.length >= limits.replyDataMessagesMax) return this.finish(request, fail('reply-too-large'));
      request.data.push(fields);
      return;
    }
    this.finish(request, ok(fields.status ?? Status.invalidArgument));
  }

  private finish(request: Pending, outcome: Result<number, ClientReason>): void {
    const index = this.pending.indexOf(request);
    assert(index >= 0, 'finishing a request that is not pending');
    this.pending.splice(index, 1);
    if (!outcome.ok) this.counters.add(outcome.reason);
    if (request.kind === 'call') {
      const result = outcome.ok ? ok(replyOf(outcome.value, request.data)) : outcome;
      this.events.push({ kind: 'reply', request: request.key, result });
      return;
    }
    this.finishRegistrationStep(request, outcome);
  }

  /** add → (listener) register pattern / (subscriber) lookup target → subscribe. */
  private finishRegistrationStep(request: Pending, outcome: Result<number, ClientReason>): void {
    const entry = this.registrations.get(request.key);
    if (entry === undefined) return;
    const failed = (reason: ClientReason): void =>
      void this.events.push({ kind: 'registration-failed', registration: request.key, reason });
    if (!outcome.ok) return failed(outcome.reason);
    if (outcome.value !== Status.ok) return failed(`status-${outcome.value}`);
    if (request.kind === 'add') {
      const objectId = request.data.find((d) => d.objid !== undefined)?.objid;
      if (objectId === undefined) return failed('bad-reply');
      entry.objectId = objectId;
      if (entry.kind === 'object')
        return void this.events.push({ kind: 'registered', registration: request.key, objectId });
      return this.nextRegistrationStep(request.key, entry);
    }
    if (request.kind === 'subscribe-lookup') {
      const target = request.data.find((d) => d.objid !== undefined)?.objid;
      if (target === undefined) return failed('bad-reply');
      const sent = this.request(
        'subscribe',
        MessageType.subscribe,
        0,
        undefined,
        (w) => {
          w.int32(Attr.objid, entry.objectId);
          w.int32(Attr.target, target);
        },
        request.key,
      );
      if (!sent.ok) failed(sent.reason);
      return;
    }
    this.events.push({ kind: 'registered', registration: request.key, objectId: entry.objectId });
  }

  private nextRegistrationStep(key: number, entry: Registration): void {
    const sent =
      entry.kind === 'listener'
        ? this.request(
            'listen',
            MessageType.invoke,
            eventObjectId,
            undefined,
            (w) => {
              w.int32(Attr.objid, eventObjectId);
              w.string(Attr.method, 'register');
              w.blobmsg(Attr.data, [
                { type: 'int32', name: 'object', value: entry.objectId | 0 },
                { type: 'string', name: 'pattern', value: entry.pattern },
              ]);
            },
            key,
          )
        : this.request(
            'subscribe-lookup',
            MessageType.lookup,
            0,
            undefined,
            (w) => w.string(Attr.objpath, (entry as { target: string }).target),
            key,
          );
    if (!sent.ok) this.events.push({ kind: 'registration-failed', registration: key, reason: sent.reason });
  }

  private registrationById(objectId: number): [number, Registration] | undefined {
    for (const pair of this.registrations) if (pair[1].objectId === objectId && objectId !== 0) return pair;
    return undefined;
  }

  private handleInvoke(message: UbusMessage, fields: Fields): void {
    const invoke: IncomingInvoke = {
      seq: message.seq,
      peer: message.peer,
      objectId: fields.objid ?? 0,
      deadlineMs: this.options.nowMs() + limits.handlerTimeoutMs,
    };
    const found = this.registrationById(invoke.objectId);
    if (fields.objid === undefined) return this.counters.add('invoke-without-object');
    if (found === undefined) return this.sendStatus(invoke, Status.notFound, fields.noReply);
    if (fields.method === undefined) return this.sendStatus(invoke, Status.invalidArgument, fields.noReply);
    const [key, entry] = found;
    const data = fromBlobmsg(fields.data ?? []);
    if (entry.kind === 'listener') {
      this.events.push({ kind: 'event', registration: key, name: fields.method, data });
      return this.sendStatus(invoke, Status.ok, fields.noReply);
    }
    if (entry.kind === 'subscriber') {
      this.events.push({ kind: 'notification', registration: key, type: fields.method, data });
      return this.sendStatus(invoke, Status.ok, fields.noReply);
    }
    this.dispatchMethod(entry.definition, invoke, fields);
  }

  private dispatchMethod(definition: ObjectDefinition, invoke: IncomingInvoke, fields: Fields): void {
    const method = fields.method!;
    const policy = Object.hasOwn(definition.methods, method) ? definition.methods[method] : undefined;
    if (policy === undefined) return this.sendStatus(invoke, Status.methodNotFound, fields.noReply);
    const args = argumentsFromBlobmsg(fields.data ?? [], policy);
    if (!args.ok) {
      this.counters.add(args.reason);
      return this.sendStatus(invoke, Status.invalidArgument, fields.noReply);
    }
    const token = this.nextKey++;
    const event: ClientEvent = {
      kind: 'invoke',
      token,
      object: definition.name,
      method,
      args: args.value,
      user: fields.user ?? null,
      group: fields.group ?? null,
    };
    if (this.incoming.size >= limits.pendingInvokesMax) {
      // Every handler slot is busy: wait in line (bounded) rather than fail the caller.
      if (fields.noReply === 1 || this.queued.length >= limits.queuedInvokesMax) {
        this.counters.add('too-many-invokes');
        return this.sendStatus(invoke, Status.unknownError, fields.noReply);
      }
      this.counters.add('invoke-queued');
      this.queued.push({ token, invoke, event });
      return;
    }
    if (fields.noReply !== 1) this.incoming.set(token, invoke);
    this.events.push(event);
  }

  private handleSubscriberChange(fields: Fields): void {
    const found = fields.objid === undefined ? undefined : this.registrationById(fields.objid);
    if (found === undefined || fields.active === undefined) return this.counters.add('unmatched-notify');
    this.events.push({ kind: 'subscribers', registration: found[0], active: fields.active !== 0 });
  }

  private handleUnsubscribe(fields: Fields): void {
    const found = fields.objid === undefined ? undefined : this.registrationById(fields.objid);
    if (found === undefined) return this.counters.add('unmatched-unsubscribe');
    this.events.push({ kind: 'unsubscribed', registration: found[0] });
  }

  /** ubus_complete_deferred_request: STATUS then OBJID, to the caller's peer and seq. */
  private sendStatus(invoke: IncomingInvoke, status: number, noReply?: number): void {
    if (noReply === 1) return;
    this.output.push(
      buildMessage(MessageType.status, invoke.seq, invoke.peer, (w) => {
        w.int32(Attr.status, status);
        w.int32(Attr.objid, invoke.objectId);
      }),
    );
  }

  /** A stream that cannot be framed any more: drop it; the driver closes the transport and reconnects. */
  private reset(reason: string): void {
    this.counters.add(reason);
    this.dropConnection(reason);
    this.events.push({ kind: 'reset', reason });
  }

  private dropConnection(reason: string): void {
    this.state = 'disconnected';
    this.localIdValue = 0;
    this.output = [];
    this.incoming.clear();
    this.queued = [];
    for (const entry of this.registrations.values()) entry.objectId = 0;
    // A reset's own reason is counted and reported in its 'reset' event; requests see the consequence.
    for (const request of [...this.pending])
      this.finish(request, fail(reason === 'connection-lost' ? reason : 'connection-reset'));
    assert(this.pending.length === 0, 'nothing stays in flight after a drop');
  }
}

function replyOf(status: number, data: readonly Fields[]): Reply {
  const objects: LookupEntry[] = [];
  for (const fields of data) {
    if (fields.objpath === undefined || fields.objid === undefined || fields.objtype === undefined) continue;
    const signature: Record<string, Record<string, number>> = {};
    for (const method of fields.signature ?? []) {
      if (method.type !== 'table') continue;
      signature[method.name] = Object.fromEntries(
        method.children.flatMap((a) => (a.type === 'int32' ? [[a.name, a.value]] : [])),
      );
    }
    objects.push({ path: fields.objpath, id: fields.objid, typeId: fields.objtype, signature });
  }
  const tables = data.filter((d) => d.data !== undefined).map((d) => fromBlobmsg(d.data!));
  return { status, data: tables, objects };
}

function checkDefinition(definition: ObjectDefinition): Result<null, ClientReason> {
  const methods = Object.entries(definition.methods);
  if (definition.name.length === 0 || definition.name.length > limits.nameBytesMax) return fail('bad-definition');
  if (methods.length > limits.methodsPerObjectMax) return fail('bad-definition');
  for (const [name, policy] of methods) {
    if (name.length === 0 || name.length > limits.nameBytesMax) return fail('bad-definition');
    if (Object.keys(policy).length > limits.argumentsPerMethodMax) return fail('bad-definition');
  }
  return ok(null);
}

/** ubus_push_object_type: one table per method, one int32 blobmsg type code per argument. */
export function signatureNodes(definition: ObjectDefinition): BlobmsgNode[] {
  const typeCodes = {
    unspec: 0,
    array: 1,
    table: 2,
    string: 3,
    int64: 4,
    int32: 5,
    int16: 6,
    int8: 7,
    double: 8,
  } as const;
  return Object.entries(definition.methods).map(([name, policy]) => ({
    type: 'table' as const,
    name,
    children: Object.entries(policy).map(([arg, type]) => ({
      type: 'int32' as const,
      name: arg,
      value: typeCodes[blobmsgTypeOfArg(type)],
    })),
  }));
}

export type { JsTable, JsValue, Policy };
export { decodeBlobmsg };
