// The router bundle may import only qjs:* and x0:* modules: the build must fail otherwise.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rollup } from 'rollup';
// @ts-expect-error: a plain .mjs helper shared with rollup.config.mjs, no type declarations
import { plugins, onwarn } from '../../scripts/rollup-parts.mjs';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

async function build(name: string): Promise<{ ok: true; imports: string[] } | { ok: false; message: string }> {
  try {
    const bundle = await rollup({
      input: fixture(name),
      plugins: plugins({ minify: false }),
      onwarn,
      logLevel: 'silent',
    });
    const { output } = await bundle.generate({ format: 'es' });
    await bundle.close();
    return { ok: true, imports: output[0].imports };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

test('fails the build when the bundle imports a node: built-in', async () => {
  const result = await build('imports-node-builtin.js');
  assert.is(result.ok, false);
  if (!result.ok) assert.match(result.message, /Node built-in 'node:fs'/);
});

test('fails the build when the bundle imports a bare Node built-in', async () => {
  const result = await build('imports-bare-builtin.js');
  assert.is(result.ok, false);
  if (!result.ok) assert.match(result.message, /Node built-in 'path'/);
});

test('fails the build on an import that does not resolve', async () => {
  const result = await build('imports-missing-package.js');
  assert.is(result.ok, false);
  if (!result.ok) assert.match(result.message, /x0-no-such-package/);
});

test('keeps qjs:* and x0:* imports as the only externals', async () => {
  const result = await build('imports-runtime-modules.js');
  assert.ok(result.ok);
  if (result.ok) assert.equal(result.imports.sort(), ['qjs:std', 'x0:net']);
});

test.run();
