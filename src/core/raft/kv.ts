// The replicated key-value state machine: commands come out of the Raft log in order, and every replica
// applies them to the same result. Writes (put, delete, compare-and-set) are log entries; reads (get, prefix
// list) are served locally after a ReadIndex round. Each command carries (client id, sequence number): a
// retried command is applied once and its first result is returned again.
import { decodeLimited, encodeCbor } from '../wire/cbor.js';
import { ByteReader, ByteWriter, optStrBytes, strBytes, utf8Length } from './bytes.js';
import { assertThat, fail, ok, type Result } from '../result.js';
import {
  entryBytesMax,
  kvKeyBytesMax,
  kvKeysMax,
  kvListMax,
  kvSessionsMax,
  kvValueBytesMax,
  kvWatchersMax,
} from './limits.js';

export type KvCommand =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'del'; readonly key: string }
  | { readonly op: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string | null };

export interface KvRequest {
  readonly client: number;
  readonly seq: number;
  readonly command: KvCommand;
}

/** prev: the value before the command (null: absent). ok is false only for a failed compare-and-set or a refusal. */
export interface KvResult {
  readonly ok: boolean;
  readonly prev: string | null;
  readonly reason?: KvReason;
}

export type KvReason = 'kv-cas-mismatch' | 'kv-bad-command' | 'kv-too-many-keys' | 'kv-stale-seq';

export interface KvEvent {
  readonly key: string;
  readonly value: string | null;
  readonly index: number;
}

interface Session {
  seq: number;
  result: KvResult;
  lastIndex: number;
}

function validKey(key: unknown): key is string {
  return typeof key === 'string' && key.length > 0 && utf8Length(key) <= kvKeyBytesMax;
}

function validValue(value: unknown, nullable: boolean): value is string | null {
  if (value === null) return nullable;
  return typeof value === 'string' && utf8Length(value) <= kvValueBytesMax;
}

export function validCommand(c: unknown): c is KvCommand {
  if (typeof c !== 'object' || c === null) return false;
  const cmd = c as Record<string, unknown>;
  if (!validKey(cmd.key)) return false;
  if (cmd.op === 'put') return validValue(cmd.value, false);
  if (cmd.op === 'del') return true;
  if (cmd.op === 'cas') return validValue(cmd.expected, true) && validValue(cmd.value, true);
  return false;
}

export function validRequest(r: unknown): r is KvRequest {
  if (typeof r !== 'object' || r === null) return false;
  const req = r as Record<string, unknown>;
  return (
    Number.isSafeInteger(req.client) &&
    (req.client as number) > 0 &&
    Number.isSafeInteger(req.seq) &&
    (req.seq as number) > 0 &&
    validCommand(req.command)
  );
}

const opCodes = { put: 1, del: 2, cas: 3 } as const;

/** A command as it travels and sits in the log: [op u8][client u64][seq u64][key][put: value | cas: expected?, value?]. */
export function encodeRequest(request: KvRequest): Uint8Array {
  const c = request.command;
  const body = c.op === 'put' ? strBytes(c.value) : c.op === 'cas' ? optStrBytes(c.expected) + optStrBytes(c.value) : 0;
  const w = new ByteWriter(17 + strBytes(c.key) + body)
    .u8(opCodes[c.op])
    .u64(request.client)
    .u64(request.seq)
    .str(c.key);
  if (c.op === 'put') w.str(c.value);
  else if (c.op === 'cas') w.optStr(c.expected).optStr(c.value);
  return w.bytes;
}

export function decodeRequest(data: Uint8Array): KvRequest | null {
  if (data.length > entryBytesMax) return null;
  const r = new ByteReader(data, kvValueBytesMax);
  const op = r.u8();
  const client = r.u64();
  const seq = r.u64();
  const key = r.str();
  const command =
    op === 1
      ? { op: 'put', key, value: r.str() }
      : op === 2
        ? { op: 'del', key }
        : op === 3
          ? { op: 'cas', key, expected: r.optStr(), value: r.optStr() }
          : null;
  const request = { client, seq, command };
  return command !== null && r.ok && r.done && validRequest(request) ? request : null;
}

export class KvStore {
  private readonly data = new Map<string, string>();
  private readonly sessions = new Map<number, Session>();
  private readonly watchers = new Set<{ prefix: string; onEvent: (event: KvEvent) => void }>();
  /** Index of the last applied log entry. */
  appliedIndex = 0;

  get size(): number {
    return this.data.size;
  }

  get(key: string): string | null {
    return this.data.get(key) ?? null;
  }

  /** Keys (sorted) starting with prefix, at most limit of them. */
  list(prefix: string, limit = kvListMax): [string, string][] {
    const out: [string, string][] = [];
    for (const key of [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort()) {
      if (out.length >= Math.min(limit, kvListMax)) break;
      out.push([key, this.data.get(key) as string]);
    }
    return out;
  }

  /** Calls onEvent for every change under prefix applied from now on (on this replica). */
  watch(prefix: string, onEvent: (event: KvEvent) => void): Result<() => void, 'kv-too-many-watchers'> {
    if (this.watchers.size >= kvWatchersMax) return fail('kv-too-many-watchers');
    const watcher = { prefix, onEvent };
    this.watchers.add(watcher);
    return ok(() => {
      this.watchers.delete(watcher);
    });
  }

  /** Applies one committed entry's data (empty: the leader's no-op). Deterministic on every replica. */
  apply(index: number, data: Uint8Array, decoded?: KvRequest): KvResult | null {
    assertThat(index > this.appliedIndex, `kv: entry ${index} applied after ${this.appliedIndex}`);
    this.appliedIndex = index;
    if (data.length === 0) return null;
    // The leader already decoded (and validated) the commands it proposed: it passes them along.
    const request = decoded ?? decodeRequest(data);
    if (request === null) return { ok: false, prev: null, reason: 'kv-bad-command' };
    const session = this.sessions.get(request.client);
    if (session !== undefined && request.seq <= session.seq) {
      return request.seq === session.seq ? session.result : { ok: false, prev: null, reason: 'kv-stale-seq' };
    }
    const result = this.execute(request.command, index);
    this.remember(request, result, index);
    return result;
  }

  private execute(c: KvCommand, index: number): KvResult {
    const prev = this.data.get(c.key) ?? null;
    if (c.op === 'cas' && prev !== c.expected) return { ok: false, prev, reason: 'kv-cas-mismatch' };
    const value = c.op === 'del' ? null : c.value;
    if (value !== null && prev === null && this.data.size >= kvKeysMax)
      return { ok: false, prev, reason: 'kv-too-many-keys' };
    if (value === null) this.data.delete(c.key);
    else this.data.set(c.key, value);
    if (prev !== value) this.notify({ key: c.key, value, index });
    return { ok: true, prev };
  }

  private remember(request: KvRequest, result: KvResult, index: number): void {
    this.sessions.delete(request.client); // re-insert: Map order is recency order
    this.sessions.set(request.client, { seq: request.seq, result, lastIndex: index });
    if (this.sessions.size > kvSessionsMax) this.sessions.delete(this.sessions.keys().next().value as number);
  }

  private notify(event: KvEvent): void {
    for (const w of this.watchers) if (event.key.startsWith(w.prefix)) w.onEvent(event);
  }

  snapshot(): Uint8Array {
    const data = [...this.data].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const sessions = [...this.sessions].map(([client, s]) => [
      client,
      s.seq,
      s.result.ok,
      s.result.prev,
      s.result.reason ?? null,
      s.lastIndex,
    ]);
    return encodeCbor([this.appliedIndex, data, sessions]);
  }

  restore(bytes: Uint8Array): Result<void, 'kv-bad-snapshot'> {
    const decoded = decodeLimited<unknown>(bytes, Number.MAX_SAFE_INTEGER);
    if (!decoded.ok || !Array.isArray(decoded.value) || decoded.value.length !== 3) return fail('kv-bad-snapshot');
    const [index, data, sessions] = decoded.value as [number, [string, string][], unknown[][]];
    if (!Number.isSafeInteger(index) || !Array.isArray(data) || !Array.isArray(sessions))
      return fail('kv-bad-snapshot');
    this.data.clear();
    this.sessions.clear();
    for (const [k, v] of data) this.data.set(k, v);
    for (const [client, seq, okFlag, prev, reason, lastIndex] of sessions) {
      const result: KvResult =
        reason === null
          ? { ok: okFlag as boolean, prev: prev as string | null }
          : { ok: okFlag as boolean, prev: prev as string | null, reason: reason as KvReason };
      this.sessions.set(client as number, { seq: seq as number, result, lastIndex: lastIndex as number });
    }
    this.appliedIndex = index;
    return ok(undefined);
  }
}
