// Runs inside x0-runtime (bundled by bench/raft.bench.ts): the per-write CPU costs of the Raft KV path on
// QuickJS-ng (codecs, WAL record, apply), printed as one JSON line for the driver.
import '../../src/platform/qjs/polyfills.js';
import * as std from 'qjs:std';
import { raftMicroSuite } from '../lib/raft-micro.js';

const budgetMs = Number(std.getenv('X0_BENCH_BUDGET_MS') ?? '500');
std.out.puts(`${JSON.stringify(raftMicroSuite(() => performance.now(), budgetMs))}\n`);
