// The sealed link's cost (issue 15): sealed vs plain UDP in the same run, on Node and on x0-runtime (the router's
// engine, native libsodium). Goal: sealed at least 0.7x plain on x0-runtime. Also the bytes a message costs.
// Then Raft: committed writes/s of 3 voters in one process, their messages over plain UDP vs sealed links.
// Usage: node --import tsx bench/link.bench.ts [--messages N] [--writes N]
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { inRuntime } from './lib/in-runtime.js';
import { createNodePlatform } from '../src/platform/node/index.js';
import { runtimePath } from '../test/lib/processes.js';
import {
  gossipLinkSuite,
  linkSuite,
  raftLinkSuite,
  type GossipLinkFigure,
  type LinkFigure,
  type RaftLinkFigure,
} from './lib/link.js';

const i = process.argv.indexOf('--messages');
const messages = i >= 0 ? Number(process.argv[i + 1]) : 3000;
const w = process.argv.indexOf('--writes');
const writes = w >= 0 ? Number(process.argv[w + 1]) : 2000;
const base = 40_000 + Math.floor(Math.random() * 10_000);
const dir = mkdtempSync(`${tmpdir()}/x0-bench-link-`);
interface Figures {
  readonly echo: LinkFigure[];
  readonly raft: RaftLinkFigure[];
  readonly gossip: GossipLinkFigure;
}

async function qjs(): Promise<Figures | null> {
  if (!existsSync(runtimePath)) return null;
  return inRuntime<Figures>(
    'link',
    {
      X0_BENCH_PORT: String(base + 200),
      X0_BENCH_MESSAGES: String(messages),
      X0_BENCH_WRITES: String(writes),
      X0_BENCH_DIR: dir,
    },
    600_000,
  );
}

const platform = createNodePlatform({ argv: [] });
const node: Figures = {
  echo: await linkSuite(platform, base, messages),
  raft: await raftLinkSuite(platform, base + 50, `${dir}/node`, writes),
  gossip: await gossipLinkSuite(platform, base + 150, 15),
};
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
  for (const f of figures?.echo ?? [])
    console.log(
      `| ${engine} | ${f.bytes} | ${f.plainPerSec.toFixed(0)} | ${f.sealedPerSec.toFixed(0)} | ${f.ratio.toFixed(2)} | ${f.wireBytesPlain} | ${f.wireBytesSealed} |`,
    );
}
console.log(`\nRaft: 3 voters in one process, ${writes} durable writes (WAL fsync on a quorum) to the leader`);
console.log('| engine | writes in flight | plain commits/s | sealed commits/s | sealed / plain |');
console.log('|---|---:|---:|---:|---:|');
for (const [engine, figures] of [
  ['node', node],
  ['x0-runtime', onQjs],
] as const) {
  for (const f of figures?.raft ?? [])
    console.log(
      `| ${engine} | ${f.inFlight} | ${f.plainCommitsPerSec.toFixed(0)} | ${f.sealedCommitsPerSec.toFixed(0)} | ${f.ratio.toFixed(2)} |`,
    );
}
console.log('\nGossip: 3 nodes, each changing one counter per round (200 ms rounds), bytes sent per round, all nodes');
console.log(
  '| engine | plain bytes/round | sealed bytes/round | sealed / plain | sealed + signed bytes/round | signed / plain | plain datagrams/round | sealed datagrams/round | sign µs | verify µs |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const [engine, figures] of [
  ['node', node],
  ['x0-runtime', onQjs],
] as const) {
  const g = figures?.gossip;
  if (g === undefined) continue;
  console.log(
    `| ${engine} | ${g.plainBytesPerRound.toFixed(0)} | ${g.sealedBytesPerRound.toFixed(0)} | ${(g.sealedBytesPerRound / g.plainBytesPerRound).toFixed(2)} | ${g.signedBytesPerRound.toFixed(0)} | ${(g.signedBytesPerRound / g.plainBytesPerRound).toFixed(2)} | ${g.plainDatagramsPerRound.toFixed(1)} | ${g.sealedDatagramsPerRound.toFixed(1)} | ${g.attestUs.toFixed(0)} | ${g.verifyUs.toFixed(0)} |`,
  );
}
rmSync(dir, { recursive: true, force: true });
