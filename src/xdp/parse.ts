// The helper's JSON answers, checked field by field into the types of types.ts. Pure: text in, value or
// reason out. A readable shape error is thrown inside and caught at the top, so one broken field anywhere
// becomes 'helper-bad-shape' (with the field's path in the message), never a half-filled object.
import { blockMacsMax, blocklistMax, interfacesMax, rulesMax, sourcesMax } from './limits.js';
import type {
  XdpAttachResult,
  XdpBlockEntry,
  XdpBlockResult,
  XdpInterface,
  XdpLimit,
  XdpMapFill,
  XdpSourceStats,
  XdpStats,
  XdpStatus,
  XdpTotals,
} from './types.js';

class ShapeError extends Error {}

type Json = Record<string, unknown>;

function object(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ShapeError(`${path}: not an object`);
  return value as Json;
}

function count(o: Json, key: string, path: string): number {
  const value = o[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new ShapeError(`${path}.${key}: not a count`);
  return value;
}

function text(o: Json, key: string, path: string): string {
  const value = o[key];
  if (typeof value !== 'string') throw new ShapeError(`${path}.${key}: not a string`);
  return value;
}

function flag(o: Json, key: string, path: string): boolean {
  const value = o[key];
  if (typeof value !== 'boolean') throw new ShapeError(`${path}.${key}: not a boolean`);
  return value;
}

function countOrNull(o: Json, key: string, path: string): number | null {
  return o[key] === null ? null : count(o, key, path);
}

function list<T>(o: Json, key: string, path: string, max: number, item: (value: unknown, path: string) => T): T[] {
  const value = o[key];
  if (!Array.isArray(value)) throw new ShapeError(`${path}.${key}: not an array`);
  if (value.length > max) throw new ShapeError(`${path}.${key}: ${value.length} items, more than ${max}`);
  return value.map((entry, i) => item(entry, `${path}.${key}[${i}]`));
}

const macPattern = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function mac(o: Json, key: string, path: string): string {
  const value = text(o, key, path);
  if (!macPattern.test(value)) throw new ShapeError(`${path}.${key}: not a MAC address`);
  return value;
}

/** Parses stdout into an object whose "ok" and "command" are as expected. */
function answer(stdout: string, command: string): Json {
  const root = object(JSON.parse(stdout), '$');
  if (root.ok !== true) throw new ShapeError('$.ok: not true');
  if (root.command !== command) throw new ShapeError(`$.command: not '${command}'`);
  return root;
}

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: 'helper-bad-json' | 'helper-bad-shape'; readonly message: string };

/** Runs a reader over the helper's stdout, turning JSON and shape errors into reasons. */
export function parseAnswer<T>(stdout: string, command: string, read: (root: Json) => T): Parsed<T> {
  let root: Json;
  try {
    root = answer(stdout, command);
  } catch (error) {
    if (error instanceof ShapeError) return { ok: false, reason: 'helper-bad-shape', message: error.message };
    return { ok: false, reason: 'helper-bad-json', message: `not JSON: ${String(error)}` };
  }
  try {
    return { ok: true, value: read(root) };
  } catch (error) {
    if (error instanceof ShapeError) return { ok: false, reason: 'helper-bad-shape', message: error.message };
    throw error;
  }
}

/** The helper's error answer ({"ok":false,"error":CODE,...}), or null when stdout is not one. */
export function readError(stdout: string): { error: string; message: string; verifierLog?: string } | null {
  try {
    const root = object(JSON.parse(stdout), '$');
    if (root.ok !== false || typeof root.error !== 'string' || typeof root.message !== 'string') return null;
    return typeof root.verifier_log === 'string'
      ? { error: root.error, message: root.message, verifierLog: root.verifier_log }
      : { error: root.error, message: root.message };
  } catch {
    return null;
  }
}

export function readAttach(o: Json): XdpAttachResult {
  return {
    ifname: text(o, 'ifname', '$'),
    ifindex: count(o, 'ifindex', '$'),
    mode: text(o, 'mode', '$'),
    progId: count(o, 'prog_id', '$'),
    linkId: count(o, 'link_id', '$'),
    already: flag(o, 'already', '$'),
  };
}

export function readProbe(o: Json): { kernel: string } {
  return { kernel: text(o, 'kernel', '$') };
}

export function readDetach(o: Json): { ifname: string; detached: boolean } {
  return { ifname: text(o, 'ifname', '$'), detached: flag(o, 'detached', '$') };
}

export function readBlock(o: Json): XdpBlockResult {
  return {
    macs: list(o, 'macs', '$', blockMacsMax, (value, path) => {
      const entry = object(value, path);
      return { mac: mac(entry, 'mac', path), already: flag(entry, 'already', path) };
    }),
    reason: text(o, 'reason', '$'),
    ttlS: countOrNull(o, 'ttl_s', '$'),
  };
}

export function readUnblock(o: Json): { mac: string; wasBlocked: boolean } {
  return { mac: mac(o, 'mac', '$'), wasBlocked: flag(o, 'was_blocked', '$') };
}

function readTotals(value: unknown, path: string): XdpTotals {
  const o = object(value, path);
  return {
    packets: count(o, 'packets', path),
    bytes: count(o, 'bytes', path),
    passed: count(o, 'passed', path),
    droppedBlocked: count(o, 'dropped_blocked', path),
    droppedRate: count(o, 'dropped_rate', path),
    batmanPackets: count(o, 'batman_packets', path),
    malformed: count(o, 'malformed', path),
    countersFull: count(o, 'counters_full', path),
    blocksExpired: count(o, 'blocks_expired', path),
  };
}

function readSource(value: unknown, path: string): XdpSourceStats {
  const o = object(value, path);
  return {
    mac: mac(o, 'mac', path),
    packets: count(o, 'packets', path),
    bytes: count(o, 'bytes', path),
    drops: count(o, 'drops', path),
    droppedBlocked: count(o, 'dropped_blocked', path),
    droppedRate: count(o, 'dropped_rate', path),
    batmanPackets: count(o, 'batman_packets', path),
    idleMs: count(o, 'idle_ms', path),
  };
}

export function readStats(o: Json): XdpStats {
  return {
    totals: readTotals(o.totals, '$.totals'),
    sources: list(o, 'sources', '$', sourcesMax, readSource),
    sourcesMax: count(o, 'sources_max', '$'),
  };
}

function readLimit(value: unknown, path: string): XdpLimit {
  const o = object(value, path);
  const common = {
    index: count(o, 'index', path),
    ratePps: count(o, 'rate_pps', path),
    burst: count(o, 'burst', path),
    matched: count(o, 'matched', path),
    dropped: count(o, 'dropped', path),
  };
  const match = text(o, 'match', path);
  if (match === 'udp-dport')
    return { match, portLo: count(o, 'port_lo', path), portHi: count(o, 'port_hi', path), ...common };
  if (match !== 'ethertype') throw new ShapeError(`${path}.match: '${match}' is not ethertype or udp-dport`);
  const ethertype = text(o, 'ethertype', path);
  if (!/^0x[0-9a-f]{4}$/.test(ethertype)) throw new ShapeError(`${path}.ethertype: not 0xHHHH`);
  return { match, ethertype: Number.parseInt(ethertype.slice(2), 16), ...common };
}

export function readLimits(o: Json): XdpLimit[] {
  return list(o, 'limits', '$', rulesMax, readLimit);
}

function readInterface(value: unknown, path: string): XdpInterface {
  const o = object(value, path);
  const state = text(o, 'state', path);
  if (state !== 'attached' && state !== 'defunct') throw new ShapeError(`${path}.state: '${state}'`);
  return {
    ifname: text(o, 'ifname', path),
    ifindex: count(o, 'ifindex', path),
    mode: text(o, 'mode', path),
    progId: count(o, 'prog_id', path),
    linkId: count(o, 'link_id', path),
    state,
  };
}

function readBlockEntry(value: unknown, path: string): XdpBlockEntry {
  const o = object(value, path);
  return {
    mac: mac(o, 'mac', path),
    reason: text(o, 'reason', path),
    drops: count(o, 'drops', path),
    ageS: count(o, 'age_s', path),
    ttlS: countOrNull(o, 'ttl_s', path),
  };
}

function readMaps(value: unknown): Record<string, XdpMapFill> {
  const o = object(value, '$.maps');
  const maps: Record<string, XdpMapFill> = {};
  for (const name of Object.keys(o).slice(0, 16)) {
    const path = `$.maps.${name}`;
    const fill = object(o[name], path);
    maps[name] = { entries: count(fill, 'entries', path), maxEntries: count(fill, 'max_entries', path) };
  }
  return maps;
}

function readProgram(value: unknown): XdpStatus['program'] {
  if (value === null) return null;
  const o = object(value, '$.program');
  const path = '$.program';
  return {
    id: count(o, 'id', path),
    name: text(o, 'name', path),
    tag: text(o, 'tag', path),
    runCount: count(o, 'run_cnt', path),
    runTimeNs: count(o, 'run_time_ns', path),
  };
}

export function readStatus(o: Json): XdpStatus {
  return {
    version: text(o, 'version', '$'),
    pinDir: text(o, 'pin_dir', '$'),
    loaded: flag(o, 'loaded', '$'),
    program: readProgram(o.program),
    interfaces: list(o, 'interfaces', '$', interfacesMax, readInterface),
    blocklist: list(o, 'blocklist', '$', blocklistMax, readBlockEntry),
    blocklistExpired: count(o, 'blocklist_expired', '$'),
    limits: readLimits(o),
    maps: readMaps(o.maps),
  };
}

/** The reader for each helper command's answer. */
export const readers: Readonly<Record<string, (root: Json) => unknown>> = {
  attach: readAttach,
  detach: readDetach,
  block: readBlock,
  unblock: readUnblock,
  limit: readLimits,
  stats: readStats,
  status: readStatus,
  probe: readProbe,
};
