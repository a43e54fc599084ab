// A ubusd stand-in for end-to-end tests (test tooling, never bundled for the router). It follows ubusd_proto.c
// and ubusd_event.c: HELLO, ADD/REMOVE_OBJECT, LOOKUP, INVOKE forwarding with USER/GROUP, replies routed back
// by peer, the event object (register/send), SUBSCRIBE/NOTIFY. standin.test.ts checks it against the captures.
// Not modelled: ACLs (everything is allowed), fd passing, MONITOR, ubus.object.add/remove events.

import { writeBlobmsg, type BlobmsgNode } from '../../src/ubus/blobmsg.js';
import {
  Attr,
  MessageReader,
  MessageType,
  Status,
  buildMessage,
  eventObjectId,
  readFields,
  type Fields,
  type MessageWriter,
  type UbusMessage,
} from '../../src/ubus/message.js';
import type { ByteStream, Platform, StreamHandlers, StreamListener } from '../../src/platform/types.js';

export type IdKind = 'client' | 'object' | 'type';

interface Client {
  readonly id: number;
  readonly send: (bytes: Uint8Array) => void;
  readonly close: () => void;
  readonly reader: MessageReader;
}

interface BrokerObject {
  readonly id: number;
  readonly path: string | null;
  readonly client: Client;
  readonly type: { readonly id: number; readonly methods: readonly BlobmsgNode[] } | null;
  readonly subscribers: Set<BrokerObject>;
  invokeSeq: number;
}

export interface BrokerOptions {
  /** ubusd draws random ids; tests replaying captures hand out the captured ones. */
  readonly nextId: (kind: IdKind) => number;
  readonly user?: string;
  readonly group?: string;
}

type Handler = (client: Client, message: UbusMessage, fields: Fields) => number;
const noStatus = -1;

export class Broker {
  private readonly clients = new Map<number, Client>();
  private readonly objects = new Map<number, BrokerObject>();
  private readonly patterns: { pattern: string; partial: boolean; object: BrokerObject }[] = [];
  private eventSeq = 0;
  readonly refused: string[] = [];

  constructor(private readonly options: BrokerOptions) {}

  /** A new connection: ubusd greets it with HELLO carrying its id. Returns the byte sink for its input. */
  connect(
    send: (bytes: Uint8Array) => void,
    close: () => void,
  ): { receive: (chunk: Uint8Array) => void; closed: () => void } {
    const client: Client = { id: this.options.nextId('client'), send, close, reader: new MessageReader() };
    this.clients.set(client.id, client);
    send(buildMessage(MessageType.hello, 0, client.id, () => undefined));
    return { receive: (chunk) => this.receive(client, chunk), closed: () => this.drop(client) };
  }

  get objectCount(): number {
    return this.objects.size;
  }

  private receive(client: Client, chunk: Uint8Array): void {
    if (!this.clients.has(client.id)) return;
    const { messages, error } = client.reader.push(chunk);
    for (const message of messages) this.handle(client, message);
    if (error !== null) {
      // ubusd drops a client whose stream it cannot frame.
      this.refused.push(error);
      this.drop(client);
      client.close();
    }
  }

  private handle(client: Client, message: UbusMessage): void {
    const fields = readFields(message);
    const handler = this.handlers[message.type];
    let status: number = Status.invalidCommand;
    if (!fields.ok) status = Status.invalidArgument;
    else if (handler !== undefined) status = handler(client, message, fields.value);
    if (status === noStatus) return;
    client.send(buildMessage(MessageType.status, message.seq, message.peer, (w) => w.int32(Attr.status, status)));
  }

  private readonly handlers: Partial<Record<number, Handler>> = {
    [MessageType.ping]: (client, message) => {
      client.send(
        buildMessage(MessageType.data, message.seq, message.peer, (w) => message.attrs.forEach((a) => w.attr(a))),
      );
      return noStatus;
    },
    [MessageType.addObject]: (client, message, fields) => this.addObject(client, message, fields),
    [MessageType.removeObject]: (client, message, fields) => this.removeObject(client, message, fields),
    [MessageType.lookup]: (client, message, fields) => this.lookup(client, message, fields),
    [MessageType.invoke]: (client, message, fields) => this.invoke(client, message, fields),
    [MessageType.status]: (client, message, fields) => this.response(client, message, fields),
    [MessageType.data]: (client, message, fields) => this.response(client, message, fields),
    [MessageType.subscribe]: (client, _message, fields) => this.subscribe(client, fields),
    [MessageType.unsubscribe]: (client, _message, fields) => this.unsubscribe(client, fields),
    [MessageType.notify]: (client, message, fields) => this.notify(client, message, fields),
  };

  private reply(client: Client, message: UbusMessage, body: (w: MessageWriter) => void): void {
    client.send(buildMessage(MessageType.data, message.seq, message.peer, body));
  }

  private addObject(client: Client, message: UbusMessage, fields: Fields): number {
    const path = fields.objpath ?? null;
    if (path !== null && [...this.objects.values()].some((o) => o.path === path)) return Status.invalidArgument;
    let type: BrokerObject['type'] = null;
    if (fields.signature !== undefined) type = { id: this.options.nextId('type'), methods: fields.signature };
    else if (fields.objtype !== undefined)
      type = [...this.objects.values()].find((o) => o.type?.id === fields.objtype)?.type ?? null;
    if (path !== null && type === null) return Status.invalidArgument;
    const object: BrokerObject = {
      id: this.options.nextId('object'),
      path,
      client,
      type,
      subscribers: new Set(),
      invokeSeq: 0,
    };
    this.objects.set(object.id, object);
    this.reply(client, message, (w) => {
      w.int32(Attr.objid, object.id);
      if (fields.signature !== undefined && type !== null) w.int32(Attr.objtype, type.id);
    });
    return Status.ok;
  }

  private removeObject(client: Client, message: UbusMessage, fields: Fields): number {
    const object = fields.objid === undefined ? undefined : this.objects.get(fields.objid);
    if (fields.objid === undefined) return Status.invalidArgument;
    if (object === undefined) return Status.notFound;
    if (object.client !== client) return Status.permissionDenied;
    const lastOfType =
      object.type !== null && [...this.objects.values()].filter((o) => o.type === object.type).length === 1;
    this.reply(client, message, (w) => {
      w.int32(Attr.objid, object.id);
      if (lastOfType) w.int32(Attr.objtype, object.type!.id);
    });
    this.freeObject(object);
    return Status.ok;
  }

  private sendObject(client: Client, message: UbusMessage, object: BrokerObject): void {
    if (object.type === null || object.path === null) return;
    const { type, path } = object;
    this.reply(client, message, (w) => {
      w.string(Attr.objpath, path);
      w.int32(Attr.objid, object.id);
      w.int32(Attr.objtype, type.id);
      const signature = w.start(Attr.signature, false);
      for (const method of type.methods) writeBlobmsg(w, method);
      w.end(signature);
    });
  }

  private lookup(client: Client, message: UbusMessage, fields: Fields): number {
    // ubusd keeps objects in an AVL tree ordered by strcmp of the path.
    const named = [...this.objects.values()]
      .filter((o) => o.path !== null)
      .sort((a, b) => (a.path! < b.path! ? -1 : 1));
    if (fields.objpath === undefined) {
      for (const object of named) this.sendObject(client, message, object);
      return Status.ok;
    }
    if (fields.objpath.length === 0) return Status.invalidArgument;
    const prefix = fields.objpath.endsWith('*') ? fields.objpath.slice(0, -1) : null;
    const found = named.filter((o) => (prefix === null ? o.path === fields.objpath : o.path!.startsWith(prefix)));
    if (found.length === 0) return Status.notFound;
    for (const object of found) this.sendObject(client, message, object);
    return Status.ok;
  }

  /** ubusd_forward_invoke: OBJID, METHOD, USER, GROUP, DATA, seq kept, peer = the caller. */
  private forwardInvoke(
    from: Client,
    to: BrokerObject,
    seq: number,
    method: string,
    data: BlobmsgNode[] | undefined,
    noReply: boolean,
  ): void {
    to.client.send(
      buildMessage(MessageType.invoke, seq, from.id, (w) => {
        if (noReply) w.int8(Attr.noReply, 1);
        w.int32(Attr.objid, to.id);
        w.string(Attr.method, method);
        w.string(Attr.user, this.options.user ?? 'root');
        w.string(Attr.group, this.options.group ?? 'root');
        if (data !== undefined) w.blobmsg(Attr.data, data);
      }),
    );
  }

  private invoke(client: Client, message: UbusMessage, fields: Fields): number {
    if (fields.method === undefined || fields.objid === undefined) return Status.invalidArgument;
    if (fields.objid === eventObjectId) return this.eventCall(client, fields.method, fields.data ?? []);
    const object = this.objects.get(fields.objid);
    if (object === undefined) return Status.notFound;
    this.forwardInvoke(client, object, message.seq, fields.method, fields.data, false);
    return noStatus;
  }

  /** ubusd_handle_response: the owner's DATA/STATUS goes to the client named by peer, peer becomes the object. */
  private response(client: Client, message: UbusMessage, fields: Fields): number {
    if (fields.objid === undefined) return noStatus;
    if (message.type === MessageType.status ? fields.status === undefined : fields.data === undefined) return noStatus;
    const object = this.objects.get(fields.objid);
    const target = this.clients.get(message.peer);
    if (object === undefined || object.client !== client || target === undefined) return noStatus;
    target.send(buildMessage(message.type, message.seq, fields.objid, (w) => message.attrs.forEach((a) => w.attr(a))));
    return noStatus;
  }

  private eventCall(client: Client, method: string, data: BlobmsgNode[]): number {
    const named = (name: string) => data.find((n) => n.name === name);
    if (method === 'register') {
      const object = named('object');
      const pattern = named('pattern');
      if (object?.type !== 'int32' || pattern?.type !== 'string') return Status.invalidArgument;
      const id = object.value >>> 0;
      if (id < 1024) return Status.permissionDenied;
      const target = this.objects.get(id);
      if (target === undefined) return Status.notFound;
      if (target.client !== client) return Status.permissionDenied;
      const partial = pattern.value.endsWith('*');
      this.patterns.push({ pattern: partial ? pattern.value.slice(0, -1) : pattern.value, partial, object: target });
      return Status.ok;
    }
    if (method === 'send') {
      const id = named('id');
      const body = named('data');
      if (id?.type !== 'string' || body?.type !== 'table') return Status.invalidArgument;
      if (id.value.startsWith('ubus.')) return Status.permissionDenied;
      this.sendEvent(client, id.value, body.children);
      return Status.ok;
    }
    return Status.invalidCommand;
  }

  /** ubusd_send_event: one INVOKE per listening object (never the sender's own), seq from a global counter. */
  private sendEvent(from: Client, name: string, data: BlobmsgNode[]): void {
    const seen = new Set<BrokerObject>();
    for (const entry of this.patterns) {
      const matches = entry.partial ? name.startsWith(entry.pattern) : name === entry.pattern;
      if (!matches || entry.object.client === from || seen.has(entry.object)) continue;
      seen.add(entry.object);
      entry.object.client.send(
        buildMessage(MessageType.invoke, ++this.eventSeq, 0, (w) => {
          w.int32(Attr.objid, entry.object.id);
          w.string(Attr.method, name);
          w.blobmsg(Attr.data, data);
        }),
      );
    }
  }

  private subscribe(client: Client, fields: Fields): number {
    if (fields.objid === undefined || fields.target === undefined) return Status.invalidArgument;
    const subscriber = this.objects.get(fields.objid);
    const target = this.objects.get(fields.target);
    if (subscriber === undefined) return Status.notFound;
    if (subscriber.client !== client) return Status.invalidArgument;
    if (target === undefined) return Status.notFound;
    if (target.client === client) return Status.invalidArgument;
    const wasActive = target.subscribers.size > 0;
    target.subscribers.add(subscriber);
    if (!wasActive) this.notifySubscription(target);
    return Status.ok;
  }

  private unsubscribe(client: Client, fields: Fields): number {
    if (fields.objid === undefined || fields.target === undefined) return Status.invalidArgument;
    const subscriber = this.objects.get(fields.objid);
    const target = this.objects.get(fields.target);
    if (subscriber === undefined || subscriber.client !== client) return Status.invalidArgument;
    if (target === undefined || !target.subscribers.delete(subscriber)) return Status.notFound;
    if (target.subscribers.size === 0) this.notifySubscription(target);
    return Status.ok;
  }

  /** ubus_notify_subscription: NOTIFY {OBJID, ACTIVE} to the owner, seq from the object's invoke counter. */
  private notifySubscription(object: BrokerObject): void {
    object.client.send(
      buildMessage(MessageType.notify, ++object.invokeSeq, 0, (w) => {
        w.int32(Attr.objid, object.id);
        w.int8(Attr.active, object.subscribers.size > 0 ? 1 : 0);
      }),
    );
  }

  private notify(client: Client, message: UbusMessage, fields: Fields): number {
    if (fields.method === undefined || fields.objid === undefined) return Status.invalidArgument;
    const object = this.objects.get(fields.objid);
    if (object === undefined) return Status.notFound;
    if (object.client !== client) return Status.permissionDenied;
    const noReply = fields.noReply === 1;
    if (!noReply) {
      client.send(
        buildMessage(MessageType.status, message.seq, message.peer, (w) => {
          w.int32(Attr.objid, object.id);
          const list = w.start(Attr.subscribers, false);
          for (const s of object.subscribers) w.int32(0, s.id);
          w.end(list);
          w.int32(Attr.status, 0);
        }),
      );
    }
    for (const subscriber of object.subscribers)
      this.forwardInvoke(client, subscriber, message.seq, fields.method, fields.data, noReply);
    return noStatus;
  }

  private freeObject(object: BrokerObject): void {
    this.objects.delete(object.id);
    for (let i = this.patterns.length - 1; i >= 0; i--)
      if (this.patterns[i]!.object === object) this.patterns.splice(i, 1);
    for (const other of this.objects.values()) other.subscribers.delete(object);
    for (const subscriber of object.subscribers) {
      subscriber.client.send(
        buildMessage(MessageType.unsubscribe, 0, 0, (w) => {
          w.int32(Attr.objid, subscriber.id);
          w.int32(Attr.target, object.id);
        }),
      );
    }
  }

  private drop(client: Client): void {
    if (!this.clients.delete(client.id)) return;
    for (const object of [...this.objects.values()]) if (object.client === client) this.freeObject(object);
  }
}

/** Random 32-bit ids above ubusd's system range, unique per kind. */
export function randomIds(random: (n: number) => Uint8Array): (kind: IdKind) => number {
  const used = new Set<number>();
  return () => {
    for (;;) {
      const bytes = random(4);
      const id = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
      if (id >= 1024 && !used.has(id)) {
        used.add(id);
        return id;
      }
    }
  };
}

export interface Standin {
  readonly broker: Broker;
  readonly listener: StreamListener;
  /** Closes the listener and every client connection (what a ubusd restart looks like to clients). */
  stop(): void;
}

/** Serves the stand-in on a Unix socket through the platform's listener. */
export async function startStandin(platform: Platform, path: string): Promise<Standin> {
  const broker = new Broker({ nextId: randomIds((n) => platform.randomBytes(n)) });
  const streams = new Set<ByteStream>();
  const listener = await platform.net.listen({ kind: 'unix', path }, (stream): StreamHandlers => {
    streams.add(stream);
    const connection = broker.connect(
      (bytes) => stream.write(bytes),
      () => stream.close(),
    );
    return {
      onData: (chunk) => connection.receive(chunk),
      onClose: () => {
        streams.delete(stream);
        connection.closed();
      },
    };
  });
  return {
    broker,
    listener,
    stop() {
      listener.close();
      for (const stream of streams) stream.close();
      streams.clear();
    },
  };
}
