// x0:crypto throughput inside x0-runtime, run by bench/cross.bench.sh natively and under qemu-user. Plain JS
// (no bundling) so that the same file runs on every target. Prints one JSON line: ops/s per operation.
// Usage: x0-runtime bench/cross/crypto.js [budget-ms]   (time per operation, default 1000)
import * as crypto from 'x0:crypto';
import * as std from 'qjs:std';

const budgetMs = Math.min(Math.max(Number(scriptArgs[1] ?? '1000') || 1000, 50), 60000);
const message = new Uint8Array(64).fill(7);
const record = new Uint8Array(1400).fill(9);
const seed = new Uint8Array(32).fill(1);
const signer = crypto.signSeedKeypair(seed);
const signature = crypto.sign(message, signer.secretKey);
const alice = crypto.boxKeypair();
const bob = crypto.boxKeypair();
const key = new Uint8Array(32).fill(3);
const nonce = new Uint8Array(24).fill(4);
const sealed = crypto.secretbox(record, nonce, key);

if (!crypto.verify(message, signature, signer.publicKey)) throw new Error('verify failed before measuring');
if (crypto.secretboxOpen(sealed, nonce, key) === null) throw new Error('secretboxOpen failed before measuring');

function measure(run) {
  // Batches of 8 between clock reads; at least one batch.
  const start = performance.now();
  let ops = 0;
  do {
    for (let i = 0; i < 8; i++) run();
    ops += 8;
  } while (performance.now() - start < budgetMs);
  return ops / ((performance.now() - start) / 1000);
}

const result = {
  'ed25519-sign': measure(() => crypto.sign(message, signer.secretKey)),
  'ed25519-verify': measure(() => crypto.verify(message, signature, signer.publicKey)),
  x25519: measure(() => crypto.scalarmult(alice.secretKey, bob.publicKey)),
  'secretbox-1400B': measure(() => crypto.secretbox(record, nonce, key)),
  'secretbox-open-1400B': measure(() => crypto.secretboxOpen(sealed, nonce, key)),
  'sha512-1400B': measure(() => crypto.sha512(record)),
};
std.out.puts(`${JSON.stringify(result)}\n`);
