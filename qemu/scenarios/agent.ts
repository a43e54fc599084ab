// The agent as a router runs it: a ring of 5 (1-2-3-4-5-1) on real batman-adv, each router running only
// `x0 agent --config /etc/config/x0tta6bl4` (3 anchors: nodes 1-3, 2 nodes: 4-5), with OpenWrt's ubusd, read
// through `ubus call x0tta6bl4 ...` in the guest. Two kinds of image (qemu/build-image.sh, X0_LAB_INSTALL):
// "packaged" (opkg): the agent installed from its .ipk by opkg, started by `/etc/init.d/x0tta6bl4 start` and
// respawned by OpenWrt's procd, its lines in syslog; "files": copied in and run under busybox init's respawn
// (qemu/guest/x0-lab-service). The scenario sees which from the image (opkg's record of the package).
// On the host (prepare): a mesh CA and one identity per router (x0 ca init / issue-token, x0 cert request, x0 ca
// sign on x0-runtime), one UCI file per router naming the anchors by their bat0 addresses 10.77.0.N (the others are found through batman-adv), and `x0 watch
// --embedded-broker` behind the guests' uplink 10.0.2.100:1883. The lab writes each router's UCI file and state
// directory through the control channel and enables the service. Checks: every agent ready and running, one Raft
// leader agreed by the anchors (and announced to the nodes), every node sees every node up in its mesh document,
// batman-adv's links in the document, verified telemetry from every node; then SIGKILL of the leader's agent:
// init restarts it, it is ready again, the anchors agree on a leader, every node sees it back (a fresh uptime),
// x0 watch verifies its telemetry again. Measured: boot -> every node sees every node, SIGKILL -> rejoined.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { PrepareEnv, Scenario, ScenarioContext, UplinkService } from '../lib/scenario.js';
import {
  checkPeersFromBatman,
  checkRevocationInXdp,
  revocationVictims,
  type ZeroTrustSetup,
} from './agent-zero-trust.js';

const trustDomain = 'lab.x0';
const port = 7400; // gossip; Raft on port + 1
const anchorCount = 3;
const nodeCount = 5;
const stateDir = '/etc/x0tta6bl4';
/** The agent's lines: procd sends them to syslog, which writes this file (qemu/guest/inittab.procd); x0-lab-service appends. */
const agentLog = '/var/log/x0/agent.log';
/** opkg's record of the installed package: only an image whose agent came from its package has it. */
const packageList = '/usr/lib/opkg/info/x0tta6bl4.list';
/** Bounds of the waits (TCG guests on a shared 2-core machine are slow). */
const timeouts = {
  readyMs: 120_000,
  meshMs: 150_000,
  linksMs: 90_000,
  restartMs: 60_000,
  rejoinMs: 120_000,
  telemetryMs: 60_000,
} as const;
const watchDurationMs = 20 * 60_000; // x0 watch stops by itself after this, whatever happens to the runner

const nameOf = (n: number): string => `node-${n}`;
const roleOf = (n: number): 'anchor' | 'node' => (n <= anchorCount ? 'anchor' : 'node');
const peerEntry = (n: number): string => `${nameOf(n)}@10.77.0.${n}:${port}`;
const all = Array.from({ length: nodeCount }, (_, i) => i + 1);
const anchors = all.filter((n) => roleOf(n) === 'anchor');

/** The router's /etc/config/x0tta6bl4 (every option: docs/config.md). */
export function uciFor(n: number): string {
  const lines = [
    `# ${nameOf(n)}: written by the QEMU lab (qemu/scenarios/agent.ts); every option: docs/config.md`,
    "config agent 'main'",
    `\toption node_name '${nameOf(n)}'`,
    `\toption role '${roleOf(n)}'`,
    `\toption state_dir '${stateDir}'`,
    `\toption trust_domain '${trustDomain}'`,
    "\toption mesh_interface 'bat0'",
    `\toption listen '0.0.0.0:${port}'`,
    // No static_peer: the routers that are not anchors are found through batman-adv (agent-zero-trust.ts).
    `\toption announce '10.77.0.${n}:${port}'`,
    ...anchors.map((a) => `\tlist anchor '${peerEntry(a)}'`),
    "\toption log_level 'info'",
    '',
    "config uplink 'uplink'",
    "\toption enabled '1'",
    "\toption broker '10.0.2.100:1883'",
    "\toption interval '2s'",
    "\toption protocol '3.1.1'",
    '',
    // XDP on both mesh NICs: revoked nodes' MACs are blocked there (agent-zero-trust.ts measures it).
    "config xdp 'xdp'",
    "\toption enabled '1'",
    "\tlist interface 'eth1'",
    "\tlist interface 'eth2'",
    '',
  ];
  return lines.join('\n');
}

interface WatchLine {
  readonly topic?: string;
  readonly ok: boolean;
  readonly node?: string;
  readonly kind?: string;
  readonly reason?: string;
  readonly benign?: boolean;
}

/** What the scenario made on the host, for run(): set by prepare(). */
interface Prepared {
  readonly hostDir: string;
  readonly watchLog: string;
  readonly bootStartMs: number;
}
let prepared: Prepared | null = null;

function x0Command(root: string): string[] {
  const runtime = path.join(root, 'build', 'x0-runtime');
  const bundle = path.join(root, 'dist', 'x0tta6bl4.js');
  if (!existsSync(runtime)) throw new Error(`${runtime} is missing: run bash scripts/setup.sh (make -C src/native)`);
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build`);
  return [runtime, bundle];
}

function x0(root: string, args: readonly string[]): string {
  const [bin, ...pre] = x0Command(root);
  const r = spawnSync(bin as string, [...pre, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0)
    throw new Error(
      `x0 ${args.slice(0, 2).join(' ')} failed (exit ${r.status}): ${(r.stderr || r.stdout || String(r.error)).trim()}`,
    );
  return r.stdout.trim();
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

function watchLines(file: string): WatchLine[] {
  if (!existsSync(file)) return [];
  const out: WatchLine[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as WatchLine);
    } catch {
      /* a line being written */
    }
  }
  return out;
}

async function prepare(env: PrepareEnv): Promise<UplinkService> {
  prepared = null;
  const hostDir = path.join(env.dir, 'host');
  rmSync(hostDir, { recursive: true, force: true });
  mkdirSync(hostDir, { recursive: true });
  const ca = path.join(hostDir, 'ca');
  const started = Date.now();
  x0(env.root, ['ca', 'init', '--trust-domain', trustDomain, '--dir', ca]);
  for (const n of all) {
    const state = path.join(hostDir, nameOf(n), 'state');
    const token = x0(env.root, ['ca', 'issue-token', '--node', nameOf(n), '--dir', ca]);
    x0(env.root, ['cert', 'request', '--token', token, '--dir', state]);
    x0(env.root, [
      'ca',
      'sign',
      '--request',
      path.join(state, 'join-request.cbor'),
      '--out',
      path.join(state, 'node.chain'),
      '--bundle-out',
      path.join(state, 'bundle.cbor'),
      '--dir',
      ca,
    ]);
    writeFileSync(path.join(hostDir, nameOf(n), 'x0tta6bl4'), uciFor(n));
  }
  env.log(
    `mesh CA ${trustDomain} and ${nodeCount} identities made on the host in ${Date.now() - started} ms (${hostDir})`,
  );

  // x0 watch with its embedded broker (aedes, MQTT 3.1.1) on the host port the guests' 10.0.2.100:1883 reaches.
  const mqttPort = await freeTcpPort();
  const watchLog = path.join(hostDir, 'watch.log');
  const watch: ChildProcess = spawn(
    'sh',
    [
      '-c',
      'exec node --import tsx "$0" watch --embedded-broker --json --broker "$1" --mqtt 3.1.1 --bundle "$2" --duration-ms "$3" >"$4" 2>&1',
      path.join(env.root, 'src', 'entry', 'node.ts'),
      `127.0.0.1:${mqttPort}`,
      path.join(ca, 'bundle.cbor'),
      String(watchDurationMs),
      watchLog,
    ],
    { stdio: 'ignore', cwd: env.root },
  );
  const close = (): void => {
    if (watch.exitCode === null && watch.signalCode === null) watch.kill('SIGTERM');
  };
  process.once('exit', close); // the runner ending on a signal (lib/lab.ts exits the process) takes x0 watch with it
  const deadline = Date.now() + 60_000;
  while (!(existsSync(watchLog) && readFileSync(watchLog, 'utf8').includes('subscribed'))) {
    if (watch.exitCode !== null || Date.now() > deadline) {
      close();
      throw new Error(
        `x0 watch --embedded-broker did not subscribe on 127.0.0.1:${mqttPort}: ${existsSync(watchLog) ? readFileSync(watchLog, 'utf8').trim().slice(-500) : 'no output'}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  env.log(`x0 watch --embedded-broker on 127.0.0.1:${mqttPort} (the guests' 10.0.2.100:1883), log ${watchLog}`);
  prepared = { hostDir, watchLog, bootStartMs: Date.now() };
  return { port: mqttPort, close };
}

type Json = Record<string, unknown>;

async function ubus(ctx: ScenarioContext, n: number, method: string): Promise<Json | null> {
  return (await ubusMany(ctx, n, [method]))[method] ?? null;
}

/**
 * Several `ubus call x0tta6bl4 METHOD` in one control-channel round trip (a poll costs one exec per VM, all VMs at
 * once: on a loaded host each exec takes a while, and the measurements are only as fine as the poll).
 */
async function ubusMany(
  ctx: ScenarioContext,
  n: number,
  methods: readonly string[],
): Promise<Record<string, Json | null>> {
  const r = await ctx.lab.exec(n, methods.map((m) => `echo @@${m}; ubus -t 3 call x0tta6bl4 ${m}`).join('; '), 15_000);
  const out: Record<string, Json | null> = {};
  for (const part of r.out.split('@@').slice(1)) {
    const nl = part.indexOf('\n');
    const method = part.slice(0, nl);
    try {
      out[method] = JSON.parse(part.slice(nl + 1)) as Json;
    } catch {
      out[method] = null;
    }
  }
  return out;
}

interface MeshNode {
  id: string;
  state: string;
  uptime_s: number | null;
  links: Array<{ to: string; tq: number }>;
}
const meshNodes = (mesh: Json | null): MeshNode[] => (Array.isArray(mesh?.nodes) ? (mesh.nodes as MeshNode[]) : []);
const upNames = (mesh: Json | null): string[] =>
  meshNodes(mesh)
    .filter((m) => m.state === 'up')
    .map((m) => m.id)
    .sort();

/** The nodes each node does not see up in its mesh document (empty: every node sees every node). */
async function missingInMesh(ctx: ScenarioContext): Promise<Map<number, string[]>> {
  const views = await Promise.all(all.map((n) => ubus(ctx, n, 'mesh')));
  const missing = new Map<number, string[]>();
  views.forEach((view, i) => {
    const up = new Set(upNames(view));
    const lack = all.map(nameOf).filter((name) => !up.has(name));
    if (lack.length > 0) missing.set(i + 1, lack);
  });
  return missing;
}

/** The leader every anchor agrees on (and exactly one anchor says it is leader), or null. */
async function agreedLeader(ctx: ScenarioContext): Promise<{ leader: string; term: number } | null> {
  return leaderOf(await Promise.all(anchors.map((n) => ubus(ctx, n, 'raft'))));
}

function leaderOf(views: ReadonlyArray<Json | null>): { leader: string; term: number } | null {
  const leaders = new Set(views.map((v) => (typeof v?.leader === 'string' ? v.leader : null)));
  const self = views.filter((v) => v?.role === 'leader').length;
  if (leaders.size !== 1 || leaders.has(null) || self !== 1) return null;
  return { leader: [...leaders][0] as string, term: Number(views.find((v) => v?.role === 'leader')?.term) };
}

async function agentPid(ctx: ScenarioContext, n: number): Promise<number | null> {
  const r = await ctx.lab.exec(n, 'pidof x0-runtime');
  const pid = Number(r.out.trim());
  return r.rc === 0 && Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** procd's view of the agent's instance (`ubus call service list`): its pid while it runs, else null. */
async function procdPid(ctx: ScenarioContext, n: number): Promise<number | null> {
  const r = await ctx.lab.exec(n, `ubus -t 3 call service list '{"name":"x0tta6bl4"}'`, 15_000);
  try {
    const service = (JSON.parse(r.out) as Json).x0tta6bl4 as { instances?: Record<string, Json> } | undefined;
    const agentInstance = service?.instances?.agent;
    return agentInstance?.running === true && typeof agentInstance.pid === 'number' ? agentInstance.pid : null;
  } catch {
    return null;
  }
}

async function readyLines(ctx: ScenarioContext, n: number): Promise<string[]> {
  const r = await ctx.lab.exec(n, `grep ' agent ready ' ${agentLog}; true`);
  return r.out.split('\n').filter((l) => l.includes(' agent ready '));
}

/** Components that are neither up nor disabled, from `ubus call x0tta6bl4 status`. */
function notUp(status: Json | null): string[] {
  const components = (status?.components ?? {}) as Record<string, { state: string; reason: string | null }>;
  return Object.entries(components)
    .filter(([, c]) => c.state !== 'up' && c.state !== 'disabled')
    .map(([k, c]) => `${k}:${c.state}${c.reason ? `(${c.reason})` : ''}`);
}

/**
 * The packaged image, on every router: opkg lists x0tta6bl4 as installed, the init script is enabled (rc.d), and
 * the boot step (qemu/guest/x0-lab-service boot: uci-defaults, then rc.d's S* scripts, with procd answering on
 * ubus) is done. Records one check each; false when the agent cannot be started the packaged way.
 */
async function packageInstalled(ctx: ScenarioContext): Promise<boolean> {
  const { lab } = ctx;
  const installed = await Promise.all(all.map((n) => lab.exec(n, 'opkg list-installed x0tta6bl4')));
  const opkgOk = ctx.check(
    'agent-installed-by-opkg',
    installed.every((r) => r.rc === 0 && /^x0tta6bl4 - \S+/m.test(r.out)),
    installed.map((r, i) => `node ${i + 1}: ${r.out.trim() || `rc ${r.rc}`}`).join('; '),
  );
  const booted = await lab
    .waitFor(
      'the boot step (uci-defaults, rc.d) on every router',
      async () =>
        (await Promise.all(all.map((n) => lab.exec(n, '[ -e /var/run/x0-lab/booted ]')))).every((r) => r.rc === 0) ||
        null,
      60_000,
    )
    .catch(() => null);
  const enabled = await Promise.all(
    all.map((n) => lab.exec(n, '/etc/init.d/x0tta6bl4 enabled && ls /etc/rc.d && ubus list service')),
  );
  const bootOk = ctx.check(
    'init-script-enabled-under-procd',
    booted !== null && enabled.every((r) => r.rc === 0 && r.out.includes('S95x0tta6bl4')),
    booted === null
      ? 'the boot step did not finish within 60 s (see /var/log/x0/boot.log and service.log)'
      : enabled
          .map(
            (r, i) => `node ${i + 1}: ${r.rc === 0 ? r.out.trim().replace(/\s+/g, ' ') : `rc ${r.rc} ${r.out.trim()}`}`,
          )
          .join('; '),
  );
  return opkgOk && bootOk;
}

/** Set while `agent-zero-trust` runs this scenario's steps: it stops after the peers and times revocations. */
let revocationOnly = false;

export const agent: Scenario = {
  name: 'agent',
  summary:
    'ring of 5 on batman-adv, each router running only x0 agent from its UCI file (installed by opkg, run by procd): enrolment, Raft leader, mesh document, verified telemetry, SIGKILL -> respawn -> rejoined',
  nodes: nodeCount,
  topology: 'ring',
  edges: [
    [1, 2],
    [2, 3],
    [3, 4],
    [4, 5],
    [1, 5],
  ],
  prepare,
  async run(ctx) {
    const { lab } = ctx;
    const p = prepared;
    if (p === null) throw new Error('prepare() did not run');
    const zeroTrust: ZeroTrustSetup = { all, nameOf, anchors, hostDir: p.hostDir, stateDir, agentLog };
    const packaged = (await lab.exec(1, `[ -f ${packageList} ]`)).rc === 0;
    const present = await lab.exec(
      1,
      packaged
        ? '[ -x /usr/bin/x0-runtime ] && [ -x /usr/sbin/ubusd ] && [ -x /usr/bin/ubus ] && [ -x /sbin/procd ] && [ -f /usr/lib/x0tta6bl4/x0tta6bl4.jsbc ]'
        : '[ -x /usr/bin/x0-runtime ] && [ -x /usr/sbin/ubusd ] && [ -x /usr/bin/ubus ] && { [ -f /usr/lib/x0/x0tta6bl4.jsbc ] || [ -f /usr/lib/x0/x0tta6bl4.js ]; }',
    );
    if (
      !ctx.check(
        'image-has-agent-and-ubusd',
        present.rc === 0,
        present.rc === 0
          ? `x0-runtime, the bundle, ubusd and ubus are in the image${packaged ? ', with procd' : ''}`
          : 'the image lacks x0-runtime, the bundle, ubusd or ubus: bash scripts/setup.sh (builds them), then the lab rebuilds the image',
      )
    )
      return;
    if (packaged && !(await packageInstalled(ctx))) return;
    const ubusd = await Promise.all(all.map((n) => lab.exec(n, '[ -S /var/run/ubus/ubus.sock ] && pidof ubusd')));
    ctx.check(
      'ubusd-running',
      ubusd.every((r) => r.rc === 0),
      ubusd.map((r, i) => `node ${i + 1}: ${r.rc === 0 ? `ubusd pid ${r.out.trim()}` : 'no ubusd'}`).join('; '),
    );

    // Each router gets its UCI file and its state directory (key, certificate chain, trust bundle), then the
    // agent is started: packaged, by its init script (procd runs it); else init's respawn loop (x0-lab-service
    // agent) starts it once the lab enables it.
    const enabledAt = new Map<number, number>();
    await Promise.all(
      all.map(async (n) => {
        const host = path.join(p.hostDir, nameOf(n));
        for (const [file, mode] of [
          ['node.key', '600'],
          ['node.chain', '644'],
          ['bundle.cbor', '644'],
        ] as const) {
          await lab.vm(n).putFile(`${stateDir}/${file}`, readFileSync(path.join(host, 'state', file)), mode);
        }
        await lab.vm(n).putFile('/etc/config/x0tta6bl4', readFileSync(path.join(host, 'x0tta6bl4')));
        const start = packaged
          ? `chmod 700 ${stateDir} && /etc/init.d/x0tta6bl4 start`
          : `chmod 700 ${stateDir} && mkdir -p /etc/x0-lab && touch /etc/x0-lab/agent.enabled`;
        const r = await lab.exec(n, start, 30_000);
        if (r.rc !== 0) throw new Error(`node ${n}: starting the agent (${start}) failed: ${r.out.trim()}`);
        enabledAt.set(n, Date.now());
      }),
    );
    const firstEnabled = Math.min(...enabledAt.values());
    ctx.log(
      `UCI files and identities written; agents enabled ${firstEnabled - ctx.readyAtMs} ms after all VMs were ready`,
    );

    // 1. Every agent ready (its own log line) and, over ubus, running with every component up.
    const ready = await lab
      .waitFor(
        'every agent to log "agent ready"',
        async () => {
          const lines = await Promise.all(all.map((n) => readyLines(ctx, n)));
          return lines.every((l) => l.length > 0) ? lines : null;
        },
        timeouts.readyMs,
      )
      .catch((e: Error) => {
        ctx.check('agents-ready', false, e.message);
        return null;
      });
    if (ready === null) return;
    ready.value.forEach((lines, i) => {
      const ms = /ready_ms=(\d+)/.exec(lines[0] ?? '')?.[1];
      ctx.check(`agent-ready-node-${i + 1}`, ms !== undefined, (lines[0] ?? '').replace(/^\S+ /, ''));
    });
    const readyMs = ready.value
      .map((l) => Number(/ready_ms=(\d+)/.exec(l[0] ?? '')?.[1] ?? NaN))
      .filter(Number.isFinite);
    if (readyMs.length > 0)
      ctx.measure(
        'agent_ready_max',
        Math.max(...readyMs),
        'ms',
        `x0 agent start -> "agent ready" (its own ready_ms), slowest of 5, bytecode on x0-runtime in a TCG guest${packaged ? ' (started by procd)' : ''}`,
      );

    // 2. Every node sees every node up in its mesh document.
    const mesh = await lab
      .waitFor(
        'every node to see every node up in its mesh document',
        async () => (await missingInMesh(ctx)).size === 0 || null,
        timeouts.meshMs,
      )
      .catch(async (e: Error) => {
        const missing = await missingInMesh(ctx);
        ctx.check(
          'mesh-converged',
          false,
          `${e.message}; missing: ${[...missing].map(([n, l]) => `node ${n} lacks ${l.join(',')}`).join('; ')}`,
        );
        return null;
      });
    if (mesh === null) return;
    const fullAt = Date.now();
    ctx.check('mesh-converged', true, `every node's ubus mesh lists ${all.map(nameOf).join(', ')} up`);
    ctx.measure(
      'boot_to_full_mesh',
      fullAt - p.bootStartMs,
      'ms',
      'QEMU spawn of 5 VMs -> every node sees every node up in its mesh document (ubus call x0tta6bl4 mesh)',
    );
    ctx.measure(
      'agent_start_to_full_mesh',
      fullAt - firstEnabled,
      'ms',
      `agents ${packaged ? 'started by /etc/init.d/x0tta6bl4' : 'enabled under init'} -> every node sees every node up (batman-adv converging meanwhile)`,
    );

    // `agent-zero-trust`: from here only the peers from batman-adv and the revocations (REVOKE_ROUNDS of them, 3 by
    // default). Revocation does not go through Raft, so its election (slow on a busy host) is not waited for.
    if (revocationOnly) {
      await checkPeersFromBatman(ctx, zeroTrust);
      return checkRevocationInXdp(ctx, zeroTrust, revocationVictims(nodeCount, 3));
    }

    // 3. Raft: one leader agreed by the anchors, announced to the nodes through gossip.
    const leader = await lab
      .waitFor('one Raft leader agreed by every anchor', () => agreedLeader(ctx), 60_000)
      .catch((e: Error) => {
        ctx.check('raft-leader', false, e.message);
        return null;
      });
    if (leader === null) return;
    ctx.check(
      'raft-leader',
      true,
      `anchors ${anchors.map(nameOf).join(', ')} agree: leader ${leader.value.leader}, term ${leader.value.term}`,
    );
    const announced = await lab
      .waitFor(
        'the nodes to learn the leader through gossip',
        async () => {
          const views = await Promise.all(all.filter((n) => roleOf(n) === 'node').map((n) => ubus(ctx, n, 'raft')));
          return views.every((v) => v?.role === 'none' && v.leader === leader.value.leader) ? views : null;
        },
        30_000,
      )
      .catch(() => null);
    ctx.check(
      'raft-leader-announced-to-nodes',
      announced !== null,
      announced !== null
        ? `nodes ${all
            .filter((n) => roleOf(n) === 'node')
            .map(nameOf)
            .join(', ')} (role none) see leader ${leader.value.leader}`
        : 'the nodes did not learn the leader within 30 s',
    );

    // 4. Every agent running, every component up (xdp attached to both mesh NICs).
    const running = await lab
      .waitFor(
        'every agent to report running with every component up',
        async () => {
          const views = await Promise.all(all.map((n) => ubus(ctx, n, 'status')));
          return views.every((s) => s?.state === 'running' && notUp(s).length === 0) ? views : null;
        },
        60_000,
      )
      .catch(async () => Promise.all(all.map((n) => ubus(ctx, n, 'status'))));
    const statuses = Array.isArray(running) ? running : running.value;
    for (const n of all) {
      const s = statuses[n - 1] ?? null;
      const components = Object.entries((s?.components ?? {}) as Record<string, { state: string }>)
        .map(([k, c]) => `${k}:${c.state}`)
        .join(' ');
      ctx.check(
        `status-running-node-${n}`,
        s?.state === 'running' && notUp(s).length === 0 && s?.role === roleOf(n) && s?.mesh === 'bat0',
        s === null
          ? 'no answer from ubus call x0tta6bl4 status'
          : `state ${String(s.state)}, role ${String(s.role)}, mesh ${String(s.mesh)}, ${components}${notUp(s).length ? `; not up: ${notUp(s).join(' ')}` : ''}`,
      );
    }

    // 4b. No UCI file names a static peer: the routers that are not anchors are found through batman-adv.
    await checkPeersFromBatman(ctx, zeroTrust);

    // 5. batman-adv in the mesh document: each node's section lists its two ring neighbours (their MACs on the
    // shared links) with a TQ, as read by the agent's batman-adv reader. Collected over the polls of node 1's view:
    // a node whose batctl read timed out drops its links until the next good read (see the agent's log).
    const seenLinks = new Map<number, string>();
    await lab
      .waitFor(
        "each node's batman-adv links in node 1's mesh document",
        async () => {
          const view = meshNodes(await ubus(ctx, 1, 'mesh'));
          for (const n of all) {
            const expected = lab.links
              .filter((l) => l.edge.includes(n))
              .map((l) => lab.macOn(l.edge[0] === n ? l.edge[1] : l.edge[0], n));
            const got = (view.find((m) => m.id === nameOf(n))?.links ?? []).filter((l) => l.tq > 0);
            if (!seenLinks.has(n) && expected.every((mac) => got.some((l) => l.to === mac)))
              seenLinks.set(n, `${nameOf(n)}: ${got.map((l) => `${l.to} tq ${l.tq}`).join(', ')}`);
          }
          return seenLinks.size === nodeCount || null;
        },
        timeouts.linksMs,
      )
      .catch(() => null);
    let linksDetail = [...seenLinks.values()].join('; ');
    const starved: string[] = [];
    if (seenLinks.size !== nodeCount) {
      // What the missing nodes published, and what their batman-adv said (the agent takes a neighbour's TQ from the
      // originator row whose originator is that neighbour's MAC on the shared link).
      const view = meshNodes(await ubus(ctx, 1, 'mesh'));
      const parts: string[] = [];
      for (const n of all.filter((m) => !seenLinks.has(m))) {
        const published =
          (view.find((m) => m.id === nameOf(n))?.links ?? []).map((l) => `${l.to} tq ${l.tq}`).join(', ') || 'none';
        const tables = await lab.exec(n, 'batctl meshif bat0 neighbors -H; echo --; batctl meshif bat0 originators -H');
        // Which side lacks them: the node's own section in its own document (the writer: batman-adv reader ->
        // gossip publish), what its reader holds now (ubus peers: mac/tq per neighbour), or only node 1's copy.
        const own = await ubusMany(ctx, n, ['mesh', 'peers', 'status']);
        const batman = ((own.status?.components ?? {}) as Record<string, { state: string; reason: string | null }>)
          .batman;
        if (batman?.state !== 'up')
          starved.push(`${nameOf(n)} (batman ${batman?.state ?? '?'}: ${batman?.reason ?? '?'})`);
        const ownLinks =
          (meshNodes(own.mesh ?? null).find((m) => m.id === nameOf(n))?.links ?? [])
            .map((l) => `${l.to} tq ${l.tq}`)
            .join(', ') || 'none';
        const read = (Array.isArray(own.peers?.peers) ? (own.peers.peers as Json[]) : [])
          .filter((x) => x.mac !== null)
          .map((x) => `${String(x.mac)} tq ${String(x.tq)}`)
          .join(', ');
        const log = await lab.exec(n, `grep -E ' (batman|gossip) ' ${agentLog} | tail -5`);
        parts.push(
          `${nameOf(n)} published [${published}] (in its own document [${ownLinks}]; its reader [${read || 'none'}]); batctl n/o: ${tables.out.trim().replace(/\s+/g, ' ')}; log: ${log.out.trim().replace(/\s+/g, ' ') || 'none'}`,
        );
      }
      linksDetail = `within ${timeouts.linksMs / 1000} s node 1's mesh document never listed both ring neighbours with a TQ for ${all
        .filter((n) => !seenLinks.has(n))
        .map(nameOf)
        .join(', ')}: ${parts.join(' | ')}`;
    }
    // The intermittent miss (about 1 run in 10 on a loaded host; "its reader is up, the log shows nothing") was the
    // exec of batctl: on a starved guest QuickJS-ng's loop runs due timers before it reads descriptors, and the old
    // exec closed the child's pipes 200 ms after its exit, unread: batctl "succeeded" with empty tables and the node
    // wiped its links (src/platform/qjs/exec.ts now waits for EOF; src/batman/batctl.ts refuses a table without its
    // header). What is left is honest: a guest so starved that batctl's answer takes over 5 s degrades the node's
    // batman-adv reader (batctl-timeout); that is a skip with the evidence; a miss while every reader is up fails.
    if (seenLinks.size === nodeCount) ctx.check('mesh-batman-links', true, linksDetail);
    else if (starved.length > 0)
      ctx.skip(
        'mesh-batman-links',
        `batman-adv reader not up (host overloaded): ${starved.join(', ')}; ${linksDetail}`,
      );
    else ctx.check('mesh-batman-links', false, linksDetail);

    // 6. Verified telemetry from every node (x0 watch on the host: signature, chain, topic binding, sequence).
    const telemetry = await lab
      .waitFor(
        'verified telemetry from every node',
        async () => {
          const from = new Set(
            watchLines(p.watchLog)
              .filter((l) => l.ok && l.kind === 'telemetry')
              .map((l) => l.node),
          );
          return all.every((n) => from.has(nameOf(n))) ? from : null;
        },
        timeouts.telemetryMs,
      )
      .catch(() => null);
    const rejected = watchLines(p.watchLog).filter((l) => !l.ok && l.benign !== true);
    ctx.check(
      'telemetry-verified',
      telemetry !== null,
      telemetry === null
        ? `x0 watch did not verify telemetry from every node (see ${p.watchLog})`
        : `x0 watch verified telemetry from ${[...telemetry.value].sort().join(', ')}`,
    );
    ctx.check(
      'telemetry-none-rejected',
      rejected.length === 0,
      rejected.length === 0
        ? 'no message rejected'
        : `${rejected.length} rejected: ${[...new Set(rejected.map((l) => `${l.node}:${l.reason}`))].join(', ')}`,
    );

    // 7. SIGKILL of the leader's agent: procd (packaged) or busybox init respawns it, it rejoins Raft and the mesh.
    const victim = all.find((n) => nameOf(n) === leader.value.leader) as number;
    const pid = await agentPid(ctx, victim);
    const pidByProcd = packaged ? await procdPid(ctx, victim) : null;
    if (
      !ctx.check(
        'agent-pid',
        pid !== null && (!packaged || pidByProcd === pid),
        `node ${victim} (${nameOf(victim)}, the Raft leader): x0-runtime pid ${pid}${packaged ? `, procd's instance pid ${pidByProcd}` : ''}`,
      )
    )
      return;
    const watchBefore = watchLines(p.watchLog).length;
    const kill = await lab.exec(victim, `kill -KILL ${pid}`);
    const killedAt = Date.now();
    if (!ctx.check('sigkill', kill.rc === 0, `kill -KILL ${pid} on node ${victim}: rc ${kill.rc}`)) return;
    const respawned = await lab
      .waitFor(
        'init to start the agent again',
        async () => {
          const now = await agentPid(ctx, victim);
          return now !== null && now !== pid ? now : null;
        },
        timeouts.restartMs,
      )
      .catch(() => null);
    const respawnedAt = Date.now();
    // Who started it: procd's instance now has the new pid (packaged), or x0-lab-service logged another start.
    const starts = packaged ? '' : (await lab.exec(victim, 'grep -c "agent start" /var/log/x0/service.log')).out.trim();
    const procdNow = packaged && respawned !== null ? await procdPid(ctx, victim) : null;
    if (
      !ctx.check(
        packaged ? 'respawned-by-procd' : 'respawned-by-init',
        respawned !== null && (packaged ? procdNow === respawned.value : Number(starts) >= 2),
        respawned === null
          ? `no new x0-runtime within ${timeouts.restartMs} ms`
          : packaged
            ? `new pid ${respawned.value} (was ${pid}); procd's instance pid ${procdNow}`
            : `new pid ${respawned.value} (was ${pid}); x0-lab-service logged ${starts} agent starts`,
      )
    )
      return;
    ctx.measure(
      'sigkill_to_respawned',
      respawnedAt - killedAt,
      'ms',
      packaged
        ? "kill -9 -> a new x0-runtime pid (procd's respawn, after the init script's respawn timeout of 5 s; polled with pidof)"
        : 'kill -9 -> a new x0-runtime pid (busybox init respawn, seen by polling pidof)',
    );
    const readyAgain = await lab
      .waitFor(
        'the restarted agent to log "agent ready"',
        async () => (await readyLines(ctx, victim)).length >= 2 || null,
        timeouts.restartMs,
      )
      .catch(() => null);
    ctx.check(
      'restarted-agent-ready',
      readyAgain !== null,
      readyAgain === null
        ? 'no second "agent ready" line'
        : ((await readyLines(ctx, victim))[1] ?? '').replace(/^\S+ /, ''),
    );
    if (readyAgain !== null)
      ctx.measure('sigkill_to_ready', Date.now() - killedAt, 'ms', 'kill -9 -> the new agent logged "agent ready"');

    // Rejoined: the anchors agree on a leader again (the restarted one among them), the restarted node sees every
    // node up, and every other node sees it up with the new process's uptime (younger than the kill).
    // Where the time goes: when each part first held (polled, each poll one exec per VM).
    const firstHeld = new Map<string, number>();
    const held = (part: string, ok: boolean): boolean => {
      if (ok && !firstHeld.has(part)) firstHeld.set(part, Date.now() - killedAt);
      return ok;
    };
    const rejoined = await lab
      .waitFor(
        'the restarted node back in Raft and in every mesh document',
        async () => {
          const polledAt = Date.now();
          const views = await Promise.all(
            all.map((n) => ubusMany(ctx, n, roleOf(n) === 'anchor' ? ['raft', 'mesh'] : ['mesh'])),
          );
          const agreed = leaderOf(anchors.map((n) => views[n - 1]?.raft ?? null));
          const sinceKillS = (polledAt - killedAt) / 1000 + 1; // uptime_s is rounded to whole seconds
          const fresh = all
            .filter((n) => n !== victim)
            .every((n) => {
              const m = meshNodes(views[n - 1]?.mesh ?? null).find((x) => x.id === nameOf(victim));
              return m !== undefined && m.state === 'up' && m.uptime_s !== null && m.uptime_s <= sinceKillS;
            });
          const raftOk = held('raft', agreed !== null);
          const ownOk = held('own-view', upNames(views[victim - 1]?.mesh ?? null).length === nodeCount);
          const allOk = held(
            'all-views',
            all.every((n) => upNames(views[n - 1]?.mesh ?? null).length === nodeCount),
          );
          const freshOk = held('fresh', fresh);
          return raftOk && ownOk && allOk && freshOk ? agreed : null;
        },
        timeouts.rejoinMs,
      )
      .catch((e: Error) => {
        ctx.check('rejoined', false, e.message);
        return null;
      });
    if (rejoined === null) return;
    const rejoinMs = Date.now() - killedAt;
    ctx.check(
      'rejoined',
      true,
      `leader ${rejoined.value.leader} (term ${rejoined.value.term}) agreed by all anchors (${nameOf(victim)} among them); every node sees ${nameOf(victim)} up with an uptime younger than the kill`,
    );
    ctx.measure(
      'sigkill_to_rejoined',
      rejoinMs,
      'ms',
      "kill -9 of the Raft leader's agent -> respawned, Raft leader agreed again, every node sees it up with its new uptime (polled over ubus)",
    );
    ctx.measure(
      'sigkill_to_leader_agreed',
      firstHeld.get('raft') ?? -1,
      'ms',
      'first poll in which the anchors (the restarted one among them) agreed on one leader',
    );
    ctx.measure(
      'sigkill_to_seen_fresh',
      firstHeld.get('fresh') ?? -1,
      'ms',
      'first poll in which every other node saw the restarted node up with its new uptime',
    );
    const after = await lab
      .waitFor(
        'verified telemetry from the restarted agent',
        async () =>
          watchLines(p.watchLog)
            .slice(watchBefore)
            .some((l) => l.ok && l.kind === 'telemetry' && l.node === nameOf(victim)) || null,
        timeouts.telemetryMs,
      )
      .catch(() => null);
    ctx.check(
      'telemetry-after-restart',
      after !== null,
      after === null
        ? `x0 watch verified no telemetry from ${nameOf(victim)} after the restart`
        : `x0 watch verified ${nameOf(victim)}'s telemetry after the restart`,
    );
    // Known: the uplink writes its queue (uplink.queue) to flash at most once a minute, so an agent killed within a
    // minute of a write comes back with its previous boot's queued retained 'online' status and sends it again; x0
    // watch rejects it as replayed (older than the Will the broker published for the killed agent). That one case
    // is reported as a skip until src/telemetry/uplink.ts (or the MQTT queue) stops resending it; any other
    // rejection fails.
    const rejectedAfter = watchLines(p.watchLog)
      .slice(watchBefore)
      .filter((l) => !l.ok && l.benign !== true);
    const staleStatus = (l: WatchLine): boolean =>
      l.reason === 'replayed' && l.topic === `x0/${trustDomain}/${nameOf(victim)}/status`;
    const describe = (ls: readonly WatchLine[]): string =>
      [...new Set(ls.map((l) => `${l.topic}:${l.reason}`))].join(', ');
    ctx.measure(
      'rejected_after_restart',
      rejectedAfter.length,
      'messages',
      `x0 watch rejections after the kill: ${describe(rejectedAfter) || 'none'}`,
    );
    if (rejectedAfter.length > 0 && rejectedAfter.every(staleStatus)) {
      ctx.skip(
        'telemetry-after-restart-none-rejected',
        `known uplink issue: the restarted agent resent its previous boot's queued status (${describe(rejectedAfter)}); x0 watch rejected it`,
      );
    } else {
      ctx.check(
        'telemetry-after-restart-none-rejected',
        rejectedAfter.length === 0,
        rejectedAfter.length === 0 ? 'no message rejected after the kill' : `rejected: ${describe(rejectedAfter)}`,
      );
    }
    // 8. Revocation: x0 ca revoke of node 5 (a node: the anchors keep their Raft voters), its list dropped on node 1;
    // timed until every other router has cut it off, XDP blocking its MACs, then the drop counters rising.
    await checkRevocationInXdp(ctx, zeroTrust, revocationVictims(nodeCount, 1));

    // The figures above depend on how busy the host is (5 TCG guests share its cores): say how busy it was.
    ctx.measure(
      'host_load_avg_1m',
      Math.round(os.loadavg()[0]! * 100) / 100,
      'load',
      `host 1-minute load average at the end, ${os.cpus().length} cores`,
    );
  },
};

/**
 * Opt-in (`npm run lab -- test agent-zero-trust`): the same routers up to the full mesh and the peers from
 * batman-adv, then only revocations, REVOKE_ROUNDS (1..3, default 3) of them: the figures in docs/benchmarks.md.
 */
export const agentZeroTrust: Scenario = {
  ...agent,
  name: 'agent-zero-trust',
  summary:
    'ring of 5 as in agent, then x0 ca revoke of node 5, 4, 3 in turn (REVOKE_ROUNDS): each timed to its cut-off on every other router from their journals, XDP drops rising',
  async run(ctx) {
    revocationOnly = true;
    try {
      await agent.run(ctx);
    } finally {
      revocationOnly = false;
    }
  },
};
