// One simulated hour of a node persisting its mesh document through FlushPolicy and StateStore (files in
// memory), with other nodes' deltas arriving at a steady rate and its own writes now and then: how many
// flash writes and bytes that costs, and whether a restart gets the state back. Used by
// persist-flash.node.test.ts (the bound) and bench/crdt.bench.ts (the figures).
import type { Gossip } from '../../src/core/gossip/gossip.js';
import { addToCounter, setNeighbour, setStatus } from '../../src/core/gossip/local.js';
import { encodeSnapshot, FlushPolicy } from '../../src/core/gossip/persist.js';
import { restoreInto, StateStore } from '../../src/gossip/store.js';
import { encodeCbor } from '../../src/core/wire/cbor.js';
import { engine, syncedWallMs, Wire } from './harness.js';
import { MemFiles } from './mem-files.js';

export interface FlashHour {
  readonly remoteDeltasPerSecond: number;
  readonly appends: number;
  readonly snapshots: number;
  readonly bytes: number;
  readonly droppedRecords: number;
  readonly sections: number;
  /** The restarted node's document (other sections) equals the live one. */
  readonly restoredOthers: boolean;
  readonly restoredOwnCounter: boolean;
}

export function flashHour(remoteNodes: number, remoteEveryS: number, ownEveryS = 60, seconds = 3600): FlashHour {
  const files = new MemFiles();
  const store = new StateStore(files, '/flash');
  const sink: { policy: FlushPolicy | null } = { policy: null };
  const a = engine('a', { onRecord: (r, own) => sink.policy?.add(r, own) });
  let generation = 1;
  const first = encodeSnapshot(a, generation);
  store.writeSnapshot(first, generation);
  const policy = (sink.policy = new FlushPolicy(0, first.length));
  const remotes = Array.from({ length: remoteNodes }, (_, i) => engine(`r${i}`));
  const peers: Record<string, string[]> = { a: remotes.map((r) => r.nodeId) };
  for (const r of remotes) peers[r.nodeId] = ['a'];
  const wire = new Wire([a, ...remotes], peers);
  for (let s = 1; s <= seconds; s++) {
    wire.wallMs = syncedWallMs + s * 1000;
    remotes.forEach((r, i) => {
      if ((s + i) % remoteEveryS === 0) setStatus(r, { online: true, uptimeS: s, loadMilli: i }, wire.wallMs);
      if ((s + i) % (remoteEveryS * 10) === 0) setNeighbour(r, 'a', { tq: s % 256, rttMs: 3 }, wire.wallMs);
    });
    if (s % ownEveryS === 0) addToCounter(a, 'uptime-minutes', 1);
    for (const g of wire.engines) wire.deliver(g.nodeId, g.tick(wire.wallMs));
    const due = policy.next(s * 1000);
    if (due === 'append') store.append(policy.takeAppend(s * 1000), generation);
    else if (due === 'snapshot') {
      generation += 1;
      const bytes = encodeSnapshot(a, generation);
      store.writeSnapshot(bytes, generation);
      policy.snapshotWritten(s * 1000, bytes.length);
    }
  }
  if (policy.buffered > 0) store.append(policy.takeAppend(seconds * 1000), generation);
  const restarted = restartFrom(files);
  const others = (g: Gossip) =>
    encodeCbor(
      [...g.doc.sections.keys()]
        .filter((k) => k !== 'a')
        .sort()
        .map((k) => [k, g.doc.incarnation(k), g.doc.status(k), [...g.doc.neighbours(k)]]),
    );
  return {
    remoteDeltasPerSecond: remoteNodes / remoteEveryS + remoteNodes / (remoteEveryS * 10),
    appends: store.writes.log,
    snapshots: store.writes.snapshot,
    bytes: store.bytesWritten.log + store.bytesWritten.snapshot,
    droppedRecords: policy.stats.droppedRecords,
    sections: a.doc.sections.size,
    restoredOthers:
      others(restarted).every((x, i) => x === others(a)[i]) && others(restarted).length === others(a).length,
    restoredOwnCounter: restarted.doc.counter('a', 'uptime-minutes') === a.doc.counter('a', 'uptime-minutes'),
  };
}

function restartFrom(files: MemFiles): Gossip {
  const loaded = new StateStore(files, '/flash').load();
  const g = engine('a', { incarnation: (loaded.header?.incarnation ?? 0) + 1, start: false });
  restoreInto(g, loaded);
  g.start(syncedWallMs);
  return g;
}
