// ubus messages (ubusmsg.h): an 8-byte header (version 0, type, seq u16, peer u32, big-endian) followed by one
// blob attribute with id 0 whose children are the message attributes (UBUS_ATTR_*).
import { ByteWriter, blobHeaderBytes, blobLengthMax, parseAttrs, type BlobAttr, type BlobReason } from './blob.js';
import { decodeBlobmsg, encodeBlobmsg, writeBlobmsg, type BlobmsgNode, type BlobmsgReason } from './blobmsg.js';
import { maxMessageBytes, receiveBufferBytesMax } from './limits.js';
import { assert, fail, ok, type Result } from './result.js';

export const MessageType = {
  hello: 0,
  status: 1,
  data: 2,
  ping: 3,
  lookup: 4,
  invoke: 5,
  addObject: 6,
  removeObject: 7,
  subscribe: 8,
  unsubscribe: 9,
  notify: 10,
  monitor: 11,
} as const;
export const messageTypeNames = [
  'hello',
  'status',
  'data',
  'ping',
  'lookup',
  'invoke',
  'add-object',
  'remove-object',
  'subscribe',
  'unsubscribe',
  'notify',
  'monitor',
];

export const Attr = {
  status: 1,
  objpath: 2,
  objid: 3,
  method: 4,
  objtype: 5,
  signature: 6,
  data: 7,
  target: 8,
  active: 9,
  noReply: 10,
  subscribers: 11,
  user: 12,
  group: 13,
} as const;

/** enum ubus_msg_status. */
export const Status = {
  ok: 0,
  invalidCommand: 1,
  invalidArgument: 2,
  methodNotFound: 3,
  notFound: 4,
  noData: 5,
  permissionDenied: 6,
  timeout: 7,
  notSupported: 8,
  unknownError: 9,
  connectionFailed: 10,
} as const;
/** libubus's ubus_strerror texts, which `ubus call` prints. */
export const statusText = [
  'Success',
  'Invalid command',
  'Invalid argument',
  'Method not found',
  'Not found',
  'No response',
  'Permission denied',
  'Request timed out',
  'Operation not supported',
  'Unknown error',
  'Connection failed',
];

/** ubusd's system objects: peer/objid 1 receives event registrations and events. */
export const eventObjectId = 1;
export const headerBytes = 8;

export interface UbusMessage {
  readonly type: number;
  readonly seq: number;
  readonly peer: number;
  readonly attrs: readonly BlobAttr[];
}

export type MessageReason = BlobReason | 'bad-version' | 'bad-container' | 'message-too-large';

/** Encodes a header and the attribute container around body(); the body writes attributes. */
export function buildMessage(
  type: number,
  seq: number,
  peer: number,
  body: (writer: MessageWriter) => void,
): Uint8Array {
  const writer = new MessageWriter();
  writer.u8(0);
  writer.u8(type);
  writer.u16(seq & 0xffff);
  writer.u32(peer);
  const container = writer.start(0, false);
  body(writer);
  writer.end(container);
  assert(writer.length - headerBytes <= maxMessageBytes, 'message over UBUS_MAX_MSGLEN');
  return writer.bytes();
}

/** blob_put_* for message attributes. */
export class MessageWriter extends ByteWriter {
  int32(id: number, value: number): void {
    const start = this.start(id, false);
    this.u32(value);
    this.end(start);
  }

  int8(id: number, value: number): void {
    const start = this.start(id, false);
    this.u8(value);
    this.end(start);
  }

  string(id: number, value: string): void {
    const start = this.start(id, false);
    this.raw(new TextEncoder().encode(value));
    this.u8(0);
    this.end(start);
  }

  /** blob_put(id, blob_data(msg), blob_len(msg)): a plain attribute holding a blobmsg list. */
  blobmsg(id: number, nodes: readonly BlobmsgNode[]): void {
    const start = this.start(id, false);
    for (const node of nodes) writeBlobmsg(this, node);
    this.end(start);
  }

  /** Copies an attribute as it was received (round trips, forwarding). */
  attr(attr: BlobAttr): void {
    const start = this.start(attr.id, attr.extended);
    this.raw(attr.payload);
    this.end(start);
  }
}

export function encodeMessage(message: UbusMessage): Uint8Array {
  return buildMessage(message.type, message.seq, message.peer, (writer) => {
    for (const attr of message.attrs) writer.attr(attr);
  });
}

/** Header fields and the container length, from the first 12 bytes. */
function readFrameHeader(
  bytes: Uint8Array,
): Result<{ type: number; seq: number; peer: number; bodyBytes: number }, MessageReason> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, headerBytes + blobHeaderBytes);
  if (view.getUint8(0) !== 0) return fail('bad-version');
  const word = view.getUint32(8);
  if ((word & ~blobLengthMax) !== 0) return fail('bad-container');
  const rawLength = word & blobLengthMax;
  if (rawLength < blobHeaderBytes) return fail('bad-length');
  if (rawLength > maxMessageBytes) return fail('message-too-large');
  if (rawLength % 4 !== 0) return fail('bad-length');
  return ok({ type: view.getUint8(1), seq: view.getUint16(2), peer: view.getUint32(4), bodyBytes: rawLength });
}

/** Decodes exactly one whole message. */
export function decodeMessage(bytes: Uint8Array): Result<UbusMessage, MessageReason> {
  if (bytes.length < headerBytes + blobHeaderBytes) return fail('truncated');
  const header = readFrameHeader(bytes);
  if (!header.ok) return header;
  if (bytes.length !== headerBytes + header.value.bodyBytes)
    return fail(bytes.length < headerBytes + header.value.bodyBytes ? 'truncated' : 'bad-length');
  const attrs = parseAttrs(bytes.subarray(headerBytes + blobHeaderBytes));
  if (!attrs.ok) return attrs;
  return ok({ type: header.value.type, seq: header.value.seq, peer: header.value.peer, attrs: attrs.value });
}

/**
 * Frames messages out of a byte stream split anywhere. After an error the stream is unusable (there is no way
 * to find the next message boundary): the caller resets the connection.
 */
export class MessageReader {
  private buffer = new Uint8Array(0);
  private failed: MessageReason | null = null;

  push(chunk: Uint8Array): { messages: UbusMessage[]; error: MessageReason | null } {
    const messages: UbusMessage[] = [];
    if (this.failed !== null) return { messages, error: this.failed };
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    let offset = 0;
    while (joined.length - offset >= headerBytes + blobHeaderBytes) {
      const header = readFrameHeader(joined.subarray(offset));
      if (!header.ok) return this.fail(messages, header.reason);
      const total = headerBytes + header.value.bodyBytes;
      if (joined.length - offset < total) break;
      const message = decodeMessage(joined.subarray(offset, offset + total));
      if (!message.ok) return this.fail(messages, message.reason);
      messages.push(message.value);
      offset += total;
    }
    this.buffer = joined.slice(offset);
    assert(this.buffer.length <= receiveBufferBytesMax, 'the header check bounds the unfinished message');
    return { messages, error: null };
  }

  /** Bytes of an unfinished message. */
  get pendingBytes(): number {
    return this.buffer.length;
  }

  private fail(messages: UbusMessage[], reason: MessageReason): { messages: UbusMessage[]; error: MessageReason } {
    this.failed = reason;
    this.buffer = new Uint8Array(0);
    return { messages, error: reason };
  }
}

/** The attributes libubus and ubusd read, with their types checked (blob_parse with ubus_policy). */
export interface Fields {
  status?: number;
  objpath?: string;
  objid?: number;
  method?: string;
  objtype?: number;
  signature?: BlobmsgNode[];
  data?: BlobmsgNode[];
  target?: number;
  active?: number;
  noReply?: number;
  subscribers?: number[];
  user?: string;
  group?: string;
}

export type FieldsReason = BlobmsgReason | 'bad-attribute';

function u32Of(attr: BlobAttr): number | null {
  return attr.payload.length === 4 ? new DataView(attr.payload.buffer, attr.payload.byteOffset, 4).getUint32(0) : null;
}

function stringOf(attr: BlobAttr): string | null {
  const bytes = attr.payload;
  if (bytes.length < 1 || bytes[bytes.length - 1] !== 0) return null;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, bytes.length - 1));
    return text.includes('\0') ? null : text;
  } catch {
    return null;
  }
}

const u32Fields = {
  [Attr.status]: 'status',
  [Attr.objid]: 'objid',
  [Attr.objtype]: 'objtype',
  [Attr.target]: 'target',
} as const;
const stringFields = {
  [Attr.objpath]: 'objpath',
  [Attr.method]: 'method',
  [Attr.user]: 'user',
  [Attr.group]: 'group',
} as const;

/** Reads the known attributes; a known attribute of the wrong shape refuses the message, unknown ids are ignored. */
export function readFields(message: UbusMessage): Result<Fields, FieldsReason> {
  const fields: Fields = {};
  for (const attr of message.attrs) {
    if (attr.extended) return fail('bad-attribute');
    const u32Name = u32Fields[attr.id as keyof typeof u32Fields];
    const stringName = stringFields[attr.id as keyof typeof stringFields];
    if (u32Name !== undefined) {
      const value = u32Of(attr);
      if (value === null) return fail('bad-attribute');
      fields[u32Name] = value;
    } else if (stringName !== undefined) {
      const value = stringOf(attr);
      if (value === null) return fail('bad-attribute');
      fields[stringName] = value;
    } else if (attr.id === Attr.active || attr.id === Attr.noReply) {
      if (attr.payload.length !== 1) return fail('bad-attribute');
      fields[attr.id === Attr.active ? 'active' : 'noReply'] = attr.payload[0]!;
    } else if (attr.id === Attr.data || attr.id === Attr.signature) {
      const nodes = decodeBlobmsg(attr.payload);
      if (!nodes.ok) return nodes;
      fields[attr.id === Attr.data ? 'data' : 'signature'] = nodes.value;
    } else if (attr.id === Attr.subscribers) {
      const ids = parseAttrs(attr.payload);
      if (!ids.ok) return ids;
      const values = ids.value.map(u32Of);
      if (values.some((v) => v === null)) return fail('bad-attribute');
      fields.subscribers = values as number[];
    }
  }
  return ok(fields);
}

export { encodeBlobmsg };
