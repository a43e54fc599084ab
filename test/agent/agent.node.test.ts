// `x0 agent --config FILE` on x0-runtime, end to end with OpenWrt's real ubusd and ubus CLI: what the ubus object
// reports, a component failing (its port taken) restarted with backoff while the others run, restart and reload
// over ubus and SIGHUP, a refused registration, an agent that is not enrolled yet, and invalid files refused with
// one line per error and exit code 2.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as dgram from 'node:dgram';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundlePath, freePort, run, runtimePath } from '../lib/processes.js';
import { neighboursTable, originatorsTable } from '../batman/recorded.js';
import { enrol, requireTools, startAgent, startUbusd, ubusCall, until, writeUci, type Process } from './lib.js';

const dir = mkdtempSync(join(tmpdir(), 'x0-agent-'));
const running: Process[] = [];
const keep = (p: Process): Process => {
  running.push(p);
  return p;
};

test.before(async () => {
  requireTools();
  await enrol(dir, 'test.x0', ['solo', 'twin', 'fresh']);
});
test.after(() => {
  for (const p of running) p.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

// batctl replaced by a script that prints what the real one printed in the lab (test/batman/recorded.ts); the
// lab's scenarios run the agent against the real batctl and batman-adv.
function fakeBatctl(): string {
  const path = join(dir, 'batctl');
  writeFileSync(join(dir, 'neighbours.txt'), neighboursTable);
  writeFileSync(join(dir, 'originators.txt'), originatorsTable);
  writeFileSync(
    path,
    `#!/bin/sh
case "$*" in
  "meshif bat0 neighbors -H") cat '${dir}/neighbours.txt' ;;
  "meshif bat0 originators") cat '${dir}/originators.txt' ;;
  *) echo "Error - interface $2 is not present or not a batman-adv interface" >&2; exit 1 ;;
esac
`,
  );
  chmodSync(path, 0o755);
  return path;
}

function soloConfig(port: number, extra = '', logLevel = 'info'): string {
  return `config agent 'main'
	option node_name 'solo'
	option role 'anchor'
	option state_dir '${dir}/solo/state'
	option trust_domain 'test.x0'
	option listen '127.0.0.1:${port}'
	option ubus_socket '${dir}/solo.sock'
	option mesh_interface 'bat0'
	option batctl '${fakeBatctl()}'
	option log_level '${logLevel}'
${extra}`;
}

test('a lone anchor reports its components, Raft leadership, batman-adv neighbours with TQ and its events over ubus', async () => {
  const socket = join(dir, 'solo.sock');
  const ubusd = keep(startUbusd(socket));
  const port = await freePort();
  const agent = keep(startAgent(writeUci(join(dir, 'solo.uci'), soloConfig(port))));
  try {
    const status = await until('status running', 15_000, async () => {
      const s = await ubusCall(socket, 'status');
      return s?.state === 'running' ? s : null;
    });
    assert.is(status.node_id, 'solo');
    assert.is(status.role, 'anchor');
    assert.is(status.spiffe_id, 'spiffe://test.x0/node/solo');
    assert.type(status.cert_expires_at, 'number');
    const components = status.components as Record<string, { state: string; reason: string | null; restarts: number }>;
    assert.equal(Object.keys(components), [
      'identity',
      'batman',
      'link',
      'gossip',
      'raft',
      'xdp',
      'uplink',
      'registrar',
      'mapek',
      'ubus',
    ]);
    for (const name of ['identity', 'batman', 'link', 'gossip', 'raft', 'mapek', 'ubus'])
      assert.is(components[name]?.state, 'up', name);
    assert.match(components.registrar?.reason ?? '', /^no issuing key in .*\/solo\/state\/issuer \(x0 ca intermediate/);
    assert.equal(components.xdp, { state: 'disabled', reason: 'xdp disabled in the configuration', restarts: 0 });
    assert.equal(components.uplink, { state: 'disabled', reason: 'uplink disabled in the configuration', restarts: 0 });
    assert.is(status.mesh, 'bat0');
    const raft = await until('a leader', 10_000, async () => {
      const r = await ubusCall(socket, 'raft');
      return r?.role === 'leader' ? r : null;
    });
    assert.is(raft.leader, 'solo');
    assert.equal(raft.members, [{ id: 'solo', voter: true, match_index: raft.commit_index, lag: 0 }]);
    const peers = (await ubusCall(socket, 'peers'))?.peers as Array<Record<string, unknown>>;
    assert.equal(
      peers.map((p) => [p.mac, p.iface, p.tq, p.state]),
      [['52:54:00:02:00:01', 'eth1', 55, 'up']],
    );
    const mesh = await ubusCall(socket, 'mesh');
    assert.equal(
      (mesh?.nodes as Array<{ id: string; state: string }>).map((n) => [n.id, n.state]),
      [['solo', 'up']],
    );
    const events = (await ubusCall(socket, 'events', { limit: 100 }))?.events as Array<{
      component: string;
      event: string;
    }>;
    assert.ok(
      events.some((e) => e.component === 'agent' && e.event === 'ready'),
      JSON.stringify(events),
    );
    assert.ok(events.some((e) => e.component === 'raft' && e.event === 'role'));
    const version = await ubusCall(socket, 'version');
    assert.equal(version, { version: '0.1.0', engine: 'qjs', crypto: 'native' });
  } finally {
    agent.child.kill('SIGTERM');
    assert.is(await agent.exited, 0, 'SIGTERM stops the agent with exit 0');
    ubusd.child.kill('SIGTERM');
  }
  assert.match(agent.output(), / info agent stopped\n/);
});

test("a component that fails (the link's port taken) is restarted with backoff and reported; what needs it waits, the rest keeps running", async () => {
  const socket = join(dir, 'solo.sock');
  const ubusd = keep(startUbusd(socket));
  const port = await freePort();
  const blocker = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => blocker.bind(port, '127.0.0.1', resolve));
  const agent = keep(startAgent(writeUci(join(dir, 'solo.uci'), soloConfig(port))));
  try {
    const status = await until('the link restarted twice', 15_000, async () => {
      const s = await ubusCall(socket, 'status');
      const link = (s?.components as Record<string, { state: string; restarts: number }> | undefined)?.link;
      return link !== undefined && link.restarts >= 2 ? s : null;
    });
    const components = status.components as Record<string, { state: string; reason: string }>;
    assert.is(components.link?.state, 'down');
    assert.match(components.link?.reason ?? '', /EADDRINUSE/);
    assert.equal(
      [components.gossip?.state, components.gossip?.reason],
      ['down', 'no-link'],
      'gossip waits for the link',
    );
    assert.equal([components.raft?.state, components.raft?.reason], ['down', 'no-link'], 'Raft waits for the link');
    assert.is(components.identity?.state, 'up', 'identity keeps running');
    assert.is(components.batman?.state, 'up', 'the batman-adv reader keeps running');
    assert.is(components.ubus?.state, 'up', 'ubus keeps answering');
    assert.is(status.state, 'degraded');
    assert.match(agent.output(), /warn link failed from=starting to=down reason=.*EADDRINUSE.* retry_in_ms=500\n/);
    assert.match(agent.output(), /warn link failed from=down to=down reason=.* retry_in_ms=1000\n/);
    blocker.close();
    await until('link, gossip and Raft up once the port is free', 20_000, async () => {
      const s = await ubusCall(socket, 'status');
      const c = s?.components as Record<string, { state: string }> | undefined;
      return c?.link?.state === 'up' && c.gossip?.state === 'up' && c.raft?.state === 'up' ? s : null;
    });
    // An operator's restart: stopped, started again at once, counted.
    const before =
      ((await ubusCall(socket, 'status'))?.components as Record<string, { restarts: number }>).raft?.restarts ?? -1;
    assert.equal(await ubusCall(socket, 'restart', { component: 'raft' }), { ok: true, reason: null });
    const after = await until('raft restarted', 10_000, async () => {
      const s = await ubusCall(socket, 'status');
      const raft = (s?.components as Record<string, { state: string; restarts: number }> | undefined)?.raft;
      return raft !== undefined && raft.restarts === before + 1 && raft.state === 'up' ? raft : null;
    });
    assert.is(after.state, 'up');
    assert.equal(await ubusCall(socket, 'restart', { component: 'xdp' }), { ok: false, reason: 'component-disabled' });
    assert.equal(await ubusCall(socket, 'restart', { component: 'nope' }), { ok: false, reason: 'unknown-component' });
  } finally {
    agent.child.kill('SIGTERM');
    ubusd.child.kill('SIGTERM');
    await agent.exited;
  }
});

test('reload (ubus and SIGHUP) applies what it can, names what needs a restart, and refuses an invalid file', async () => {
  const socket = join(dir, 'solo.sock');
  const ubusd = keep(startUbusd(socket));
  const port = await freePort();
  const path = writeUci(join(dir, 'solo.uci'), soloConfig(port));
  const agent = keep(startAgent(path));
  try {
    await until('running', 15_000, async () => (await ubusCall(socket, 'status'))?.state === 'running');
    writeUci(path, soloConfig(port + 2, '', 'debug'));
    assert.equal(await ubusCall(socket, 'reload'), {
      ok: true,
      applied: ['agent.log_level'],
      needs_restart: ['agent.listen'],
    });
    writeUci(path, soloConfig(port, '', 'warn').replace("option role 'anchor'", "option role 'boss'"));
    const refused = await ubusCall(socket, 'reload');
    assert.is(refused?.ok, false);
    assert.match(String((refused?.errors as string[])[0]), /option 'role': 'boss' is not allowed \(anchor \| node\)/);
    writeUci(path, soloConfig(port, '', 'info'));
    agent.child.kill('SIGHUP');
    await until('reloaded by SIGHUP', 10_000, async () =>
      /info agent reloaded applied=agent.log_level /.test(agent.output()),
    );
    await until(
      'running again after three reloads',
      10_000,
      async () => (await ubusCall(socket, 'status'))?.state === 'running',
    );
    assert.match(agent.output(), /error agent reload-refused reason=bad-value error=".*'boss' is not allowed/);
  } finally {
    agent.child.kill('SIGTERM');
    ubusd.child.kill('SIGTERM');
    await agent.exited;
  }
});

test('a second agent whose ubus registration is refused (the name is taken) logs an error and retries; the first keeps answering', async () => {
  const socket = join(dir, 'shared.sock');
  const ubusd = keep(startUbusd(socket));
  const config = async (name: string) =>
    writeUci(
      join(dir, `${name}.uci`),
      `config agent 'main'
	option node_name '${name}'
	option role 'node'
	option state_dir '${dir}/${name}/state'
	option trust_domain 'test.x0'
	option listen '127.0.0.1:${await freePort()}'
	option ubus_socket '${socket}'
`,
    );
  const first = keep(startAgent(await config('solo')));
  try {
    await until('first registered', 15_000, async () => (await ubusCall(socket, 'status'))?.node_id === 'solo');
    const second = keep(startAgent(await config('twin')));
    await until('the second one says its registration was refused', 15_000, async () =>
      /error ubus registration-refused reason=/.test(second.output()),
    );
    assert.not.match(second.output(), /info ubus registered/);
    await until('and retries it with backoff', 15_000, async () =>
      /warn ubus failed from=\w+ to=down reason=registration-refused.* retry_in_ms=1000/.test(second.output()),
    );
    assert.is((await ubusCall(socket, 'status'))?.node_id, 'solo');
    second.child.kill('SIGTERM');
    await second.exited;
  } finally {
    first.child.kill('SIGTERM');
    ubusd.child.kill('SIGTERM');
    await first.exited;
  }
});

test('an agent that is not enrolled yet runs degraded, says what to do, and keeps its uplink waiting', async () => {
  const socket = join(dir, 'empty.sock');
  const ubusd = keep(startUbusd(socket));
  const agent = keep(
    startAgent(
      writeUci(
        join(dir, 'empty.uci'),
        `config agent 'main'
	option node_name 'newcomer'
	option role 'node'
	option state_dir '${dir}/newcomer'
	option listen '127.0.0.1:${await freePort()}'
	option ubus_socket '${socket}'

config uplink 'uplink'
	option enabled '1'
	option broker '127.0.0.1:${await freePort()}'
`,
      ),
    ),
  );
  try {
    const status = await until('degraded, every component started once', 15_000, async () => {
      const s = await ubusCall(socket, 'status');
      const c = s?.components as Record<string, { state: string }> | undefined;
      // The supervisor sees ubus up at its next health poll (250 ms) after the registration that answers us.
      return s?.state === 'degraded' && c?.link?.state === 'down' && c.ubus?.state === 'up' ? s : null;
    });
    const components = status.components as Record<string, { state: string; reason: string }>;
    assert.equal([components.identity?.state, components.identity?.reason], ['degraded', 'not-enrolled']);
    assert.equal([components.uplink?.state, components.uplink?.reason], ['down', 'not-enrolled']);
    assert.equal(
      [components.link?.state, components.link?.reason],
      ['down', 'not-enrolled'],
      'no sealed link without a certificate',
    );
    assert.equal(
      [components.gossip?.state, components.gossip?.reason],
      ['down', 'no-link'],
      'so no gossip either: nothing unauthenticated',
    );
    assert.is(components.ubus?.state, 'up');
    assert.match(
      agent.output(),
      /warn identity not-enrolled reason=file-missing .* next="not enrolled: .*x0 cert request --token TOKEN/,
    );
  } finally {
    agent.child.kill('SIGTERM');
    ubusd.child.kill('SIGTERM');
    await agent.exited;
  }
});

const invalid: ReadonlyArray<readonly [string, string, RegExp]> = [
  [
    'an unknown option',
    "config agent 'main'\n\toption role 'node'\n\toption colour 'red'\n",
    /:3: section 'main' option 'colour': unknown in a section of type 'agent'/,
  ],
  [
    'a wrong type',
    "config agent 'main'\n\toption role 'node'\n\toption listen 'here'\n",
    /:3: section 'main' option 'listen': 'here'/,
  ],
  [
    'a missing required option',
    "config agent 'main'\n\toption node_name 'x'\n",
    /section 'main' option 'role': required/,
  ],
  ['bad quoting', "config agent 'main'\n\toption role 'node\n", /:2: .*quote/i],
];

for (const [what, text, expected] of invalid) {
  test(`x0 agent refuses a file with ${what}: one line naming it, exit code 2 (on x0-runtime)`, async () => {
    const path = writeUci(join(dir, 'bad.uci'), text);
    const result = await run([runtimePath, bundlePath, 'agent', '--config', path]);
    assert.is(result.code, 2, result.stderr);
    const lines = result.stderr.trim().split('\n');
    assert.match(lines[0] as string, new RegExp(`^x0 agent: ${path.replace(/[.]/g, '\\.')}`));
    assert.match(result.stderr, expected);
    assert.match(
      lines[lines.length - 1] as string,
      /^x0 agent: 1 error in .*; not starting \(every option: docs\/config\.md\)$/,
    );
    const check = await run([runtimePath, bundlePath, 'agent', '--check', '--config', path]);
    assert.is(check.code, 2);
  });
}

test('x0 agent names a missing file and what to do', async () => {
  const result = await run([runtimePath, bundlePath, 'agent', '--config', join(dir, 'absent.uci')]);
  assert.is(result.code, 2);
  assert.match(
    result.stderr,
    /absent\.uci: cannot read the configuration file; create it \(every option: docs\/config\.md\) or pass --config PATH/,
  );
});

test.run();
