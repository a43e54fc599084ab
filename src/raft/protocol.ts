// What travels in one datagram between Raft nodes and their clients: a tag byte, then CBOR.
//   0x01 Raft message (src/core/raft/codec.ts)
//   0x02 client request  [id u32][1][command bytes, as in the log] | [id u32][0][CBOR ['get'|'list'|'status'|'admin'|'watch', ...]]
//   0x03 client reply    [id u32][1][ok u8][reason u8][prev?] | [id u32][2][index u64][value?] | [id u32][0][CBOR reply]
import { decodeLimited, encodeCbor } from '../core/wire/cbor.js';
import { fail, ok, type Result } from '../core/result.js';
import { decodeMessage, encodeMessage, type CodecReason } from '../core/raft/codec.js';
import {
  decodeRequest as decodeCommand,
  encodeRequest as encodeCommand,
  type KvEvent,
  type KvReason,
} from '../core/raft/kv.js';
import { ByteReader, ByteWriter, optStrBytes } from '../core/raft/bytes.js';
import type { ClientOp, ClientReply } from '../core/raft/kv-service.js';
import type { Message, NodeId } from '../core/raft/types.js';
import { indexMax, kvListMax, kvValueBytesMax, termMax } from '../core/raft/limits.js';
import { validNodeId } from '../core/raft/config.js';
import { datagramBytesMax } from './limits.js';

export const tagRaft = 0x01;
export const tagRequest = 0x02;
export const tagReply = 0x03;

/** A request as a client sends it: a KV operation, or a question about the node itself. */
/** Operator actions on the leader: leadership transfer and single-server membership changes. */
export type AdminAction = 'transfer' | 'add-learner' | 'add-voter' | 'remove';
export const adminActions: readonly AdminAction[] = ['transfer', 'add-learner', 'add-voter', 'remove'];

export type Request =
  | ClientOp
  | { readonly op: 'status' }
  | { readonly op: 'admin'; readonly action: AdminAction; readonly node: NodeId }
  | { readonly op: 'watch'; readonly prefix: string };

export interface NodeStatus {
  readonly id: NodeId;
  readonly role: string;
  readonly term: number;
  readonly lead: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly keys: number;
  /** Storage: bytes written to flash and appends (fsyncs) since start. */
  readonly bytesWritten: number;
  readonly appends: number;
}

/** done is false with the core's reason when the leader refused (conf-pending, conf-learner-behind, ...). */
export type Reply =
  | ClientReply
  | { readonly ok: true; readonly status: NodeStatus }
  | { readonly ok: true; readonly done: boolean; readonly reason?: string }
  | { readonly ok: true; readonly event: KvEvent };

export type PacketReason =
  | 'packet-empty'
  | 'packet-too-large'
  | 'packet-unknown-tag'
  | 'request-malformed'
  | 'reply-malformed'
  | CodecReason;

export type Packet =
  | { readonly kind: 'raft'; readonly message: Message }
  | { readonly kind: 'request'; readonly id: number; readonly request: Request }
  | { readonly kind: 'reply'; readonly id: number; readonly reply: Reply };

function tagged(tag: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 1);
  out[0] = tag;
  out.set(body, 1);
  return out;
}

export const encodeRaftPacket = (m: Message): Uint8Array => tagged(tagRaft, encodeMessage(m));

// After the tag: request id (u32), then a form byte. Writes, their results and read values (the hot path) are
// fixed binary layouts (bytes.ts); everything else is CBOR.
const formCbor = 0;
const formWrite = 1;
const formValue = 2;
const kvReasons: readonly (KvReason | undefined)[] = [
  undefined,
  'kv-cas-mismatch',
  'kv-bad-command',
  'kv-too-many-keys',
  'kv-stale-seq',
];

function header(tag: number, id: number, form: number, bodyBytes: number): ByteWriter {
  return new ByteWriter(6 + bodyBytes).u8(tag).u32(id).u8(form);
}

export function encodeRequest(id: number, request: Request): Uint8Array {
  // A write carries its command in the log's own encoding: the leader checks it and proposes the same bytes.
  if (request.op === 'write') {
    const command = request.encoded ?? encodeCommand(request);
    return header(tagRequest, id, formWrite, command.length).raw(command).bytes;
  }
  const fields =
    request.op === 'get'
      ? ['get', request.key]
      : request.op === 'list'
        ? ['list', request.prefix, request.limit]
        : request.op === 'status'
          ? ['status']
          : request.op === 'watch'
            ? ['watch', request.prefix]
            : ['admin', request.action, request.node];
  const body = encodeCbor(fields);
  return header(tagRequest, id, formCbor, body.length).raw(body).bytes;
}

export function encodeReply(id: number, reply: Reply): Uint8Array {
  if (reply.ok && 'write' in reply) {
    const w = reply.write;
    return header(tagReply, id, formWrite, 2 + optStrBytes(w.prev))
      .u8(w.ok ? 1 : 0)
      .u8(w.reason === undefined ? 0 : kvReasons.indexOf(w.reason))
      .optStr(w.prev).bytes;
  }
  if (reply.ok && 'value' in reply)
    return header(tagReply, id, formValue, 8 + optStrBytes(reply.value))
      .u64(reply.index)
      .optStr(reply.value).bytes;
  const body = encodeCbor(reply);
  return header(tagReply, id, formCbor, body.length).raw(body).bytes;
}

export function decodePacket(data: Uint8Array): Result<Packet, PacketReason> {
  if (data.length === 0) return fail('packet-empty');
  if (data.length > datagramBytesMax) return fail('packet-too-large');
  const body = data.subarray(1);
  if (data[0] === tagRaft) {
    const m = decodeMessage(body);
    return m.ok ? ok({ kind: 'raft', message: m.value }) : m;
  }
  if (data[0] === tagRequest) return decodeRequestPacket(body);
  if (data[0] === tagReply) return decodeReplyPacket(body);
  return fail('packet-unknown-tag');
}

const isId = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
const isStr = (s: unknown): s is string => typeof s === 'string';

function decodeRequestPacket(body: Uint8Array): Result<Packet, PacketReason> {
  const r = new ByteReader(body, 0);
  const id = r.u32();
  const form = r.u8();
  if (!r.ok) return fail('request-malformed');
  if (form === formWrite) {
    const encoded = r.rest();
    const decoded = decodeCommand(encoded);
    if (decoded === null) return fail('request-malformed');
    return ok({
      kind: 'request',
      id,
      request: { op: 'write', client: decoded.client, seq: decoded.seq, command: decoded.command, encoded },
    });
  }
  const decoded = form === formCbor ? decodeLimited<unknown>(r.rest(), datagramBytesMax) : null;
  if (decoded === null || !decoded.ok || !Array.isArray(decoded.value)) return fail('request-malformed');
  const [op, a, b] = decoded.value as unknown[];
  const request = parseRequest(op, a, b);
  return request === null ? fail('request-malformed') : ok({ kind: 'request', id, request });
}

function parseRequest(op: unknown, a: unknown, b: unknown): Request | null {
  if (op === 'get') return isStr(a) ? { op: 'get', key: a } : null;
  if (op === 'list') return isStr(a) && isId(b) ? { op: 'list', prefix: a, limit: Math.min(b, kvListMax) } : null;
  if (op === 'status') return { op: 'status' };
  if (op === 'watch') return isStr(a) ? { op: 'watch', prefix: a } : null;
  if (op === 'admin')
    return adminActions.includes(a as AdminAction) && validNodeId(b)
      ? { op: 'admin', action: a as AdminAction, node: b }
      : null;
  return null;
}

const inRange = (n: unknown, max: number): boolean =>
  typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= max;
const nodeOrNone = (n: unknown): boolean => n === 0 || validNodeId(n);
const nodeList = (v: unknown): boolean => Array.isArray(v) && v.length <= 64 && v.every(validNodeId);

/** The numbers a client acts on (leader hints, a node's status, list indexes) are bounded like the wire's. */
function boundedReply(v: Record<string, unknown>): boolean {
  if ('leader' in v && !nodeOrNone(v.leader)) return false;
  if ('index' in v && !inRange(v.index, indexMax)) return false;
  const s = v.status as Record<string, unknown> | undefined;
  if (s === undefined) return true;
  if (typeof s !== 'object' || s === null || !validNodeId(s.id) || !nodeOrNone(s.lead) || !inRange(s.term, termMax))
    return false;
  return (
    ['commit', 'applied', 'lastIndex'].every((k) => inRange(s[k], indexMax)) &&
    nodeList(s.voters) &&
    nodeList(s.learners)
  );
}

function decodeReplyPacket(body: Uint8Array): Result<Packet, PacketReason> {
  const r = new ByteReader(body, kvValueBytesMax);
  const id = r.u32();
  const form = r.u8();
  let reply: Reply | null = null;
  if (form === formWrite) {
    const okFlag = r.u8();
    const reason = kvReasons[r.u8()];
    const prev = r.optStr();
    reply = { ok: true, write: reason === undefined ? { ok: okFlag === 1, prev } : { ok: okFlag === 1, prev, reason } };
  } else if (form === formValue) {
    const index = r.u64();
    reply = index <= indexMax ? { ok: true, index, value: r.optStr() } : null;
  } else if (form === formCbor) {
    const decoded = decodeLimited<unknown>(r.rest(), datagramBytesMax);
    const value = decoded.ok ? decoded.value : null;
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as { ok?: unknown }).ok === 'boolean' &&
      boundedReply(value as Record<string, unknown>)
    )
      reply = value as Reply;
  }
  if (reply === null || !r.ok || !r.done) return fail('reply-malformed');
  return ok({ kind: 'reply', id, reply });
}
