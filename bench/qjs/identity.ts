// Runs inside x0-runtime (bundled by bench/identity.bench.ts): the identity suite with native libsodium
// and with tweetnacl on QuickJS-ng, printed as one JSON line for the driver.
import '../../src/platform/qjs/polyfills.js';
import * as std from 'qjs:std';
import { createNativeCrypto } from '../../src/crypto/native.js';
import { createTweetnaclCrypto } from '../../src/crypto/tweetnacl.js';
import { identitySuite } from '../lib/identity.js';

const budgetMs = Number(std.getenv('X0_BENCH_BUDGET_MS') ?? '1000');
const nowMs = () => performance.now();
const native = createNativeCrypto();
const wall = Date.now();
const result = {
  native: identitySuite(native, nowMs, budgetMs, wall),
  tweetnacl: identitySuite(createTweetnaclCrypto(native.randomBytes), nowMs, budgetMs, wall),
};
std.out.puts(`${JSON.stringify(result)}\n`);
