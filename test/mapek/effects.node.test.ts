// MAPE-K actions with their real effect, through the real Executor (issue 17), for the actions that need
// neither batman-adv (the QEMU lab's heal scenario) nor XDP (test/xdp/mapek-actions.node.test.ts):
//   transfer-leadership  three real RaftServers on loopback: another voter leads within a bound.
//   restart-component    a real agent (in this process, the Node twin) with its own MapekComponent's Executor:
//                        the component's restarts counter rises and it is up again, the others untouched.
//   bounce-interface     ip link down/up (no netifd) on a veth in a network namespace: it goes down and comes
//                        back UP; an interface that does not exist is a failure with a reason. Root only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, readConfig } from '../../src/agent/agent.js';
import { Executor } from '../../src/mapek/executor.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { RaftServer } from '../../src/raft/server.js';
import { freePort } from '../lib/processes.js';
import { enrol, requireTools, startUbusd, until, writeUci, type Process } from '../agent/lib.js';

const platform = createNodePlatform();
const dir = mkdtempSync(join(tmpdir(), 'x0-mapek-effects-'));
const running: Process[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An Executor for what a test acts on; the parts it does not touch are absent (null / refusing). */
function executor(over: Partial<ConstructorParameters<typeof Executor>[0]>): Executor {
  return new Executor({
    platform,
    primaryInterface: () => null,
    batctl: 'batctl',
    meshif: 'bat0',
    xdp: () => null,
    raft: () => null,
    restart: () => ({ ok: false, reason: 'unknown-component' }),
    ubus: 'ubus',
    ip: 'ip',
    ...over,
  });
}

test.after(() => {
  for (const p of running) p.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('transfer-leadership: on the leader of three real RaftServers, another voter leads within 1 s', async () => {
  const ports = [await freePort(), await freePort(), await freePort()];
  const peers = new Map(ports.map((port, i) => [i + 1, { host: '127.0.0.1', port }] as const));
  const servers: RaftServer[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const started = await RaftServer.start(platform, {
        id: i + 1,
        peers,
        dataDir: join(dir, `raft-${i + 1}`),
        tickMs: 50,
        electionTicks: 10,
        heartbeatTicks: 1,
      });
      if (!started.ok) throw new Error(`raft ${i + 1}: ${started.reason} ${started.detail}`);
      servers.push(started.value);
    }
    const leaderOf = () => servers.find((s) => s.status().role === 'leader');
    const leader = await until('a Raft leader', 10_000, async () => leaderOf());
    // A write committed on all three, so every voter's log is current (a transfer waits for its target).
    const put = await leader.submitLocal({
      op: 'write',
      client: 7,
      seq: 1,
      command: { op: 'put', key: 'k', value: 'v' },
    });
    assert.ok(put?.ok, 'a write commits');
    await until('every voter applied it', 5_000, async () =>
      servers.every((s) => s.status().applied >= leader.status().commit),
    );
    const before = leader.status();
    const follower = servers.find((s) => s !== leader) as RaftServer;
    const refused = await executor({ raft: () => follower }).execute({ kind: 'transfer-leadership', from: '0' });
    assert.equal([refused.ok, refused.reason], [false, 'not-leader'], 'a follower has no leadership to move');
    const t0 = Date.now();
    const r = await executor({ raft: () => leader }).execute({ kind: 'transfer-leadership', from: String(before.id) });
    assert.ok(r.ok, `transfer: ${r.reason} ${r.detail}`);
    const target = Number(/voter (\d+)/.exec(r.detail)?.[1]);
    const next = await until('another voter leads', 3_000, async () => {
      const l = leaderOf();
      return l !== undefined && l !== leader ? l : null;
    });
    const tookMs = Date.now() - t0;
    assert.ok(tookMs < 1_000, `leadership moved in ${tookMs} ms (bound 1 s)`);
    assert.is(next.status().id, target, 'the voter the Executor named leads');
    assert.ok(next.status().term > before.term, 'in a new term');
    assert.is(leader.status().role, 'follower', 'the old leader follows');
    assert.is(leader.status().lead, target);
    console.log(`    transfer-leadership: ${before.id} -> ${target} in ${tookMs} ms`);
  } finally {
    for (const s of servers) s.stop();
  }
});

test("restart-component: the agent's own Executor restarts one component; it is up again, the others untouched", async () => {
  requireTools();
  await enrol(dir, 'test.x0', ['solo']);
  const socket = join(dir, 'solo.sock');
  const ubusd = startUbusd(socket);
  running.push(ubusd);
  const port = await freePort();
  const path = writeUci(
    join(dir, 'solo.uci'),
    `config agent 'main'
	option node_name 'solo'
	option role 'anchor'
	option state_dir '${dir}/solo/state'
	option trust_domain 'test.x0'
	option listen '127.0.0.1:${port}'
	option ubus_socket '${socket}'
	option log_level 'error'
`,
  );
  const loaded = readConfig(platform, path, 'solo');
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('; '));
  const agent = new Agent(platform, loaded.value, { configPath: path, hostname: 'solo', runForMs: null });
  agent.start();
  try {
    const up = ['identity', 'link', 'gossip', 'raft', 'mapek', 'ubus'];
    const before = await until('the agent running', 15_000, async () => {
      const s = agent.supervisor.snapshot();
      return up.every((name) => s[name]?.state === 'up') ? s : null;
    });
    // The Executor the agent's MapekComponent built, wired to the agent's supervisor as in src/agent/agent.ts.
    const components = (agent as unknown as { components: Map<string, unknown> }).components;
    const mapek = components.get('mapek') as { executor: Executor | null };
    assert.ok(mapek.executor !== null, 'the mapek component has its Executor');
    const gossip = components.get('gossip');
    const r = await (mapek.executor as Executor).execute({ kind: 'restart-component', name: 'gossip' });
    assert.ok(r.ok, `restart: ${r.reason} ${r.detail}`);
    const after = await until('gossip restarted and up', 5_000, async () => {
      const s = agent.supervisor.snapshot();
      return s.gossip?.state === 'up' && s.gossip.restarts === (before.gossip?.restarts ?? 0) + 1 ? s : null;
    });
    assert.ok(components.get('gossip') === gossip, 'the same component, stopped and started again');
    for (const name of up.filter((n) => n !== 'gossip'))
      assert.equal([after[name]?.state, after[name]?.restarts], [before[name]?.state, before[name]?.restarts], name);
    const events = agent.ctx.journal.last(200).filter((e) => e.component === 'gossip');
    assert.ok(
      events.some((e) => JSON.stringify(e).includes('restart-mapek')),
      `the journal names why: ${JSON.stringify(events)}`,
    );
    const unknown = await (mapek.executor as Executor).execute({ kind: 'restart-component', name: 'nope' });
    assert.equal([unknown.ok, unknown.reason], [false, 'unknown-component']);
  } finally {
    agent.stop();
  }
});

// bounce-interface without netifd: `ip` in a network namespace of our own (a wrapper that adds `-n NS`; the
// command and what it changes are the real ones). Root only.
const rootReason = process.getuid?.() !== 0 ? 'needs root (network namespaces)' : null;
if (rootReason !== null) console.log(`effects.node.test.ts: bounce-interface SKIPPED (${rootReason})`);
(rootReason === null ? test : test.skip)(
  'bounce-interface (no netifd): the veth goes down and comes back UP; a missing interface fails with a reason',
  async () => {
    const ns = `x0mk${process.pid}`;
    const ipIn = (...args: string[]) => spawnSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });
    assert.is(spawnSync('ip', ['netns', 'add', ns]).status, 0, 'ip netns add');
    try {
      assert.is(ipIn('link', 'add', 'x0bo0', 'type', 'veth', 'peer', 'name', 'x0bo1').status, 0);
      ipIn('link', 'set', 'x0bo0', 'up');
      ipIn('link', 'set', 'x0bo1', 'up');
      const wrapper = join(dir, 'ip-in-ns');
      writeFileSync(wrapper, `#!/bin/sh\nexec ip -n ${ns} "$@"\n`);
      chmodSync(wrapper, 0o755);
      // Every change of the link, as the kernel announces it.
      const monitor = spawn('ip', ['-n', ns, '-o', 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let seen = '';
      monitor.stdout.on('data', (chunk) => {
        seen += chunk;
      });
      await sleep(200);
      // No ubus on PATH or no netifd behind it: the Executor falls back to ip link set down/up.
      const x = executor({ ubus: join(dir, 'no-ubus'), ip: wrapper });
      const r = await x.execute({ kind: 'bounce-interface', iface: 'x0bo0' });
      await sleep(200);
      monitor.kill('SIGTERM');
      assert.ok(r.ok, `bounce: ${r.reason} ${r.detail}`);
      assert.match(r.detail, /x0bo0 bounced \(ip link set down\/up \(no netifd\)\), up again/);
      const states = seen
        .split('\n')
        .filter((l) => /\bx0bo0[:@]/.test(l))
        .map((l) => (/<[^>]*\bUP\b[^>]*>/.test(l) ? 'up' : 'down'));
      assert.ok(states.indexOf('down') >= 0, `the interface went down: ${seen}`);
      assert.ok(states.lastIndexOf('up') > states.indexOf('down'), `and came back up: ${seen}`);
      assert.match(ipIn('link', 'show', 'dev', 'x0bo0').stdout, /[<,]UP[,>]/);
      const missing = await x.execute({ kind: 'bounce-interface', iface: 'x0nope' });
      assert.equal([missing.ok, missing.reason], [false, 'ip-link-failed']);
      assert.match(missing.detail, /x0nope|Cannot find device/);
      const bad = await x.execute({ kind: 'bounce-interface', iface: 'eth0; reboot' });
      assert.equal([bad.ok, bad.reason], [false, 'bad-interface']);
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  },
);

test.run();
