// Shared fixtures for the identity and channel tests: fixed keys (seeds), fixed times, built once per file
// because a signature costs ~50-100 ms with tweetnacl on QuickJS-ng.
import { createTweetnaclCrypto } from '../../src/crypto/tweetnacl.js';
import { createRoot, issueIntermediate, issueNodeCert, type Issuer } from '../../src/core/identity/ca.js';
import { createTrustBundle, type TrustBundle } from '../../src/core/identity/chain.js';
import type { Certificate } from '../../src/core/identity/cert.js';
import type { Crypto, KeyPair } from '../../src/platform/types.js';

export const nowMs = 1_800_000_000_000; // 2027-01-15
export const hourMs = 3600 * 1000;

export const crypto: Crypto = createTweetnaclCrypto();

/** A crypto whose randomBytes is a counter: serials and token ids come out the same on every run. */
export function deterministicCrypto(base: Crypto, seed = 1): Crypto {
  let counter = seed;
  return {
    ...base,
    randomBytes(length: number): Uint8Array {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) out[i] = (counter * 31 + i * 7) & 0xff;
      counter++;
      return out;
    },
  };
}

export const seed = (byte: number): Uint8Array => new Uint8Array(32).fill(byte);

export interface NodeIdentity {
  readonly sign: KeyPair;
  readonly box: KeyPair;
  readonly chain: Certificate[];
}

export function nodeKeys(c: Crypto, byte: number): { sign: KeyPair; box: KeyPair } {
  return { sign: c.signKeyPairFromSeed(seed(byte)), box: c.boxKeyPairFromSecretKey(seed(byte + 1)) };
}

export interface World {
  readonly crypto: Crypto;
  readonly root: Issuer;
  readonly anchor: Issuer;
  readonly bundle: TrustBundle;
  readonly a: NodeIdentity;
  readonly b: NodeIdentity;
}

/** One trust domain: a root, an intermediate held by an anchor, node a (signed by the root) and b (by the anchor). */
export function buildWorld(base: Crypto = crypto, trustDomain = 'mesh.example', seedBase = 10): World {
  const c = deterministicCrypto(base, seedBase);
  const root = createRoot(c, { trustDomain, nowMs, keys: nodeKeys(c, seedBase) }).issuer;
  const anchorKeys = nodeKeys(c, seedBase + 2);
  const anchorCert = issueIntermediate(c, root, {
    name: 'anchor-1',
    signPublicKey: anchorKeys.sign.publicKey,
    boxPublicKey: anchorKeys.box.publicKey,
    nowMs,
  });
  const anchor: Issuer = { cert: anchorCert, parents: [], signSecretKey: anchorKeys.sign.secretKey };
  const bundleResult = createTrustBundle(c, trustDomain, [root.cert]);
  if (!bundleResult.ok) throw new Error(bundleResult.reason);
  const ka = nodeKeys(c, seedBase + 4);
  const kb = nodeKeys(c, seedBase + 6);
  const certA = issueNodeCert(c, root, {
    name: 'a',
    signPublicKey: ka.sign.publicKey,
    boxPublicKey: ka.box.publicKey,
    nowMs,
    roles: ['member'],
  });
  const certB = issueNodeCert(c, anchor, {
    name: 'b',
    signPublicKey: kb.sign.publicKey,
    boxPublicKey: kb.box.publicKey,
    nowMs,
    roles: ['gateway', 'member'],
  });
  return {
    crypto: base,
    root,
    anchor,
    bundle: bundleResult.value,
    a: { ...ka, chain: [certA] },
    b: { ...kb, chain: [certB, anchorCert] },
  };
}
