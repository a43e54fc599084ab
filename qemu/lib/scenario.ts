// A scenario: boot a topology, wait for conditions, act, assert, measure. Each one writes
// build/lab/<name>.json (checks, measurements, per-VM boot time and memory, image manifest).
import { readFileSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Lab } from './lab.js';
import type { Edge } from './topology.js';
import { watchHostCpu } from './host-cpu.js';

export interface Check {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'skip';
  readonly detail: string;
}

export interface Measurement {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly note?: string;
}

export interface ScenarioContext {
  readonly lab: Lab;
  readonly uplinkPort: number;
  /** When every VM had said "ready" (Date.now() ms). */
  readonly readyAtMs: number;
  /** Records a check; returns ok so a scenario can stop early when later steps depend on it. */
  check(name: string, ok: boolean, detail: string): boolean;
  skip(name: string, reason: string): void;
  measure(name: string, value: number, unit: string, note?: string): void;
  log(line: string): void;
}

/** What answers the guests' 10.0.2.100:1883: a service on the host's loopback. */
export interface UplinkService {
  readonly port: number;
  close(): void | Promise<void>;
}

export interface PrepareEnv {
  readonly root: string; // repository root
  readonly dir: string; // build/lab/<scenario>/ (the VMs' folders node-N/ are made anew at boot)
  log(line: string): void;
}

export interface Scenario {
  readonly name: string;
  readonly summary: string;
  readonly nodes: number;
  readonly topology: string;
  readonly edges: readonly Edge[];
  /**
   * Optional, on the host before the VMs boot: makes what the scenario needs (keys, files) and starts the service
   * behind the guests' uplink. Without it the uplink is the echo stand-in. A throw fails the scenario.
   */
  prepare?(env: PrepareEnv): Promise<UplinkService>;
  run(ctx: ScenarioContext): Promise<void>;
  /** Nodes booted as AArch64 routers (qemu/build-image-arm64.sh, qemu-system-aarch64); the others are x86-64. */
  readonly aarch64Nodes?: readonly number[];
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly summary: string;
  readonly ok: boolean;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly topology: { name: string; nodes: number; links: string[] };
  readonly vms: Array<{
    node: number;
    arch: string;
    bootMs: number;
    guestUptimeAtReadyS: number;
    memMb: number;
    qemuRssKb: number;
    guestMemUsedKb: number;
  }>;
  readonly checks: Check[];
  readonly measurements: Measurement[];
  readonly image: string[];
  readonly logs: string;
  readonly error?: string;
}

export interface RunOptions {
  readonly root: string; // repository root
  readonly qemu: string;
  readonly memMb: number;
  readonly image: { kernel: string; initrd: string; manifest: string };
  readonly log: (line: string) => void;
  /** The AArch64 image and emulator, for scenarios with aarch64Nodes (qemu/lab.ts builds it when one is chosen). */
  readonly aarch64?: { image: { kernel: string; initrd: string; manifest: string }; qemu: string };
}

export async function runScenario(scenario: Scenario, options: RunOptions): Promise<ScenarioResult> {
  const startedAt = new Date().toISOString();
  const start = Date.now();
  watchHostCpu(); // timing goals are judged by what the rest of the host took meanwhile (host-cpu.ts)
  const checks: Check[] = [];
  const measurements: Measurement[] = [];
  const outDir = path.join(options.root, 'build', 'lab');
  mkdirSync(outDir, { recursive: true });
  let echo: UplinkService;
  try {
    if (scenario.aarch64Nodes !== undefined && options.aarch64 === undefined)
      throw new Error(
        'this scenario boots AArch64 routers, and there is no AArch64 image or no qemu-system-aarch64 (the lab said why above: "AArch64 routers unavailable")',
      );
    echo =
      scenario.prepare === undefined
        ? await startEchoService()
        : await scenario.prepare({
            root: options.root,
            dir: path.join(outDir, scenario.name),
            log: (line) => options.log(`${scenario.name} ${line}`),
          });
  } catch (e) {
    const error = `prepare: ${(e as Error).message}`;
    options.log(`${scenario.name} FAIL ${error}`);
    const result: ScenarioResult = {
      scenario: scenario.name,
      summary: scenario.summary,
      ok: false,
      startedAt,
      durationMs: Date.now() - start,
      topology: { name: scenario.topology, nodes: scenario.nodes, links: [] },
      vms: [],
      checks: [{ name: 'prepare', status: 'fail', detail: error }],
      measurements: [],
      image: [],
      logs: '',
      error,
    };
    writeFileSync(path.join(outDir, `${scenario.name}.json`), JSON.stringify(result, null, 2) + '\n');
    return result;
  }
  const lab = new Lab(
    {
      name: scenario.name,
      edges: scenario.edges,
      nodes: scenario.nodes,
      memMb: options.memMb,
      image: options.image,
      qemu: options.qemu,
      uplinkPort: echo.port,
      log: (line) => options.log(`${scenario.name} ${line}`),
      ...(scenario.aarch64Nodes !== undefined && options.aarch64 !== undefined
        ? { aarch64: { nodes: scenario.aarch64Nodes, image: options.aarch64.image, qemu: options.aarch64.qemu } }
        : {}),
    },
    outDir,
  );
  const ctx: ScenarioContext = {
    lab,
    uplinkPort: echo.port,
    readyAtMs: 0,
    check(name, ok, detail) {
      checks.push({ name, status: ok ? 'pass' : 'fail', detail });
      lab.log(`${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}`);
      return ok;
    },
    skip(name, reason) {
      checks.push({ name, status: 'skip', detail: reason });
      lab.log(`SKIP ${name}: ${reason}`);
    },
    measure(name, value, unit, note) {
      measurements.push(note === undefined ? { name, value, unit } : { name, value, unit, note });
      lab.log(`measured ${name} = ${value} ${unit}${note ? ` (${note})` : ''}`);
    },
    log: (line) => lab.log(line),
  };
  let error: string | undefined;
  const vms: ScenarioResult['vms'] = [];
  try {
    await lab.start();
    (ctx as { readyAtMs: number }).readyAtMs = Date.now();
    ctx.check('boot', true, `${scenario.nodes} VMs ready`);
    for (const vm of lab.vms) {
      const free = await vm.exec("free | awk '/^Mem:/ { print $3 }'");
      vms.push({
        node: vm.node,
        arch: vm.config.arch ?? 'x86_64',
        bootMs: vm.bootMs,
        guestUptimeAtReadyS: vm.guestUptimeAtReadyS,
        memMb: options.memMb,
        qemuRssKb: vm.hostRssKb(),
        guestMemUsedKb: Number(free.out.trim()) || -1,
      });
    }
    await scenario.run(ctx);
  } catch (e) {
    error = (e as Error).message;
    checks.push({ name: 'scenario', status: 'fail', detail: error });
    lab.log(`FAIL ${error}`);
  } finally {
    await lab.collectLogs().catch(() => {});
    await lab.stop();
    await echo.close();
  }
  const result: ScenarioResult = {
    scenario: scenario.name,
    summary: scenario.summary,
    ok: checks.length > 0 && checks.every((c) => c.status !== 'fail'),
    startedAt,
    durationMs: Date.now() - start,
    topology: { name: scenario.topology, nodes: scenario.nodes, links: lab.links.map((l) => l.name) },
    vms,
    checks,
    measurements,
    image: [
      ...(existsSync(options.image.manifest) ? readFileSync(options.image.manifest, 'utf8').trim().split('\n') : []),
      ...(scenario.aarch64Nodes !== undefined &&
      options.aarch64 !== undefined &&
      existsSync(options.aarch64.image.manifest)
        ? readFileSync(options.aarch64.image.manifest, 'utf8')
            .trim()
            .split('\n')
            .map((l) => `aarch64 image: ${l}`)
        : []),
    ],
    logs: path.relative(options.root, lab.dir),
    ...(error === undefined ? {} : { error }),
  };
  writeFileSync(path.join(outDir, `${scenario.name}.json`), JSON.stringify(result, null, 2) + '\n');
  return result;
}

/** The stand-in for the MQTT broker on the host's loopback: answers the first line with "echo: LINE", closes. */
async function startEchoService(): Promise<{ port: number; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      const nl = buffer.indexOf('\n');
      if (nl >= 0) socket.end(`echo: ${buffer.slice(0, nl)}\n`);
      else if (buffer.length > 4096) socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
