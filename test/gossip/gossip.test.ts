// The gossip engine on a few nodes: push-pull with digests, delta batching, datagram and round bounds,
// chunked state and revocation lists, garbage collection, restarts (incarnations), and convergence under
// random loss, duplication and reordering. Engine-neutral and small: it runs inside QuickJS-ng too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import type { Gossip } from '../../src/core/gossip/gossip.js';
import { limits } from '../../src/core/gossip/limits.js';
import { addToCounter, setNeighbour, setStatus, setVersion } from '../../src/core/gossip/local.js';
import { encodeSnapshot, handOver, readSnapshotHeader, restoreSnapshot } from '../../src/core/gossip/persist.js';
import { decodeLimited } from '../../src/core/wire/cbor.js';
import { engine, syncedWallMs, Wire, type Sent } from './harness.js';
import { revocationDoc } from './kinds.js';
import { defaultSim, MeshSim } from './sim.js';

const typeOf = (s: Sent) => (decodeLimited<unknown[]>(s.bytes, 2000) as { value: unknown[] }).value[0] as number;
const itemsIn = (s: Sent) =>
  ((decodeLimited<unknown[]>(s.bytes, 2000) as { value: unknown[] }).value[2] as unknown[]).length;

function trio(): Wire {
  return new Wire(['a', 'b', 'c'].map((id) => engine(id)));
}

test('synced nodes exchange only digests: one SYN per peer contacted, no deltas', () => {
  const wire = trio();
  const [a] = wire.engines as [Gossip];
  setStatus(a, { online: true, uptimeS: 1, loadMilli: 0 }, syncedWallMs);
  assert.ok(wire.untilSynced() > 0, 'synced');
  const mark = wire.sent.length;
  wire.rounds(5);
  const after = wire.sent.slice(mark);
  assert.ok(after.length > 0);
  assert.ok(
    after.every((s) => typeOf(s) === 1),
    'only SYN digests',
  );
  assert.ok(after.length <= 5 * 3 * limits.gossipFanout, `${after.length} datagrams in 5 rounds`);
  assert.ok(wire.bytesSince(mark) / (5 * 3) < 60, `${wire.bytesSince(mark) / 15} bytes per node per round`);
});

test('a single update is one small delta, pushed to the peers on the next tick', () => {
  const wire = trio();
  assert.ok(wire.untilSynced() > 0);
  const [a, b, c] = wire.engines as [Gossip, Gossip, Gossip];
  const mark = wire.sent.length;
  setVersion(a, 'firmware', '1.2.3', syncedWallMs);
  wire.tick(1);
  assert.is(b.doc.version('a', 'firmware'), '1.2.3');
  assert.is(c.doc.version('a', 'firmware'), '1.2.3');
  const deltas = wire.sent.slice(mark).filter((s) => typeOf(s) === 4);
  assert.is(deltas.filter((s) => s.from === 'a').length, 2, 'one DELTAS datagram per peer');
  assert.ok(deltas.length <= 3, 'at most one relayed copy');
  assert.ok(wire.bytesSince(mark) < 250, `${wire.bytesSince(mark)} bytes`);
});

test('deltas are batched: 60 updates travel in a few datagrams, each within the datagram bound', () => {
  const wire = new Wire([engine('a'), engine('b')]);
  const [a, b] = wire.engines as [Gossip, Gossip];
  for (let i = 0; i < 60; i++) addToCounter(a, `c${i % 16}`, 1);
  const mark = wire.sent.length;
  wire.tick(1);
  const deltas = wire.sent.slice(mark).filter((s) => s.from === 'a' && typeOf(s) === 4);
  assert.ok(deltas.length >= 2 && deltas.length <= 6, `${deltas.length} datagrams`);
  assert.is(
    deltas.reduce((n, s) => n + itemsIn(s), 0),
    60,
    'every delta once',
  );
  assert.ok(deltas.every((s) => s.bytes.length <= limits.datagramBytesMax));
  assert.is(b.doc.counterTotal('c0'), 4);
});

test('push-pull repairs lost pushes and sends only what the other side lacks', () => {
  const wire = trio();
  assert.ok(wire.untilSynced() > 0);
  const [a, b] = wire.engines as [Gossip, Gossip];
  for (let i = 0; i < 5; i++) addToCounter(a, 'alerts', 1);
  wire.filter = (s) => !(s.from === 'a' && s.to === 'b');
  wire.tick(1);
  assert.is(b.doc.counterTotal('alerts'), 5, 'c relayed what a pushed');
  addToCounter(a, 'alerts', 1);
  wire.tick(1);
  wire.filter = () => true;
  const mark = wire.sent.length;
  assert.ok(wire.untilSynced() > 0);
  assert.is(b.doc.counterTotal('alerts'), 6);
  const items = wire.sent
    .slice(mark)
    .filter((s) => typeOf(s) === 4)
    .reduce((n, s) => n + itemsIn(s), 0);
  assert.ok(items <= 2, `${items} deltas sent by anti-entropy for 1 missing`);
});

test('a section larger than a datagram travels as a chunked state once its deltas are collected', () => {
  const a = engine('a');
  const b = engine('b');
  const wire = new Wire([a, b]);
  const long = 'x'.repeat(limits.stringCharsMax);
  for (let i = 0; i < limits.versionsMax; i++) setVersion(a, `component-${i}-${long.slice(0, 40)}`, long, syncedWallMs);
  for (let i = 0; i < limits.neighboursMax; i++) setNeighbour(a, `neighbour-${i}`, { tq: i, rttMs: i }, syncedWallMs);
  assert.ok(wire.untilSynced() > 0);
  wire.rounds(limits.gcRounds + 1);
  assert.is(a.retainedDeltas, 0, 'every delta collected');
  const c = engine('c');
  wire.engines.push(c);
  wire.byId.set('c', c);
  for (const g of wire.engines) g.setPeers(['a', 'b', 'c']);
  assert.ok(wire.untilSynced() > 0, 'c caught up');
  assert.ok(
    (a.counters.get('state-transfers') ?? 0) + (b.counters.get('state-transfers') ?? 0) >= 1,
    'a state transfer',
  );
  assert.ok(wire.sameDocs(), 'identical documents');
  const parts = wire.sent.filter((s) => typeOf(s) === 4 && s.to === 'c').length;
  assert.ok(parts >= 3, `${parts} datagrams carried the state`);
});

test('the revocation list travels in chunks and revoked nodes are refused', () => {
  const wire = new Wire(['a', 'b', 'c', 'x'].map((id) => engine(id)));
  const [a, b, c, x] = wire.engines as [Gossip, Gossip, Gossip, Gossip];
  setStatus(x, { online: true, uptimeS: 1, loadMilli: 0 }, syncedWallMs);
  assert.ok(wire.untilSynced() > 0);
  const ids = Array.from({ length: 150 }, (_, i) => `retired-node-${String(i).padStart(4, '0')}`);
  assert.is(a.offerDoc(revocationDoc(1, [...ids, 'x'])), null);
  assert.ok(wire.untilSynced() > 0);
  for (const g of [b, c]) {
    assert.is(g.doc.revocations.version, 1);
    assert.not.ok(g.doc.sections.has('x'), `${g.nodeId} dropped the revoked section`);
  }
  assert.ok(wire.sent.filter((s) => typeOf(s) === 6).length >= 2 * 4, 'chunks of the list');
  assert.ok(x.revoked, 'x was told');
  const before = b.counters.get('refused:sender-revoked') ?? 0;
  wire.deliver('x', [{ to: 'b', bytes: wire.sent.find((s) => s.from === 'x')!.bytes }]);
  assert.ok((b.counters.get('refused:sender-revoked') ?? 0) > before);
  assert.is(a.offerDoc(revocationDoc(1, ['c'])), null, 'an equal version is no news');
  assert.is(a.doc.revocations.version, 1);
});

test('a new revocation list floods a line of six in one tick per hop, before any anti-entropy round', () => {
  const names = ['a', 'b', 'c', 'd', 'e', 'f'];
  const line = Object.fromEntries(names.map((n, i) => [n, [names[i - 1], names[i + 1]].filter(Boolean) as string[]]));
  const wire = new Wire(
    names.map((id) => engine(id)),
    line,
  );
  assert.ok(wire.untilSynced() > 0);
  const [a, , , , , f] = wire.engines as Gossip[];
  // untilSynced ends on a round: digests go at the next tick, then not for another 10.
  assert.is((a as Gossip).offerDoc(revocationDoc(1, ['nobody'])), null);
  wire.tick(names.length);
  assert.is((f as Gossip).doc.revocations.version, 1, 'the far end has the list after one tick per hop');
  assert.ok(((a as Gossip).counters.get('doc-pushes') ?? 0) >= 1);
});

test('fan-out and the per-round byte budget are bounded, and a large backlog still converges', () => {
  const names = ['a', 'b', 'c', 'd', 'e', 'f'];
  const wire = new Wire(names.map((id) => engine(id)));
  const a = wire.engines[0] as Gossip;
  for (let i = 0; i < 3000; i++) addToCounter(a, `c${i % 16}`, 1);
  for (let round = 0; round < 12; round++) {
    const mark = wire.sent.length;
    wire.rounds(1);
    const fromA = wire.sent.slice(mark).filter((s) => s.from === 'a');
    const bytes = fromA.reduce((n, s) => n + s.bytes.length, 0);
    assert.ok(bytes <= limits.roundBytesMax, `round ${round}: ${bytes} bytes`);
    const synTargets = new Set(fromA.filter((s) => typeOf(s) === 1).map((s) => s.to));
    assert.ok(synTargets.size <= limits.gossipFanout, `${synTargets.size} digest targets`);
  }
  assert.ok((a.counters.get('budget-exhausted') ?? 0) > 0, 'the budget was hit');
  assert.ok(wire.untilSynced(60) > 0, 'converged');
  assert.ok(wire.sameDocs());
});

test('deltas are dropped once every peer has them (garbage collection)', () => {
  const wire = trio();
  for (const g of wire.engines) for (let i = 0; i < 10; i++) addToCounter(g, 'x', 1);
  assert.ok(wire.untilSynced() > 0);
  assert.ok(
    wire.engines.every((g) => g.retainedDeltas > 0),
    'retained until confirmed',
  );
  wire.rounds(limits.gcRounds + 1);
  for (const g of wire.engines) assert.is(g.retainedDeltas, 0, `${g.nodeId} retains ${g.retainedDeltas}`);
});

function restartFrom(snapshot: Uint8Array, nodeId: string, incarnation: number): Gossip {
  const header = readSnapshotHeader(snapshot);
  assert.ok(header.ok);
  const g = engine(nodeId, { incarnation, start: false });
  restoreSnapshot(g, header.value.body);
  g.start(syncedWallMs);
  return g;
}

test('a restarted node rebases its section into a new incarnation that replaces the old one everywhere', () => {
  const wire = trio();
  const a = wire.engines[0] as Gossip;
  setVersion(a, 'agent', '1.0', syncedWallMs);
  addToCounter(a, 'reboots', 1);
  assert.ok(wire.untilSynced() > 0);
  const flash = encodeSnapshot(a, 1);
  setVersion(a, 'agent', 'lost-with-the-crash', syncedWallMs);
  assert.ok(wire.untilSynced() > 0);
  const restarted = restartFrom(flash, 'a', 2);
  wire.replace(restarted);
  addToCounter(restarted, 'reboots', 1);
  assert.ok(wire.untilSynced() > 0);
  assert.ok(wire.sameDocs());
  for (const g of wire.engines) {
    assert.is(g.doc.incarnation('a'), 2);
    assert.is(g.doc.version('a', 'agent'), '1.0', `${g.nodeId}: the unflushed write is gone everywhere`);
    assert.is(g.doc.counter('a', 'reboots'), 2);
    assert.not.ok(g.vv.known('a~1'), 'the old stream is retired');
    assert.is(g.vv.size, 1, 'one stream: only a wrote');
  }
});

test('a node that lost its flash learns its later incarnation from the mesh and starts above it', () => {
  const wire = new Wire([engine('a', { incarnation: 5 }), engine('b')]);
  const [a, b] = wire.engines as [Gossip, Gossip];
  setStatus(a, { online: true, uptimeS: 9, loadMilli: 0 }, syncedWallMs);
  assert.ok(wire.untilSynced() > 0);
  const fresh = engine('a', { incarnation: 1 });
  wire.replace(fresh);
  setStatus(fresh, { online: false, uptimeS: 0, loadMilli: 0 }, syncedWallMs);
  wire.rounds(3);
  assert.is(fresh.ownIncarnationSeen, 5);
  assert.is(b.doc.status('a')?.uptimeS, 9, 'the stale incarnation is ignored');
  const next = engine('a', { incarnation: fresh.ownIncarnationSeen + 1, start: false });
  handOver(fresh, next);
  next.start(syncedWallMs);
  wire.replace(next);
  assert.ok(wire.untilSynced() > 0);
  assert.is(b.doc.incarnation('a'), 6);
  assert.is(b.doc.status('a')?.online, false);
});

// Random operations at random nodes, datagrams dropped, duplicated and delivered out of order; then the
// network heals and the nodes must converge to one document.
test('random interleavings with loss, duplication and reordering converge', () => {
  const eventArb = fc.oneof(
    fc.record({ kind: fc.constant('op' as const), node: fc.nat(3), action: fc.nat(4), value: fc.nat(50) }),
    fc.record({ kind: fc.constant('tick' as const), node: fc.nat(3) }),
    fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat(), fate: fc.nat(9) }),
  );
  fc.assert(
    fc.property(fc.array(eventArb, { maxLength: 80 }), (events) => {
      const wire = new Wire(['a', 'b', 'c', 'd'].map((id) => engine(id)));
      const queue: Sent[] = [];
      const send = (from: string, out: ReturnType<Gossip['tick']>) => {
        for (const m of out) queue.push({ from, to: m.to, bytes: m.bytes });
      };
      for (const e of events) {
        if (e.kind === 'op') {
          const g = wire.engines[e.node] as Gossip;
          if (e.action === 0) setStatus(g, { online: e.value % 2 === 0, uptimeS: e.value, loadMilli: 0 }, wire.wallMs);
          else if (e.action === 1) setNeighbour(g, `n${e.value % 5}`, { tq: e.value, rttMs: 1 }, wire.wallMs);
          else if (e.action === 2) setVersion(g, `v${e.value % 3}`, `${e.value}`, wire.wallMs);
          else addToCounter(g, `k${e.value % 3}`, e.value - 25);
        } else if (e.kind === 'tick') {
          const g = wire.engines[e.node] as Gossip;
          send(g.nodeId, g.tick(wire.wallMs));
        } else if (queue.length > 0) {
          const [s] = queue.splice(e.pick % queue.length, 1) as [Sent];
          if (e.fate >= 7) continue; // lost
          if (e.fate === 6) queue.push(s); // duplicated
          send(s.to, wire.byId.get(s.to)!.receive(s.bytes, wire.wallMs, s.from));
        }
      }
      assert.ok(wire.untilSynced(40) > 0, 'converged after healing');
      assert.ok(wire.sameDocs(), 'identical documents');
      for (const g of wire.engines)
        assert.equal(
          Object.keys(g.counters.snapshot()).filter((k) => k.startsWith('refused:')),
          [],
        );
    }),
    { numRuns: 25 },
  );
});

test('a small seeded mesh with a partition and restarts converges (the 1,000-node simulation in miniature)', () => {
  const sim = new MeshSim({
    ...defaultSim,
    seed: 7,
    nodes: 16,
    avgDegree: 5,
    updatesPerSecond: 8,
    updatesUntilMs: 4_000,
    restartsPerSecond: 1,
    partition: { startMs: 1_000, healMs: 3_000 },
  });
  sim.start();
  sim.runUntil(4_000);
  assert.ok(sim.runToConvergence(60_000) >= 0, 'converged');
  const docs = sim.nodes.map((g) => JSON.stringify(g.doc.toWire(), (_k, v) => (v instanceof Uint8Array ? [...v] : v)));
  assert.ok(
    docs.every((d) => d === docs[0]),
    'identical documents',
  );
  assert.ok(sim.restarts >= 2);
});

test.run();
