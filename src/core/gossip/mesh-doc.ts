// The mesh state document: one section per node (its status, neighbour table, component versions and
// counters), written only by that node's current stream, plus the signed revocation list any node may relay.
// A section is the lexicographic pair (incarnation, state): a higher incarnation replaces the state (the
// node restarted and rebased its section, see stream.ts), an equal one joins it, a lower one is stale. That
// pair is still a join semilattice, and it keeps a section's causal contexts and counters to one replica.
import { fail, ok, type Result } from './assert.js';
import { isArray, isId, isNat, isRecord, isU32 } from './check.js';
import { natCodec, textCodec, type Codec } from './codec.js';
import { compareHlc, type Hlc } from './hlc.js';
import { limits } from './limits.js';
import { LwwMap, LwwRegister } from './lww.js';
import { AWORMap } from './or.js';
import { PnCounter } from './pn-counter.js';
import { SignedDocRegister, type DocCheck, type SignedDoc, type SignedDocRefusal } from './signed-doc.js';

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

// Uptime (136 years), load x 1000 and round-trip times are 32-bit on the wire: larger is not a router's.
const statusCodec: Codec<NodeStatus> = {
  toWire: (s) => [s.online ? 1 : 0, s.uptimeS, s.loadMilli],
  fromWire: (x) =>
    isArray(x, 3) && x.length === 3 && (x[0] === 0 || x[0] === 1) && isU32(x[1]) && isU32(x[2])
      ? { online: x[0] === 1, uptimeS: x[1], loadMilli: x[2] }
      : null,
};

const linkCodec: Codec<Link> = {
  toWire: (l) => [l.tq, l.rttMs],
  fromWire: (x) =>
    isArray(x, 2) && x.length === 2 && isNat(x[0]) && x[0] <= 255 && isU32(x[1]) ? { tq: x[0], rttMs: x[1] } : null,
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

/** What a revocation list check returns: the revoked node ids. */
export type RevocationCheck = DocCheck<ReadonlySet<string>>;

/**
 * How a section changed: 'joined' (inflated), 'unchanged', 'replaced' (a newer incarnation's state),
 * 'stale' (an older incarnation: ignored), 'ahead' (a delta of a newer incarnation whose state we lack:
 * not applied, since joining it alone would drop the rest of the section until the state arrives).
 */
export type ApplyOutcome = 'joined' | 'unchanged' | 'replaced' | 'stale' | 'ahead';

const noRevocations: ReadonlySet<string> = new Set();

export class MeshDoc {
  readonly sections = new Map<string, Section>();
  private readonly incarnations = new Map<string, number>();
  readonly revocations: SignedDocRegister<ReadonlySet<string>>;
  private readonly listeners = new Set<Listener>();

  constructor(private readonly revocationCheck: RevocationCheck) {
    this.revocations = new SignedDocRegister('revocations', revocationCheck);
  }

  /** A deep copy without subscribers. */
  clone(): MeshDoc {
    const copy = new MeshDoc(this.revocationCheck);
    for (const [id, section] of this.sections) {
      copy.sections.set(id, cloneSection(section));
      copy.incarnations.set(id, this.incarnation(id));
    }
    copy.revocations.doc = this.revocations.doc;
    copy.revocations.meta = this.revocations.meta;
    return copy;
  }

  /** Joins a whole document (full-state merge): each section as a state, the revocation list checked. */
  merge(other: MeshDoc): void {
    for (const [id, section] of other.sections) this.apply(id, other.incarnation(id), cloneSection(section), 'state');
    if (other.revocations.doc !== null) this.offerRevocations(other.revocations.doc);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** 0 when the document has no section of `nodeId`. */
  incarnation(nodeId: string): number {
    return this.incarnations.get(nodeId) ?? 0;
  }

  /** Node ids the current revocation list names. */
  get revoked(): ReadonlySet<string> {
    return this.revocations.meta ?? noRevocations;
  }

  /** Joins a (validated) delta or full state of a section; notifies subscribers of what changed. */
  apply(sectionId: string, incarnation: number, delta: Section, kind: 'delta' | 'state'): ApplyOutcome {
    const current = this.incarnation(sectionId);
    if (incarnation < current) return 'stale';
    if (incarnation > current && kind === 'delta') return 'ahead';
    if (incarnation > current) {
      const old = this.sections.get(sectionId) ?? {};
      this.sections.set(sectionId, {});
      this.incarnations.set(sectionId, incarnation);
      joinSection(this.sections.get(sectionId) as Section, delta);
      for (const change of sectionDiff(old, delta)) this.emit({ section: sectionId, ...change });
      return 'replaced';
    }
    const changes = joinSection(this.sections.get(sectionId) as Section, delta);
    for (const change of changes) this.emit({ section: sectionId, ...change });
    return changes.length > 0 ? 'joined' : 'unchanged';
  }

  /** Drops a section (its node was revoked); subscribers see every field of it change. */
  removeSection(sectionId: string): void {
    const old = this.sections.get(sectionId);
    if (old === undefined) return;
    this.sections.delete(sectionId);
    this.incarnations.delete(sectionId);
    for (const change of sectionDiff(old, {})) this.emit({ section: sectionId, ...change });
  }

  /** Offers a revocation list (checked first); ok(true) when it replaced ours. */
  offerRevocations(doc: SignedDoc): Result<boolean, SignedDocRefusal> {
    const offered = this.revocations.offer(doc);
    if (offered.ok && offered.value) this.emit({ section: '', field: 'revocations', keys: [...this.revoked].sort() });
    return offered;
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

  counter(nodeId: string, name: string): number {
    return this.sections.get(nodeId)?.counters?.get(name)?.value ?? 0;
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
    return [
      ids.map((id) => [id, this.incarnation(id), sectionToWire(this.sections.get(id) as Section)]),
      this.revocations.toWire(),
    ];
  }
}

export function cloneSection(s: Section): Section {
  const out: Section = {};
  if (s.status !== undefined) out.status = s.status.clone();
  if (s.neighbours !== undefined) out.neighbours = s.neighbours.clone();
  if (s.versions !== undefined) out.versions = s.versions.clone();
  if (s.counters !== undefined) out.counters = new Map([...s.counters].map(([name, c]) => [name, c.clone()]));
  return out;
}

/** Field-level changes between two section states (for subscribers of a replaced or removed section). */
function sectionDiff(old: Section, next: Section): Array<{ field: Field; keys: string[] }> {
  const out: Array<{ field: Field; keys: string[] }> = [];
  if (old.status !== undefined || next.status !== undefined) out.push({ field: 'status', keys: [] });
  const union = (a: readonly string[] = [], b: readonly string[] = []) => [...new Set([...a, ...b])].sort();
  if (old.neighbours !== undefined || next.neighbours !== undefined)
    out.push({ field: 'neighbours', keys: union(old.neighbours?.keys(), next.neighbours?.keys()) });
  if (old.versions !== undefined || next.versions !== undefined)
    out.push({ field: 'versions', keys: union(old.versions?.keys(), next.versions?.keys()) });
  if (old.counters !== undefined || next.counters !== undefined)
    out.push({ field: 'counters', keys: union([...(old.counters?.keys() ?? [])], [...(next.counters?.keys() ?? [])]) });
  return out;
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
  const counters = s.counters;
  if (counters !== undefined)
    out.c = [...counters.keys()].sort().map((k) => [k, (counters.get(k) as PnCounter).toWire()]);
  return out;
}

export function sectionFromWire(x: unknown): Result<Section, 'delta-malformed' | 'delta-too-many-entries'> {
  if (!isRecord(x)) return fail('delta-malformed');
  const s: Section = {};
  for (const key of Object.keys(x))
    if (key !== 's' && key !== 'n' && key !== 'v' && key !== 'c') return fail('delta-malformed');
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
    for (const slot of slots) {
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
 * Validates a decoded section delta or state of `stream`: shape; single writer (every dot, counter entry and
 * timestamp names `stream` itself: a section holds only its node's current incarnation); and no timestamp
 * beyond `acceptUpToMs` (see hlcAcceptLimitMs).
 */
export function checkSectionDelta(stream: string, wire: unknown, acceptUpToMs: number): Result<Section, DeltaRefusal> {
  const parsed = sectionFromWire(wire);
  if (!parsed.ok) return parsed;
  const { replicas, stamps } = sectionWriters(parsed.value);
  for (const replica of replicas) if (replica !== stream) return fail('delta-wrong-writer');
  for (const ts of stamps) if (ts[0] > acceptUpToMs) return fail('clock-future');
  return ok(parsed.value);
}

/** The newest timestamp in a section (a restarted node's clock starts past its own old writes). */
export function newestStamp(s: Section): Hlc | null {
  let newest: Hlc | null = null;
  for (const ts of sectionWriters(s).stamps) if (newest === null || compareHlc(ts, newest) > 0) newest = ts;
  return newest;
}

/**
 * A section's content re-written by a new incarnation: every value re-stamped by `stamp` under `stream`,
 * counters folded into one entry, LWW tombstones dropped (the new incarnation replaces the old state, so
 * nothing older needs beating). The result names only `stream`, and stays within the section limits.
 */
export function rebaseSection(old: Section, stream: string, stamp: () => Hlc): Section {
  const out: Section = {};
  if (old.status?.value !== undefined) out.status = new LwwRegister(statusCodec, stamp(), old.status.value);
  if (old.neighbours !== undefined) {
    out.neighbours = new AWORMap(linkCodec);
    for (const key of old.neighbours.keys()) out.neighbours.set(stream, key, old.neighbours.get(key) as Link, stamp());
  }
  if (old.versions !== undefined) {
    out.versions = new LwwMap(textCodec);
    for (const key of old.versions.keys()) out.versions.set(key, old.versions.get(key) as string, stamp());
  }
  if (old.counters !== undefined) {
    out.counters = new Map();
    for (const [name, counter] of old.counters) out.counters.set(name, counter.folded(stream));
  }
  return out;
}

export { statusCodec, linkCodec, natCodec };
