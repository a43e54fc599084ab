// Node-only helpers for the agent's process tests: identities made with the x0 CLI, UCI files, OpenWrt's real
// ubusd and ubus (built from the pinned sources by scripts/openwrt-tools.sh), agents on x0-runtime.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundlePath, root, run, runtimePath } from '../lib/processes.js';

export const prefix = `${root}build/openwrt/prefix`;
export const ubusdPath = `${prefix}/sbin/ubusd`;
export const ubusPath = `${prefix}/bin/ubus`;
const env = { ...process.env, LD_LIBRARY_PATH: `${prefix}/lib` };

export function requireTools(): void {
  for (const path of [runtimePath, bundlePath, ubusdPath, ubusPath]) {
    if (!existsSync(path)) throw new Error(`${path} is missing: run bash scripts/setup.sh`);
  }
}

export async function x0(...argv: string[]): Promise<string> {
  const r = await run([runtimePath, bundlePath, ...argv], 30_000);
  if (r.code !== 0) throw new Error(`x0 ${argv.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A mesh CA in dir/ca and, per name, an enrolled state directory dir/<name>/state. */
export async function enrol(dir: string, trustDomain: string, names: readonly string[]): Promise<void> {
  await x0('ca', 'init', '--trust-domain', trustDomain, '--dir', join(dir, 'ca'));
  for (const name of names) {
    const state = join(dir, name, 'state');
    const token = await x0('ca', 'issue-token', '--node', name, '--dir', join(dir, 'ca'));
    await x0('cert', 'request', '--token', token, '--dir', state);
    await x0(
      'ca',
      'sign',
      '--request',
      join(state, 'join-request.cbor'),
      '--out',
      join(state, 'node.chain'),
      '--bundle-out',
      join(state, 'bundle.cbor'),
      '--dir',
      join(dir, 'ca'),
    );
  }
}

export function writeUci(path: string, text: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

export interface Process {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

export function startProcess(argv: readonly string[], withEnv: NodeJS.ProcessEnv = env): Process {
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: withEnv });
  let text = '';
  child.stdout?.on('data', (c) => {
    text += c;
  });
  child.stderr?.on('data', (c) => {
    text += c;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

export const startUbusd = (socket: string): Process => startProcess([ubusdPath, '-s', socket]);
export const startAgent = (config: string): Process =>
  startProcess([runtimePath, bundlePath, 'agent', '--config', config]);

/** `ubus -s SOCKET call x0tta6bl4 METHOD [ARGS]` with OpenWrt's own CLI; null when it failed. */
export async function ubusCall(
  socket: string,
  method: string,
  args?: Record<string, unknown>,
): Promise<Record<string, unknown> | null> {
  const argv = [
    ubusPath,
    '-s',
    socket,
    '-t',
    '3',
    'call',
    'x0tta6bl4',
    method,
    ...(args === undefined ? [] : [JSON.stringify(args)]),
  ];
  const r = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const p = startProcess(argv);
    void p.exited.then((code) => resolve({ code, stdout: p.output() }));
  });
  if (r.code !== 0) return null;
  try {
    return JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    return null;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until check() gives a value, or throws naming what it waited for. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | null | undefined | false>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(200);
  }
}

export const readText = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8') : '');
