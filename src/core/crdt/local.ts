// Local writes to our own section: each builds a delta against a copy of the current state (so the
// document sees it as an inflation and notifies subscribers), then commits it as our stream's next delta.
import { fail, ok, type Result } from './assert.js';
import { isId, isKey, isText } from './check.js';
import { textCodec } from './codec.js';
import type { Gossip } from './gossip.js';
import { limits } from './limits.js';
import { LwwMap, LwwRegister } from './lww.js';
import { linkCodec, statusCodec, type Link, type NodeStatus } from './mesh-doc.js';
import { AWORMap } from './or.js';
import { PnCounter } from './pn-counter.js';

export type LocalRefusal = 'neighbours-full' | 'versions-full' | 'counters-full' | 'bad-argument';

function own(g: Gossip) {
  return g.doc.sections.get(g.nodeId) ?? {};
}

export function setStatus(g: Gossip, status: NodeStatus, wallMs: number): Result<null, LocalRefusal> {
  if (statusCodec.fromWire(statusCodec.toWire(status)) === null) return fail('bad-argument');
  const status2 = (own(g).status ?? new LwwRegister(statusCodec)).clone();
  g.commit({ status: status2.set(status, g.clock.now(wallMs)) });
  return ok(null);
}

export function setNeighbour(g: Gossip, neighbour: string, link: Link, wallMs: number): Result<null, LocalRefusal> {
  if (!isId(neighbour) || linkCodec.fromWire(linkCodec.toWire(link)) === null) return fail('bad-argument');
  const map = (own(g).neighbours ?? new AWORMap(linkCodec)).clone();
  if (map.get(neighbour) === undefined && map.size >= limits.neighboursMax) return fail('neighbours-full');
  g.commit({ neighbours: map.set(g.stream, neighbour, link, g.clock.now(wallMs)) });
  return ok(null);
}

export function removeNeighbour(g: Gossip, neighbour: string): Result<null, LocalRefusal> {
  const map = own(g).neighbours;
  if (map === undefined || map.get(neighbour) === undefined) return ok(null);
  g.commit({ neighbours: map.clone().remove(neighbour) });
  return ok(null);
}

export function setVersion(g: Gossip, component: string, version: string, wallMs: number): Result<null, LocalRefusal> {
  if (!isKey(component) || !isText(version)) return fail('bad-argument');
  const map = (own(g).versions ?? new LwwMap(textCodec)).clone();
  if (map.get(component) === undefined && map.entries.size >= limits.versionsMax) return fail('versions-full');
  g.commit({ versions: map.set(component, version, g.clock.now(wallMs)) });
  return ok(null);
}

export function addToCounter(g: Gossip, name: string, amount: number): Result<null, LocalRefusal> {
  if (!isId(name) || !Number.isSafeInteger(amount)) return fail('bad-argument');
  const counters = own(g).counters;
  if (counters?.get(name) === undefined && (counters?.size ?? 0) >= limits.countersMax) return fail('counters-full');
  const counter = (counters?.get(name) ?? new PnCounter()).clone();
  g.commit({ counters: new Map([[name, counter.add(g.stream, amount)]]) });
  return ok(null);
}
