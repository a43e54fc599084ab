// `npm run bench` (foundation part): Ed25519, X25519, secretbox of 1400 B and CBOR for tweetnacl on
// QuickJS-ng, native libsodium on QuickJS-ng and Node, plus start-up time of the bundle from source and from
// bytecode. Prints a markdown table with ops/s and ratios; `--write-docs` also updates docs/benchmarks.md.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { rollup } from 'rollup';
// @ts-expect-error: plain .mjs shared with rollup.config.mjs
import { plugins, onwarn } from '../scripts/rollup-parts.mjs';
import { createNodeCrypto } from '../src/crypto/node.js';
import { cborSuite, cryptoSuite, type Measurement } from './lib/measure.js';

const root = new URL('..', import.meta.url).pathname;
const runtime = `${root}build/x0-runtime`;
const budgetMs = Number(process.env.X0_BENCH_BUDGET_MS ?? 1000);
const writeDocs = process.argv.includes('--write-docs');

function fail(message: string): never {
  console.error(`bench foundation: ${message}`);
  process.exit(1);
}

async function bundle(input: string, file: string): Promise<void> {
  const b = await rollup({ input, plugins: plugins({ minify: false }), onwarn, logLevel: 'silent' });
  await b.write({ file, format: 'es' });
  await b.close();
}

function runQjs(): { native: Measurement[]; tweetnacl: Measurement[]; cbor: Measurement[] } {
  const run = spawnSync(runtime, [`${root}build/bench-foundation.js`], {
    encoding: 'utf8',
    env: { ...process.env, X0_BENCH_BUDGET_MS: String(budgetMs) },
    timeout: 300_000,
  });
  if (run.status !== 0) fail(`x0-runtime bench failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}');
}

/** Median wall time of `runs` starts of argv, in ms. */
function startupMs(argv: string[], runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const run = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8' });
    if (run.status !== 0) fail(`${argv.join(' ')} failed: ${run.stderr}`);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

const fmt = (n: number) =>
  n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 1 ? n.toFixed(1) : n.toPrecision(2);
const ratio = (a: number, b: number) => `${fmt(a / b)}×`;

async function main(): Promise<void> {
  if (!existsSync(runtime)) fail(`${runtime} is missing; run 'bash scripts/setup.sh'`);
  if (!existsSync(`${root}dist/x0tta6bl4.js`)) fail(`dist/x0tta6bl4.js is missing; run 'npm run build'`);
  mkdirSync(`${root}build`, { recursive: true });
  await bundle(`${root}bench/qjs/foundation.ts`, `${root}build/bench-foundation.js`);
  console.log(`measuring (${budgetMs} ms per operation and engine)...`);
  const qjs = runQjs();
  const node = {
    crypto: cryptoSuite(createNodeCrypto(), () => performance.now(), budgetMs),
    cbor: cborSuite(() => performance.now(), budgetMs),
  };

  const rows: string[] = [];
  rows.push(
    '| operation | tweetnacl on QuickJS-ng (ops/s) | native on QuickJS-ng (ops/s) | Node (ops/s) | native ÷ tweetnacl (QuickJS-ng) | Node ÷ native |',
  );
  rows.push('|---|---:|---:|---:|---:|---:|');
  qjs.native.forEach((nat, i) => {
    const nacl = qjs.tweetnacl[i] as Measurement;
    const nd = node.crypto[i] as Measurement;
    rows.push(
      `| ${nat.name} | ${fmt(nacl.opsPerSec)} | ${fmt(nat.opsPerSec)} | ${fmt(nd.opsPerSec)} | ${ratio(nat.opsPerSec, nacl.opsPerSec)} | ${ratio(nd.opsPerSec, nat.opsPerSec)} |`,
    );
  });
  qjs.cbor.forEach((q, i) => {
    const nd = node.cbor[i] as Measurement;
    rows.push(
      `| ${q.name} (src/core/wire/cbor.ts) | ${fmt(q.opsPerSec)} | (same JS) | ${fmt(nd.opsPerSec)} | – | ${ratio(nd.opsPerSec, q.opsPerSec)} |`,
    );
  });

  const compiled = spawnSync(runtime, ['--compile', `${root}dist/x0tta6bl4.js`, '-o', `${root}build/x0tta6bl4.jsbc`], {
    encoding: 'utf8',
  });
  if (compiled.status !== 0) fail(`--compile failed: ${compiled.stderr}`);
  const runs = 15;
  const fromSource = startupMs([runtime, `${root}dist/x0tta6bl4.js`, 'version'], runs);
  const fromBytecode = startupMs([runtime, `${root}build/x0tta6bl4.jsbc`, 'version'], runs);
  const nodeStart = startupMs([process.execPath, '--import', 'tsx', `${root}src/entry/node.ts`, 'version'], 5);
  const bundleBytes = readFileSync(`${root}dist/x0tta6bl4.js`).length;
  const bytecodeBytes = readFileSync(`${root}build/x0tta6bl4.jsbc`).length;
  const startRows = [
    '| start-up (`x0 version`, median) | ms |',
    '|---|---:|',
    `| x0-runtime, bundle from source (${bundleBytes} B) | ${fmt(fromSource)} |`,
    `| x0-runtime, bundle from bytecode (${bytecodeBytes} B) | ${fmt(fromBytecode)} |`,
    `| Node 20 + tsx, from TypeScript sources | ${fmt(nodeStart)} |`,
  ];
  const verify = qjs.native.find((m) => m.name === 'ed25519-verify') as Measurement;
  const verifyNacl = qjs.tweetnacl.find((m) => m.name === 'ed25519-verify') as Measurement;
  const goal = verify.opsPerSec / verifyNacl.opsPerSec;
  const verdict = `Ed25519 verify, native vs tweetnacl on QuickJS-ng: ${fmt(goal)}× (goal ≥ 1000×: ${goal >= 1000 ? 'met' : 'NOT met'})`;
  const notes = [
    'Node column: Ed25519, X25519 via node:crypto (OpenSSL); secretbox via tweetnacl on Node (OpenSSL has no XSalsa20-Poly1305).',
    'CBOR: our wire codec (src/core/wire/cbor.ts, cbor-x until 2026-12) on both engines; the typical message is a neighbour-table status update (bench/lib/measure.ts); against cbor-x: bench/cbor.bench.ts.',
  ];
  const text = [...rows, '', ...notes.map((n) => `- ${n}`), '', ...startRows, '', verdict].join('\n');
  console.log(`\n${text}\n`);

  if (writeDocs) {
    const docs = `${root}docs/benchmarks.md`;
    const section = `<!-- foundation:start -->\n## Foundation: crypto, CBOR, start-up\n\nCommand: \`node --import tsx bench/foundation.bench.ts --write-docs\` (part of \`npm run bench\`), ${budgetMs} ms per operation and engine, ${new Date().toISOString().slice(0, 10)}.\n\n${text}\n<!-- foundation:end -->`;
    const current = existsSync(docs) ? readFileSync(docs, 'utf8') : '# Benchmarks\n';
    const updated = /<!-- foundation:start -->[\s\S]*<!-- foundation:end -->/.test(current)
      ? current.replace(/<!-- foundation:start -->[\s\S]*<!-- foundation:end -->/, section)
      : `${current.trimEnd()}\n\n${section}\n`;
    writeFileSync(docs, updated);
    console.log(`updated ${docs}`);
  }
}

await main();
