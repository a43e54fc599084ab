// Runs inside x0-runtime (bundled by bench/foundation.bench.ts): crypto with the native backend and with
// tweetnacl on QuickJS-ng, and CBOR, printed as one JSON line for the driver.
import '../../src/platform/qjs/polyfills.js';
import * as std from 'qjs:std';
import { createNativeCrypto } from '../../src/crypto/native.js';
import { createTweetnaclCrypto } from '../../src/crypto/tweetnacl.js';
import { cborSuite, cryptoSuite } from '../lib/measure.js';

const budgetMs = Number(std.getenv('X0_BENCH_BUDGET_MS') ?? '1000');
const nowMs = () => performance.now();
const native = createNativeCrypto();
const result = {
  native: cryptoSuite(native, nowMs, budgetMs),
  tweetnacl: cryptoSuite(createTweetnaclCrypto(native.randomBytes), nowMs, budgetMs),
  cbor: cborSuite(nowMs, budgetMs),
};
std.out.puts(`${JSON.stringify(result)}\n`);
