// An AArch64 router in a mesh of x86-64 routers (issue 19): a line 1-2-3 on real batman-adv whose middle router,
// node 2, is an emulated Cortex-A53 (qemu-system-aarch64 -M virt -cpu cortex-a53, Debian's arm64 kernel and
// batman-adv, qemu/build-image-arm64.sh) running the cross-built x0-runtime (aarch64, musl, static) and the
// bytecode compiled on that target (scripts/cross.sh); nodes 1 and 3 are the x86-64 image (the agent from its
// package, glibc, dynamic). Every router runs only `x0 agent` from its UCI file.
// On the host (prepare): a mesh CA; the two x86 routers are anchors with identities signed here and an intermediate
// each (x0 ca intermediate, so they can enrol); the AArch64 router gets only a join token in its UCI file and
// enrols over the mesh at its first start. `x0 watch --embedded-broker` behind the guests' uplink verifies telemetry.
// Checks: which binary each router runs (ELF machine, static on aarch64); every agent ready; node 2 enrolled at an
// anchor; one Raft leader agreed by the anchors (their Raft traffic crosses node 2); node 2 up in the mesh document
// of nodes 1 and 3 (ubus) and nodes 1 and 3 up in node 2's (its persisted document, `x0 gossip show`: the image has
// no ubusd for aarch64); batman-adv routes 1 -> 3 through node 2 and a ping 1 -> 3 is forwarded by node 2 (its
// batman-adv forward counter); x0 watch verifies node 2's signed telemetry. Measured: each router's boot, node 2's
// agent ready time and RSS, the x86 routers' RSS.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { PrepareEnv, Scenario, ScenarioContext, UplinkService } from '../lib/scenario.js';

const trustDomain = 'arm.x0';
const port = 7400; // gossip; Raft on port + 1, enrolment on port + 2
const stateDir = '/etc/x0tta6bl4';
const agentLog = '/var/log/x0/agent.log';
const packageList = '/usr/lib/opkg/info/x0tta6bl4.list';
const arm = 2;
const all = [1, 2, 3];
const anchors = [1, 3];
const watchDurationMs = 10 * 60_000; // x0 watch stops by itself after this, whatever happens to the runner
const timeouts = {
  readyMs: 180_000,
  enrolMs: 120_000,
  leaderMs: 90_000,
  meshMs: 150_000,
  telemetryMs: 90_000,
} as const;
/** ELF e_machine (bytes 18-19, little-endian) of the two CPUs. */
const elfMachine: Record<string, string> = { '3e00': 'x86-64', b700: 'aarch64' };

const nameOf = (n: number): string => `node-${n}`;
const peerEntry = (n: number): string => `${nameOf(n)}@10.77.0.${n}:${port}`;

function uciFor(n: number, joinToken: string | null): string {
  return [
    `# ${nameOf(n)}: written by the QEMU lab (qemu/scenarios/arm.ts); every option: docs/config.md`,
    "config agent 'main'",
    `\toption node_name '${nameOf(n)}'`,
    `\toption role '${anchors.includes(n) ? 'anchor' : 'node'}'`,
    `\toption state_dir '${stateDir}'`,
    `\toption trust_domain '${trustDomain}'`,
    "\toption mesh_interface 'bat0'",
    `\toption listen '0.0.0.0:${port}'`,
    `\toption announce '10.77.0.${n}:${port}'`,
    ...(joinToken === null ? [] : [`\toption join_token '${joinToken}'`]),
    ...anchors.map((a) => `\tlist anchor '${peerEntry(a)}'`),
    "\toption log_level 'info'",
    '',
    "config uplink 'uplink'",
    "\toption enabled '1'",
    "\toption broker '10.0.2.100:1883'",
    "\toption interval '2s'",
    "\toption protocol '3.1.1'",
    '',
  ].join('\n');
}

interface Prepared {
  readonly hostDir: string;
  readonly watchLog: string;
}
let prepared: Prepared | null = null;

function x0(root: string, args: readonly string[]): string {
  const runtime = path.join(root, 'build', 'x0-runtime');
  const bundle = path.join(root, 'dist', 'x0tta6bl4.js');
  if (!existsSync(runtime)) throw new Error(`${runtime} is missing: run bash scripts/setup.sh (make -C src/native)`);
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build`);
  const r = spawnSync(runtime, [bundle, ...args], { encoding: 'utf8', timeout: 60_000 });
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

/** Nodes whose telemetry x0 watch verified (signature, chain, topic binding, sequence). */
function verifiedTelemetry(file: string): Set<string> {
  const from = new Set<string>();
  if (!existsSync(file)) return from;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const l = JSON.parse(line) as { ok?: boolean; kind?: string; node?: string };
      if (l.ok === true && l.kind === 'telemetry' && typeof l.node === 'string') from.add(l.node);
    } catch {
      /* a line being written */
    }
  }
  return from;
}

async function prepare(env: PrepareEnv): Promise<UplinkService> {
  prepared = null;
  const hostDir = path.join(env.dir, 'host');
  rmSync(hostDir, { recursive: true, force: true });
  mkdirSync(hostDir, { recursive: true });
  const ca = path.join(hostDir, 'ca');
  x0(env.root, ['ca', 'init', '--trust-domain', trustDomain, '--dir', ca]);
  for (const n of anchors) {
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
    // An intermediate in STATE_DIR/issuer: this anchor's registrar enrols nodes that bring a join token.
    x0(env.root, [
      'ca',
      'intermediate',
      '--name',
      `anchor-${nameOf(n)}`,
      '--out',
      path.join(state, 'issuer'),
      '--dir',
      ca,
    ]);
    writeFileSync(path.join(hostDir, nameOf(n), 'x0tta6bl4'), uciFor(n, null));
  }
  // The AArch64 router: nothing but a join token (its key is made on the router, its certificate by an anchor).
  mkdirSync(path.join(hostDir, nameOf(arm)), { recursive: true });
  const token = x0(env.root, ['ca', 'issue-token', '--node', nameOf(arm), '--dir', ca]);
  writeFileSync(path.join(hostDir, nameOf(arm), 'x0tta6bl4'), uciFor(arm, token));
  env.log(
    `mesh CA ${trustDomain}: anchors ${anchors.map(nameOf).join(', ')} signed here, ${nameOf(arm)} has a join token`,
  );

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
  process.once('exit', close);
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
  prepared = { hostDir, watchLog };
  return { port: mqttPort, close };
}

type Json = Record<string, unknown>;

async function ubus(ctx: ScenarioContext, n: number, method: string): Promise<Json | null> {
  const r = await ctx.lab.exec(n, `ubus -t 3 call x0tta6bl4 ${method}`, 15_000);
  try {
    return r.rc === 0 ? (JSON.parse(r.out) as Json) : null;
  } catch {
    return null;
  }
}

/** Names up in an x86 router's mesh document (ubus call x0tta6bl4 mesh). */
async function upViaUbus(ctx: ScenarioContext, n: number): Promise<string[]> {
  const mesh = await ubus(ctx, n, 'mesh');
  const nodes = Array.isArray(mesh?.nodes) ? (mesh.nodes as Array<{ id: string; state: string }>) : [];
  return nodes
    .filter((m) => m.state === 'up')
    .map((m) => m.id)
    .sort();
}

/** Names online in the AArch64 router's own persisted mesh document (x0 gossip show on the router). */
async function onlineInPersisted(ctx: ScenarioContext, n: number): Promise<string[]> {
  const r = await ctx.lab.exec(
    n,
    `x0-runtime /usr/lib/x0/x0tta6bl4.jsbc gossip show --state-dir ${stateDir} --json`,
    30_000,
  );
  try {
    const doc = (JSON.parse(r.out.trim().split('\n').pop() ?? '') as { doc?: { sections?: Record<string, Json> } }).doc;
    return Object.entries(doc?.sections ?? {})
      .filter(([, s]) => (s.status as { online?: boolean } | null)?.online === true)
      .map(([id]) => id)
      .sort();
  } catch {
    return [];
  }
}

async function rssKb(ctx: ScenarioContext, n: number): Promise<number | null> {
  // The agent's x0-runtime (its command line has "agent"; x0 gossip show may run beside it).
  const r = await ctx.lab.exec(
    n,
    `for p in $(pidof x0-runtime); do tr '\\0' ' ' < /proc/$p/cmdline | grep -q ' agent ' && awk '/^VmRSS:/ { print $2 }' /proc/$p/status; done | head -1`,
  );
  const kb = Number(r.out.trim());
  return r.rc === 0 && Number.isInteger(kb) && kb > 0 ? kb : null;
}

/** Which binary each router runs: the CPU its kernel reports and the ELF machine of /usr/bin/x0-runtime. */
async function checkBinaries(ctx: ScenarioContext): Promise<boolean> {
  const binaries = await Promise.all(
    all.map((n) =>
      ctx.lab.exec(
        n,
        'echo "$(uname -m) $(od -An -tx1 -j18 -N2 /usr/bin/x0-runtime | tr -d " ") $(wc -c < /usr/bin/x0-runtime)"; ls /lib/ld-* /lib/*/ld-* 2>/dev/null | tr "\\n" " "',
      ),
    ),
  );
  const parsed = binaries.map((r) => r.out.trim().split(/\s+/));
  const machineOf = (n: number): string | undefined => elfMachine[parsed[n - 1]?.[1] ?? ''];
  // Static: the AArch64 image has no musl loader (and glibc's arm64 loader is only there for batctl).
  const armOk =
    parsed[arm - 1]?.[0] === 'aarch64' && machineOf(arm) === 'aarch64' && !/ld-musl/.test(binaries[arm - 1]?.out ?? '');
  const x86Ok = anchors.every((n) => parsed[n - 1]?.[0] === 'x86_64' && machineOf(n) === 'x86-64');
  const detail = all.map((n) => {
    const [cpu, machine, bytes] = parsed[n - 1] ?? [];
    const kind =
      n === arm
        ? 'cross-built by scripts/cross.sh, musl, static (no dynamic loader for it in the image)'
        : 'from the x86_64 package, glibc, dynamic';
    return `node ${n}: kernel ${cpu}, /usr/bin/x0-runtime ELF ${elfMachine[machine ?? ''] ?? machine} ${bytes} bytes, ${kind}`;
  });
  return ctx.check('binaries-per-router', armOk && x86Ok, detail.join('; '));
}

/** Each router's UCI file and state (anchors: identity and intermediate; node 2: nothing), then its agent. */
async function startAgents(ctx: ScenarioContext, p: Prepared): Promise<void> {
  const { lab } = ctx;
  const packaged = await Promise.all(anchors.map(async (n) => (await lab.exec(n, `[ -f ${packageList} ]`)).rc === 0));
  if (packaged.some(Boolean)) {
    // The packaged agent is started by its init script under procd once the boot step (rc.d) is done.
    await lab.waitFor(
      'the boot step (uci-defaults, rc.d) on the x86 routers',
      async () =>
        (await Promise.all(anchors.map((n) => lab.exec(n, '[ -e /var/run/x0-lab/booted ]')))).every(
          (r) => r.rc === 0,
        ) || null,
      60_000,
    );
  }
  await Promise.all(
    all.map(async (n) => {
      const host = path.join(p.hostDir, nameOf(n));
      if (anchors.includes(n)) {
        for (const [file, mode] of [
          ['node.key', '600'],
          ['node.chain', '644'],
          ['bundle.cbor', '644'],
        ] as const)
          await lab.vm(n).putFile(`${stateDir}/${file}`, readFileSync(path.join(host, 'state', file)), mode);
        for (const file of readdirSync(path.join(host, 'state', 'issuer')))
          await lab
            .vm(n)
            .putFile(`${stateDir}/issuer/${file}`, readFileSync(path.join(host, 'state', 'issuer', file)), '600');
      }
      await lab.vm(n).putFile('/etc/config/x0tta6bl4', readFileSync(path.join(host, 'x0tta6bl4')));
      const viaPackage = anchors.includes(n) && packaged[anchors.indexOf(n)] === true;
      const start = viaPackage
        ? `mkdir -p ${stateDir} && chmod 700 ${stateDir} && /etc/init.d/x0tta6bl4 start`
        : `mkdir -p ${stateDir} && chmod 700 ${stateDir} && mkdir -p /etc/x0-lab && touch /etc/x0-lab/agent.enabled`;
      const r = await lab.exec(n, start, 30_000);
      if (r.rc !== 0) throw new Error(`node ${n}: starting the agent (${start}) failed: ${r.out.trim()}`);
    }),
  );
}

/** Every agent ready, and node 2 enrolled at an anchor with its join token; false when an agent never got ready. */
async function checkReadyAndEnrolled(ctx: ScenarioContext): Promise<boolean> {
  const { lab } = ctx;
  const ready = await lab
    .waitFor(
      'every agent to log "agent ready"',
      async () => {
        const lines = await Promise.all(all.map((n) => lab.exec(n, `grep -m1 ' agent ready ' ${agentLog}; true`)));
        return lines.every((l) => l.out.includes(' agent ready ')) ? lines.map((l) => l.out.trim()) : null;
      },
      timeouts.readyMs,
    )
    .catch((e: Error) => {
      ctx.check('agents-ready', false, e.message);
      return null;
    });
  // The agent is ready (degraded) before it holds a certificate: enrolment retries until an anchor's Raft has a
  // leader to record the spent token. Wait for it, then take the time from the agent's own log.
  const enrolled = await lab
    .waitFor(
      'node 2 to enrol with its join token',
      async () => {
        const r = await lab.exec(
          arm,
          `grep -m1 ' agent starting ' ${agentLog}; grep -m1 ' identity enrolled ' ${agentLog}`,
        );
        return / identity enrolled /.test(r.out) ? r.out.trim().split('\n') : null;
      },
      timeouts.enrolMs,
    )
    .catch(() => null);
  ctx.check(
    'aarch64-enrolled-with-join-token',
    enrolled !== null && /anchor=node-[13]/.test(enrolled.value[1] ?? ''),
    enrolled === null
      ? `no "identity enrolled" line in node 2's ${agentLog} within ${timeouts.enrolMs / 1000} s`
      : (enrolled.value[1] ?? '').replace(/^\S+ /, ''),
  );
  const stamp = (line: string | undefined): number => Date.parse(/^(\S+Z) /.exec(line ?? '')?.[1] ?? '');
  const enrolMs = stamp(enrolled?.value[1]) - stamp(enrolled?.value[0]);
  if (Number.isFinite(enrolMs))
    ctx.measure(
      'aarch64_agent_start_to_enrolled',
      enrolMs,
      'ms',
      "node 2's agent start -> certificate from an anchor (its log's clock; retries while the anchors have no Raft leader)",
    );
  if (ready === null) return false;
  ctx.check('agents-ready', true, ready.value.map((l, i) => `node ${i + 1}: ${l.replace(/^\S+ /, '')}`).join('; '));
  const armReady = Number(/ready_ms=(\d+)/.exec(ready.value[arm - 1] ?? '')?.[1] ?? Number.NaN);
  if (Number.isFinite(armReady))
    ctx.measure(
      'aarch64_agent_ready',
      armReady,
      'ms',
      'x0 agent start -> "agent ready" (its ready_ms; degraded until enrolled) on the emulated Cortex-A53',
    );
  return true;
}

/** Raft: the two anchors agree on one leader; their messages cross the AArch64 router (line 1-2-3). */
async function checkRaft(ctx: ScenarioContext): Promise<void> {
  const leader = await ctx.lab
    .waitFor(
      'one Raft leader agreed by both anchors',
      async () => {
        const views = await Promise.all(anchors.map((n) => ubus(ctx, n, 'raft')));
        const leaders = new Set(views.map((v) => v?.leader));
        const self = views.filter((v) => v?.role === 'leader').length;
        return leaders.size === 1 && typeof views[0]?.leader === 'string' && self === 1
          ? String(views[0].leader)
          : null;
      },
      timeouts.leaderMs,
    )
    .catch(() => null);
  ctx.check(
    'raft-leader-across-aarch64',
    leader !== null,
    leader !== null
      ? `anchors node-1 and node-3 agree: leader ${leader.value}`
      : `no agreed leader within ${timeouts.leaderMs / 1000} s`,
  );
}

/** The mesh document: node 2 up in the x86 routers' documents (ubus), and they online in node 2's own. */
async function checkMesh(ctx: ScenarioContext, enabledAt: number): Promise<void> {
  const views = async () => ({
    x86: await Promise.all(anchors.map((n) => upViaUbus(ctx, n))),
    own: await onlineInPersisted(ctx, arm),
  });
  const want = all.map(nameOf);
  const mesh = await ctx.lab
    .waitFor(
      'node 2 in every mesh document and every node in node 2s',
      async () => {
        const v = await views();
        return v.x86.every((up) => want.every((w) => up.includes(w))) && want.every((w) => v.own.includes(w))
          ? v
          : null;
      },
      timeouts.meshMs,
    )
    .catch(() => null);
  const v = mesh?.value ?? (await views());
  const detail = `node 1 (ubus) up: [${v.x86[0]?.join(',')}]; node 3 (ubus) up: [${v.x86[1]?.join(',')}]; node 2 (x0 gossip show) online: [${v.own.join(',')}]`;
  ctx.check(
    'aarch64-in-every-mesh-document',
    mesh !== null,
    mesh !== null ? detail : `not within ${timeouts.meshMs / 1000} s: ${detail}`,
  );
  if (mesh !== null)
    ctx.measure(
      'agents_enabled_to_full_mesh',
      Date.now() - enabledAt,
      'ms',
      'agents started -> node 2 in both x86 documents and both in node 2s',
    );
}

/**
 * Traffic crosses the AArch64 router: batman-adv's route 1 -> 3 goes through node 2, and a ping is forwarded there
 * (batman-adv's forward counter on node 2 rises by at least two frames per answered ping).
 */
async function checkForwarding(ctx: ScenarioContext): Promise<void> {
  const { lab } = ctx;
  const route = await lab.route(1, 3);
  const via2 = lab.macOn(arm, 1);
  ctx.check(
    'route-1-to-3-via-aarch64',
    route !== null && route.nextHop === via2,
    route === null
      ? 'node 1 has no route to node 3'
      : `node 1 -> node 3 next hop ${route.nextHop} (node 2's NIC on link 1-2 is ${via2})`,
  );
  const forwarded = async (): Promise<number> =>
    Number((await lab.exec(arm, 'batctl meshif bat0 statistics | awk \'$1 == "forward:" { print $2 }\'')).out.trim());
  const before = await forwarded();
  const ping = await lab.exec(1, 'ping -c 10 -W 2 10.77.0.3', 40_000);
  const after = await forwarded();
  const replies = Number(/(\d+) packets received/.exec(ping.out)?.[1] ?? 0);
  ctx.check(
    'ping-1-to-3-forwarded-by-aarch64',
    replies >= 8 && after - before >= 2 * replies,
    `${replies}/10 replies (${/min\/avg\/max = (\S+)/.exec(ping.out)?.[1] ?? '?'} ms); node 2 forwarded ${after - before} frames meanwhile (each request and reply crosses it)`,
  );
}

export const armMesh: Scenario = {
  name: 'arm',
  summary:
    'line of 3 on batman-adv, node 2 an emulated AArch64 router (Cortex-A53, cross-built musl static x0-runtime): it enrols with a join token, joins Raft traffic and the mesh document, forwards 1 -> 3',
  nodes: 3,
  topology: 'line',
  edges: [
    [1, 2],
    [2, 3],
  ],
  aarch64Nodes: [arm],
  prepare,
  async run(ctx) {
    const p = prepared;
    if (p === null) throw new Error('prepare() did not run');
    for (const vm of ctx.lab.vms)
      ctx.measure(
        `boot_node_${vm.node}_${vm.config.arch ?? 'x86_64'}`,
        vm.bootMs,
        'ms',
        'QEMU spawn -> the guest said ready (TCG)',
      );
    if (!(await checkBinaries(ctx))) return;
    await startAgents(ctx, p);
    const enabledAt = Date.now();
    if (!(await checkReadyAndEnrolled(ctx))) return;
    await checkRaft(ctx);
    await checkMesh(ctx, enabledAt);
    await checkForwarding(ctx);
    // x0 watch on the host verified the AArch64 router's signed telemetry (its enrolled certificate's chain).
    const telemetry = await ctx.lab
      .waitFor(
        'verified telemetry from every router',
        async () => all.every((n) => verifiedTelemetry(p.watchLog).has(nameOf(n))) || null,
        timeouts.telemetryMs,
      )
      .catch(() => null);
    ctx.check(
      'telemetry-verified-aarch64',
      telemetry !== null,
      `x0 watch verified telemetry from ${[...verifiedTelemetry(p.watchLog)].sort().join(', ') || 'nobody'}`,
    );
    for (const n of all) {
      const kb = await rssKb(ctx, n);
      if (kb !== null)
        ctx.measure(
          `agent_rss_node_${n}_${n === arm ? 'aarch64' : 'x86_64'}`,
          kb,
          'KiB',
          `x0-runtime (${n === arm ? 'musl static' : 'glibc dynamic'}) running x0 agent, VmRSS`,
        );
    }
  },
};
