// The shipped bundle on the real runtime: two x0-runtime processes exchange signed hellos over loopback
// UDP and TCP, from source and from bytecode.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, statSync } from 'node:fs';
import { bundlePath, freePort, root, run, runtimePath } from '../lib/processes.js';

test.before(() => {
  assert.ok(existsSync(runtimePath), `${runtimePath} is missing: run 'bash scripts/setup.sh'`);
  assert.ok(existsSync(bundlePath), `${bundlePath} is missing: run 'npm run build'`);
});

async function pair(program: string, transport: 'udp' | 'tcp') {
  const [portA, portB] = [await freePort(), await freePort()];
  const common = ['--transport', transport, '--interval-ms', '50', '--timeout-ms', '8000'];
  return Promise.all([
    run([
      runtimePath,
      program,
      'hello',
      '--name',
      'alpha',
      '--listen',
      `127.0.0.1:${portA}`,
      '--peer',
      `127.0.0.1:${portB}`,
      ...common,
    ]),
    run([
      runtimePath,
      program,
      'hello',
      '--name',
      'bravo',
      '--listen',
      `127.0.0.1:${portB}`,
      '--peer',
      `127.0.0.1:${portA}`,
      ...common,
    ]),
  ]);
}

test('the bundle reports its version on x0-runtime with native crypto', async () => {
  const result = await run([runtimePath, bundlePath, 'version']);
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, /^x0tta6bl4 \d+\.\d+\.\d+ \(qjs, native crypto\)/);
});

for (const transport of ['udp', 'tcp'] as const) {
  test(`two runtime processes exchange verified hellos over ${transport}`, async () => {
    const [a, b] = await pair(bundlePath, transport);
    assert.is(a.code, 0, a.stdout + a.stderr);
    assert.is(b.code, 0, b.stdout + b.stderr);
    assert.match(a.stdout, new RegExp(`verified hello from bravo .*native crypto.* over ${transport}`));
    assert.match(b.stdout, new RegExp(`verified hello from alpha .*native crypto.* over ${transport}`));
  });
}

test('the bundle compiled to bytecode runs the same exchange', async () => {
  const bytecode = `${root}build/test-bundle.jsbc`;
  const compiled = await run([runtimePath, '--compile', bundlePath, '-o', bytecode]);
  assert.is(compiled.code, 0, compiled.stderr);
  assert.ok(statSync(bytecode).size > 1000);
  const [a, b] = await pair(bytecode, 'udp');
  assert.is(a.code, 0, a.stdout + a.stderr);
  assert.is(b.code, 0, b.stdout + b.stderr);
  assert.match(a.stdout, /verified hello from bravo/);
});

test('an unknown command fails with usage and exit 2', async () => {
  const result = await run([runtimePath, bundlePath, 'no-such-command']);
  assert.is(result.code, 2);
  assert.match(result.stderr, /unknown command 'no-such-command'/);
});

test.run();
