// `npm run bench` (cbor part): the wire CBOR codec (src/core/wire/cbor.ts) against cbor-x 1.6, which it
// replaced in the router bundle, on x0-runtime (QuickJS-ng) and Node, same run, same inputs: a gossip
// datagram (encode, decode) and a COSE_Sign1 telemetry message (decode). Prints a markdown table;
// `--write-docs` also updates its section of docs/benchmarks.md.
// Usage: node --import tsx bench/cbor.bench.ts [--write-docs]   (X0_BENCH_BUDGET_MS: time per figure, 1000)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { rollup } from 'rollup';
// @ts-expect-error: plain .mjs shared with rollup.config.mjs
import { plugins, onwarn } from '../scripts/rollup-parts.mjs';
import { cborCompareSuite, type Pair } from './lib/cbor-compare.js';

const root = new URL('..', import.meta.url).pathname;
const runtime = `${root}build/x0-runtime`;
const budgetMs = Number(process.env.X0_BENCH_BUDGET_MS ?? 1000);

if (process.argv.includes('--help')) {
  console.log('usage: node --import tsx bench/cbor.bench.ts [--write-docs]');
  console.log('  our wire CBOR codec vs cbor-x on x0-runtime and Node; X0_BENCH_BUDGET_MS sets ms per figure (1000)');
  process.exit(0);
}

function fail(message: string): never {
  console.error(`bench cbor: ${message}`);
  process.exit(1);
}

async function runQjs(): Promise<Pair[]> {
  const file = `${root}build/bench-cbor.js`;
  const b = await rollup({
    input: `${root}bench/qjs/cbor.ts`,
    plugins: plugins({ minify: false }),
    onwarn,
    logLevel: 'silent',
  });
  await b.write({ file, format: 'es' });
  await b.close();
  const run = spawnSync(runtime, [file], {
    encoding: 'utf8',
    env: { ...process.env, X0_BENCH_BUDGET_MS: String(budgetMs) },
    timeout: 300_000,
  });
  if (run.status !== 0) fail(`x0-runtime bench failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() ?? '[]');
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
const us = (opsPerSec: number) => (1e6 / opsPerSec).toFixed(1);

async function main(): Promise<void> {
  if (!existsSync(runtime)) fail(`${runtime} is missing; run 'bash scripts/setup.sh'`);
  mkdirSync(`${root}build`, { recursive: true });
  console.log(`measuring (${budgetMs} ms per figure)...`);
  const qjs = await runQjs();
  const node = cborCompareSuite(() => performance.now(), budgetMs);
  const rows = [
    '| operation | ours, x0-runtime (ops/s, µs) | cbor-x, x0-runtime (ops/s, µs) | ours ÷ cbor-x (x0-runtime) | ours, Node (ops/s) | cbor-x, Node (ops/s) | ours ÷ cbor-x (Node) |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  qjs.forEach((q, i) => {
    const n = node[i] as Pair;
    rows.push(
      `| ${q.name} | ${fmt(q.ours.opsPerSec)} (${us(q.ours.opsPerSec)}) | ${fmt(q.cborX.opsPerSec)} (${us(q.cborX.opsPerSec)}) | ${(q.ours.opsPerSec / q.cborX.opsPerSec).toFixed(2)}× | ${fmt(n.ours.opsPerSec)} | ${fmt(n.cborX.opsPerSec)} | ${(n.ours.opsPerSec / n.cborX.opsPerSec).toFixed(2)}× |`,
    );
  });
  // The host's load at the end of the run: on a shared machine the absolute figures move with it.
  const load = `Host: ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')} (1/5/15 min) at the end of the run; the ratios (same run, same engine) are the figures to compare.`;
  const text = [...rows, '', load].join('\n');
  console.log(`\n${text}\n`);
  if (process.argv.includes('--write-docs')) {
    const docs = `${root}docs/benchmarks.md`;
    const section = `<!-- cbor:start -->\n## Wire CBOR: our codec vs cbor-x\n\nCommand: \`node --import tsx bench/cbor.bench.ts --write-docs\` (part of \`npm run bench\`), ${budgetMs} ms per figure, ${new Date().toISOString().slice(0, 10)}. Same inputs, same run, both engines (bench/lib/cbor-compare.ts); the encoder writes cbor-x's bytes (checked before measuring).\n\n${text}\n<!-- cbor:end -->`;
    const current = readFileSync(docs, 'utf8');
    const pattern = /<!-- cbor:start -->[\s\S]*<!-- cbor:end -->/;
    writeFileSync(
      docs,
      pattern.test(current) ? current.replace(pattern, section) : `${current.trimEnd()}\n\n${section}\n`,
    );
    console.log(`updated ${docs}`);
  }
}

await main();
