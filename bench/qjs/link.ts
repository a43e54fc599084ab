// Runs inside x0-runtime (bundled by bench/link.bench.ts): the sealed link vs plain UDP, native crypto.
import '../../src/platform/qjs/polyfills.js';
import * as std from 'qjs:std';
import { createQjsPlatform } from '../../src/platform/qjs/index.js';
import { gossipLinkSuite, linkSuite, raftLinkSuite } from '../lib/link.js';

const platform = createQjsPlatform();
const port = Number(std.getenv('X0_BENCH_PORT'));
const echo = await linkSuite(platform, port, Number(std.getenv('X0_BENCH_MESSAGES') ?? '3000'));
const raft = await raftLinkSuite(
  platform,
  port + 50,
  `${std.getenv('X0_BENCH_DIR')}/qjs`,
  Number(std.getenv('X0_BENCH_WRITES') ?? '2000'),
);
const gossip = await gossipLinkSuite(platform, port + 150, 15);
std.out.puts(`${JSON.stringify({ echo, raft, gossip })}\n`);
std.exit(0);
