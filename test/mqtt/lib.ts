// Node-only helpers for the MQTT tests: a real mosquitto started by the test itself (own config, own
// persistence directory under build/, a free loopback port; never the system service), node identities on
// disk, and x0 commands on Node (tsx) and on x0-runtime.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { rollup, type Plugin } from 'rollup';
import typescript from '@rollup/plugin-typescript';
// @ts-expect-error: plain .mjs shared with rollup.config.mjs
import { plugins, onwarn } from '../../scripts/rollup-parts.mjs';
import { createNodeCrypto } from '../../src/crypto/node.js';
import { createRoot, issueNodeCert } from '../../src/core/identity/ca.js';
import { createTrustBundle, encodeChain, encodeTrustBundle } from '../../src/core/identity/chain.js';
import { encodeKeyFile } from '../../src/identity/store.js';
import { freePort, root, runtimePath } from '../lib/processes.js';

export const mosquittoPath = '/usr/sbin/mosquitto';
export const crypto = createNodeCrypto();

export function requireMosquitto(): void {
  if (!existsSync(mosquittoPath))
    throw new Error(
      `${mosquittoPath} is missing: install it with 'apt-get install mosquitto' (scripts/apt-packages/mqtt.txt; bash scripts/setup.sh does it)`,
    );
}

export function testDir(name: string): string {
  const dir = `${root}build/test-mqtt/${name}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export class Mosquitto {
  private child: ChildProcess | null = null;
  log = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly persistence: boolean,
  ) {}

  static async start(dir: string, options: { persistence?: boolean } = {}): Promise<Mosquitto> {
    requireMosquitto();
    const broker = new Mosquitto(dir, await freePort(), options.persistence ?? false);
    await broker.launch();
    return broker;
  }

  private async launch(): Promise<void> {
    const config = `${this.dir}/mosquitto.conf`;
    writeFileSync(
      config,
      [
        `listener ${this.port} 127.0.0.1`,
        'allow_anonymous true',
        `persistence ${this.persistence}`,
        `persistence_location ${this.dir}/`,
        // As root, mosquitto drops to its own user, which could not write the persistence file here.
        ...(process.getuid?.() === 0 ? ['user root'] : []),
        'autosave_interval 1',
        'max_inflight_messages 20',
        'max_queued_messages 10000',
        'log_type error',
        'log_type warning',
      ].join('\n') + '\n',
    );
    const child = spawn(mosquittoPath, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d) => {
      this.log += d;
    });
    child.stderr?.on('data', (d) => {
      this.log += d;
    });
    this.child = child;
    for (let i = 0; i < 100; i++) {
      if (await portOpen(this.port)) return;
      if (child.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(`mosquitto did not start on port ${this.port}: ${this.log}`);
  }

  /** SIGTERM: mosquitto writes its persistence file on the way out. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A mesh CA and node identities written as `x0 cert request` + `x0 ca sign` would leave them. */
export function makeMesh(
  dir: string,
  trustDomain: string,
  names: readonly string[],
): { bundlePath: string; nodeDir: (name: string) => string } {
  const nowMs = Date.now();
  const root = createRoot(crypto, { trustDomain, nowMs });
  const bundle = createTrustBundle(crypto, trustDomain, [root.issuer.cert]);
  if (!bundle.ok) throw new Error(bundle.reason);
  const bundleBytes = encodeTrustBundle(bundle.value);
  writeFileSync(`${dir}/bundle.cbor`, bundleBytes);
  for (const name of names) {
    const nodeDir = `${dir}/${name}`;
    mkdirSync(nodeDir, { recursive: true });
    const keys = { sign: crypto.signKeyPair(), box: crypto.boxKeyPair() };
    const cert = issueNodeCert(crypto, root.issuer, {
      name,
      signPublicKey: keys.sign.publicKey,
      boxPublicKey: keys.box.publicKey,
      nowMs,
    });
    writeFileSync(`${nodeDir}/node.key`, encodeKeyFile(keys), { mode: 0o600 });
    writeFileSync(`${nodeDir}/node.chain`, encodeChain([cert]));
    writeFileSync(`${nodeDir}/bundle.cbor`, bundleBytes);
  }
  return { bundlePath: `${dir}/bundle.cbor`, nodeDir: (name) => `${dir}/${name}` };
}

export const x0Node = (...args: string[]): string[] => [
  process.execPath,
  '--import',
  'tsx',
  `${root}src/entry/node.ts`,
  ...args,
];
export const x0Runtime = (bundle: string, ...args: string[]): string[] => [runtimePath, bundle, ...args];

export interface Running {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly done: Promise<number | null>;
}

/** Starts a long-running command; waitFor() resolves when its output matches. */
export function start(argv: readonly string[], timeoutMs = 60_000): Running {
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const running: Running = {
    child,
    stdout: '',
    stderr: '',
    done: new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    }),
  };
  child.stdout?.on('data', (d) => {
    running.stdout += d;
  });
  child.stderr?.on('data', (d) => {
    running.stderr += d;
  });
  return running;
}

export async function waitFor(running: Running, pattern: RegExp, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pattern.test(running.stdout + running.stderr)) {
    if (Date.now() > end || running.child.exitCode !== null)
      throw new Error(`no ${pattern} in output:\n${running.stdout}\n${running.stderr}`);
    await sleep(25);
  }
}

/** The MQTT client's entry: what a router runs to publish (its size budget: test/mqtt/size.node.test.ts). */
export const clientEntry = `${root}src/mqtt/index.ts`;
export const clientBytesMax = 15 * 1024;

/**
 * The client bundled and minified exactly as the main build does it (scripts/rollup-parts.mjs: guard,
 * resolve, TypeScript, terser), but with the TypeScript program limited to the client's sources: the same
 * output, in seconds instead of a minute (the main build type-checks the whole tree).
 */
export async function bundleClient(): Promise<string> {
  const list = (plugins({ minify: true }) as Plugin[])
    .filter((p) => p.name !== 'x0-report-size')
    .map((p) =>
      p.name !== 'typescript'
        ? p
        : typescript({
            tsconfig: `${root}tsconfig.json`,
            include: [`${root}src/mqtt/**/*.ts`, `${root}src/core/result.ts`, `${root}src/platform/types.ts`],
            compilerOptions: { noEmit: false, declaration: false, sourceMap: false },
            outDir: undefined,
            noEmitOnError: false,
          }),
    );
  const bundle = await rollup({ input: clientEntry, plugins: list, onwarn, logLevel: 'silent' });
  const { output } = await bundle.generate({ format: 'es' });
  await bundle.close();
  return output[0].code;
}
