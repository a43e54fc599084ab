// Revocation in the data plane, with real agents on x0-runtime and the real x0-xdp: r1 and r2 (anchors) and a victim
// node whose batman-adv (a replay of the lab's recorded tables, as in discovery.node.test.ts) announces its MAC.
// r2's XDP runs in a private network and mount namespace (test/xdp/netns.ts: veth va <-> vb, its own bpffs): its
// agent stays on the host's loopback with the others and runs x0-xdp through a wrapper that enters the namespace
// ($X0_XDP_HELPER). Frames "from the victim" are sent from va with x0-xdp-gen and counted by the program's own maps.
// Node only, as root; SKIPPED with the reason when not root or when the kernel refuses BPF (like test/xdp/).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { absentExitCode, absentStderr, ring5Node5Neighbours, ring5Node5Originators } from '../batman/recorded.js';
import { bundlePath, root, run, runtimePath } from '../lib/processes.js';
import { startNamespaceHolder, type NamespaceHolder } from '../xdp/netns.js';
import {
  enrol,
  prefix,
  requireTools,
  sleep,
  startAgent,
  startProcess,
  startUbusd,
  ubusCall,
  until,
  writeUci,
  x0,
  type Process,
} from './lib.js';

const helper = `${root}build/x0-xdp`;
const gen = `${root}build/xdp-tools/x0-xdp-gen`;

function whySkip(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, BPF)';
  if (!existsSync(helper) || !existsSync(gen)) return 'build/x0-xdp is missing (make -C bpf)';
  const probe = spawnSync(helper, ['probe'], { encoding: 'utf8', timeout: 20_000 });
  if (probe.status !== 0) return `the kernel refuses BPF here: ${probe.stderr.trim()}`;
  return null;
}
const skipReason = whySkip();
if (skipReason !== null) console.log(`revoke-xdp.node.test.ts: SKIPPED (${skipReason})`);
const it = skipReason === null ? test : test.skip;

const dir = mkdtempSync(join(tmpdir(), 'x0-revoke-xdp-'));
const names = ['r1', 'r2', 'victim'];
const ports: Record<string, number> = {};
const agents: Record<string, Process> = {};
const others: Process[] = [];
const sock = (name: string) => join(dir, `${name}.sock`);
/** The victim's originator MAC: the header of its recorded table (what it announces as batman.mac). */
const victimMac = '52:54:00:05:03:01';
const wrapper = join(dir, 'x0-xdp-in-netns');
let holder: NamespaceHolder | null = null;

/** A batctl for the victim that answers with the lab's recorded ring-of-5 tables of node 5. */
function victimBatctl(): string {
  writeFileSync(join(dir, 'victim.originators'), ring5Node5Originators);
  writeFileSync(join(dir, 'victim.neighbours'), ring5Node5Neighbours);
  const path = join(dir, 'victim.batctl');
  writeFileSync(
    path,
    `#!/bin/sh
case "$*" in
  "meshif bat0 originators") exec cat '${dir}/victim.originators' ;;
  "meshif bat0 neighbors -H") exec cat '${dir}/victim.neighbours' ;;
  *) echo '${absentStderr.trim()}' >&2; exit ${absentExitCode} ;;
esac
`,
  );
  chmodSync(path, 0o755);
  return path;
}

/** A fresh namespace (what a reboot gives: an empty bpffs), and the wrapper that runs x0-xdp inside it. */
async function newNamespace(): Promise<NamespaceHolder> {
  holder?.child.kill('SIGKILL');
  holder = await startNamespaceHolder(300);
  writeFileSync(wrapper, `#!/bin/sh\nexec ${holder.enter.join(' ')} ${helper} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return holder;
}

function config(name: string): string {
  const anchors = ['r1', 'r2'].map((a) => `\tlist anchor '${a}@127.0.0.1:${ports[a]}'\n`).join('');
  const extra =
    name === 'victim'
      ? `\toption mesh_interface 'bat0'\n\toption batctl '${victimBatctl()}'\n`
      : `\tlist static_peer 'victim@127.0.0.1:${ports.victim}'\n`;
  const xdp = name === 'r2' ? `\nconfig xdp 'xdp'\n\toption enabled '1'\n\tlist interface 'vb'\n` : '';
  return writeUci(
    join(dir, `${name}.uci`),
    `config agent 'main'
	option node_name '${name}'
	option role '${name === 'victim' ? 'node' : 'anchor'}'
	option state_dir '${dir}/${name}/state'
	option trust_domain 'revoke-xdp.x0'
	option listen '127.0.0.1:${ports[name]}'
	option ubus_socket '${sock(name)}'
${anchors}${extra}${xdp}`,
  );
}

const startR2 = (): Process =>
  startProcess([runtimePath, bundlePath, 'agent', '--config', join(dir, 'r2.uci')], {
    ...process.env,
    LD_LIBRARY_PATH: `${prefix}/lib`,
    X0_XDP_HELPER: wrapper,
  });

test.before(async () => {
  if (skipReason !== null) return;
  requireTools();
  await enrol(dir, 'revoke-xdp.x0', names);
  for (const name of names) ports[name] = 20_000 + Math.floor(Math.random() * 20_000);
  await newNamespace();
  for (const name of names) {
    others.push(startUbusd(sock(name)));
    const path = config(name);
    agents[name] = name === 'r2' ? startR2() : startAgent(path);
  }
});
test.after(() => {
  if (process.env.X0_DEBUG)
    for (const [name, p] of Object.entries(agents)) process.stdout.write(`---- ${name}\n${p.output()}\n`);
  for (const p of [...Object.values(agents), ...others]) p.child.kill('SIGKILL');
  holder?.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

type Event = { time_ms: number; component: string; event: string; fields: Record<string, unknown> };
const eventsOf = async (name: string): Promise<Event[]> =>
  ((await ubusCall(sock(name), 'events', { limit: 500 }))?.events as Event[] | undefined) ?? [];
type Entry = { mac: string; reason: string; drops: number };

/** r2's XDP blocklist, read with the real helper inside its namespace. */
async function blocklist(): Promise<Entry[]> {
  const r = await run([wrapper, '--json', 'status']);
  if (r.code !== 0) return [];
  return ((JSON.parse(r.stdout) as { blocklist?: Entry[] }).blocklist ?? []) as Entry[];
}

/** Frames from the victim's MAC into r2's XDP interface; the drops its blocklist entry counted afterwards. */
async function victimFramesDropped(count: number): Promise<number> {
  const sent = await run([
    ...(holder as NamespaceHolder).enter,
    gen,
    'send',
    'va',
    '--src',
    victimMac,
    '--count',
    String(count),
    '--ethertype',
    '0x4305',
  ]);
  assert.is(sent.code, 0, `x0-xdp-gen send: ${sent.stderr}`);
  return (await blocklist()).find((b) => b.mac === victimMac)?.drops ?? 0;
}

it("a revoked node's MACs are blocked in XDP the moment gossip adopts its list, and its frames are dropped", async () => {
  await until('every node sees all three up, r2 with XDP up', 40_000, async () => {
    const views = await Promise.all(
      names.map(async (n) => ((await ubusCall(sock(n), 'mesh'))?.nodes as Array<{ state: string }> | undefined) ?? []),
    );
    const xdp = ((await ubusCall(sock('r2'), 'status'))?.components as Record<string, { state: string }> | undefined)
      ?.xdp;
    return views.every((v) => v.filter((n) => n.state === 'up').length === 3) && xdp?.state === 'up';
  });
  // The victim announces its MAC at its next publish (every 2 s) and r2 takes it in at its own next one.
  await sleep(5_000);
  assert.is(await victimFramesDropped(5), 0, 'nothing of the victim is blocked before its revocation');
  await x0('ca', 'revoke', '--node', 'victim', '--dir', join(dir, 'ca'));
  copyFileSync(join(dir, 'ca/revocations.cbor'), join(dir, 'r1/state/revocations.cbor'));
  await until("r2's XDP blocks the victim's MAC", 15_000, async () =>
    (await blocklist()).some((b) => b.mac === victimMac && b.reason === 'revoked'),
  );
  const events = await eventsOf('r2');
  const adopted = events.find((e) => e.component === 'gossip' && e.event === 'revocations');
  const blocked = events.find((e) => e.component === 'xdp' && e.event === 'blocked' && e.fields.mac === victimMac);
  assert.ok(adopted !== undefined && blocked !== undefined, JSON.stringify(events.slice(-8)));
  // From the list's adoption to the helper's run, nothing waits: the block starts in the same turn (a poll of the
  // wanted blocks would wait up to its period). The helper's own run time (took_ms) is not counted.
  const waitedMs = blocked.time_ms - Number(blocked.fields.took_ms) - adopted.time_ms;
  process.stdout.write(
    `  r2: list adopted -> x0-xdp block started after ${waitedMs} ms (helper run ${blocked.fields.took_ms} ms)\n`,
  );
  assert.ok(waitedMs <= 30, `the block started ${waitedMs} ms after the list was adopted (goal: at once, <= 30 ms)`);
  // Its frames are dropped in XDP and counted against its blocklist entry.
  const drops = await victimFramesDropped(20);
  assert.ok(drops >= 20, `drops counted for ${victimMac}: ${drops}`);
});

it("after a restart on an empty bpffs (a reboot), the agent blocks the revoked node's MACs again from its state", async () => {
  agents.r2?.child.kill('SIGTERM');
  await agents.r2?.exited;
  await newNamespace();
  assert.equal(await blocklist(), [], 'the new namespace has no blocks (nothing loaded yet)');
  agents.r2 = startR2();
  await until("the restarted r2's XDP blocks the victim's MAC again", 30_000, async () =>
    (await blocklist()).some((b) => b.mac === victimMac && b.reason === 'revoked'),
  );
  const drops = await victimFramesDropped(10);
  assert.ok(drops >= 10, `drops counted for ${victimMac} after the restart: ${drops}`);
});

test.run();
