// The main job's mesh (run by scripts/start.sh after set-up): five routers' agents on x0-runtime on loopback, each
// configured only by its own UCI file, each with its own real ubusd (OpenWrt's, built from the pinned sources):
// a mesh CA enrols them with join tokens, the three anchors elect a Raft leader, gossip converges the mesh
// document, every node publishes signed telemetry that `x0 watch` verifies; an incident: a partial partition (nftables,
// as root) leaves the leader a quorum but most links dead, and its own MAPE-K loop moves the leadership (decision,
// why, action, outcome, the time to repair measured here, the trace in x0 watch); then the leader is killed and the
// mesh notices: a new leader, the dead node marked down, its Last Will shown by x0 watch. Prints what each step
// proves and how long it took. Exit 0 when every step held, 1 when one did not (the step says which).
// Usage: node --import tsx scripts/demo.ts [--dir DIR] [--base-port N] [--mqtt-port N] [--self-healing off]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../test/lib/processes.js';
import { meshUci } from '../test/lib/mesh.js';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : fallback;
};
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(0, 9).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
  process.exit(0);
}
const dir = join(root, flag('--dir', 'build/demo'));
const basePort = Number(flag('--base-port', '7410'));
const mqttPort = Number(flag('--mqtt-port', '7403'));
// The control run: the same mesh and incident with self-healing off (step 6 then shows what Raft alone does).
const selfHealing = flag('--self-healing', 'on') !== 'off';
const trustDomain = 'demo.x0';
const runtime = join(root, 'build/x0-runtime');
const bytecode = join(root, 'build/x0tta6bl4.jsbc');
const prefix = join(root, 'build/openwrt/prefix');
// OpenWrt's ubus and ubusd link against the libubox built next to them.
process.env.LD_LIBRARY_PATH = join(prefix, 'lib');
const ubusEnv = process.env;

interface Node { readonly name: string; readonly role: 'anchor' | 'node'; readonly port: number; readonly dir: string; agent: ChildProcess | null; ubusd: ChildProcess | null }
const nodes: Node[] = ['alpha', 'bravo', 'charlie', 'delta', 'echo'].map((name, i) => ({
  name, role: i < 3 ? 'anchor' : 'node', port: basePort + 10 * i, dir: join(dir, name), agent: null, ubusd: null,
}));
const anchors = nodes.filter((n) => n.role === 'anchor');
const children: ChildProcess[] = [];
const t0 = Date.now();
const at = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s`;
const say = (text: string) => process.stdout.write(`demo ${at()}  ${text}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface WatchLine { readonly ok: boolean; readonly node?: string; readonly kind?: string; readonly data?: { state?: string; traces?: { events?: Array<{ trace_id?: string; event: string }> } }; readonly reason?: string; readonly benign?: boolean }
/** What x0 watch --json printed so far: one JSON object per message (other lines are its log). */
function watchLines(path: string): WatchLine[] {
  const out: WatchLine[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try { out.push(JSON.parse(line) as WatchLine); } catch { /* a line being written */ }
  }
  return out;
}

function fail(step: string, detail: string): never {
  process.stderr.write(`demo: FAILED at '${step}': ${detail}\n  agent logs: ${dir}/<node>/agent.log; ubus: ${prefix}/bin/ubus -s ${dir}/<node>/ubus.sock call x0tta6bl4 status\n`);
  stopAll();
  process.exit(1);
}

function stopAll(): void {
  if (partitioned) unpartition();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
}

async function x0(...argv: string[]): Promise<string> {
  const r = await run([runtime, bytecode, ...argv], 30_000);
  if (r.code !== 0) fail(`x0 ${argv.slice(0, 2).join(' ')}`, r.stderr.trim() || `exit ${r.code}`);
  return r.stdout.trim();
}

async function ubus(node: Node, method: string, args?: Record<string, unknown>): Promise<Record<string, unknown> | null> {
  const r = await run([join(prefix, 'bin/ubus'), '-s', join(node.dir, 'ubus.sock'), '-t', '2', 'call', 'x0tta6bl4', method, ...(args === undefined ? [] : [JSON.stringify(args)])], 5_000);
  if (r.code !== 0) return null;
  try { return JSON.parse(r.stdout) as Record<string, unknown>; } catch { return null; }
}

/** Polls until check() returns a value (not null), or fails the step after timeoutMs. */
async function until<T>(step: string | (() => string), timeoutMs: number, check: () => Promise<T | null>, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > deadline) fail(typeof step === 'string' ? step : step(), `not reached within ${timeoutMs / 1000} s`);
    await sleep(everyMs);
  }
}

function uci(node: Node, joinToken: string | null): string {
  return meshUci({
    // Self-healing probes the configured peers (there is no batman-adv on loopback): step 6's incident.
    probePeers: true,
    selfHealing,
    node, anchors, staticPeers: nodes.filter((p) => p.role === 'node' && p !== node), stateDir: `${node.dir}/state`,
    ubusSocket: `${node.dir}/ubus.sock`, trustDomain, joinToken, broker: `127.0.0.1:${mqttPort}`, header: 'written by scripts/demo.ts',
  });
}

function startAgent(node: Node): void {
  const log = join(node.dir, 'agent.log');
  const child = spawn('sh', ['-c', `exec "$0" "$1" agent --config "$2" >>"$3" 2>&1`, runtime, bytecode, join(node.dir, 'x0tta6bl4.uci'), log], { stdio: 'ignore' });
  node.agent = child;
  children.push(child);
}

async function main(): Promise<void> {
  for (const path of [runtime, bytecode, join(prefix, 'sbin/ubusd'), join(prefix, 'bin/ubus')]) {
    if (!existsSync(path)) fail('prerequisites', `${path} is missing: run bash scripts/setup.sh`);
  }
  process.on('SIGINT', () => { stopAll(); process.exit(130); });
  rmSync(dir, { recursive: true, force: true });
  for (const n of nodes) mkdirSync(n.dir, { recursive: true });

  say(`1/7 enrolment: the operator's mesh CA (trust domain ${trustDomain}) enrols the anchors and gives each an issuing key; the nodes get only a one-time join token in their UCI file (x0 ca / x0 cert on x0-runtime)`);
  await x0('ca', 'init', '--trust-domain', trustDomain, '--dir', join(dir, 'ca'));
  for (const n of nodes) {
    const token = await x0('ca', 'issue-token', '--node', n.name, '--dir', join(dir, 'ca'));
    if (n.role === 'anchor') {
      await x0('cert', 'request', '--token', token, '--dir', join(n.dir, 'state'));
      await x0('ca', 'sign', '--request', join(n.dir, 'state/join-request.cbor'), '--out', join(n.dir, 'state/node.chain'), '--bundle-out', join(n.dir, 'state/bundle.cbor'), '--dir', join(dir, 'ca'));
      await x0('ca', 'intermediate', '--name', `anchor-${n.name}`, '--out', join(n.dir, 'state/issuer'), '--dir', join(dir, 'ca'));
    }
    writeFileSync(join(n.dir, 'x0tta6bl4.uci'), uci(n, n.role === 'node' ? token : null));
  }
  say(`     anchors ${anchors.map((a) => a.name).join(', ')} enrolled with intermediates; ${nodes.filter((n) => n.role === 'node').map((n) => n.name).join(', ')} hold only a join token; UCI files in ${dir}/<node>/x0tta6bl4.uci`);

  say(`2/7 telemetry consumer: x0 watch with an embedded MQTT broker on 127.0.0.1:${mqttPort}, verifying against the mesh CA's trust bundle`);
  const watchLog = join(dir, 'watch.log');
  const watch = spawn('sh', ['-c', `exec node --import tsx "$0" watch --embedded-broker --json --broker "$1" --mqtt 3.1.1 --bundle "$2" --duration-ms 120000 >"$3" 2>&1`,
    join(root, 'src/entry/node.ts'), `127.0.0.1:${mqttPort}`, join(dir, 'ca/bundle.cbor'), watchLog], { stdio: 'ignore' });
  children.push(watch);
  await until('x0 watch subscribed', 30_000, async () => (existsSync(watchLog) && /subscribed/.test(readFileSync(watchLog, 'utf8')) ? true : null));

  say('3/7 five routers: per node a real ubusd (OpenWrt\'s, built from the pinned sources) and `x0 agent --config FILE` on x0-runtime (bytecode)');
  for (const n of nodes) {
    const ubusd = spawn(join(prefix, 'sbin/ubusd'), ['-s', join(n.dir, 'ubus.sock')], { stdio: 'ignore', env: ubusEnv });
    n.ubusd = ubusd;
    children.push(ubusd);
  }
  await sleep(200);
  const started = Date.now();
  for (const n of nodes) startAgent(n);
  const ready = await until('every agent answers ubus status with all components up', 40_000, async () => {
    const all = await Promise.all(nodes.map((n) => ubus(n, 'status')));
    return all.every((s) => s !== null && s.state === 'running') ? all : null;
  });
  void ready;
  const enrolledAt = (await Promise.all(nodes.filter((n) => n.role === 'node').map(async (n) => (readFileSync(join(n.dir, 'agent.log'), 'utf8').match(/ info identity enrolled anchor=(\w+)/) ?? [])[1] ?? '?'))).join(', ');
  say(`     all 5 agents running in ${((Date.now() - started) / 1000).toFixed(1)} s (ubus call x0tta6bl4 status): identity, the sealed link, gossip, uplink and ubus up on every node, Raft and enrolment on the anchors; delta and echo enrolled over the network with their join token at ${enrolledAt}`);

  say('4/7 consensus and mesh state: the anchors agree on one Raft leader; every node\'s mesh document holds all 5 nodes, up');
  const leader = await until('one Raft leader agreed by every anchor', 15_000, async () => {
    const views = await Promise.all(anchors.map((n) => ubus(n, 'raft')));
    const leaders = new Set(views.map((v) => v?.leader ?? null));
    return leaders.size === 1 && !leaders.has(null) ? (views[0]?.leader as string) : null;
  });
  say(`     leader: ${leader} (term ${String((await ubus(anchors[0] as Node, 'raft'))?.term)}), agreed by ${anchors.map((a) => a.name).join(', ')}; the nodes learn it through gossip`);
  const converged = Date.now();
  await until('every node sees every node', 20_000, async () => {
    const views = await Promise.all(nodes.map((n) => ubus(n, 'mesh')));
    const full = views.every((v) => Array.isArray(v?.nodes) && (v?.nodes as Array<{ state: string }>).filter((x) => x.state === 'up').length === nodes.length);
    return full ? true : null;
  });
  say(`     every node sees all 5 nodes up in its mesh document (${((Date.now() - started) / 1000).toFixed(1)} s after start; ${((Date.now() - converged) / 1000).toFixed(1)} s after the leader)`);

  say('5/7 telemetry: every node publishes signed telemetry (COSE_Sign1, Ed25519) that x0 watch verifies against the mesh CA');
  const verified = await until('verified telemetry from all 5 nodes', 20_000, async () => {
    const from = new Set(watchLines(watchLog).filter((l) => l.ok && l.kind === 'telemetry').map((l) => l.node as string));
    return nodes.every((n) => from.has(n.name)) ? from : null;
  });
  const rejected = watchLines(watchLog).filter((l) => !l.ok && l.benign !== true).length;
  say(`     verified telemetry from ${[...verified].sort().join(', ')}; ${rejected} rejected`);

  const leaderNow = await incident(nodes.find((n) => n.name === leader) as Node);

  const victim = nodes.find((n) => n.name === leaderNow) as Node;
  const survivors = nodes.filter((n) => n !== victim);
  say(`7/7 failure: kill -9 the leader's agent (${victim.name}); the mesh notices`);
  const killed = Date.now();
  victim.agent?.kill('SIGKILL');
  const since = () => `${((Date.now() - killed) / 1000).toFixed(1)} s`;
  // The three signs of the failure are watched at once, each timed from the kill.
  const [newLeader, downAfter, willAfter] = await Promise.all([
    until('a new Raft leader among the surviving anchors', 15_000, async () => {
      const views = await Promise.all(anchors.filter((a) => a !== victim).map((n) => ubus(n, 'raft')));
      const leaders = new Set(views.map((v) => v?.leader ?? null));
      return leaders.size === 1 && !leaders.has(null) && !leaders.has(victim.name) ? { name: views[0]?.leader as string, after: since() } : null;
    }),
    until(`every surviving node marks ${victim.name} down`, 20_000, async () => {
      const views = await Promise.all(survivors.map((n) => ubus(n, 'mesh')));
      return views.every((v) => (v?.nodes as Array<{ id: string; state: string }> | undefined)?.find((x) => x.id === victim.name)?.state === 'down') ? since() : null;
    }),
    until(`x0 watch shows ${victim.name} offline (its MQTT Last Will)`, 20_000, async () =>
      (watchLines(watchLog).some((l) => l.ok && l.kind === 'status' && l.node === victim.name && l.data?.state === 'offline') ? since() : null)),
  ]);
  say(`     new leader ${newLeader.name} ${newLeader.after} after the kill (Raft: election timeout, PreVote, a quorum of 2 of 3 anchors)`);
  say(`     x0 watch verified ${victim.name}'s signed 'offline' status ${willAfter} after the kill (its MQTT Last Will, published by the broker)`);
  say(`     every surviving node marks ${victim.name} down ${downAfter} after the kill (its mesh-document section stopped changing)`);
  await summary(survivors);
  stopAll();
  say(`done: 5 agents formed one mesh, elected a leader, converged, published verified telemetry, ${selfHealing ? 'healed a degraded leader' : 'kept a degraded leader (self-healing off)'} and the loss of the leader (logs in ${dir})`);
}

interface AgentEventView { readonly time_ms: number; readonly component: string; readonly event: string; readonly trace_id: string | null; readonly reason: string | null; readonly fields: Record<string, unknown> }

// The incident's partial partition: an nftables table of this demo's own (named by its base port), dropping the UDP
// (sealed link: PORT, probe: PORT + 3) between the leader and the nodes it is cut off from, both ways, on loopback.
const nftTable = `x0demo_${basePort}`;
let partitioned = false;
function nft(script: string): string | null {
  const r = spawnSync('nft', ['-f', '-'], { input: script, encoding: 'utf8', timeout: 5_000 });
  return r.status === 0 ? null : (r.error?.message ?? r.stderr.trim()) || `exit ${r.status}`;
}
function partition(a: Node, cut: readonly Node[]): void {
  nft(`add table inet ${nftTable}\ndelete table inet ${nftTable}\n`); // a table left by a killed run
  const ports = (ns: readonly Node[]) => `{ ${ns.flatMap((n) => [n.port, n.port + 3]).join(', ')} }`;
  const failed = nft(`table inet ${nftTable} {\n chain out {\n  type filter hook output priority 0; policy accept;\n  udp sport ${ports([a])} udp dport ${ports(cut)} drop\n  udp sport ${ports(cut)} udp dport ${ports([a])} drop\n }\n}\n`);
  if (failed !== null) fail('partial partition', `nft: ${failed}`);
  partitioned = true;
}
function unpartition(): void {
  partitioned = false;
  const failed = nft(`delete table inet ${nftTable}\n`);
  if (failed !== null) process.stderr.write(`demo: could not delete the nftables table ${nftTable} (nft delete table inet ${nftTable}): ${failed}\n`);
}
/** Why the incident cannot run here, or null: it needs root and nft (nftables). */
function partitionUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root (the partition is an nftables rule)';
  const r = spawnSync('nft', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? null : 'nft (nftables) is not installed: apt-get install nftables';
}

/**
 * Step 6: a degraded anchor. The leader loses its links to every node but one other anchor: it keeps a quorum, so
 * Raft (CheckQuorum, PreVote) keeps it leading while most of the mesh cannot hear it. Its MAPE-K loop sees most of
 * its probed links dead and moves the leadership (transfer-leadership). Returns the leader after the step.
 */
async function incident(old: Node): Promise<string> {
  // The hand-over goes to the voter whose log is furthest along, the first on a tie: the one kept connected.
  const kept = anchors.find((a) => a !== old) as Node;
  const cut = nodes.filter((n) => n !== old && n !== kept);
  const names = cut.map((n) => n.name).join(', ');
  say(`6/7 incident: a partial partition cuts the leader ${old.name} off from ${names} (nftables drops their UDP on loopback); it still hears ${kept.name}, a quorum, so Raft alone keeps it leading; ${selfHealing ? 'its own MAPE-K loop must move the leadership' : 'self-healing is off (the control run)'}`);
  const unavailable = partitionUnavailable();
  if (unavailable !== null) {
    say(`     SKIPPED: ${unavailable}`);
    return old.name;
  }
  partition(old, cut);
  const cutAt = Date.now();
  if (!selfHealing) return control(old, cutAt);
  // Polled every 0.1 s: the repair happened between the last poll that did not see it and the first that did.
  let lastMissMs = 0;
  const moved = await until(`the leadership moved away from ${old.name}`, 20_000, async () => {
    const askedMs = Date.now() - cutAt;
    const [was, now] = await Promise.all([ubus(old, 'raft'), ubus(kept, 'raft')]);
    const leader = now?.leader;
    if (typeof leader === 'string' && leader !== old.name && was?.leader === leader && was?.role === 'follower')
      return { leader, term: now?.term, ms: Date.now() - cutAt };
    lastMissMs = askedMs;
    return null;
  }, 100);
  const mapekEvents = async () => (((await ubus(old, 'events', { limit: 256 }))?.events ?? []) as AgentEventView[]).filter((e) => e.component === 'mapek' && e.time_ms >= cutAt);
  // The loop reads the outcome back on its next tick after Raft moved: wait for its verdict (cleared or failed).
  const events = await until(`${old.name}'s MAPE-K loop reads the outcome back`, 10_000, async () => {
    const got = await mapekEvents();
    const decided = got.find((e) => e.event === 'decided' && e.fields.rule === 'anchor-degraded-transfer');
    return decided !== undefined && got.some((e) => e.trace_id === decided.trace_id && (e.event === 'cleared' || e.event === 'failed')) ? got : null;
  });
  const decided = events.find((e) => e.event === 'decided' && e.fields.rule === 'anchor-degraded-transfer') as AgentEventView;
  const trace = decided.trace_id as string;
  const executed = events.find((e) => e.event === 'executed' && e.trace_id === trace && typeof e.fields.ok === 'boolean');
  const cleared = events.find((e) => e.event === 'cleared' && e.trace_id === trace);
  if (executed?.fields.ok !== true || cleared === undefined) fail('incident', `trace ${trace}: executed ${JSON.stringify(executed?.fields ?? null)}, cleared ${cleared === undefined ? 'missing (failed)' : 'seen'}`);
  const downs = events.filter((e) => e.event === 'neighbour-down' && e.time_ms <= decided.time_ms);
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  say(`     detected: ${old.name}'s liveness probe (100 ms x 3) saw ${downs.map((e) => `${String(e.fields.neighbour)} ${seconds(e.time_ms - cutAt)}`).join(', ')} after the cut`);
  say(`     decided (trace ${trace}, ${seconds(decided.time_ms - cutAt)}): ${String(decided.fields.symptom)} by rule ${String(decided.fields.rule)}; why: ${String(decided.fields.why)}`);
  say(`     action: ${String(executed.fields.action)} -> ${String(executed.fields.detail)} (ok, ${String(executed.fields.took_ms)} ms); outcome read back by the loop: ${String(cleared.fields.what)}`);
  say(`     healed: ${moved.leader} leads term ${String(moved.term)}, ${old.name} follows it: time to repair ${seconds(moved.ms)} from the cut (measured here: ubus raft on ${old.name} and ${kept.name}, polled every 0.1 s, still unhealed at ${seconds(lastMissMs)})`);
  const watched = await until(`x0 watch shows trace ${trace} in ${old.name}'s signed telemetry`, 10_000, async () => {
    const seen = new Set<string>();
    for (const l of watchLines(join(dir, 'watch.log')))
      if (l.ok && l.node === old.name) for (const e of l.data?.traces?.events ?? []) if (e.trace_id === trace) seen.add(e.event);
    return seen.has('decided') && seen.has('cleared') ? [...seen].join(', ') : null;
  });
  say(`     x0 watch verified the same trace in ${old.name}'s signed telemetry: ${watched}`);
  unpartition();
  const liftedAt = Date.now();
  const upAgain = new Set<string>();
  await until(() => `${old.name}'s probes see ${names} again (seen so far: ${[...upAgain].join(', ') || 'none'})`, 30_000, async () => {
    for (const e of await mapekEvents()) if (e.event === 'neighbour-up' && e.time_ms >= liftedAt) upAgain.add(String(e.fields.neighbour));
    return cut.every((n) => upAgain.has(n.name)) ? true : null;
  });
  say(`     partition lifted: ${old.name}'s probes see ${names} again ${seconds(Date.now() - liftedAt)} later`);
  return moved.leader;
}

/** Self-healing off: Raft alone, watched for 10 s; the leader should keep its leadership. */
async function control(old: Node, cutAt: number): Promise<string> {
  const leaders = new Set<string>();
  while (Date.now() - cutAt < 10_000) {
    leaders.add(String((await ubus(old, 'raft'))?.leader ?? 'none'));
    await sleep(250);
  }
  unpartition();
  say(`     self-healing off: leaders seen on ${old.name} in the 10 s after the cut: ${[...leaders].join(', ')} (Raft alone${leaders.size === 1 && leaders.has(old.name) ? ` kept ${old.name}` : ''}); partition lifted`);
  await sleep(2_000);
  return String((await ubus(old, 'raft'))?.leader ?? old.name);
}

/** One line per node from its own ubus status: what a router's LuCI page would show. */
async function summary(of: readonly Node[]): Promise<void> {
  process.stdout.write('     node     role    state     raft       mesh (up/all)  components\n');
  for (const n of of) {
    const [status, raft, mesh] = await Promise.all([ubus(n, 'status'), ubus(n, 'raft'), ubus(n, 'mesh')]);
    const meshNodes = (mesh?.nodes as Array<{ state: string }> | undefined) ?? [];
    const components = Object.entries((status?.components as Record<string, { state: string }> | undefined) ?? {}).filter(([, c]) => c.state !== 'disabled').map(([k, c]) => `${k}:${c.state}`).join(' ');
    process.stdout.write(`     ${n.name.padEnd(8)} ${String(status?.role).padEnd(7)} ${String(status?.state).padEnd(9)} ${String(raft?.role).padEnd(10)} ${`${meshNodes.filter((m) => m.state === 'up').length}/${meshNodes.length}`.padEnd(14)} ${components}\n`);
  }
}

main().catch((error: unknown) => fail('demo', String((error as Error)?.stack ?? error)));
