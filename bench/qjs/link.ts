// Runs inside x0-runtime (bundled by bench/link.bench.ts): the sealed link vs plain UDP, native crypto.
import '../../src/platform/qjs/polyfills.js';
import * as std from 'qjs:std';
import { createQjsPlatform } from '../../src/platform/qjs/index.js';
import { linkSuite } from '../lib/link.js';

const platform = createQjsPlatform();
const figures = await linkSuite(
  platform,
  Number(std.getenv('X0_BENCH_PORT')),
  Number(std.getenv('X0_BENCH_MESSAGES') ?? '3000'),
);
std.out.puts(`${JSON.stringify(figures)}\n`);
std.exit(0);
