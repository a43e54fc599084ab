// Raft messages on the wire: a CBOR array per message, [code, term, from, to, ...fields] (layouts below and in
// docs/protocol/raft.md). decodeMessage is the edge: anything malformed, oversized or inconsistent becomes a
// reason code, so the core's assertions are never reached by outside input.
import { decodeLimited, encodeCbor } from '../wire/cbor.js';
import { fail, ok, type Result } from '../result.js';
import { decodeConf } from './conf.js';
import { validConf, validNodeId } from './config.js';
import {
  appendBytesMax,
  appendEntriesMax,
  counterMax,
  entryBytesMax,
  indexMax,
  snapshotBytesMax,
  termMax,
} from './limits.js';
import type { Entry, Message, MessageType, SnapshotMeta } from './types.js';

export type CodecReason =
  | 'raft-msg-malformed'
  | 'raft-msg-too-large'
  | 'raft-msg-bad-field'
  | 'raft-msg-bad-entries'
  | 'raft-msg-unknown-type';

const codes: readonly MessageType[] = [
  'prevote',
  'prevote-resp',
  'vote',
  'vote-resp',
  'app',
  'app-resp',
  'heartbeat',
  'heartbeat-resp',
  'snap',
  'snap-resp',
  'timeout-now',
  'read-index',
  'read-index-resp',
];
const codeOf = new Map(codes.map((type, i) => [type, i + 1]));

/** Bytes of one encoded message at most: a full append batch plus framing. */
export const messageBytesMax = appendBytesMax + 4096;

function body(m: Message): unknown[] {
  switch (m.type) {
    case 'prevote':
    case 'vote':
      return [m.lastIndex, m.lastTerm, m.transfer];
    case 'prevote-resp':
    case 'vote-resp':
      return [m.reject];
    case 'app':
      return [
        m.prevIndex,
        m.prevTerm,
        m.commit,
        m.entries.map((e) => [e.index, e.term, e.type === 'conf' ? 1 : 0, e.data]),
      ];
    case 'app-resp':
      return [m.index, m.reject, m.hintIndex, m.hintTerm];
    case 'heartbeat':
      return [m.commit, m.ctx];
    case 'heartbeat-resp':
      return [m.ctx];
    case 'snap':
      return [m.meta.index, m.meta.term, m.meta.conf.voters, m.meta.conf.learners, m.offset, m.total, m.chunk];
    case 'snap-resp':
      return [m.index, m.offset, m.reject];
    case 'timeout-now':
      return [];
    case 'read-index':
      return [m.id];
    case 'read-index-resp':
      return [m.id, m.index, m.reject];
  }
}

export function messageFields(m: Message): unknown[] {
  return [codeOf.get(m.type), m.term, m.from, m.to, ...body(m)];
}

export function encodeMessage(m: Message): Uint8Array {
  return encodeCbor(messageFields(m));
}

const isCount = (n: unknown, max: number): n is number =>
  typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= max;
const isBool = (b: unknown): b is boolean => typeof b === 'boolean';

class BadField extends Error {}

// Every number is bounded by what the protocol allows for its kind (limits.ts): terms, log indexes, counters
// (read ids, heartbeat contexts) and byte offsets into a snapshot.
function bounded(v: unknown, max: number): number {
  if (!isCount(v, max)) throw new BadField();
  return v;
}

const term = (v: unknown): number => bounded(v, termMax);
const index = (v: unknown): number => bounded(v, indexMax);
const counter = (v: unknown): number => bounded(v, counterMax);
const offset = (v: unknown): number => bounded(v, snapshotBytesMax);

function bool(v: unknown): boolean {
  if (!isBool(v)) throw new BadField();
  return v;
}

function bytes(v: unknown, max: number): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length > max) throw new BadField();
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

export function decodeMessage(data: Uint8Array): Result<Message, CodecReason> {
  const decoded = decodeLimited<unknown>(data, messageBytesMax);
  if (!decoded.ok) return fail(decoded.reason === 'cbor-too-large' ? 'raft-msg-too-large' : 'raft-msg-malformed');
  return fromFields(decoded.value);
}

/** Validates a decoded field array (also what the simulator's codec round trip goes through). */
export function fromFields(value: unknown): Result<Message, CodecReason> {
  if (!Array.isArray(value) || value.length < 4 || value.length > 12) return fail('raft-msg-malformed');
  const [code, msgTerm, from, to] = value as unknown[];
  const type = typeof code === 'number' ? codes[code - 1] : undefined;
  if (type === undefined) return fail('raft-msg-unknown-type');
  if (!isCount(msgTerm, termMax) || !validNodeId(from) || !validNodeId(to)) return fail('raft-msg-bad-field');
  try {
    const m = build(type, { term: msgTerm, from, to }, value.slice(4) as unknown[]);
    if (m === null) return fail('raft-msg-bad-entries');
    return ok(m);
  } catch (error) {
    if (error instanceof BadField) return fail('raft-msg-bad-field');
    throw error;
  }
}

function build(type: MessageType, h: { term: number; from: number; to: number }, f: unknown[]): Message | null {
  switch (type) {
    case 'prevote':
    case 'vote':
      return { type, ...h, lastIndex: index(f[0]), lastTerm: term(f[1]), transfer: bool(f[2]) };
    case 'prevote-resp':
    case 'vote-resp':
      return { type, ...h, reject: bool(f[0]) };
    case 'app':
      return buildAppend(h, f);
    case 'app-resp':
      return { type, ...h, index: index(f[0]), reject: bool(f[1]), hintIndex: index(f[2]), hintTerm: term(f[3]) };
    case 'heartbeat':
      return { type, ...h, commit: index(f[0]), ctx: counter(f[1]) };
    case 'heartbeat-resp':
      return { type, ...h, ctx: counter(f[0]) };
    case 'snap':
      return buildSnap(h, f);
    case 'snap-resp':
      return { type, ...h, index: index(f[0]), offset: offset(f[1]), reject: bool(f[2]) };
    case 'timeout-now':
      return { type, ...h };
    case 'read-index':
      return { type, ...h, id: counter(f[0]) };
    case 'read-index-resp':
      return { type, ...h, id: counter(f[0]), index: index(f[1]), reject: bool(f[2]) };
  }
}

function buildAppend(h: { term: number; from: number; to: number }, f: unknown[]): Message | null {
  const prevIndex = index(f[0]);
  const prevTerm = term(f[1]);
  const commit = index(f[2]);
  const raw = f[3];
  if (!Array.isArray(raw) || raw.length > appendEntriesMax) return null;
  const entries: Entry[] = [];
  let lastTerm = prevTerm;
  for (const item of raw as unknown[]) {
    if (!Array.isArray(item) || item.length !== 4) return null;
    const [entryIndex, entryTerm, kind, data] = item as unknown[];
    // Entries follow prevIndex one by one, with terms that never go back and never pass the sender's term.
    if (
      index(entryIndex) !== prevIndex + entries.length + 1 ||
      term(entryTerm) < lastTerm ||
      (entryTerm as number) > h.term
    )
      return null;
    if (kind !== 0 && kind !== 1) return null;
    const entry: Entry = {
      index: entryIndex as number,
      term: entryTerm as number,
      type: kind === 1 ? 'conf' : 'normal',
      data: bytes(data, entryBytesMax),
    };
    if (entry.type === 'conf' && decodeConf(entry.data) === null) return null;
    entries.push(entry);
    lastTerm = entry.term;
  }
  if (prevTerm > h.term) return null;
  return { type: 'app', ...h, prevIndex, prevTerm, commit, entries };
}

function buildSnap(h: { term: number; from: number; to: number }, f: unknown[]): Message | null {
  const [metaIndex, metaTerm, voters, learners] = f;
  if (!Array.isArray(voters) || !Array.isArray(learners)) return null;
  const conf = { voters: voters as number[], learners: learners as number[] };
  // A snapshot's configuration always has a voter (the leader that sent it was one).
  if (!validConf(conf) || conf.voters.length === 0) return null;
  const meta: SnapshotMeta = { index: index(metaIndex), term: term(metaTerm), conf };
  const at = offset(f[4]);
  const total = offset(f[5]);
  const chunk = bytes(f[6], appendBytesMax);
  if (meta.index === 0 || meta.term > h.term || at + chunk.length > total) return null;
  return { type: 'snap', ...h, meta, offset: at, total, chunk };
}
