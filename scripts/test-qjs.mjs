#!/usr/bin/env node
// Bundles every engine-neutral test (test/**/*.test.ts, not *.node.test.ts) plus the QuickJS-only ones
// (*.qjs.test.ts) into one ES module and runs it inside build/x0-runtime, so the core's tests pass on
// both engines. Usage: node scripts/test-qjs.mjs [--runtime PATH] [--emulator 'CMD [ARGS]'] [substring-filter...]
//   --runtime PATH      the x0-runtime to run the bundle in (default build/x0-runtime), e.g. a cross build
//                       build/cross/mips_24kc/x0-runtime (scripts/cross.sh)
//   --emulator CMD      a prefix to run it with, split on spaces, e.g. "$(bash scripts/cross.sh --emulator mips_24kc)"
//                       (the whole suite then gets 2 hours instead of 15 minutes: qemu-user is 10-30x slower)
//   --bundle-out FILE   write the test bundle to FILE and keep it (test/cross/run.sh bundles once, runs it on
//                       every target); --no-run: only bundle
//   X0_TEST_QJS_DEFINE  extra 'name=value' globals set before the tests run, comma-separated (test/cross/run.sh
//                       uses it to plant a byte-order bug and check that the suite fails)
import { readdirSync, statSync, existsSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { rollup } from 'rollup';
import { plugins, onwarn } from './rollup-parts.mjs';

const root = new URL('..', import.meta.url).pathname;

function parseArgs(argv) {
  const options = { runtime: join(root, 'build/x0-runtime'), emulator: [], filters: [], bundleOut: null, run: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(
        "usage: node scripts/test-qjs.mjs [--runtime PATH] [--emulator 'CMD [ARGS]'] [--bundle-out FILE] [--no-run] [substring-filter...]",
      );
      process.exit(0);
    } else if (arg === '--no-run') {
      options.run = false;
    } else if (arg === '--runtime' || arg === '--emulator' || arg === '--bundle-out') {
      const value = argv[++i];
      if (value === undefined || value === '') {
        console.error(`test-qjs: ${arg} needs a value (see --help)`);
        process.exit(2);
      }
      if (arg === '--runtime') options.runtime = value.startsWith('/') ? value : join(process.cwd(), value);
      else if (arg === '--bundle-out') options.bundleOut = value.startsWith('/') ? value : join(process.cwd(), value);
      else options.emulator = value.split(/\s+/).filter((word) => word !== '');
    } else if (arg.startsWith('--')) {
      console.error(`test-qjs: unknown option ${arg} (see --help)`);
      process.exit(2);
    } else {
      options.filters.push(arg);
    }
  }
  return options;
}
const { runtime, emulator, filters, bundleOut, run: wantRun } = parseArgs(process.argv.slice(2));
// One bundle per run (by pid): two runs at once (several areas tested in parallel) must not overwrite each other.
const out = bundleOut ?? join(root, `build/qjs-tests.${process.pid}.js`);

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

if (wantRun && !existsSync(runtime)) {
  console.error(
    `test-qjs: ${runtime} is missing; run 'bash scripts/setup.sh' (or for a cross build 'bash scripts/cross.sh TARGET') to build it`,
  );
  process.exit(1);
}
if (files.length === 0) {
  console.error('test-qjs: no engine-neutral test files matched');
  process.exit(1);
}

// The entry imports a group marker before each file so uvu prints results per file.
const polyfills = existsSync(join(root, 'src/platform/qjs/polyfills.ts'))
  ? [`import ${JSON.stringify(join(root, 'src/platform/qjs/polyfills.ts'))};`]
  : [];
// Planted globals (X0_TEST_QJS_DEFINE='name=value,...'): values are JSON when they parse, else strings.
const defines = (process.env.X0_TEST_QJS_DEFINE ?? '')
  .split(',')
  .filter((pair) => pair !== '')
  .map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0 || !/^[A-Za-z_$][\w$]*$/.test(pair.slice(0, eq))) {
      console.error(`test-qjs: X0_TEST_QJS_DEFINE entry '${pair}' is not name=value`);
      process.exit(2);
    }
    const raw = pair.slice(eq + 1);
    let value;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    return `globalThis[${JSON.stringify(pair.slice(0, eq))}] = ${JSON.stringify(value)};`;
  });
// Imports run before the importing module's own statements: the defines are a module of their own, first.
const entry = [
  `import "\0x0-defines";`,
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
    if (id === '\0qjs-test-entry' || id === '\0x0-defines' || id.startsWith('\0group:')) return id;
    return null;
  },
  load(id) {
    if (id === '\0qjs-test-entry') return entry;
    if (id === '\0x0-defines') return `${defines.join('\n')}\nexport {};`;
    const group = /^\0group:(\d+):(.*)$/.exec(id);
    if (group)
      return `globalThis.UVU_QUEUE.push([${JSON.stringify(group[2])}]); globalThis.UVU_INDEX = globalThis.UVU_QUEUE.length - 1;`;
    return null;
  },
};

const started = Date.now();
const bundle = await rollup({
  input: '\0qjs-test-entry',
  plugins: [virtualEntry, ...plugins({ minify: false })],
  onwarn,
});
await bundle.write({ file: out, format: 'es', sourcemap: false, inlineDynamicImports: true });
await bundle.close();
if (!wantRun) {
  console.log(`test-qjs: bundled ${files.length} test files into ${relative(root, out)} in ${Date.now() - started} ms`);
  process.exit(0);
}
const via = emulator.length > 0 ? ` under ${emulator.join(' ')}` : '';
console.log(
  `test-qjs: bundled ${files.length} test files in ${Date.now() - started} ms; running in ${relative(root, runtime)}${via}`,
);

const command = emulator.length > 0 ? emulator[0] : runtime;
const args = [...emulator.slice(1), ...(emulator.length > 0 ? [runtime] : []), '--memory-limit', '512M', out];
const run = spawnSync(command, args, { stdio: 'inherit', timeout: (emulator.length > 0 ? 120 : 15) * 60 * 1000 });
// Kept when something failed, so that stack traces can be followed into it.
if (run.status === 0 && bundleOut === null) rmSync(out, { force: true });
if (run.error) {
  console.error(`test-qjs: cannot run ${[command, ...args.slice(0, -3)].join(' ')}: ${run.error.message}`);
  process.exit(1);
}
process.exit(run.status ?? 1);
