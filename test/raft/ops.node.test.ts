// Offline operations on real `x0 raft serve` processes' data directories: snapshot save and restore (KV and
// membership survive the round trip; a running node's directory is refused), and force-new-cluster after losing two
// of three nodes: the survivor's committed data makes a working one-member cluster that takes new members back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x0 } from '../identity/cli-lib.js';
import { RaftClient } from '../../src/raft/client.js';
import { ProcCluster, type ProcNode } from './procs.js';

const keys = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}/${i}`);

/** Commit indexes reach a follower's disk with its next append: two more writes make the earlier ones durable. */
async function barrier(client: Awaited<ReturnType<ProcCluster['client']>>, tag: string): Promise<void> {
  for (const key of [`${tag}/1`, `${tag}/2`]) assert.ok((await client.write({ op: 'put', key, value: 'x' })).ok);
}

/** A client of the live nodes only (the client tries each node in turn; a dead one costs a timeout per request). */
const clientOf = (cluster: ProcCluster, ids: readonly number[]): Promise<RaftClient> =>
  RaftClient.open(cluster.platform, new Map([...cluster.peers].filter(([id]) => ids.includes(id))), {
    attemptTimeoutMs: 500,
    attempts: 40,
  });

/** Launches node with extra arguments (a joining node is started with the cluster's current voters). */
function launchWith(cluster: ProcCluster, node: ProcNode, extra: string[]): void {
  const [cmd, ...args] = [...cluster.argv(node), ...extra];
  const child = spawn(cmd as string, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  node.child = child;
  node.output = '';
  child.stdout?.on('data', (c) => {
    node.output += c;
  });
  child.stderr?.on('data', (c) => {
    node.output += c;
  });
}

test('snapshot save and restore keep the KV store and the membership; a running node is refused', async () => {
  const cluster = new ProcCluster('node', 3);
  await cluster.start();
  const client = await cluster.client();
  const file = join(tmpdir(), `x0-raft-snapshot-${process.pid}.snap`);
  try {
    await cluster.waitForLeader(client, 20_000);
    for (const key of keys('before', 25)) assert.ok((await client.write({ op: 'put', key, value: key })).ok);
    await barrier(client, 'barrier');
    const leader = await cluster.waitForLeader(client, 5_000);
    const node1 = cluster.nodes[0] as ProcNode;
    await cluster.waitForApplied(client, 1, leader.commit, 10_000);
    const busy = await x0('raft', 'snapshot', 'save', '--state-dir', node1.dataDir, '--out', file);
    assert.is(busy.code, 1);
    assert.match(busy.err, /held by a running agent or x0 raft serve \(pid \d+\): stop it first/);
    // SIGKILL leaves its lock behind: a lock whose process is gone does not hold the directory.
    await cluster.kill(node1);
    const saved = await x0('raft', 'snapshot', 'save', '--state-dir', node1.dataDir, '--out', file);
    assert.is(saved.code, 0, saved.err);
    assert.match(saved.out, /voters 1,2,3/);
    assert.is((await x0('raft', 'snapshot', 'save', '--state-dir', node1.dataDir, '--out', file)).code, 1);
    cluster.launch(node1);
    for (const key of keys('later', 5)) assert.ok((await client.write({ op: 'put', key, value: key })).ok);
    for (const node of cluster.nodes) await cluster.kill(node);
    const refused = await x0('raft', 'snapshot', 'restore', file, '--state-dir', node1.dataDir);
    assert.is(refused.code, 1);
    assert.match(refused.err, /holds Raft state \(--force replaces it/);
    const damaged = await x0('raft', 'snapshot', 'restore', `${file}.missing`, '--state-dir', node1.dataDir);
    assert.match(damaged.err, /file-missing/);
    for (const node of cluster.nodes) {
      const restored = await x0('raft', 'snapshot', 'restore', file, '--state-dir', node.dataDir, '--force');
      assert.is(restored.code, 0, restored.err);
    }
    for (const node of cluster.nodes) cluster.launch(node);
    const again = await cluster.waitForLeader(client, 20_000);
    assert.equal(again.voters, [1, 2, 3]);
    for (const key of keys('before', 25)) assert.equal(await client.get(key), { ok: true, value: key });
    assert.equal(await client.get('later/0'), { ok: true, value: null }, 'written after the snapshot: gone');
    assert.ok((await client.write({ op: 'put', key: 'after-restore', value: 'y' })).ok);
  } finally {
    client.close();
    await cluster.stop();
    rmSync(file, { force: true });
  }
});

test('force-new-cluster after losing 2 of 3 nodes: the data survives, and new members can be added back', async () => {
  const cluster = new ProcCluster('node', 3);
  await cluster.start();
  const client = await cluster.client();
  try {
    await cluster.waitForLeader(client, 20_000);
    for (const key of keys('kept', 30)) assert.ok((await client.write({ op: 'put', key, value: key })).ok);
    await barrier(client, 'barrier');
    const leader = await cluster.waitForLeader(client, 5_000);
    const [n1, n2, n3] = cluster.nodes as [ProcNode, ProcNode, ProcNode];
    await cluster.waitForApplied(client, 3, leader.commit, 10_000);
    // Two nodes are lost for good; the survivor alone has no quorum.
    await cluster.kill(n1);
    await cluster.kill(n2);
    rmSync(n1.dataDir, { recursive: true, force: true });
    rmSync(n2.dataDir, { recursive: true, force: true });
    await cluster.kill(n3);
    const noYes = await x0('raft', 'force-new-cluster', '--state-dir', n3.dataDir, '--id', '3');
    assert.is(noYes.code, 2);
    assert.match(noYes.err, /--yes/);
    const forced = await x0('raft', 'force-new-cluster', '--state-dir', n3.dataDir, '--id', '3', '--yes');
    assert.is(forced.code, 0, forced.err);
    assert.match(forced.out, /one-member cluster \(voter 3\).*was voters 1,2,3/);
    cluster.launch(n3);
    const alone = await cluster.waitForLeader(client, 20_000);
    assert.is(alone.id, 3);
    assert.equal(alone.voters, [3]);
    const survivor = await clientOf(cluster, [3]);
    for (const key of keys('kept', 30)) assert.equal(await survivor.get(key), { ok: true, value: key });
    assert.ok((await survivor.write({ op: 'put', key: 'alone', value: 'z' })).ok);
    survivor.close();
    // A new node 1 with empty state, started with the cluster's current voters, is added back: learner, then voter.
    launchWith(cluster, n1, ['--voters', '3']);
    const learner = await client.admin('add-learner', 1);
    assert.ok(learner.ok && learner.value, JSON.stringify(learner));
    const now = await cluster.waitForLeader(client, 5_000);
    await cluster.waitForApplied(client, 1, now.commit, 15_000);
    const promoted = await client.admin('add-voter', 1);
    assert.ok(promoted.ok && promoted.value, JSON.stringify(promoted));
    const status = await cluster.waitForApplied(client, 1, now.commit + 1, 15_000);
    assert.equal(status.voters, [1, 3]);
    assert.is(status.keys, (await cluster.status(client, 3))?.keys);
    // Two voters now: a write needs both, and succeeds.
    const both = await clientOf(cluster, [1, 3]);
    assert.ok((await both.write({ op: 'put', key: 'two', value: 'w' })).ok);
    both.close();
  } finally {
    client.close();
    await cluster.stop();
  }
});

test.run();
