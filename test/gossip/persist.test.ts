// Persistence: log records and snapshots round-trip, a torn or corrupt log tail is cut off cleanly, and a
// node restarted from its store (snapshot + log, in memory here) has everything it flushed, in a new
// incarnation. Engine-neutral; the one-hour flash-wear figure is in persist-flash.node.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Gossip } from '../../src/core/gossip/gossip.js';
import { addToCounter, setNeighbour, setStatus, setVersion } from '../../src/core/gossip/local.js';
import {
  decodeLog,
  encodeRecord,
  encodeSnapshot,
  FlushPolicy,
  readSnapshotHeader,
  restoreSnapshot,
  type LogRecord,
} from '../../src/core/gossip/persist.js';
import { limits } from '../../src/core/gossip/limits.js';
import { concatBytes } from '../../src/core/gossip/codec.js';
import { encodeCbor } from '../../src/core/wire/cbor.js';
import { bytesEqual } from '../../src/core/wire/hex.js';
import { restoreInto, StateStore } from '../../src/gossip/store.js';
import { engine, syncedWallMs, Wire } from './harness.js';
import { revocationDoc } from './kinds.js';
import { MemFiles } from './mem-files.js';

const records: LogRecord[] = [
  {
    kind: 'delta',
    stream: 'b~1',
    seq: 1,
    wire: {
      s: [
        [1, 0, 'b~1'],
        [1, 2, 3],
      ],
    },
  },
  { kind: 'state', stream: 'c~2', seq: 4, bytes: new Uint8Array([0xa0]) },
  { kind: 'doc', wire: ['revocations', 1, new Uint8Array([1]), new Uint8Array(64)] },
];

test('log records round-trip; a torn or corrupt tail is cut off at the last good record', () => {
  const log = concatBytes(records.map(encodeRecord));
  const whole = decodeLog(log);
  assert.ok(whole.intact);
  assert.equal(encodeCbor(whole.records), encodeCbor(records));
  const torn = decodeLog(log.subarray(0, log.length - 3));
  assert.not.ok(torn.intact);
  assert.is(torn.records.length, 2);
  const corrupt = new Uint8Array(log);
  const at = encodeRecord(records[0]!).length + 12;
  corrupt[at] = (corrupt[at] as number) ^ 0x40;
  const cut = decodeLog(corrupt);
  assert.ok(cut.intact, 'a damaged record followed by good ones is not a torn tail');
  assert.is(cut.corrupt, 1, 'the damaged record is counted');
  assert.is(cut.records.length, 2, 'the records after the damaged one are kept');
  const tail = decodeLog(corrupt.subarray(0, encodeRecord(records[0]!).length + encodeRecord(records[1]!).length));
  assert.not.ok(tail.intact, 'damage in the last record is a torn tail');
  assert.is(tail.corrupt, 0);
  assert.not.ok(decodeLog(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])).intact, 'an absurd length is refused');
});

test('a snapshot restores the document, the version vector and the revocation list exactly', () => {
  const wire = new Wire(['a', 'b', 'c'].map((id) => engine(id)));
  const [a, b, c] = wire.engines as [Gossip, Gossip, Gossip];
  setStatus(a, { online: true, uptimeS: 3, loadMilli: 9 }, syncedWallMs);
  setNeighbour(b, 'a', { tq: 200, rttMs: 4 }, syncedWallMs);
  setVersion(c, 'agent', '0.1.0', syncedWallMs);
  addToCounter(c, 'reboots', 2);
  assert.is(a.offerDoc(revocationDoc(1, ['gone'])), null);
  assert.ok(wire.untilSynced() > 0);
  const header = readSnapshotHeader(encodeSnapshot(b, 7));
  assert.ok(header.ok);
  assert.is(header.value.generation, 7);
  assert.is(header.value.nodeId, 'b');
  const copy = engine('b', { incarnation: 2, start: false });
  const restored = restoreSnapshot(copy, header.value.body);
  assert.is(restored.sections, 3);
  assert.ok(bytesEqual(encodeCbor(copy.doc.toWire()), encodeCbor(b.doc.toWire())));
  assert.is(copy.vv.root(), b.vv.root());
  assert.is(copy.doc.revocations.version, 1);
  assert.not.ok(readSnapshotHeader(new Uint8Array([1, 2, 3])).ok, 'garbage is not a snapshot');
});

/** A node as GossipNode runs it, over a store: load, restore, start a new incarnation, snapshot. */
function boot(
  files: MemFiles,
  nodeId: string,
): { g: Gossip; store: StateStore; policy: FlushPolicy; generation: number; problems: string[] } {
  const store = new StateStore(files, '/state');
  const loaded = store.load();
  const sink: { policy: FlushPolicy | null } = { policy: null };
  const g = engine(nodeId, {
    incarnation: (loaded.header?.incarnation ?? 0) + 1,
    start: false,
    onRecord: (r, own) => sink.policy?.add(r, own),
  });
  const problems = restoreInto(g, loaded);
  g.start(syncedWallMs);
  const generation = (loaded.header?.generation ?? 0) + 1;
  const snapshot = encodeSnapshot(g, generation);
  store.writeSnapshot(snapshot, generation);
  sink.policy = new FlushPolicy(0, snapshot.length);
  return { g, store, policy: sink.policy, generation, problems };
}

test('a node restarted from its store has what it flushed, in a new incarnation; a torn tail loses only itself', () => {
  const files = new MemFiles();
  const first = boot(files, 'a');
  const b = engine('b');
  const wire = new Wire([first.g, b]);
  addToCounter(first.g, 'reboots', 1);
  setVersion(b, 'agent', '2.0', syncedWallMs);
  assert.ok(wire.untilSynced() > 0);
  assert.is(first.policy.next(limits.persistFlushMs - 1), null, 'no append before the flush interval');
  assert.is(first.policy.next(limits.persistFlushMs), 'append');
  first.store.append(first.policy.takeAppend(limits.persistFlushMs), first.generation);
  addToCounter(first.g, 'reboots', 40);
  first.store.append(encodeRecord({ kind: 'delta', stream: 'a~1', seq: 99, wire: { c: [] } }), first.generation);
  files.tear(`/state/log-${first.generation}.bin`, 5);

  const second = boot(files, 'a');
  assert.equal(second.problems, ['log-torn']);
  assert.is(second.g.incarnation, 2);
  assert.is(second.g.doc.counter('a', 'reboots'), 1, 'the flushed write survived; the unflushed one is gone');
  assert.is(second.g.doc.version('b', 'agent'), '2.0', "a peer's delta survived too");
  assert.is(second.g.doc.incarnation('a'), 2);
  assert.equal(files.list('/state'), ['snapshot.cbor'], 'the old log is gone; the new one starts empty');
});

test('a flash that refuses writes: the store returns the errno and changes nothing; the old state still loads', () => {
  const files = new MemFiles();
  const first = boot(files, 'a');
  first.store.append(encodeRecord({ kind: 'delta', stream: 'a~1', seq: 1, wire: { c: [] } }), first.generation);
  const before = new Map(files.data);
  files.failWith = 'ENOSPC';
  assert.is(first.store.append(new Uint8Array([1, 2, 3]), first.generation), 'ENOSPC');
  assert.is(first.store.writeSnapshot(new Uint8Array([1, 2, 3]), first.generation + 1), 'ENOSPC');
  assert.equal([...files.data.keys()].sort(), [...before.keys()].sort(), 'no file changed');
  for (const [path, bytes] of before) assert.equal(files.data.get(path), bytes, path);
  files.failWith = null;
  assert.equal(boot(files, 'a').problems, [], 'what was on flash before still loads');
});

test('a corrupt snapshot starts the node empty and says so', () => {
  const files = new MemFiles();
  files.writeAtomic('/state/snapshot.cbor', new Uint8Array([0x85, 1, 2]));
  const booted = boot(files, 'a');
  assert.equal(booted.problems, ['snapshot-malformed']);
  assert.is(booted.g.doc.sections.size, 0);
});

test('the flush policy batches: one append per interval, snapshots only when the log is large and the interval allows', () => {
  const policy = new FlushPolicy(0, 100);
  const record: LogRecord = { kind: 'delta', stream: 'b~1', seq: 1, wire: { c: [['k', [['b~1', 1, 0]]]] } };
  let appends = 0;
  let snapshots = 0;
  // One hour at 100 ms ticks, 50 records a second from other nodes.
  for (let t = 0; t <= 3_600_000; t += 100) {
    for (let k = 0; k < 5; k++) policy.add(record, false);
    const due = policy.next(t);
    if (due === 'append') {
      policy.takeAppend(t);
      appends += 1;
    } else if (due === 'snapshot') {
      policy.snapshotWritten(t, 50_000);
      snapshots += 1;
    }
  }
  assert.ok(
    appends + snapshots <= 3_600_000 / limits.persistFlushMs + 1,
    `${appends} appends + ${snapshots} snapshots`,
  );
  assert.ok(snapshots <= 3_600_000 / limits.snapshotIntervalMs, `${snapshots} snapshots`);
  assert.ok(snapshots >= 1, 'the log grew large enough for a snapshot');
  assert.ok(policy.stats.droppedRecords > 0, "past the buffer bound, other nodes' records are dropped");
  assert.ok(
    policy.stats.bytesWritten <= appends * limits.persistBufferBytesMax + (snapshots + 1) * 50_000,
    `${policy.stats.bytesWritten} bytes`,
  );
  const own = new FlushPolicy(0, 0);
  for (let k = 0; k < 2_000; k++) own.add(record, true);
  assert.is(own.stats.droppedRecords, 0, 'our own records are never dropped');
});

test.run();
