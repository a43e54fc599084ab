// Local writes to our own section: each builds a delta against a copy of the current state (so the
// document sees it as an inflation and notifies subscribers), then commits it as our stream's next delta.
// Arguments are checked here and refused with a reason: a caller's mistake never reaches the core's asserts.
import { fail, ok, type Result } from './assert.js';
import { isId, isKey, isText } from './check.js';
import { textCodec } from './codec.js';
import type { HlcClock } from './hlc.js';
import { limits } from './limits.js';
import { LwwMap, LwwRegister } from './lww.js';
import { linkCodec, statusCodec, type Link, type MeshDoc, type NodeStatus, type Section } from './mesh-doc.js';
import { AWORMap } from './or.js';
import { PnCounter } from './pn-counter.js';

export type LocalRefusal = 'neighbours-full' | 'versions-full' | 'counters-full' | 'bad-argument' | 'self-revoked';

/** Who writes: the gossip engine (which also ships the delta), or a bare document in the law tests. */
export interface Writer {
  readonly doc: MeshDoc;
  readonly nodeId: string;
  /** The current stream: every dot and timestamp of the section names it. */
  readonly stream: string;
  readonly clock: HlcClock;
  readonly revoked: boolean;
  commit(delta: Section): void;
}

function own(g: Writer): Section {
  return g.doc.sections.get(g.nodeId) ?? {};
}

function commit(g: Writer, delta: Section): Result<null, LocalRefusal> {
  if (g.revoked) return fail('self-revoked');
  g.commit(delta);
  return ok(null);
}

export function setStatus(g: Writer, status: NodeStatus, wallMs: number): Result<null, LocalRefusal> {
  if (statusCodec.fromWire(statusCodec.toWire(status)) === null) return fail('bad-argument');
  const register = (own(g).status ?? new LwwRegister(statusCodec)).clone();
  return commit(g, { status: register.set(status, g.clock.now(wallMs)) });
}

export function setNeighbour(g: Writer, neighbour: string, link: Link, wallMs: number): Result<null, LocalRefusal> {
  if (!isKey(neighbour) || linkCodec.fromWire(linkCodec.toWire(link)) === null) return fail('bad-argument');
  const map = (own(g).neighbours ?? new AWORMap(linkCodec)).clone();
  if (map.get(neighbour) === undefined && map.size >= limits.neighboursMax) return fail('neighbours-full');
  return commit(g, { neighbours: map.set(g.stream, neighbour, link, g.clock.now(wallMs)) });
}

export function removeNeighbour(g: Writer, neighbour: string): Result<null, LocalRefusal> {
  const map = own(g).neighbours;
  if (map === undefined || map.get(neighbour) === undefined) return ok(null);
  return commit(g, { neighbours: map.clone().remove(neighbour) });
}

export function setVersion(g: Writer, component: string, version: string, wallMs: number): Result<null, LocalRefusal> {
  if (!isKey(component) || !isText(version)) return fail('bad-argument');
  const map = (own(g).versions ?? new LwwMap(textCodec)).clone();
  if (map.get(component) === undefined && map.entries.size >= limits.versionsMax) return fail('versions-full');
  return commit(g, { versions: map.set(component, version, g.clock.now(wallMs)) });
}

export function addToCounter(g: Writer, name: string, amount: number): Result<null, LocalRefusal> {
  if (!isId(name) || !Number.isSafeInteger(amount) || Math.abs(amount) > limits.counterStepMax)
    return fail('bad-argument');
  const counters = own(g).counters;
  if (counters?.get(name) === undefined && (counters?.size ?? 0) >= limits.countersMax) return fail('counters-full');
  const counter = (counters?.get(name) ?? new PnCounter()).clone();
  return commit(g, { counters: new Map([[name, counter.add(g.stream, amount)]]) });
}
