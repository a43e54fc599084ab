// Three real `x0 raft serve` processes on loopback UDP, on Node and on x0-runtime (the shipped bundle): they
// elect a leader, replicate writes, survive SIGKILL of the leader, and come back from disk with their state.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { bundlePath, runtimePath } from '../lib/processes.js';
import { ProcCluster, type Engine } from './procs.js';
import type { KvEvent } from '../../src/core/raft/kv.js';

const keys = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}/${i}`);

for (const engine of ['node', 'qjs'] as Engine[]) {
  test(`three ${engine} processes elect, replicate, survive the leader's death and restart from disk`, async () => {
    if (engine === 'qjs') {
      assert.ok(existsSync(runtimePath), `${runtimePath} is missing: run 'bash scripts/setup.sh'`);
      assert.ok(existsSync(bundlePath), `${bundlePath} is missing: run 'npm run build'`);
    }
    const cluster = new ProcCluster(engine, 3);
    await cluster.start();
    const client = await cluster.client();
    try {
      const first = await cluster.waitForLeader(client, 20_000);
      for (const key of keys('before', 20)) assert.ok((await client.write({ op: 'put', key, value: key })).ok);
      assert.equal(await client.get('before/7'), { ok: true, value: 'before/7' });
      const cas = await client.write({ op: 'cas', key: 'before/0', expected: 'before/0', value: 'swapped' });
      assert.equal(cas, { ok: true, value: { ok: true, prev: 'before/0' } });

      // Kill the leader: the other two elect a new one and keep serving.
      const dead = cluster.nodes[first.id - 1]!;
      await cluster.kill(dead);
      const second = await cluster.waitForLeader(client, 15_000, [first.id]);
      assert.ok(second.id !== first.id && second.term > first.term);
      for (const key of keys('after', 10)) assert.ok((await client.write({ op: 'put', key, value: key })).ok);
      assert.equal(await client.get('before/3'), { ok: true, value: 'before/3' });

      // The killed node restarts from its disk and catches up.
      cluster.launch(dead);
      const leaderNow = await cluster.waitForLeader(client, 15_000);
      await cluster.waitForApplied(client, dead.id, leaderNow.commit, 15_000);

      // Everyone dies at once; all restart from disk with the data intact.
      for (const node of cluster.nodes) await cluster.kill(node);
      for (const node of cluster.nodes) cluster.launch(node);
      const third = await cluster.waitForLeader(client, 20_000);
      assert.ok(third.term > second.term);
      const listed = await client.list('after/', 100);
      assert.ok(listed.ok);
      assert.equal(listed.ok ? listed.value.map(([k]) => k).sort() : [], keys('after', 10).sort());
      assert.equal(await client.get('before/0'), { ok: true, value: 'swapped' });
      assert.is((await cluster.status(client, third.id))?.keys, 30);
    } finally {
      client.close();
      await cluster.stop();
    }
  });
}

test('remote watch; a fourth process joins as a learner, catches up, is promoted; a voter is removed (Node)', async () => {
  const cluster = new ProcCluster('node', 4, [1, 2, 3]);
  await cluster.start();
  const client = await cluster.client();
  try {
    const leader = await cluster.waitForLeader(client, 20_000);
    const follower = [1, 2, 3].find((id) => id !== leader.id) as number;
    const events: KvEvent[] = [];
    const watching = await client.watch(follower, 'joined/', (e) => events.push(e));
    assert.ok(watching.ok);
    for (const key of keys('joined', 5)) assert.ok((await client.write({ op: 'put', key, value: key })).ok);
    for (let i = 0; i < 40 && events.length < 5; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(
      events.map((e) => e.key),
      keys('joined', 5),
      'a remote watch on a follower sees each change it applies',
    );
    if (watching.ok) watching.value.stop();
    assert.equal(
      (await cluster.status(client, 4))?.voters,
      [1, 2, 3],
      'the newcomer knows the founders but is not one',
    );
    assert.equal(await client.admin('add-learner', 4), { ok: true, value: true });
    const caughtUp = await cluster.waitForApplied(
      client,
      4,
      (await cluster.status(client, leader.id))?.commit ?? 0,
      15_000,
    );
    assert.equal(caughtUp.learners, [4]);
    let promoted = await client.admin('add-voter', 4);
    for (let i = 0; i < 40 && !promoted.ok; i++) {
      await new Promise((r) => setTimeout(r, 100)); // conf-pending / conf-learner-behind until the learner catches up
      promoted = await client.admin('add-voter', 4);
    }
    assert.ok(promoted.ok, promoted.ok ? '' : promoted.reason);
    const victim = [1, 2, 3].find((id) => id !== leader.id) as number;
    let removed = await client.admin('remove', victim);
    for (let i = 0; i < 40 && !removed.ok; i++) {
      await new Promise((r) => setTimeout(r, 100));
      removed = await client.admin('remove', victim);
    }
    assert.ok(removed.ok, removed.ok ? '' : removed.reason);
    assert.ok(!(await client.admin('remove', leader.id)).ok, 'the leader does not remove itself');
    assert.ok((await client.write({ op: 'put', key: 'after-changes', value: 'x' })).ok);
    const status = await cluster.waitForApplied(
      client,
      4,
      (await cluster.status(client, leader.id))?.commit ?? 0,
      15_000,
    );
    assert.equal(
      status.voters,
      [1, 2, 3, 4].filter((id) => id !== victim),
    );
    assert.equal(await client.get('joined/3'), { ok: true, value: 'joined/3' });
  } finally {
    client.close();
    await cluster.stop();
  }
});

test.run();
