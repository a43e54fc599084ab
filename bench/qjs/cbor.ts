// Runs inside x0-runtime (bundled by bench/cbor.bench.ts): our wire CBOR codec and cbor-x side by side,
// printed as one JSON line for the driver.
import '../../src/platform/qjs/polyfills.js';
import * as std from 'qjs:std';
import { cborCompareSuite } from '../lib/cbor-compare.js';

const budgetMs = Number(std.getenv('X0_BENCH_BUDGET_MS') ?? '1000');
std.out.puts(`${JSON.stringify(cborCompareSuite(() => performance.now(), budgetMs))}\n`);
