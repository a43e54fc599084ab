// Knowledge shared through the mesh document (issue 17 item 4): two real agents (in this process, the Node twin)
// gossip over their sealed link on loopback. k1 starts with knowledge in its state directory (what a flood took
// on it); its mapek component writes it into its gossip section as short text (mapek.k1, mapek.k2) and k2's
// planner adopts it. Text that is not well-formed is refused and counted, never adopted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, readConfig } from '../../src/agent/agent.js';
import type { Mapek } from '../../src/core/mapek/mapek.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { freePort } from '../lib/processes.js';
import { enrol, requireTools, until, writeUci } from '../agent/lib.js';

const platform = createNodePlatform();
const dir = mkdtempSync(join(tmpdir(), 'x0-mapek-mesh-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const knowledge = {
  version: 1,
  stats: {
    'flood/isolate': { tries: 3, successes: 3, clearMsMean: 1200 },
    'flood/rate-limit': { tries: 2, successes: 0, clearMsMean: 0 },
  },
  breakers: [],
  incidents: [],
};

test("a node's knowledge reaches another node's planner through the mesh document; bad text is refused", async () => {
  requireTools();
  await enrol(dir, 'test.x0', ['k1', 'k2']);
  mkdirSync(join(dir, 'k1', 'state'), { recursive: true });
  writeFileSync(join(dir, 'k1', 'state', 'mapek.json'), JSON.stringify(knowledge));
  const ports = { k1: await freePort(), k2: await freePort() };
  const agents: Agent[] = [];
  for (const name of ['k1', 'k2'] as const) {
    const other = name === 'k1' ? 'k2' : 'k1';
    const path = writeUci(
      join(dir, `${name}.uci`),
      `config agent 'main'
	option node_name '${name}'
	option role 'node'
	option state_dir '${dir}/${name}/state'
	option trust_domain 'test.x0'
	option listen '127.0.0.1:${ports[name]}'
	option ubus_socket '${dir}/${name}.sock'
	list static_peer '${other}@127.0.0.1:${ports[other]}'
	option log_level 'error'
`,
    );
    const loaded = readConfig(platform, path, name);
    if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('; '));
    const agent = new Agent(platform, loaded.value, { configPath: path, hostname: name, runForMs: null });
    agents.push(agent);
    agent.start();
  }
  const [k1, k2] = agents as [Agent, Agent];
  const parts = (a: Agent) => (a as unknown as { components: Map<string, unknown> }).components;
  const coreOf = (a: Agent) => (parts(a).get('mapek') as { core: Mapek | null }).core;
  const statsOf = (a: Agent) => parts(a).get('mapek') as { metrics(): Record<string, number> };
  try {
    const adopted = await until("k2's planner holds k1's knowledge", 20_000, async () => {
      const peers = coreOf(k2)?.peerKnowledge();
      return peers?.k1 !== undefined ? peers.k1 : null;
    });
    assert.equal(adopted, knowledge.stats, 'the numbers as k1 knows them');
    assert.is(k2.ctx.gossip?.doc.version('k1', 'mapek.k1'), 'fl.is=3/3/1200 fl.rl=2/0/0', 'as text in the document');
    assert.is(k2.ctx.gossip?.doc.version('k2', 'mapek.k1'), undefined, 'no record, nothing written');
    assert.match(k2.ctx.gossip?.doc.version('k1', 'mapek') ?? '', /^open=0 total=0$/, "k1's incident line");
    assert.is(statsOf(k2).metrics().peers_adopted, 1);
    // A value no agent writes (as a faulty or hostile member could): refused whole, counted, the old view kept.
    k1.ctx.gossip?.setVersion('mapek.k2', 'fl.is=9/99/0');
    await until('k2 refuses the bad text', 20_000, async () =>
      (coreOf(k2)?.counters()['peer-text-out-of-range'] ?? 0) >= 1 ? true : null,
    );
    assert.is(statsOf(k2).metrics().peers_refused, 1);
    assert.equal(coreOf(k2)?.peerKnowledge().k1, knowledge.stats, 'what was adopted before stays');
  } finally {
    for (const a of agents) a.stop();
  }
});

test.run();
