// Extreme but well-formed Raft messages: every message type, with each number at the edges of what the decoder
// accepts (0, 1, 2^31, 2^32, 2^48, 2^52, 2^53 - 1, ...), from members and from an unknown id, fed through the real
// codec into every node of a cluster while it runs. Whatever decodes must never reach an assertion of the core,
// and must not leave a durable state a node cannot live with: afterwards every node restarts from its disk and
// the cluster elects a leader that commits. Engine-neutral (also runs inside x0-runtime).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromFields } from '../../src/core/raft/codec.js';
import { encodeConf } from '../../src/core/raft/conf.js';
import type { Message } from '../../src/core/raft/types.js';
import { bytes, TestNet } from './net.js';

const extremes = [
  0,
  1,
  2,
  255,
  65_535,
  2 ** 31,
  2 ** 32,
  2 ** 48,
  2 ** 52,
  Number.MAX_SAFE_INTEGER - 1,
  Number.MAX_SAFE_INTEGER,
];
const strangerId = 65_535;

/** Field arrays ([code, term, from, to, ...]) of one type, with numbers taken from `v` or from the node's state. */
function variants(
  code: number,
  terms: readonly number[],
  from: number,
  to: number,
  v: number,
  last: number,
): unknown[][] {
  const hs = (t: number): unknown[] => [code, t, from, to];
  const out: unknown[][] = [];
  for (const t of terms) {
    switch (code) {
      case 1:
      case 3: // prevote, vote: lastIndex, lastTerm, transfer
        out.push([...hs(t), v, v, false], [...hs(t), v, t, true], [...hs(t), last, v, false]);
        break;
      case 2:
      case 4: // prevote-resp, vote-resp
        out.push([...hs(t), false], [...hs(t), true]);
        break;
      case 5: // app: prevIndex, prevTerm, commit, entries
        out.push(
          [...hs(t), v, Math.min(v, t), v, []],
          [...hs(t), last, 0, v, []],
          [...hs(t), last, Math.min(v, t), v, [[last + 1, t, 0, bytes('x')]]],
        );
        out.push([...hs(t), v, t, v, [[v + 1, t, 1, encodeConf({ voters: [1, 2, 3], learners: [] })]]]);
        break;
      case 6: // app-resp: index, reject, hintIndex, hintTerm
        out.push([...hs(t), v, false, 0, 0], [...hs(t), v, true, v, v], [...hs(t), last, true, v, 0]);
        break;
      case 7: // heartbeat: commit, ctx
        out.push([...hs(t), v, v], [...hs(t), last, 0]);
        break;
      case 8: // heartbeat-resp: ctx
        out.push([...hs(t), v]);
        break;
      case 9: // snap: index, term, voters, learners, offset, total, chunk
        out.push(
          [...hs(t), v, Math.min(v, t), [1, 2, 3], [], 0, 3, bytes('abc')],
          [...hs(t), v, t, [1, 2, 3], [], v, v, bytes('abc')],
        );
        out.push(
          [...hs(t), v, 1, [strangerId], [], 0, 1, bytes('z')],
          [...hs(t), last + 1, t, [], [1, 2, 3], 0, 1, bytes('z')],
        );
        break;
      case 10: // snap-resp: index, offset, reject
        out.push([...hs(t), v, v, false], [...hs(t), v, 0, true]);
        break;
      case 11: // timeout-now
        out.push(hs(t));
        break;
      case 12: // read-index: id
        out.push([...hs(t), v]);
        break;
      case 13: // read-index-resp: id, index, reject
        out.push([...hs(t), v, v, false], [...hs(t), 1, v, false]);
        break;
    }
  }
  return out;
}

interface Outcome {
  readonly net: TestNet;
  readonly fed: number;
  readonly throws: string[];
}

/**
 * Feeds every decodable extreme message to every node, ticking now and then so roles change under it: first at
 * the terms the cluster is in (so leaders, candidates and followers see them), then with extreme terms too.
 */
function attack(): Outcome {
  const net = new TestNet([1, 2, 3]);
  net.wire = true;
  net.elect();
  net.tick(3);
  const throws: string[] = [];
  let fed = 0;
  for (const pass of ['current terms', 'extreme terms'])
    for (const to of [1, 2, 3]) {
      for (let code = 1; code <= 13; code++) {
        // Each type meets a leader, its followers and (through the ticks) candidates: elect again if it was deposed.
        try {
          if (net.leader() === null) net.elect(300);
        } catch (error) {
          throws.push(`no leader before type ${code}: ${(error as Error).message}`);
        }
        for (const v of extremes) {
          for (const from of [(to % 3) + 1, strangerId]) {
            const raft = net.node(to);
            const terms = pass === 'current terms' ? [raft.term, raft.term + 1] : [v];
            for (const fields of variants(code, terms, from, to, v, raft.log.lastIndex())) {
              const decoded = fromFields(fields);
              if (!decoded.ok) continue;
              fed++;
              try {
                net.node(to).step(decoded.value as Message);
                net.deliver(200);
                if (fed % 40 === 0) net.tick(1);
              } catch (error) {
                throws.push(
                  `${JSON.stringify(fields, (_, x) => (x instanceof Uint8Array ? `bytes(${x.length})` : x))} to node ${to}: ${(error as Error).message}`,
                );
                net.queue = [];
              }
            }
          }
        }
      }
    }
  return { net, fed, throws };
}

test('no extreme but well-formed message of any type reaches an assertion of the core', () => {
  const { fed, throws } = attack();
  throws.sort((a, b) => Number(a.startsWith('no leader')) - Number(b.startsWith('no leader')));
  assert.ok(fed > 1000, `only ${fed} messages decoded`);
  assert.is(throws.length, 0, `${throws.length} of ${fed} messages threw, first:\n${throws.slice(0, 8).join('\n')}`);
});

test('after them every node restarts from its disk, and the cluster elects a leader that commits', () => {
  const { net } = attack();
  net.queue = [];
  for (const id of [1, 2, 3]) {
    const raft = net.restart(id);
    assert.ok(Number.isSafeInteger(raft.term + 1), `node ${id} restarted at term ${raft.term}: no room to campaign`);
  }
  const leader = net.elect(300);
  const proposed = leader.propose(bytes('after the attack'));
  assert.ok(proposed.ok, proposed.ok ? '' : proposed.reason);
  net.tick(3);
  const index = proposed.ok ? proposed.value : -1;
  const holding = [1, 2, 3].filter((id) => net.node(id).log.committed >= index);
  assert.ok(holding.length >= 2, `committed on ${holding.length} node(s); undecodable messages: ${net.undecodable}`);
});

test.run();
