// Node-only helpers for the monitoring tests: the Debian prometheus package's tools, a Prometheus started by
// the test itself (own config, temporary storage, a free loopback port; never the system service) and the
// mesh it watches (mosquitto, an exporter, uplinks), all stopped by the test.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect as mqttConnect } from 'mqtt';
import { bundlePath, freePort, root } from '../lib/processes.js';
import { Mosquitto, makeMesh, sleep, start, waitFor, x0Node, x0Runtime, type Running } from '../mqtt/lib.js';
import { exportedFamilies } from './dashboard-check.js';

export const promtoolPath = '/usr/bin/promtool';
export const prometheusPath = '/usr/bin/prometheus';
export const monitoringDir = `${root}monitoring`;

export function requirePrometheus(): void {
  for (const path of [promtoolPath, prometheusPath]) {
    if (!existsSync(path))
      throw new Error(
        `${path} is missing: install Debian's prometheus package (scripts/apt-packages/monitoring.txt; bash scripts/setup.sh does it)`,
      );
  }
}

export function promtool(...args: string[]): { code: number | null; output: string } {
  const r = spawnSync(promtoolPath, args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** The rules text with one alert's `for:` replaced (the production values are minutes; a test has seconds). */
export function withFor(rules: string, alert: string, duration: string): string {
  const start = rules.indexOf(`- alert: ${alert}\n`);
  if (start === -1) throw new Error(`no alert ${alert} in the rules`);
  const next = rules.indexOf('- alert: ', start + 1);
  const block = rules.slice(start, next === -1 ? undefined : next);
  if (!/\n\s+for: \S+\n/.test(block)) throw new Error(`alert ${alert} has no 'for:'`);
  return (
    rules.slice(0, start) +
    block.replace(/(\n\s+for: )\S+\n/, `$1${duration}\n`) +
    (next === -1 ? '' : rules.slice(next))
  );
}

export class Prometheus {
  private child: ChildProcess | null = null;
  log = '';

  private constructor(readonly port: number) {}

  /** Starts Prometheus with a config scraping `targets` every scrapeInterval and evaluating `ruleFile`. */
  static async start(
    dir: string,
    targets: readonly string[],
    ruleFile: string,
    scrapeInterval = '1s',
  ): Promise<Prometheus> {
    requirePrometheus();
    mkdirSync(`${dir}/tsdb`, { recursive: true });
    const config = `${dir}/prometheus.yml`;
    writeFileSync(
      config,
      [
        'global:',
        `  scrape_interval: ${scrapeInterval}`,
        `  evaluation_interval: ${scrapeInterval}`,
        'rule_files:',
        `  - ${ruleFile}`,
        'scrape_configs:',
        '  - job_name: x0-exporter',
        '    static_configs:',
        `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
      ].join('\n') + '\n',
    );
    const check = promtool('check', 'config', config);
    if (check.code !== 0) throw new Error(`promtool check config ${config}: ${check.output}`);
    const prometheus = new Prometheus(await freePort());
    const child = spawn(
      prometheusPath,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${dir}/tsdb`,
        `--web.listen-address=127.0.0.1:${prometheus.port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (d) => {
      prometheus.log += d;
    });
    child.stderr?.on('data', (d) => {
      prometheus.log += d;
    });
    prometheus.child = child;
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) break;
      try {
        if ((await fetch(`http://127.0.0.1:${prometheus.port}/-/ready`)).ok) return prometheus;
      } catch {
        /* not listening yet */
      }
      await sleep(50);
    }
    await prometheus.stop();
    throw new Error(`prometheus did not become ready on port ${prometheus.port}: ${prometheus.log}`);
  }

  async api<T>(path: string): Promise<T> {
    const response = await fetch(`http://127.0.0.1:${this.port}/api/v1/${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error}`);
    return body.data;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

export interface MonitoredMesh {
  readonly exporterPort: number;
  readonly brokerPort: number;
  readonly uplinks: Record<string, Running>;
  readonly exporter: Running;
  scrape(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A mesh as the exporter sees it in production, every family with samples: alpha (x0-runtime) and bravo (Node)
 * publish simulated telemetry with the agent's per-component section; a forged message is rejected; the
 * --revocations file is one the exporter must refuse. Resolves once every metric family has a sample.
 */
export async function startMonitoredMesh(dir: string, options: { keepAliveS?: number } = {}): Promise<MonitoredMesh> {
  const mesh = makeMesh(dir, 'mesh.test', ['alpha', 'bravo']);
  writeFileSync(`${dir}/revocations.cbor`, 'not a signed revocation list');
  const broker = await Mosquitto.start(dir);
  const brokerArg = ['--broker', `127.0.0.1:${broker.port}`];
  const exporterPort = await freePort();
  const exporter = start(
    x0Node(
      'exporter',
      '--bundle',
      mesh.bundlePath,
      ...brokerArg,
      '--listen',
      `127.0.0.1:${exporterPort}`,
      '--revocations',
      `${dir}/revocations.cbor`,
      '--duration-ms',
      '110000',
    ),
    120_000,
  );
  const keepAlive = ['--keepalive-s', String(options.keepAliveS ?? 30)];
  const uplinks = {
    alpha: start(
      x0Node(
        'uplink',
        '--dir',
        mesh.nodeDir('alpha'),
        ...brokerArg,
        '--interval-ms',
        '500',
        '--simulate',
        '1',
        ...keepAlive,
      ),
      120_000,
    ),
    bravo: start(
      x0Runtime(
        bundlePath,
        'uplink',
        '--dir',
        mesh.nodeDir('bravo'),
        ...brokerArg,
        '--interval-ms',
        '500',
        '--simulate',
        '2',
        ...keepAlive,
      ),
      120_000,
    ),
  };
  const scrape = async () => (await fetch(`http://127.0.0.1:${exporterPort}/metrics`)).text();
  const stop = async () => {
    for (const r of [...Object.values(uplinks), exporter]) r.child.kill('SIGTERM');
    await Promise.all([...Object.values(uplinks), exporter].map((r) => r.done));
    await broker.stop();
  };
  try {
    await waitFor(exporter, /exporter: http:/);
    await publishForged(broker.port);
    for (let i = 0; ; i++) {
      const { declared, sampled } = exportedFamilies(await scrape());
      const missing = [...declared].filter((name) => !sampled.has(name));
      if (missing.length === 0 && sampled.has('x0_raft_is_leader')) break;
      if (i > 150) throw new Error(`families without samples after 30 s: ${missing.join(' ')}\n${exporter.stderr}`);
      await sleep(200);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { exporterPort, brokerPort: broker.port, uplinks, exporter, scrape, stop };
}

/** An unsigned "telemetry" message for alpha: the exporter rejects it (cose-malformed). */
async function publishForged(port: number): Promise<void> {
  const client = mqttConnect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4 });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  await client.publishAsync(
    'x0/mesh.test/alpha/telemetry',
    Buffer.from('{"v":1,"kind":"telemetry","node":"alpha","data":{}}'),
    { qos: 1 },
  );
  await client.endAsync();
}
