// Engine-neutral micro-benchmark loop: runs `op` until `budgetMs` of monotonic time has passed
// (at least `minOps` times) and reports operations per second. Used on Node and inside x0-runtime.
import type { Crypto } from '../../src/platform/types.js';
import { decodeLimited, encodeCbor } from '../../src/core/wire/cbor.js';

export interface Measurement {
  readonly name: string;
  readonly ops: number;
  readonly elapsedMs: number;
  readonly opsPerSec: number;
}

export function measure(name: string, nowMs: () => number, budgetMs: number, op: () => void, minOps = 3): Measurement {
  op(); // warm-up: first call compiles / allocates
  let ops = 0;
  const start = nowMs();
  let elapsed = 0;
  while (elapsed < budgetMs || ops < minOps) {
    op();
    ops++;
    elapsed = nowMs() - start;
  }
  return { name, ops, elapsedMs: elapsed, opsPerSec: (ops * 1000) / elapsed };
}

/** A typical mesh message: a neighbour-table status update as the agent gossips it. */
export function typicalMessage(): unknown {
  return {
    v: 1,
    node: 'spiffe://mesh.example/node/router-17',
    seq: 48213,
    at: 1_763_850_000_123,
    uptime: 864_000,
    neighbours: Array.from({ length: 8 }, (_, i) => ({
      mac: `02:00:00:00:00:${(10 + i).toString(16)}`,
      tq: 255 - i * 13,
      lastSeenMs: 120 * i,
      iface: 'mesh0',
    })),
    load: [0.12, 0.08, 0.05],
    memFreeKiB: 31_240,
    sig: new Uint8Array(64).fill(0xab),
  };
}

export function cryptoSuite(crypto: Crypto, nowMs: () => number, budgetMs: number): Measurement[] {
  const signer = crypto.signKeyPairFromSeed(new Uint8Array(32).fill(1));
  const message = new Uint8Array(200).fill(0x42);
  const signature = crypto.sign(message, signer.secretKey);
  const alice = crypto.boxKeyPairFromSecretKey(new Uint8Array(32).fill(2));
  const bob = crypto.boxKeyPairFromSecretKey(new Uint8Array(32).fill(3));
  const nonce = new Uint8Array(24).fill(4);
  const key = new Uint8Array(32).fill(5);
  const payload = new Uint8Array(1400).fill(6);
  const sealed = crypto.secretbox(payload, nonce, key);
  return [
    measure('ed25519-sign', nowMs, budgetMs, () => crypto.sign(message, signer.secretKey)),
    measure('ed25519-verify', nowMs, budgetMs, () => {
      if (!crypto.verify(message, signature, signer.publicKey)) throw new Error('verify failed');
    }),
    measure('x25519', nowMs, budgetMs, () => crypto.scalarMult(alice.secretKey, bob.publicKey)),
    measure('secretbox-1400B', nowMs, budgetMs, () => crypto.secretbox(payload, nonce, key)),
    measure('secretbox-open-1400B', nowMs, budgetMs, () => {
      if (crypto.secretboxOpen(sealed, nonce, key) === null) throw new Error('open failed');
    }),
  ];
}

export function cborSuite(nowMs: () => number, budgetMs: number): Measurement[] {
  const value = typicalMessage();
  const bytes = encodeCbor(value);
  return [
    measure(`cbor-encode-${bytes.length}B`, nowMs, budgetMs, () => encodeCbor(value)),
    measure(`cbor-decode-${bytes.length}B`, nowMs, budgetMs, () => {
      if (!decodeLimited(bytes, 4096).ok) throw new Error('decode failed');
    }),
  ];
}
