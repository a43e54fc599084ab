// The lab's command line: an interactive lab of N virtual routers, the scenario tests, a console attach.
// Run with `node --import tsx qemu/lab.ts ...` (npm run lab / npm run lab:test).
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Lab } from './lib/lab.js';
import { limits } from './lib/limits.js';
import { runScenario, type RunOptions, type ScenarioResult } from './lib/scenario.js';
import { buildTopology } from './lib/topology.js';
import { defaultScenarios, scenarios } from './scenarios/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// X0_LAB_INSTALL=opkg: the image whose agent is installed from its package and run by procd (qemu/build-image.sh).
const installMode = process.env.X0_LAB_INSTALL ?? 'opkg';
if (installMode !== 'files' && installMode !== 'opkg') {
  process.stderr.write(`lab: X0_LAB_INSTALL is files or opkg, not '${installMode}'\n`);
  process.exit(2);
}
const imageDir = path.join(root, '.cache', 'qemu', installMode === 'files' ? 'image' : `image-${installMode}`);
const image = {
  kernel: path.join(imageDir, 'vmlinuz'),
  initrd: path.join(imageDir, 'initramfs.cpio.gz'),
  manifest: path.join(imageDir, 'manifest.txt'),
};

const help = `usage: node --import tsx qemu/lab.ts [up] [options]        interactive lab (npm run lab -- ...)
       node --import tsx qemu/lab.ts test [SCENARIO...] [options] run scenarios (default: lab.ts list)
       node --import tsx qemu/lab.ts console NODE                attach to a running lab's serial console
       node --import tsx qemu/lab.ts list                        list the scenarios

Virtual routers under QEMU (-accel tcg), each an initramfs with Debian's kernel, batman-adv, batctl, busybox,
OpenWrt's procd and the agent installed from its package by opkg (qemu/build-image.sh builds and caches it in
.cache/qemu/image-opkg/). Mesh links are point-to-point QEMU UDP socket netdevs on 127.0.0.1; each VM's uplink
is user-mode networking with restrict=on whose only way out is 10.0.2.100:1883 -> 127.0.0.1:UPLINK-PORT on the host.
A scenario with AArch64 routers (arm) boots them with qemu-system-aarch64 -M virt -cpu cortex-a53 from
.cache/qemu/image-arm64/ (qemu/build-image-arm64.sh: Debian's arm64 kernel, the cross-built x0-runtime).

options:
  --nodes N            routers, 1..${limits.nodesMax} (default 3)
  --topology T         line | ring | mesh | custom (default line)
  --edges LIST         links for --topology custom, e.g. 1-2,2-3,3-1
  --mem MB             guest memory per VM (default 128)
  --uplink-port P      host loopback port behind the guest's 10.0.2.100:1883 (default 1883)
  --no-build           do not run the image builder first (use the cached image)
environment: X0_LAB_INSTALL=opkg|files  how the agent gets into the image: installed from its .ipk by opkg and
                     started by its init script under procd (opkg, the default), or copied in and run by init
  --repeat N           test: run the scenarios N times, print min/median/max of each measurement
  -h, --help           this text

interactive commands (stdin): N CMD | all CMD | cut A-B | restore A-B | impair A-B [delay MS] [loss PCT]
                              | clear A-B | links | routes | help | quit
results: build/lab/<scenario>.json, logs in build/lab/<scenario>/node-N/ (console.txt, dmesg.txt, agent.log)
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`lab: ${message}\n`);
  process.exit(code);
}

interface Options {
  command: string;
  positional: string[];
  nodes: number;
  topology: string;
  edges: string;
  memMb: number;
  uplinkPort: number;
  build: boolean;
  repeat: number;
}

function parse(argv: string[]): Options {
  const o: Options = {
    command: 'up',
    positional: [],
    nodes: 3,
    topology: 'line',
    edges: '',
    memMb: 128,
    uplinkPort: 1883,
    build: true,
    repeat: 1,
  };
  const value = (i: number, flag: string): string => argv[i + 1] ?? fail(`${flag} needs a value (see --help)`);
  let i = 0;
  if (argv[0] !== undefined && !argv[0].startsWith('-')) {
    o.command = argv[0];
    i = 1;
  }
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    switch (arg) {
      case '-h':
      case '--help':
        process.stdout.write(help);
        return process.exit(0);
      case '--nodes':
        o.nodes = Number(value(i++, arg));
        break;
      case '--topology':
        o.topology = value(i++, arg);
        break;
      case '--edges':
        o.edges = value(i++, arg);
        o.topology = 'custom';
        break;
      case '--mem':
        o.memMb = Number(value(i++, arg));
        break;
      case '--uplink-port':
        o.uplinkPort = Number(value(i++, arg));
        break;
      case '--no-build':
        o.build = false;
        break;
      case '--repeat':
        o.repeat = Number(value(i++, arg));
        break;
      default:
        if (arg.startsWith('-')) fail(`unknown option ${arg} (see --help)`);
        o.positional.push(arg);
    }
  }
  if (!Number.isInteger(o.memMb) || o.memMb < limits.memMbMin || o.memMb > limits.memMbMax)
    fail(`--mem must be ${limits.memMbMin}..${limits.memMbMax}`);
  if (!Number.isInteger(o.repeat) || o.repeat < 1 || o.repeat > limits.repeatMax)
    fail(`--repeat must be 1..${limits.repeatMax}`);
  if (!Number.isInteger(o.uplinkPort) || o.uplinkPort < 1 || o.uplinkPort > 65535)
    fail('--uplink-port must be 1..65535');
  return o;
}

function log(line: string): void {
  process.stdout.write(`lab: ${line}\n`);
}

function findQemu(): string {
  const r = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' });
  const found = r.stdout.trim();
  if (r.status !== 0 || found === '')
    fail('qemu-system-x86_64 not found: apt-get install qemu-system-x86 (or bash scripts/setup.sh)', 3);
  return found;
}

function buildImage(enabled: boolean): void {
  if (enabled) {
    const start = Date.now();
    const r = spawnSync('bash', [path.join(root, 'qemu', 'build-image.sh')], {
      stdio: 'inherit',
      cwd: root,
      env: { ...process.env, X0_LAB_INSTALL: installMode },
    });
    if (r.status !== 0) fail(`the image build failed (exit ${r.status}); see the lines above`, 1);
    log(`image ready in ${((Date.now() - start) / 1000).toFixed(1)} s`);
  }
  if (!existsSync(image.kernel) || !existsSync(image.initrd))
    fail(`no image in ${path.relative(root, imageDir)}/: run bash qemu/build-image.sh`, 1);
}

/**
 * The AArch64 router image (qemu/build-image-arm64.sh: Debian's arm64 kernel, busybox and batctl, the cross-built
 * x0-runtime and bytecode) and qemu-system-aarch64, for scenarios that boot AArch64 routers (arm.ts). A problem is
 * returned as text: those scenarios then fail with it, the others still run.
 */
function aarch64Image(enabled: boolean): NonNullable<RunOptions['aarch64']> | string {
  const r = spawnSync('sh', ['-c', 'command -v qemu-system-aarch64'], { encoding: 'utf8' });
  const qemu = r.stdout.trim();
  if (r.status !== 0 || qemu === '')
    return 'qemu-system-aarch64 not found: apt-get install qemu-system-arm (or bash scripts/setup.sh)';
  const dir = path.join(root, '.cache', 'qemu', 'image-arm64');
  if (enabled) {
    const start = Date.now();
    const b = spawnSync('bash', [path.join(root, 'qemu', 'build-image-arm64.sh')], { stdio: 'inherit', cwd: root });
    if (b.status !== 0)
      return `the AArch64 image build (qemu/build-image-arm64.sh) failed (exit ${b.status}); see its lines above`;
    log(`AArch64 image ready in ${((Date.now() - start) / 1000).toFixed(1)} s`);
  }
  const image = {
    kernel: path.join(dir, 'vmlinuz'),
    initrd: path.join(dir, 'initramfs.cpio.gz'),
    manifest: path.join(dir, 'manifest.txt'),
  };
  if (!existsSync(image.kernel) || !existsSync(image.initrd))
    return `no AArch64 image in ${path.relative(root, dir)}/: run bash qemu/build-image-arm64.sh`;
  return { image, qemu };
}

async function runTests(o: Options): Promise<number> {
  const names = o.positional.length > 0 ? o.positional : defaultScenarios;
  const chosen = names.map((n) => scenarios.find((s) => s.name === n) ?? fail(`unknown scenario '${n}' (lab.ts list)`));
  const qemu = findQemu();
  buildImage(o.build);
  const arm = chosen.some((s) => s.aarch64Nodes !== undefined) ? aarch64Image(o.build) : undefined;
  if (typeof arm === 'string') log(`AArch64 routers unavailable: ${arm}`);
  const aarch64 = typeof arm === 'string' ? undefined : arm;
  const results: ScenarioResult[] = [];
  for (let run = 1; run <= o.repeat; run++) {
    for (const scenario of chosen) {
      log(`scenario ${scenario.name}${o.repeat > 1 ? ` (run ${run}/${o.repeat})` : ''}: ${scenario.summary}`);
      results.push(
        await runScenario(scenario, {
          root,
          qemu,
          memMb: o.memMb,
          image,
          log,
          ...(aarch64 === undefined ? {} : { aarch64 }),
        }),
      );
    }
  }
  printSummary(results);
  if (o.repeat > 1) printStatistics(results);
  return results.every((r) => r.ok) ? 0 : 1;
}

/** With --repeat: min, median and max of each measurement over the runs (the figures docs/benchmarks.md cites). */
function printStatistics(results: readonly ScenarioResult[]): void {
  const series = new Map<string, { unit: string; values: number[] }>();
  for (const r of results) {
    const boot = r.vms.map((v) => v.bootMs);
    if (boot.length > 0) {
      const key = `${r.scenario} boot_max_of_${r.vms.length}_parallel`;
      series.set(key, { unit: 'ms', values: [...(series.get(key)?.values ?? []), Math.max(...boot)] });
    }
    for (const m of r.measurements) {
      const key = `${r.scenario} ${m.name}`;
      series.set(key, { unit: m.unit, values: [...(series.get(key)?.values ?? []), m.value] });
    }
  }
  process.stdout.write('\nmeasurement                                   n      min   median      max  unit\n');
  const stats: Record<string, unknown> = {};
  for (const [key, { unit, values }] of series) {
    const sorted = [...values].sort((a, b) => a - b);
    const median =
      sorted.length % 2 === 1
        ? sorted[(sorted.length - 1) / 2]!
        : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
    stats[key] = { unit, n: sorted.length, min: sorted[0], median, max: sorted.at(-1), values };
    process.stdout.write(
      `${key.padEnd(44)} ${String(sorted.length).padStart(2)} ${String(sorted[0]).padStart(8)} ${String(median).padStart(8)} ${String(sorted.at(-1)).padStart(8)}  ${unit}\n`,
    );
  }
  writeFileSync(path.join(root, 'build', 'lab', 'repeat-summary.json'), JSON.stringify(stats, null, 2) + '\n');
  process.stdout.write('statistics: build/lab/repeat-summary.json\n');
}

function printSummary(results: readonly ScenarioResult[]): void {
  const rows = results.map((r) => {
    const count = (s: string): number => r.checks.filter((c) => c.status === s).length;
    const boot = r.vms.length > 0 ? Math.max(...r.vms.map((v) => v.bootMs)) : -1;
    const rss = r.vms.length > 0 ? Math.max(...r.vms.map((v) => v.qemuRssKb)) : -1;
    const figures = r.measurements.map((m) => `${m.name}=${m.value}${m.unit === 'ms' ? 'ms' : ` ${m.unit}`}`).join(' ');
    return [
      r.scenario,
      r.ok ? 'PASS' : 'FAIL',
      `${count('pass')}/${count('fail')}/${count('skip')}`,
      boot >= 0 ? `${(boot / 1000).toFixed(1)} s` : '-',
      rss >= 0 ? `${Math.round(rss / 1024)} MB` : '-',
      `${(r.durationMs / 1000).toFixed(1)} s`,
      figures,
    ];
  });
  const header = ['scenario', 'result', 'pass/fail/skip', 'boot max', 'qemu RSS max', 'duration', 'measured'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  process.stdout.write(`\n${line(header)}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map(line).join('\n')}\n`);
  for (const r of results) {
    for (const c of r.checks.filter((c) => c.status === 'fail'))
      process.stdout.write(`FAIL ${r.scenario}/${c.name}: ${c.detail}\n`);
  }
  process.stdout.write(`results: ${results.map((r) => `build/lab/${r.scenario}.json`).join(' ')}\n`);
}

async function runInteractive(o: Options): Promise<number> {
  const topo = buildTopology(o.topology, o.nodes, o.edges);
  if (!topo.ok) fail(topo.reason);
  const qemu = findQemu();
  buildImage(o.build);
  const lab = new Lab(
    {
      name: 'interactive',
      edges: topo.edges,
      nodes: o.nodes,
      memMb: o.memMb,
      image,
      qemu,
      uplinkPort: o.uplinkPort,
      log,
    },
    path.join(root, 'build', 'lab'),
  );
  try {
    await lab.start();
  } catch (e) {
    await lab.stop();
    fail((e as Error).message, 1);
  }
  log(`${o.nodes} routers up (${o.topology}). Reach them:`);
  for (const vm of lab.vms) {
    log(
      `  node ${vm.node}: bat0 10.77.0.${vm.node}, console: npm run lab -- console ${vm.node}   (log: ${path.relative(root, vm.consoleLog)})`,
    );
  }
  log(
    'type "N CMD" (e.g. "1 batctl o"), "all CMD", "cut A-B", "restore A-B", "impair A-B delay 50 loss 10", "clear A-B", "links", "routes", "quit"',
  );
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  for await (const raw of rl) {
    const line = raw.trim();
    if (line === '') continue;
    if (line === 'quit' || line === 'exit') break;
    try {
      await interactiveCommand(lab, line);
    } catch (e) {
      log(`error: ${(e as Error).message}`);
    }
  }
  log('stopping the VMs');
  await lab.stop();
  return 0;
}

async function interactiveCommand(lab: Lab, line: string): Promise<void> {
  const [head = '', ...rest] = line.split(/\s+/);
  const pair = /^(\d+)-(\d+)$/.exec(rest[0] ?? '');
  if ((head === 'cut' || head === 'restore') && pair) {
    await (head === 'cut' ? lab.cut(Number(pair[1]), Number(pair[2])) : lab.restore(Number(pair[1]), Number(pair[2])));
  } else if (head === 'impair' && pair) {
    const delay = /delay\s+(\d+(?:\.\d+)?)/.exec(line);
    const loss = /loss\s+(\d+(?:\.\d+)?)/.exec(line);
    await lab.impair(Number(pair[1]), Number(pair[2]), {
      delayMs: Number(delay?.[1] ?? 0),
      lossPercent: Number(loss?.[1] ?? 0),
    });
  } else if (head === 'clear' && pair) {
    await lab.clearImpairment(Number(pair[1]), Number(pair[2]));
  } else if (head === 'links') {
    for (const l of lab.links)
      log(`  ${l.name}: ${l.up ? 'up' : 'CUT'} (udp 127.0.0.1:${l.nicA.localPort} <-> :${l.nicB.localPort})`);
  } else if (head === 'routes') {
    for (const vm of lab.vms) {
      // Only the routes to each node's originator address (batman IV also lists secondary interfaces).
      const routes = (await lab.originators(vm.node)).filter(
        (r) => r.best && lab.vms.some((o) => lab.primaryMac(o.node) === r.originator),
      );
      const text = routes.map(
        (r) => `to ${lab.macOwner(r.originator)} via ${lab.macOwner(r.nextHop)} (${r.outgoingIf}, TQ ${r.tq})`,
      );
      log(`  node ${vm.node}: ${text.join(', ') || '(no routes)'}`);
    }
  } else if (head === 'all' || /^\d+$/.test(head)) {
    const targets = head === 'all' ? lab.vms.map((v) => v.node) : [Number(head)];
    for (const node of targets) {
      const r = await lab.exec(node, rest.join(' '));
      process.stdout.write(`--- node ${node} (exit ${r.rc}, ${r.ms} ms)\n${r.out}`);
    }
  } else {
    log(
      'commands: N CMD | all CMD | cut A-B | restore A-B | impair A-B [delay MS] [loss PCT] | clear A-B | links | routes | quit',
    );
  }
}

/** Attaches the terminal to a running interactive lab's serial console; Ctrl-] detaches. */
async function attachConsole(o: Options): Promise<number> {
  const node = Number(o.positional[0]);
  if (!Number.isInteger(node) || node < 1) fail('console needs a node number');
  const sock = path.join(root, 'build', 'lab', 'interactive', `node-${node}`, 'console.sock');
  if (!existsSync(sock))
    fail(`no console at ${path.relative(root, sock)}: is 'npm run lab' running with node ${node}?`, 1);
  const socket = net.createConnection(sock);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  process.stderr.write(`lab: attached to node ${node}'s console; Ctrl-] detaches\n`);
  if (process.stdin.isTTY) process.stdin.setRawMode(true);
  socket.write('\n');
  process.stdin.on('data', (d: Buffer) => {
    if (d.includes(0x1d)) socket.end();
    else socket.write(d);
  });
  process.stdin.on('end', () => setTimeout(() => socket.end(), 1000)); // piped input: let the answer arrive
  socket.pipe(process.stdout);
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  if (process.stdin.isTTY) process.stdin.setRawMode(false);
  process.stdin.pause();
  return 0;
}

async function main(): Promise<number> {
  const o = parse(process.argv.slice(2));
  switch (o.command) {
    case 'up':
      return runInteractive(o);
    case 'test':
      return runTests(o);
    case 'console':
      return attachConsole(o);
    case 'list':
      for (const s of scenarios)
        process.stdout.write(
          `${s.name.padEnd(10)} ${s.summary}${defaultScenarios.includes(s.name) ? '' : ' [opt-in]'}\n`,
        );
      return 0;
    default:
      return fail(`unknown command '${o.command}' (see --help)`);
  }
}

main().then(
  (code) => process.exit(code),
  (e: Error) => fail(e.stack ?? e.message, 1),
);
