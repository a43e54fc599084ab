// The mesh state document: one section per node (its status, neighbour table, component versions and
// counters), written only by that node's streams, plus the signed revocation list any node may relay.
// Sections are independent lattices, so a section's full state is a valid delta (state transfer = parts).
import { fail, ok, type Result } from './assert.js';
import { isArray, isId, isNat, isRecord } from './check.js';
import { natCodec, textCodec, type Codec } from './codec.js';
import { compareHlc, type Hlc } from './hlc.js';
import { limits } from './limits.js';
import { LwwMap, LwwRegister } from './lww.js';
import { AWORMap } from './or.js';
import { PnCounter } from './pn-counter.js';
import { SignedDocRegister, type VerifyFn } from './signed-doc.js';
import { streamNode } from './stream.js';

export interface NodeStatus {
  readonly online: boolean;
  readonly uptimeS: number;
  /** Load average x 1000 (integers only on the wire). */
  readonly loadMilli: number;
}

export interface Link {
  /** batman-adv transmit quality, 0..255. */
  readonly tq: number;
  readonly rttMs: number;
}

const statusCodec: Codec<NodeStatus> = {
  toWire: (s) => [s.online ? 1 : 0, s.uptimeS, s.loadMilli],
  fromWire: (x) => (isArray(x, 3) && x.length === 3 && (x[0] === 0 || x[0] === 1) && isNat(x[1]) && isNat(x[2]) ? { online: x[0] === 1, uptimeS: x[1], loadMilli: x[2] } : null),
};

const linkCodec: Codec<Link> = {
  toWire: (l) => [l.tq, l.rttMs],
  fromWire: (x) => (isArray(x, 2) && x.length === 2 && isNat(x[0]) && x[0] <= 255 && isNat(x[1]) ? { tq: x[0], rttMs: x[1] } : null),
};

/** A section or a delta of one: absent fields are bottom. */
export interface Section {
  status?: LwwRegister<NodeStatus>;
  neighbours?: AWORMap<Link>;
  versions?: LwwMap<string>;
  counters?: Map<string, PnCounter>;
}

export type Field = 'status' | 'neighbours' | 'versions' | 'counters' | 'revocations';
export interface Change {
  readonly section: string;
  readonly field: Field;
  readonly keys: readonly string[];
}
export type Listener = (change: Change) => void;

export type DeltaRefusal = 'delta-malformed' | 'delta-wrong-writer' | 'delta-too-many-entries' | 'clock-future';

export class MeshDoc {
  readonly sections = new Map<string, Section>();
  readonly revocations: SignedDocRegister;
  private readonly listeners = new Set<Listener>();

  constructor(authorityKey: Uint8Array, verify: VerifyFn) {
    this.revocations = new SignedDocRegister('revocations', authorityKey, verify);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Joins a (validated) section delta; notifies subscribers of what changed. Returns true on inflation. */
  apply(sectionId: string, delta: Section): boolean {
    let section = this.sections.get(sectionId);
    if (section === undefined) this.sections.set(sectionId, (section = {}));
    const changes = joinSection(section, delta).map((c) => ({ section: sectionId, ...c }));
    for (const change of changes) this.emit(change);
    return changes.length > 0;
  }

  emit(change: Change): void {
    for (const listener of this.listeners) listener(change);
  }

  status(nodeId: string): NodeStatus | undefined {
    return this.sections.get(nodeId)?.status?.value;
  }

  neighbours(nodeId: string): Map<string, Link> {
    const map = this.sections.get(nodeId)?.neighbours;
    return new Map((map?.keys() ?? []).map((k) => [k, map?.get(k) as Link]));
  }

  version(nodeId: string, component: string): string | undefined {
    return this.sections.get(nodeId)?.versions?.get(component);
  }

  /** Mesh-wide total of a named counter (each node counts into its own section). */
  counterTotal(name: string): number {
    let total = 0;
    for (const section of this.sections.values()) total += section.counters?.get(name)?.value ?? 0;
    return total;
  }

  /** Canonical plain form of the whole document: equal documents give equal values. */
  toWire(): unknown {
    const ids = [...this.sections.keys()].sort();
    return [ids.map((id) => [id, sectionToWire(this.sections.get(id) as Section)]), this.revocations.toWire()];
  }
}

function joinSection(into: Section, delta: Section): Array<{ field: Field; keys: string[] }> {
  const out: Array<{ field: Field; keys: string[] }> = [];
  if (delta.status !== undefined) {
    into.status ??= new LwwRegister(statusCodec);
    if (into.status.merge(delta.status)) out.push({ field: 'status', keys: [] });
  }
  if (delta.neighbours !== undefined) {
    into.neighbours ??= new AWORMap(linkCodec);
    const keys = into.neighbours.merge(delta.neighbours);
    if (keys.length > 0) out.push({ field: 'neighbours', keys });
  }
  if (delta.versions !== undefined) {
    into.versions ??= new LwwMap(textCodec);
    const keys = into.versions.merge(delta.versions);
    if (keys.length > 0) out.push({ field: 'versions', keys });
  }
  const keys: string[] = [];
  for (const [name, counter] of delta.counters ?? []) {
    into.counters ??= new Map();
    let mine = into.counters.get(name);
    if (mine === undefined) into.counters.set(name, (mine = new PnCounter()));
    if (mine.merge(counter)) keys.push(name);
  }
  if (keys.length > 0) out.push({ field: 'counters', keys });
  return out;
}

/** Wire form of a section (or delta): a CBOR map with one-letter keys, absent fields omitted. */
export function sectionToWire(s: Section): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (s.status !== undefined) out.s = s.status.toWire();
  if (s.neighbours !== undefined) out.n = s.neighbours.toWire();
  if (s.versions !== undefined) out.v = s.versions.toWire();
  if (s.counters !== undefined) out.c = [...s.counters.keys()].sort().map((k) => [k, (s.counters?.get(k) as PnCounter).toWire()]);
  return out;
}

export function sectionFromWire(x: unknown): Result<Section, 'delta-malformed' | 'delta-too-many-entries'> {
  if (!isRecord(x)) return fail('delta-malformed');
  const s: Section = {};
  for (const key of Object.keys(x)) if (key !== 's' && key !== 'n' && key !== 'v' && key !== 'c') return fail('delta-malformed');
  if (x.s !== undefined) {
    const status = LwwRegister.fromWire(x.s, statusCodec);
    if (status === null) return fail('delta-malformed');
    s.status = status;
  }
  if (x.n !== undefined) {
    const neighbours = AWORMap.fromWire(x.n, linkCodec);
    if (neighbours === null) return fail('delta-malformed');
    if (neighbours.size > limits.neighboursMax) return fail('delta-too-many-entries');
    s.neighbours = neighbours;
  }
  if (x.v !== undefined) {
    const versions = LwwMap.fromWire(x.v, textCodec);
    if (versions === null) return fail('delta-malformed');
    if (versions.entries.size > limits.versionsMax) return fail('delta-too-many-entries');
    s.versions = versions;
  }
  return x.c === undefined ? ok(s) : countersFromWire(x.c, s);
}

function countersFromWire(x: unknown, s: Section): Result<Section, 'delta-malformed' | 'delta-too-many-entries'> {
  if (!isArray(x, limits.countersMax)) return fail(isArray(x, Infinity) ? 'delta-too-many-entries' : 'delta-malformed');
  s.counters = new Map();
  for (const e of x) {
    if (!isArray(e, 2) || e.length !== 2 || !isId(e[0]) || s.counters.has(e[0])) return fail('delta-malformed');
    const counter = PnCounter.fromWire(e[1]);
    if (counter === null) return fail('delta-malformed');
    s.counters.set(e[0], counter);
  }
  return ok(s);
}

/** Every replica id and timestamp in a section delta: used to check who wrote it and when. */
export function sectionWriters(s: Section): { replicas: string[]; stamps: Hlc[] } {
  const replicas: string[] = [];
  const stamps: Hlc[] = [];
  if (s.status?.ts) stamps.push(s.status.ts);
  for (const slots of s.neighbours?.kernel.entries.values() ?? []) {
    for (const slot of slots.values()) {
      replicas.push(slot.dot[0]);
      stamps.push(slot.value.ts);
    }
  }
  for (const [replica] of s.neighbours?.kernel.cc.toWire() ?? []) replicas.push(replica);
  for (const entry of s.versions?.entries.values() ?? []) stamps.push(entry.ts);
  for (const counter of s.counters?.values() ?? []) replicas.push(...counter.counts.keys());
  for (const ts of stamps) replicas.push(ts[2]);
  return { replicas, stamps };
}

/**
 * Validates a decoded section delta: shape, single writer (every replica is a stream of `sectionId`), and
 * timestamps not too far ahead of `wallMs`. Returns the newest timestamp so the caller can observe it.
 */
export function checkSectionDelta(sectionId: string, wire: unknown, acceptUpToMs: number): Result<{ section: Section; newest: Hlc | null }, DeltaRefusal> {
  const parsed = sectionFromWire(wire);
  if (!parsed.ok) return parsed;
  const { replicas, stamps } = sectionWriters(parsed.value);
  for (const replica of replicas) if (streamNode(replica) !== sectionId) return fail('delta-wrong-writer');
  let newest: Hlc | null = null;
  for (const ts of stamps) {
    if (ts[0] > acceptUpToMs) return fail('clock-future');
    if (newest === null || compareHlc(ts, newest) > 0) newest = ts;
  }
  return ok({ section: parsed.value, newest });
}

export { statusCodec, linkCodec, natCodec };
