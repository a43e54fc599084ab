// The sealed link's cost (issue 15): sealed vs plain UDP in the same run, on Node and on x0-runtime (the router's
// engine, native libsodium). Goal: sealed at least 0.7x plain on x0-runtime. Also the bytes a message costs.
// Usage: node --import tsx bench/link.bench.ts [--messages N]
import { existsSync } from 'node:fs';
import { inRuntime } from './lib/in-runtime.js';
import { createNodePlatform } from '../src/platform/node/index.js';
import { runtimePath } from '../test/lib/processes.js';
import { linkSuite, type LinkFigure } from './lib/link.js';

const i = process.argv.indexOf('--messages');
const messages = i >= 0 ? Number(process.argv[i + 1]) : 3000;
const base = 40_000 + Math.floor(Math.random() * 10_000);

async function qjs(): Promise<LinkFigure[] | null> {
  if (!existsSync(runtimePath)) return null;
  return inRuntime<LinkFigure[]>(
    'link',
    { X0_BENCH_PORT: String(base + 100), X0_BENCH_MESSAGES: String(messages) },
    300_000,
  );
}

const node = await linkSuite(createNodePlatform({ argv: [] }), base, messages);
const onQjs = await qjs();
console.log(`sealed link vs plain UDP, ${messages} messages each, window 32, loopback`);
console.log(
  '| engine | message bytes | plain msgs/s | sealed msgs/s | sealed / plain | wire bytes plain | wire bytes sealed |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const [engine, figures] of [
  ['node', node],
  ['x0-runtime', onQjs],
] as const) {
  for (const f of figures ?? [])
    console.log(
      `| ${engine} | ${f.bytes} | ${f.plainPerSec.toFixed(0)} | ${f.sealedPerSec.toFixed(0)} | ${f.ratio.toFixed(2)} | ${f.wireBytesPlain} | ${f.wireBytesSealed} |`,
    );
}
