// Runs one benchmark suite inside x0-runtime: bundles bench/qjs/NAME.ts (not minified) into build/bench-NAME.js,
// runs it with the given environment, and returns what its last line of output says (JSON).
import { spawnSync } from 'node:child_process';
import { rollup } from 'rollup';
// @ts-expect-error: plain .mjs shared with rollup.config.mjs
import { onwarn, plugins } from '../../scripts/rollup-parts.mjs';
import { root, runtimePath } from '../../test/lib/processes.js';

export async function inRuntime<T>(name: string, env: Record<string, string>, timeoutMs: number): Promise<T> {
  const file = `${root}build/bench-${name}.js`;
  const b = await rollup({
    input: `${root}bench/qjs/${name}.ts`,
    plugins: plugins({ minify: false }),
    onwarn,
    logLevel: 'silent',
  });
  await b.write({ file, format: 'es' });
  await b.close();
  const run = spawnSync(runtimePath, [file], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: timeoutMs });
  if (run.status !== 0) throw new Error(`x0-runtime ${name} benchmark failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() ?? 'null') as T;
}
