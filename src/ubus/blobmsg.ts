// blobmsg: blob attributes with the "extended" bit, a name header (16-bit length, the name, a NUL, padding to 4)
// and a type from enum blobmsg_type. Decoding is iterative with a depth and node budget; conversion to plain JS
// values follows libubox's blobmsg_json (int8 is a boolean, integers that fit are int32, else int64).
import { ByteWriter, readAttrAt, type BlobReason } from './blob.js';
import { blobmsgDepthMax, blobmsgNodesMax, nameBytesMax } from './limits.js';
import { fail, ok, type Result } from './result.js';

export const BlobmsgType = {
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
export type BlobmsgTypeName = keyof typeof BlobmsgType;
const typeNames: readonly BlobmsgTypeName[] = [
  'unspec',
  'array',
  'table',
  'string',
  'int64',
  'int32',
  'int16',
  'int8',
  'double',
];

export type BlobmsgNode =
  | { readonly type: 'table' | 'array'; readonly name: string; readonly children: BlobmsgNode[] }
  | { readonly type: 'string'; readonly name: string; readonly value: string }
  | { readonly type: 'int64'; readonly name: string; readonly value: bigint }
  | { readonly type: 'int32' | 'int16' | 'int8' | 'double'; readonly name: string; readonly value: number }
  | { readonly type: 'unspec'; readonly name: string; readonly value: Uint8Array };

export type BlobmsgReason =
  | BlobReason
  | 'not-blobmsg'
  | 'bad-name'
  | 'unknown-type'
  | 'bad-value-length'
  | 'bad-string'
  | 'too-deep'
  | 'too-many-nodes';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

function decodeText(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** The name header of an extended attribute: name and where the value starts. */
function readName(payload: Uint8Array): Result<{ name: string; dataOffset: number }, BlobmsgReason> {
  if (payload.length < 3) return fail('bad-name');
  const nameLength = (payload[0]! << 8) | payload[1]!;
  const dataOffset = (2 + nameLength + 1 + 3) & ~3;
  if (nameLength > nameBytesMax || dataOffset > payload.length) return fail('bad-name');
  if (payload[2 + nameLength] !== 0) return fail('bad-name');
  for (let i = 2 + nameLength + 1; i < dataOffset; i++) if (payload[i] !== 0) return fail('bad-name');
  const name = decodeText(payload.subarray(2, 2 + nameLength));
  if (name === null || name.includes('\0')) return fail('bad-name');
  return ok({ name, dataOffset });
}

const fixedLength: Partial<Record<BlobmsgTypeName, number>> = { int64: 8, int32: 4, int16: 2, int8: 1, double: 8 };

function decodeLeaf(type: BlobmsgTypeName, name: string, data: Uint8Array): Result<BlobmsgNode, BlobmsgReason> {
  const expected = fixedLength[type];
  if (expected !== undefined && data.length !== expected) return fail('bad-value-length');
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  switch (type) {
    case 'int64':
      return ok({ type, name, value: view.getBigInt64(0) });
    case 'int32':
      return ok({ type, name, value: view.getInt32(0) });
    case 'int16':
      return ok({ type, name, value: view.getInt16(0) });
    case 'int8':
      return ok({ type, name, value: view.getUint8(0) });
    case 'double':
      return ok({ type, name, value: view.getFloat64(0) });
    case 'unspec':
      return ok({ type, name, value: data.slice() });
    default: {
      // blob_check_type: a string ends with its NUL; an inner NUL or bad UTF-8 would not survive a round trip.
      if (data.length < 1 || data[data.length - 1] !== 0) return fail('bad-string');
      const text = decodeText(data.subarray(0, data.length - 1));
      if (text === null || text.includes('\0')) return fail('bad-string');
      return ok({ type: 'string', name, value: text });
    }
  }
}

interface Frame {
  readonly bytes: Uint8Array;
  offset: number;
  readonly depth: number;
  readonly out: BlobmsgNode[];
}

/**
 * Decodes a blobmsg attribute list (the inside of a table, array, or a ubus DATA/SIGNATURE attribute).
 * depth 1 is the list itself; a table inside it is depth 2.
 */
export function decodeBlobmsg(
  bytes: Uint8Array,
  depthMax = blobmsgDepthMax,
  nodesMax = blobmsgNodesMax,
): Result<BlobmsgNode[], BlobmsgReason> {
  const top: BlobmsgNode[] = [];
  const stack: Frame[] = [{ bytes, offset: 0, depth: 1, out: top }];
  let nodes = 0;
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.offset >= frame.bytes.length) {
      stack.pop();
      continue;
    }
    if (++nodes > nodesMax) return fail('too-many-nodes');
    const read = readAttrAt(frame.bytes, frame.offset);
    if (!read.ok) return read;
    frame.offset = read.value.next;
    const { attr } = read.value;
    if (!attr.extended) return fail('not-blobmsg');
    const type = typeNames[attr.id];
    if (type === undefined) return fail('unknown-type');
    const header = readName(attr.payload);
    if (!header.ok) return header;
    const data = attr.payload.subarray(header.value.dataOffset);
    if (type === 'table' || type === 'array') {
      if (frame.depth + 1 > depthMax) return fail('too-deep');
      const children: BlobmsgNode[] = [];
      frame.out.push({ type, name: header.value.name, children });
      stack.push({ bytes: data, offset: 0, depth: frame.depth + 1, out: children });
      continue;
    }
    const leaf = decodeLeaf(type, header.value.name, data);
    if (!leaf.ok) return leaf;
    frame.out.push(leaf.value);
  }
  return ok(top);
}

function writeName(writer: ByteWriter, name: string): void {
  const bytes = encoder.encode(name);
  writer.u16(bytes.length);
  writer.raw(bytes);
  writer.u8(0);
  writer.pad();
}

function writeLeaf(writer: ByteWriter, node: BlobmsgNode): void {
  switch (node.type) {
    case 'string':
      writer.raw(encoder.encode(node.value));
      writer.u8(0);
      break;
    case 'int64':
      writer.u64(node.value);
      break;
    case 'int32':
      writer.u32(node.value);
      break;
    case 'int16':
      writer.u16(node.value & 0xffff);
      break;
    case 'int8':
      writer.u8(node.value & 0xff);
      break;
    case 'double':
      writer.f64(node.value);
      break;
    case 'unspec':
      writer.raw(node.value);
      break;
    default:
      break;
  }
}

/**
 * blobmsg_add_field / blobmsg_open_nested. Iterative like the decoder: QuickJS-ng's stack is small, and a
 * tree built by a caller has no depth limit of its own.
 */
export function writeBlobmsg(writer: ByteWriter, root: BlobmsgNode): void {
  const stack: { node: BlobmsgNode; start: number; next: number }[] = [];
  const open = (node: BlobmsgNode) => {
    const start = writer.start(BlobmsgType[node.type], true);
    writeName(writer, node.name);
    if (node.type === 'table' || node.type === 'array') return void stack.push({ node, start, next: 0 });
    writeLeaf(writer, node);
    writer.end(start);
  };
  open(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const children = (top.node as { children: BlobmsgNode[] }).children;
    if (top.next < children.length) open(children[top.next++]!);
    else {
      writer.end(top.start);
      stack.pop();
    }
  }
}

export function encodeBlobmsg(nodes: readonly BlobmsgNode[]): Uint8Array {
  const writer = new ByteWriter();
  for (const node of nodes) writeBlobmsg(writer, node);
  return writer.bytes();
}
