// The runbook tests' mesh: routers on loopback, each an `x0 agent` on x0-runtime (the shipped bundle) with its own
// real ubusd, configured only by its UCI file (written like the main job's: test/lib/mesh.ts), in a temporary
// directory, with the commands a runbook uses on PATH: x0, uci (OpenWrt's), node-ctl (an operator's ssh to a
// router: test/operations/node-ctl.sh). Also: reading runbooks (docs/operations/README.md says the convention) and
// the telemetry check that no handshake failed.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { meshUci, type MeshNode } from '../lib/mesh.js';
import { bundlePath, freePort, root, runtimePath } from '../lib/processes.js';

export const openwrtPrefix = `${root}build/openwrt/prefix`;
const tsxLoader = `${root}node_modules/tsx/dist/esm/index.mjs`;
export const trustDomain = 'ops.x0';

// ---- runbooks

export interface Setup {
  readonly anchors: readonly string[];
  readonly nodes: readonly string[];
  readonly spare: readonly string[];
  readonly telemetry: boolean;
  readonly started: boolean;
  /** The test checks that no sealed-link handshake failed on any node while the runbook ran. */
  readonly noFailedHandshake: boolean;
}

export interface Block {
  readonly line: number;
  readonly kind: 'run' | 'norun' | 'simulate';
  readonly text: string;
}

export interface Runbook {
  readonly file: string;
  readonly setup: Setup;
  readonly blocks: readonly Block[];
}

const setupRe = /^<!-- runbook:([^>]*)-->$/m;

export function parseSetup(text: string): Setup | string {
  const m = setupRe.exec(text);
  if (m === null) return 'no <!-- runbook: ... --> line declaring its setup';
  const words = (m[1] as string)
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  const list = (key: string) => {
    const w = words.find((x) => x.startsWith(`${key}=`));
    return w === undefined
      ? []
      : w
          .slice(key.length + 1)
          .split(',')
          .filter((x) => x !== '');
  };
  const known = /^(anchors|nodes|spare)=[a-z0-9,-]*$|^(telemetry|stopped|no-failed-handshake|empty)$/;
  const bad = words.find((w) => !known.test(w));
  if (bad !== undefined) return `unknown setup word '${bad}'`;
  return {
    anchors: list('anchors'),
    nodes: list('nodes'),
    spare: list('spare'),
    telemetry: words.includes('telemetry') || words.includes('no-failed-handshake'),
    started: !words.includes('stopped'),
    noFailedHandshake: words.includes('no-failed-handshake'),
  };
}

/** The fenced ```sh blocks, in order; `sh norun` and `sh simulate` are marked (README.md). */
export function parseBlocks(text: string): Block[] | string {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```sh(?:\s+(norun|simulate))?\s*$/.exec(lines[i] as string);
    if (open === null) {
      if (/^```\s*sh\b/.test(lines[i] as string) || /^```(bash|shell|console)\b/.test(lines[i] as string))
        return `line ${i + 1}: a shell block must open with \`\`\`sh, \`\`\`sh norun or \`\`\`sh simulate`;
      continue;
    }
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i] as string);
    if (i >= lines.length) return `line ${start + 1}: the block is not closed`;
    blocks.push({ line: start + 1, kind: (open[1] as Block['kind'] | undefined) ?? 'run', text: body.join('\n') });
  }
  return blocks;
}

export function readRunbook(path: string): Runbook | string {
  const text = readFileSync(path, 'utf8');
  const setup = parseSetup(text);
  if (typeof setup === 'string') return `${path}: ${setup}`;
  const blocks = parseBlocks(text);
  if (typeof blocks === 'string') return `${path}: ${blocks}`;
  return { file: path, setup, blocks };
}

/** The script the test runs: every runnable block in order, each announcing itself (for the failure report). */
export function script(runbook: Runbook): string {
  return runbook.blocks
    .filter((b) => b.kind !== 'norun')
    .map((b) => `echo "::block at line ${b.line}" >&2\n${b.text}`)
    .join('\n');
}

// ---- telemetry: failed handshakes while the runbook ran

interface Sample {
  readonly node: string;
  readonly at: number;
  readonly failures: number;
}

export function telemetrySamples(path: string): Sample[] {
  if (!existsSync(path)) return [];
  const out: Sample[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const m = JSON.parse(line) as {
        ok?: boolean;
        kind?: string;
        node?: string;
        at?: number;
        data?: { statistics?: { x0?: { link?: { handshake_failures?: number } } } };
      };
      const failures = m.data?.statistics?.x0?.link?.handshake_failures;
      if (m.ok === true && m.kind === 'telemetry' && typeof failures === 'number' && typeof m.at === 'number')
        out.push({ node: m.node as string, at: m.at, failures });
    } catch {
      // a line being written
    }
  }
  return out;
}

/**
 * Handshakes that failed on each node between startMs and endMs. The counter lives in the agent's link: it starts
 * again at 0 when the agent or its link restarts, so a drop means a new counter (all of its value is new).
 */
export function failedHandshakes(samples: readonly Sample[], startMs: number, endMs: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const node of new Set(samples.map((s) => s.node))) {
    const mine = samples.filter((s) => s.node === node).sort((a, b) => a.at - b.at);
    let prev = [...mine].reverse().find((s) => s.at < startMs)?.failures ?? 0;
    let total = 0;
    for (const s of mine.filter((x) => x.at >= startMs && x.at <= endMs)) {
      total += s.failures >= prev ? s.failures - prev : s.failures;
      prev = s.failures;
    }
    out.set(node, total);
  }
  return out;
}

// ---- the mesh

export interface Mesh {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly telemetryPath: string;
  stop(): Promise<void>;
}

function requireTools(): void {
  for (const path of [runtimePath, bundlePath, `${openwrtPrefix}/sbin/ubusd`, `${openwrtPrefix}/bin/ubus`]) {
    if (!existsSync(path)) throw new Error(`${path} is missing: run bash scripts/setup.sh (and npm run build)`);
  }
}

/** Ports P (sealed link), P+1 (Raft's name) and P+2 (enrolment, TCP) for each router, free now. */
async function ports(count: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < count) {
    const p = await freePort();
    if (p + 2 > 65535 || out.some((q) => Math.abs(q - p) < 3)) continue;
    out.push(p);
  }
  return out;
}

function writeBin(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const x0 = `#!/bin/sh
# x0 on the routers is x0-runtime with the bundle; watch, exporter and cmd are the operator's (Node) commands.
case "$1" in watch|exporter|cmd) exec node --import "${tsxLoader}" "${root}src/entry/node.ts" "$@" ;; esac
exec "${runtimePath}" "${bundlePath}" "$@"
`;
  writeFileSync(join(bin, 'x0'), x0);
  // OpenWrt's uci; its change files (uci set before uci commit) stay in this mesh's directory, not /tmp/.uci.
  const uci = `#!/bin/sh\nmkdir -p "${dir}/.uci"\nLD_LIBRARY_PATH="${openwrtPrefix}/lib" exec "${openwrtPrefix}/bin/uci" -t "${dir}/.uci" "$@"\n`;
  writeFileSync(join(bin, 'uci'), uci);
  chmodSync(join(bin, 'x0'), 0o755);
  chmodSync(join(bin, 'uci'), 0o755);
  symlinkSync(`${root}test/operations/node-ctl.sh`, join(bin, 'node-ctl'));
  return bin;
}

async function x0(env: NodeJS.ProcessEnv, cwd: string, ...argv: string[]): Promise<string> {
  const r = await runIn(cwd, env, ['x0', ...argv], 30_000);
  if (r.code !== 0) throw new Error(`x0 ${argv.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

export function runIn(
  cwd: string,
  env: NodeJS.ProcessEnv,
  argv: readonly string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0] as string, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export async function startMesh(setup: Setup, label: string): Promise<Mesh> {
  requireTools();
  const dir = mkdtempSync(join(tmpdir(), `x0-ops-${label}-`));
  const bin = writeBin(dir);
  const names = [...setup.anchors, ...setup.nodes, ...setup.spare];
  const [mqttPort, ...nodePorts] = await ports(names.length + 1);
  const broker = setup.telemetry ? `127.0.0.1:${mqttPort}` : null;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    X0_RUNTIME: runtimePath,
    X0_BUNDLE: bundlePath,
    OPENWRT_PREFIX: openwrtPrefix,
    BROKER: broker ?? '',
    TRUST_DOMAIN: trustDomain,
    X0_ROOT: root,
  };
  const node = (name: string, i: number): MeshNode => ({
    name,
    role: setup.anchors.includes(name) ? 'anchor' : 'node',
    port: nodePorts[i] as number,
  });
  const all = names.map(node);
  const anchors = all.filter((n) => n.role === 'anchor');
  const children: ChildProcess[] = [];
  const telemetryPath = join(dir, 'telemetry.jsonl');
  const mesh: Mesh = {
    dir,
    env,
    telemetryPath,
    stop: async () => {
      await runIn(dir, env, ['node-ctl', 'all', 'stop'], 30_000);
      for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    },
  };
  if (setup.anchors.length > 0) await x0(env, dir, 'ca', 'init', '--trust-domain', trustDomain, '--ca-dir', 'ca');
  for (const n of all) {
    mkdirSync(join(dir, n.name, 'config'), { recursive: true });
    let token: string | null = null;
    if (!setup.spare.includes(n.name)) {
      const roles = n.role === 'anchor' ? ['--roles', 'anchor'] : [];
      token = await x0(env, dir, 'ca', 'issue-token', '--node', n.name, ...roles, '--ca-dir', 'ca');
    }
    if (n.role === 'anchor' && token !== null) {
      await x0(env, dir, 'cert', 'request', '--token', token, '--state-dir', `${n.name}/state`);
      await x0(
        env,
        dir,
        'ca',
        'sign',
        '--request',
        `${n.name}/state/join-request.cbor`,
        '--out',
        `${n.name}/state/node.chain`,
        '--bundle-out',
        `${n.name}/state/bundle.cbor`,
        '--ca-dir',
        'ca',
      );
      await x0(
        env,
        dir,
        'ca',
        'intermediate',
        '--name',
        `anchor-${n.name}`,
        '--out',
        `${n.name}/state/issuer`,
        '--ca-dir',
        'ca',
      );
      token = null;
    }
    const uci = meshUci({
      node: n,
      anchors,
      staticPeers: all.filter((p) => p.role === 'node' && p !== n),
      stateDir: join(dir, n.name, 'state'),
      ubusSocket: join(dir, n.name, 'ubus.sock'),
      trustDomain,
      joinToken: token,
      broker,
      interval: '1s',
      header: 'written by test/operations/fixture.ts',
    });
    writeFileSync(join(dir, n.name, 'config', 'x0tta6bl4'), uci);
  }
  if (broker !== null) {
    // The mesh's MQTT broker (x0 watch's embedded one, its own output aside); the monitor is a separate consumer
    // the runbooks restart with another trust bundle without disturbing the routers' uplinks.
    const brokerLog = join(dir, 'broker.log');
    const watch = spawn(
      'sh',
      [
        '-c',
        'exec x0 watch --embedded-broker --broker "$0" --trust ca/bundle.cbor --duration 1h >"$1" 2>&1',
        broker,
        brokerLog,
      ],
      { cwd: dir, env, stdio: 'ignore' },
    );
    children.push(watch);
    const deadline = Date.now() + 30_000;
    while (!(existsSync(brokerLog) && /subscribed/.test(readFileSync(brokerLog, 'utf8')))) {
      if (Date.now() > deadline)
        throw new Error(`x0 watch did not start its broker: ${readFileSync(brokerLog, 'utf8')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    mkdirSync(join(dir, 'monitor'), { recursive: true });
    writeFileSync(join(dir, 'monitor', 'bundle.cbor'), readFileSync(join(dir, 'ca', 'bundle.cbor')));
    const monitor = await runIn(dir, env, ['node-ctl', 'monitor', 'start'], 30_000);
    if (monitor.code !== 0) throw new Error(`setup: the monitor did not start: ${monitor.stderr}`);
  }
  if (setup.started) {
    const started = all.filter((n) => !setup.spare.includes(n.name));
    for (const n of started) await runIn(dir, env, ['node-ctl', n.name, 'start'], 10_000);
    for (const n of started) {
      const r = await runIn(dir, env, ['node-ctl', n.name, 'wait-running', '40'], 45_000);
      if (r.code !== 0) {
        await mesh.stop();
        throw new Error(`setup: ${n.name} did not come up: ${r.stderr}`);
      }
    }
  }
  return mesh;
}
