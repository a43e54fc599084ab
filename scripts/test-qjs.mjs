#!/usr/bin/env node
// Bundles every engine-neutral test (test/**/*.test.ts, not *.node.test.ts) plus the QuickJS-only ones
// (*.qjs.test.ts) into one ES module and runs it inside build/x0-runtime, so the core's tests pass on
// both engines. Usage: node scripts/test-qjs.mjs [substring-filter...]
import { readdirSync, statSync, existsSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { rollup } from 'rollup';
import { plugins, onwarn } from './rollup-parts.mjs';

const root = new URL('..', import.meta.url).pathname;
const runtime = join(root, 'build/x0-runtime');
// One bundle per run (by pid): two runs at once (several areas tested in parallel) must not overwrite each other.
const out = join(root, `build/qjs-tests.${process.pid}.js`);
const filters = process.argv.slice(2);

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const files = walk(join(root, 'test'))
  .map((path) => relative(root, path))
  .filter((path) => path.endsWith('.test.ts') && !path.endsWith('.node.test.ts'))
  .filter((path) => filters.length === 0 || filters.some((f) => path.includes(f)))
  .sort();

if (!existsSync(runtime)) {
  console.error(`test-qjs: ${runtime} is missing; run 'bash scripts/setup.sh' to build it`);
  process.exit(1);
}
if (files.length === 0) {
  console.error('test-qjs: no engine-neutral test files matched');
  process.exit(1);
}

// The entry imports a group marker before each file so uvu prints results per file.
const polyfills = existsSync(join(root, 'src/platform/qjs/polyfills.ts')) ? [`import ${JSON.stringify(join(root, 'src/platform/qjs/polyfills.ts'))};`] : [];
const entry = [
  ...polyfills,
  `import ${JSON.stringify(join(root, 'test/lib/qjs-uvu-setup.ts'))};`,
  ...files.flatMap((file, i) => [`import "\0group:${i}:${file}";`, `import ${JSON.stringify(join(root, file))};`]),
  `import { exec } from 'uvu';`,
  `import * as std from 'qjs:std';`,
  `await exec();`,
  `std.exit(globalThis.process.exitCode || 0);`,
].join('\n');

const virtualEntry = {
  name: 'x0-test-entry',
  resolveId(id) {
    if (id === '\0qjs-test-entry' || id.startsWith('\0group:')) return id;
    return null;
  },
  load(id) {
    if (id === '\0qjs-test-entry') return entry;
    const group = /^\0group:(\d+):(.*)$/.exec(id);
    if (group) return `globalThis.UVU_QUEUE.push([${JSON.stringify(group[2])}]); globalThis.UVU_INDEX = globalThis.UVU_QUEUE.length - 1;`;
    return null;
  },
};

const started = Date.now();
const bundle = await rollup({ input: '\0qjs-test-entry', plugins: [virtualEntry, ...plugins({ minify: false })], onwarn });
await bundle.write({ file: out, format: 'es', sourcemap: false, inlineDynamicImports: true });
await bundle.close();
console.log(`test-qjs: bundled ${files.length} test files in ${Date.now() - started} ms; running in ${relative(root, runtime)}`);

const run = spawnSync(runtime, ['--memory-limit', '512M', out], { stdio: 'inherit', timeout: 15 * 60 * 1000 });
// Kept when something failed, so that stack traces can be followed into it.
if (run.status === 0) rmSync(out, { force: true });
if (run.error) {
  console.error(`test-qjs: cannot run ${runtime}: ${run.error.message}`);
  process.exit(1);
}
process.exit(run.status ?? 1);
