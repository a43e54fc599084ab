// The registrar's mark of a spent token: a compare-and-set in the Raft store under the registrar's one client id.
// The store keeps one session per client (Raft thesis §6.3) and answers a sequence number below the session's
// latest with kv-stale-seq, so the registrar must have one request in flight at a time. Two nodes enrolling at
// one anchor in the first second (no leader yet: the first try gets no answer) once interleaved and the older
// request read kv-stale-seq as token-used (the main job, 1 run in 5). Here: the real KvStore behind a fake server.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RegistrarComponent } from '../../src/agent/components/registrar.js';
import type { AgentContext } from '../../src/agent/context.js';
import { encodeRequest, KvStore } from '../../src/core/raft/kv.js';
import { createNodePlatform } from '../../src/platform/node/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('two tokens marked at once at one anchor, the first try unanswered: both marked, one request at a time', async () => {
  const kv = new KvStore();
  let index = 0;
  let calls = 0;
  let inFlight = 0;
  let inFlightMax = 0;
  const raft = {
    async submitLocal(op: {
      client: number;
      seq: number;
      command: { op: 'cas'; key: string; expected: null; value: string };
    }) {
      calls++;
      inFlight++;
      inFlightMax = Math.max(inFlightMax, inFlight);
      try {
        if (calls === 1) {
          await sleep(50); // no leader yet: no answer
          return null;
        }
        await sleep(10);
        return {
          ok: true,
          write: kv.apply(++index, encodeRequest({ client: op.client, seq: op.seq, command: op.command })),
        };
      } finally {
        inFlight--;
      }
    },
  };
  const ctx = { platform: createNodePlatform({ argv: [] }), raft } as unknown as AgentContext;
  const registrar = new RegistrarComponent(ctx) as unknown as {
    markUsed(key: string, value: string): Promise<{ ok: boolean; prev: string | null } | null>;
  };
  const [delta, echo] = await Promise.all([
    registrar.markUsed('used/t-delta', 'delta key-d'),
    registrar.markUsed('used/t-echo', 'echo key-e'),
  ]);
  assert.is(delta?.ok, true, JSON.stringify(delta));
  assert.is(echo?.ok, true, JSON.stringify(echo));
  assert.is(inFlightMax, 1, 'one compare-and-set in flight at a time');
});

test.run();
