// `npm run bench` (identity part): full channel handshake and sealed 1400-byte record throughput on
// QuickJS-ng with native crypto, QuickJS-ng with tweetnacl, and Node (node:crypto), side by side.
// Usage: node --import tsx bench/identity.bench.ts   (X0_BENCH_BUDGET_MS sets the time per figure)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { rollup } from 'rollup';
// @ts-expect-error: plain .mjs shared with rollup.config.mjs
import { plugins, onwarn } from '../scripts/rollup-parts.mjs';
import { createNodeCrypto } from '../src/crypto/node.js';
import { createTweetnaclCrypto } from '../src/crypto/tweetnacl.js';
import { identitySuite } from './lib/identity.js';
import type { Measurement } from './lib/measure.js';

const root = new URL('..', import.meta.url).pathname;
const runtime = `${root}build/x0-runtime`;
const budgetMs = Number(process.env.X0_BENCH_BUDGET_MS ?? 1000);

if (!existsSync(runtime)) {
  console.error(`bench identity: ${runtime} is missing; run 'bash scripts/setup.sh'`);
  process.exit(1);
}
mkdirSync(`${root}build`, { recursive: true });
const bundle = await rollup({
  input: `${root}bench/qjs/identity.ts`,
  plugins: plugins({ minify: false }),
  onwarn,
  logLevel: 'silent',
});
await bundle.write({ file: `${root}build/bench-identity.js`, format: 'es' });
await bundle.close();
console.log(`measuring (${budgetMs} ms per figure and engine)...`);
const run = spawnSync(runtime, [`${root}build/bench-identity.js`], {
  encoding: 'utf8',
  env: { ...process.env, X0_BENCH_BUDGET_MS: String(budgetMs) },
  timeout: 600_000,
});
if (run.status !== 0) {
  console.error(`bench identity: x0-runtime failed (${run.status}): ${run.stderr}`);
  process.exit(1);
}
const qjs = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as {
  native: Measurement[];
  tweetnacl: Measurement[];
};
const node = identitySuite(createNodeCrypto(), () => performance.now(), budgetMs, Date.now());
const nodeNacl = identitySuite(createTweetnaclCrypto(), () => performance.now(), budgetMs, Date.now());

const fmt = (n: number) =>
  n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 1 ? n.toFixed(2) : n.toPrecision(2);
const cell = (m: Measurement, bytes: number) =>
  bytes > 0
    ? `${fmt((m.opsPerSec * bytes) / 1e6)} MB/s (${fmt(m.opsPerSec)}/s)`
    : `${fmt(1000 / m.opsPerSec)} ms (${fmt(m.opsPerSec)}/s)`;
const rows = [
  '| figure | QuickJS-ng + native | QuickJS-ng + tweetnacl | Node + node:crypto | Node + tweetnacl |',
  '|---|---:|---:|---:|---:|',
];
[0, 1].forEach((i) => {
  const bytes = i === 1 ? 1400 : 0;
  const name = (qjs.native[i] as Measurement).name;
  rows.push(
    `| ${name} | ${cell(qjs.native[i]!, bytes)} | ${cell(qjs.tweetnacl[i]!, bytes)} | ${cell(node[i]!, bytes)} | ${cell(nodeNacl[i]!, bytes)} |`,
  );
});
const hs = 1000 / qjs.native[0]!.opsPerSec;
const mbps = (qjs.native[1]!.opsPerSec * 1400) / 1e6;
console.log(`\n${rows.join('\n')}\n`);
console.log(
  `Goal on QuickJS-ng + native: handshake <= 2 ms: ${fmt(hs)} ms (${hs <= 2 ? 'met' : 'NOT met'}); seal+open >= 50 MB/s: ${fmt(mbps)} MB/s (${mbps >= 50 ? 'met' : 'NOT met'})`,
);
