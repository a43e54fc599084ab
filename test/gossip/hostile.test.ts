// Extreme but well-formed gossip messages (issue 16), the way test/raft/hostile.test.ts does it for Raft: every
// message type, each number at the edges of what the decoder accepts (0, 1, 2^31, 2^32, 2^48, 2^53 - 1, ...),
// streams of every member (the receiver's own included) with extreme incarnations and sequence numbers,
// timestamps at and past the clock horizon, the full-state message meant for the benchmark, from members and
// from a stranger, replayed and out of order, fed through the real codec into a running mesh. Whatever decodes
// must never reach an assertion of the engine, and must leave no durable state a node cannot live with:
// afterwards every node restarts from what it persisted (snapshot + log, the way GossipNode.open does), starts
// a greater incarnation when the mesh says so, and the mesh converges on every node's fresh status.
// Engine-neutral (also runs inside x0-runtime).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Gossip } from '../../src/core/gossip/gossip.js';
import { limits } from '../../src/core/gossip/limits.js';
import { setStatus } from '../../src/core/gossip/local.js';
import type { MeshDoc } from '../../src/core/gossip/mesh-doc.js';
import {
  encodeSnapshot,
  nextIncarnation,
  readSnapshotHeader,
  restoreSnapshot,
  type LogRecord,
} from '../../src/core/gossip/persist.js';
import { encodeCbor } from '../../src/core/wire/cbor.js';
import { engine, syncedWallMs, Wire } from './harness.js';

const max = Number.MAX_SAFE_INTEGER;
const extremes = [0, 1, 255, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 48, max - 1, max];
const members = ['a', 'b', 'c'];

const statusWire = (writer: string, l: number, c = 0, uptime = 1) => ({
  s: [
    [l, c, writer],
    [1, uptime, 0],
  ],
});

/** Field arrays of every type with extreme numbers, as `from` would send them to `to`. */
function variants(from: string, to: string, v: number, wallMs: number): unknown[][] {
  const out: unknown[][] = [];
  out.push([1, from, v, v, v], [1, from, 0, v, 0]);
  out.push([2, from, v, v, v, new Array(limits.digestBuckets).fill(v)], [2, from, v, 0, 0, []]);
  for (const node of [...members, 'x']) {
    for (const inc of [1, v]) {
      const stream = `${node}~${inc}`;
      out.push([3, from, [0, 1, 63], [[stream, Math.max(1, v)]], 1]);
      for (const seq of [1, 2, Math.max(1, v)]) {
        // A delta, a state in one chunk, and a timestamp at the edge of (or past) what the clock accepts.
        out.push([4, from, [[stream, seq, statusWire(stream, wallMs, Math.min(v, limits.hlcCounterMax), v)]]]);
        out.push([4, from, [[stream, seq, statusWire(stream, v, 0)]]]);
        out.push([4, from, [[stream, seq, encodeCbor(statusWire(stream, wallMs, 0, v)), 0, 1]]]);
      }
    }
    // The full-state message of the benchmark baseline, naming every node (the receiver too).
    for (const inc of [1, 2, v]) out.push([7, from, [[node, inc, statusWire(`${node}~${inc}`, wallMs)]]]);
  }
  out.push([6, from, Math.max(1, v), 0, 1, new Uint8Array([0xa0])]);
  out.push([4, from, [[`${to}~${Math.max(1, v)}`, 1, statusWire(`${to}~${Math.max(1, v)}`, wallMs)]]]);
  return out;
}

interface Node {
  g: Gossip;
  records: LogRecord[];
}

function makeNode(id: string, incarnation: number, wallMs: number, doc?: MeshDoc): Node {
  const records: LogRecord[] = [];
  const g = engine(id, {
    members,
    incarnation,
    wallMs,
    start: false,
    onRecord: (r) => records.push(r),
    ...(doc === undefined ? {} : { doc }),
  });
  return { g, records };
}

/** What GossipNode.open does: the snapshot, then the log replayed through the engine's checks, then start. */
function restart(node: Node, wallMs: number): Node {
  const header = readSnapshotHeader(encodeSnapshot(node.g, 1));
  assert.ok(header.ok, 'the snapshot of a node under attack reads back');
  const incarnation = nextIncarnation(header.value.incarnation, node.g.ownIncarnationSeen);
  assert.ok(incarnation !== null, `node ${node.g.nodeId} has no incarnation left after ${header.value.incarnation}`);
  const fresh = makeNode(node.g.nodeId, incarnation as number, wallMs);
  restoreSnapshot(fresh.g, header.value.body);
  for (const r of node.records) fresh.g.replay(r);
  fresh.g.start(wallMs);
  return fresh;
}

interface Outcome {
  readonly wire: Wire;
  readonly nodes: Map<string, Node>;
  readonly fed: number;
  readonly throws: string[];
}

let attacked: Outcome | null = null;
/** The attack runs once; the tests below look at its outcome (it is slow on QuickJS-ng). */
function attack(): Outcome {
  attacked ??= runAttack();
  return attacked;
}

function runAttack(): Outcome {
  const wallMs = syncedWallMs;
  const nodes = new Map(members.map((id) => [id, makeNode(id, 1, wallMs)]));
  for (const n of nodes.values()) n.g.start(wallMs);
  const wire = new Wire([...nodes.values()].map((n) => n.g));
  for (const n of nodes.values()) setStatus(n.g, { online: true, uptimeS: 1, loadMilli: 0 }, wallMs);
  wire.rounds(3);
  const throws: string[] = [];
  let fed = 0;
  for (const to of members) {
    for (const v of extremes) {
      for (const from of [...members.filter((m) => m !== to), 'x']) {
        for (const fields of variants(from, to, v, wire.wallMs)) {
          const node = nodes.get(to) as Node;
          fed++;
          try {
            wire.deliver(to, node.g.receive(encodeCbor(fields), wire.wallMs, from));
            // Replayed, then interleaved with the node's own writes and rounds.
            if (fed % 7 === 0) wire.deliver(to, node.g.receive(encodeCbor(fields), wire.wallMs, from));
            if (fed % 11 === 0) setStatus(node.g, { online: true, uptimeS: fed, loadMilli: 0 }, wire.wallMs);
            if (fed % 13 === 0) wire.tick(1);
          } catch (error) {
            throws.push(
              `${JSON.stringify(fields, (_, x) => (x instanceof Uint8Array ? `bytes(${x.length})` : x))} to ${to}: ${(error as Error).message}`,
            );
          }
        }
      }
    }
  }
  return { wire, nodes, fed, throws };
}

test('no extreme but well-formed message of any type reaches an assertion of the engine', () => {
  const { fed, throws } = attack();
  assert.ok(fed > 3000, `only ${fed} messages fed`);
  assert.is(throws.length, 0, `${throws.length} of ${fed} messages threw, first:\n${throws.slice(0, 6).join('\n')}`);
});

test('the full-state message of the benchmark is refused from the network by a delta node', () => {
  const a = engine('a', { members });
  setStatus(a, { online: true, uptimeS: 1, loadMilli: 0 }, syncedWallMs);
  const forged = encodeCbor([7, 'b', [['c', 9, statusWire('c~9', syncedWallMs)]]]);
  a.receive(forged, syncedWallMs, 'b');
  assert.is(a.counters.get('refused:full-state-refused'), 1, JSON.stringify(a.counters.snapshot()));
  assert.is(a.doc.sections.has('c'), false, 'nothing of it was merged');
});

test('after the attack every node restarts from what it persisted, and the mesh converges', () => {
  const { nodes } = attack();
  const wallMs = syncedWallMs + 60_000;
  const restarted = [...nodes.values()].map((n) => restart(n, wallMs));
  for (const n of restarted) {
    assert.ok(n.g.incarnation <= limits.incarnationMax, `${n.g.nodeId} at incarnation ${n.g.incarnation}`);
    setStatus(n.g, { online: true, uptimeS: 4242, loadMilli: 7 }, wallMs);
  }
  const wire = new Wire(restarted.map((n) => n.g));
  wire.wallMs = wallMs;
  for (let round = 0; round < 40; round++) {
    wire.rounds(1);
    // A node the mesh told of a later life of itself restarts above it (GossipNode.reincarnate).
    for (const [i, n] of restarted.entries()) {
      if (n.g.ownIncarnationSeen <= n.g.incarnation) continue;
      const next = restart(n, wire.wallMs);
      setStatus(next.g, { online: true, uptimeS: 4242, loadMilli: 7 }, wire.wallMs);
      restarted[i] = next;
      wire.replace(next.g);
    }
  }
  for (const n of restarted)
    for (const id of members)
      assert.is(n.g.doc.status(id)?.uptimeS, 4242, `${n.g.nodeId} sees ${id}'s fresh status after the attack`);
});

test('an own incarnation far ahead of the clock is refused, and the incarnation space is never exhausted', () => {
  const a = engine('a', { members });
  a.receive(encodeCbor([4, 'b', [['a~4294967295', 1, statusWire('a~4294967295', syncedWallMs)]]]), syncedWallMs, 'b');
  assert.is(a.ownIncarnationSeen, 0, 'an incarnation beyond what the clock allows is not believed');
  assert.is(a.counters.get('refused:incarnation-future'), 1, JSON.stringify(a.counters.snapshot()));
  assert.is(nextIncarnation(limits.incarnationMax, 0), null, 'no incarnation above the maximum');
  assert.is(nextIncarnation(5, 9), 10);
  assert.is(nextIncarnation(5, 2), 6);
  const header = readSnapshotHeader(encodeCbor([1, 1, 'a', 2 ** 40, [], null, []]));
  assert.not.ok(header.ok, 'a snapshot with an incarnation past the maximum is refused');
});

test.run();
