// Helpers for the x0-runtime tests (Node only): find the binary, bundle a fixture for it, run it.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rollup } from 'rollup';
// @ts-expect-error: plain .mjs shared with rollup.config.mjs, no declarations
import { plugins, onwarn } from '../../scripts/rollup-parts.mjs';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// X0_RUNTIME: another x0-runtime to test, e.g. test/cross/run.sh's wrapper that runs a cross build under qemu-user.
export const runtime =
  process.env.X0_RUNTIME !== undefined && process.env.X0_RUNTIME !== ''
    ? resolve(process.env.X0_RUNTIME)
    : join(root, 'build/x0-runtime');
export const outDir = join(root, 'build/test-native');
// X0_TEST_TIMEOUT_SCALE: a multiplier for every kill timeout below (an emulated CPU is 10-30x slower).
const timeoutScale = Math.min(Math.max(Number(process.env.X0_TEST_TIMEOUT_SCALE ?? '1') || 1, 1), 100);

/** Fails (never skips) when the binary is missing: CI builds it in scripts/setup.sh before the tests. */
export function requireRuntime(): string {
  if (!existsSync(runtime)) {
    throw new Error(
      `${runtime} is missing: run 'bash scripts/setup.sh' (or 'bash scripts/fetch-qjs-src.sh && make -C src/native')`,
    );
  }
  return runtime;
}

const bundled = new Map<string, Promise<string>>();

/** Bundles test/native/fixtures/NAME.ts (unminified) to build/test-native/NAME.js, once per process. */
export function bundleFixture(name: string): Promise<string> {
  let pending = bundled.get(name);
  if (pending === undefined) {
    pending = (async () => {
      mkdirSync(outDir, { recursive: true });
      const file = join(outDir, `${name}.js`);
      const bundle = await rollup({
        input: join(root, 'test/native/fixtures', `${name}.ts`),
        plugins: plugins({ minify: false }).filter((p: { name: string }) => p.name !== 'x0-report-size'),
        onwarn,
      });
      await bundle.write({ file, format: 'es', sourcemap: false, inlineDynamicImports: true });
      await bundle.close();
      return file;
    })();
    bundled.set(name, pending);
  }
  return pending;
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runSync(
  args: readonly string[],
  options: { input?: string; timeoutMs?: number; cwd?: string } = {},
): RunResult {
  const result: SpawnSyncReturns<string> = spawnSync(requireRuntime(), args, {
    encoding: 'utf8',
    input: options.input,
    timeout: (options.timeoutMs ?? 20_000) * timeoutScale,
    cwd: options.cwd ?? outDir,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function runAsync(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(requireRuntime(), args, { cwd: outDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), (options.timeoutMs ?? 20_000) * timeoutScale);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolvePromise({ status, stdout, stderr });
    });
  });
}

/** Writes a one-off script under build/test-native and returns its path. */
export function scriptPath(name: string): string {
  mkdirSync(outDir, { recursive: true });
  return join(outDir, name);
}

/** A long-running x0-runtime process that prints "port N" first; resolves with the port and the exit. */
export function startServer(
  args: readonly string[],
  timeoutMs = 20_000,
): Promise<{ port: number; done: Promise<RunResult> }> {
  return new Promise((resolvePort, reject) => {
    const child = spawn(requireRuntime(), args, { cwd: outDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let announced = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs * timeoutScale);
    const done = new Promise<RunResult>((resolveDone) => {
      child.on('close', (status) => {
        clearTimeout(timer);
        if (!announced) reject(new Error(`server exited (${status}) before announcing its port: ${stderr}`));
        resolveDone({ status, stdout, stderr });
      });
    });
    child.on('error', reject);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /^port (\d+)\n/m.exec(stdout);
      if (match !== null && !announced) {
        announced = true;
        resolvePort({ port: Number(match[1]), done });
      }
    });
  });
}
