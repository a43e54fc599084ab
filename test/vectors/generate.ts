// Identity and channel test vectors: certificates, a trust bundle, a join token and the join request that
// redeems it, a renewal, a revocation list and a full channel handshake transcript with data records, all
// made by the real code from fixed keys, a fixed time and a seeded random stream. Engine-neutral: the same
// generator runs with every crypto backend on both engines, and must reproduce the stored bytes exactly.
// Regenerate the stored file: node --import tsx scripts/gen-identity-vectors.ts --write
import type { Crypto } from '../../src/platform/types.js';
import { createRoot, issueIntermediate, issueNodeCert, type Issuer } from '../../src/core/identity/ca.js';
import { createTrustBundle, encodeChain, encodeTrustBundle, type TrustBundle } from '../../src/core/identity/chain.js';
import type { Certificate } from '../../src/core/identity/cert.js';
import { Registrar } from '../../src/core/identity/registrar.js';
import { encodeRevocationList, signRevocationList } from '../../src/core/identity/revocation.js';
import { createRenewRequest } from '../../src/core/identity/rotation.js';
import { createJoinRequest, issueJoinToken, parseJoinToken } from '../../src/core/identity/token.js';
import { ChannelEndpoint, type Now, type Output } from '../../src/core/channel/endpoint.js';
import { noRevocations } from '../../src/core/identity/chain.js';
import { toHex } from '../../src/core/wire/hex.js';

/** 2027-01-15T08:00:00Z: every certificate in the vectors is valid then. */
export const vectorNowMs = 1_800_000_000_000;
export const vectorTrustDomain = 'vectors.x0';

/**
 * The backend with its randomness replaced by a counter-mode SHA-512 stream from a label, and key pairs
 * drawn from that stream, so that every backend produces the same serials, token ids, session indices and
 * ephemeral keys. Signatures (Ed25519) and seals (XSalsa20-Poly1305) are deterministic already.
 */
export function seededCrypto(base: Crypto, label: string): Crypto {
  let counter = 0;
  const seed = base.sha512(new TextEncoder().encode(`x0 test vectors\u0000${label}`));
  const randomBytes = (length: number): Uint8Array => {
    const out = new Uint8Array(length);
    for (let offset = 0; offset < length; offset += 64) {
      const block = new Uint8Array(seed.length + 4);
      block.set(seed);
      new DataView(block.buffer).setUint32(seed.length, counter++);
      out.set(base.sha512(block).subarray(0, Math.min(64, length - offset)), offset);
    }
    return out;
  };
  return {
    ...base,
    randomBytes,
    signKeyPair: () => base.signKeyPairFromSeed(randomBytes(32)),
    boxKeyPair: () => base.boxKeyPairFromSecretKey(randomBytes(32)),
  };
}

const fixedKeys = (c: Crypto, byte: number) => ({
  sign: c.signKeyPairFromSeed(new Uint8Array(32).fill(byte)),
  box: c.boxKeyPairFromSecretKey(new Uint8Array(32).fill(byte + 1)),
});

interface Pki {
  readonly root: Issuer;
  readonly anchor: Issuer;
  readonly bundle: TrustBundle;
  readonly a: { readonly keys: ReturnType<typeof fixedKeys>; readonly chain: Certificate[] };
  readonly b: { readonly keys: ReturnType<typeof fixedKeys>; readonly chain: Certificate[] };
}

function buildPki(c: Crypto): Pki {
  const root = createRoot(c, { trustDomain: vectorTrustDomain, nowMs: vectorNowMs, keys: fixedKeys(c, 0x10) }).issuer;
  const anchorKeys = fixedKeys(c, 0x20);
  const anchorCert = issueIntermediate(c, root, {
    name: 'anchor-1',
    signPublicKey: anchorKeys.sign.publicKey,
    boxPublicKey: anchorKeys.box.publicKey,
    nowMs: vectorNowMs,
  });
  const anchor: Issuer = { cert: anchorCert, parents: [], signSecretKey: anchorKeys.sign.secretKey };
  const bundle = createTrustBundle(c, vectorTrustDomain, [root.cert]);
  if (!bundle.ok) throw new Error(`vectors: bundle ${bundle.reason}`);
  const ka = fixedKeys(c, 0x30);
  const kb = fixedKeys(c, 0x40);
  const certA = issueNodeCert(c, root, {
    name: 'a',
    signPublicKey: ka.sign.publicKey,
    boxPublicKey: ka.box.publicKey,
    nowMs: vectorNowMs,
    roles: ['anchor', 'member'],
    addresses: ['fd00::a'],
  });
  const certB = issueNodeCert(c, anchor, {
    name: 'b',
    signPublicKey: kb.sign.publicKey,
    boxPublicKey: kb.box.publicKey,
    nowMs: vectorNowMs,
    roles: ['gateway', 'member'],
  });
  return {
    root,
    anchor,
    bundle: bundle.value,
    a: { keys: ka, chain: [certA] },
    b: { keys: kb, chain: [certB, anchorCert] },
  };
}

function joinAndRenew(c: Crypto, pki: Pki) {
  const { text } = issueJoinToken(c, pki.root, {
    name: 'r1',
    nowMs: vectorNowMs,
    ttlMs: 3600_000,
    roles: ['member'],
    certTtlMs: 86_400_000,
  });
  const token = parseJoinToken(c, text);
  if (!token.ok) throw new Error(`vectors: token ${token.reason}`);
  const nodeKeys = fixedKeys(c, 0x50);
  const request = createJoinRequest(c, token.value, nodeKeys, vectorNowMs, ['fd00::1']);
  const registrar = new Registrar(c, pki.anchor, pki.bundle);
  const issued = registrar.redeem(request, vectorNowMs);
  if (!issued.ok) throw new Error(`vectors: redeem ${issued.reason}`);
  const renewAtMs = vectorNowMs + 12 * 3600_000;
  const renewRequest = createRenewRequest(
    c,
    issued.value.chain,
    nodeKeys.sign.secretKey,
    fixedKeys(c, 0x60),
    renewAtMs,
  );
  const renewed = registrar.renew(renewRequest, renewAtMs);
  if (!renewed.ok) throw new Error(`vectors: renew ${renewed.reason}`);
  return {
    joinToken: text,
    joinRequest: toHex(request),
    issuedChain: toHex(encodeChain(issued.value.chain)),
    usedTokens: toHex(registrar.exportUsed()),
    renewAtMs,
    renewRequest: toHex(renewRequest),
    renewedChain: toHex(encodeChain(renewed.value.chain)),
    issuedSerial: toHex(issued.value.certificate.serial),
  };
}

/** A full handshake between a (initiator) and b (responder), key confirmation, and one record each way. */
function handshake(base: Crypto, pki: Pki) {
  const now: Now = { monoMs: 1000, wallMs: vectorNowMs };
  const ea = new ChannelEndpoint({
    crypto: seededCrypto(base, 'endpoint a'),
    identity: { chain: pki.a.chain, signSecretKey: pki.a.keys.sign.secretKey },
    bundle: pki.bundle,
    revocations: noRevocations,
  });
  const eb = new ChannelEndpoint({
    crypto: seededCrypto(base, 'endpoint b'),
    identity: { chain: pki.b.chain, signSecretKey: pki.b.keys.sign.secretKey },
    bundle: pki.bundle,
    revocations: noRevocations,
  });
  const one = (out: Output, what: string): Uint8Array => {
    if (out.send.length !== 1) throw new Error(`vectors: ${what} sent ${out.send.length} messages`);
    return out.send[0]!.bytes;
  };
  const m1 = one(ea.connect('b', now), 'M1');
  const m2 = one(eb.receive('a', m1, now), 'M2');
  const m3 = one(ea.receive('b', m2, now), 'M3');
  const confirm = one(eb.receive('a', m3, now), 'confirmation');
  ea.receive('b', confirm, now);
  const sendOne = (from: ChannelEndpoint, to: string, text: string): Uint8Array => {
    const sent = from.send(to, new TextEncoder().encode(text), now);
    if (!sent.ok) throw new Error(`vectors: send ${sent.reason}`);
    return one(sent.value, 'record');
  };
  const aToB = sendOne(ea, 'b', 'hello b, from a');
  const bToA = sendOne(eb, 'a', 'hello a, from b');
  const gotB = eb.receive('a', aToB, now).delivered.map((d) => new TextDecoder().decode(d.data));
  const gotA = ea.receive('b', bToA, now).delivered.map((d) => new TextDecoder().decode(d.data));
  if (gotB.join() !== 'hello b, from a' || gotA.join() !== 'hello a, from b')
    throw new Error('vectors: records did not open');
  return {
    m1: toHex(m1),
    m2: toHex(m2),
    m3: toHex(m3),
    confirmation: toHex(confirm),
    recordAToB: toHex(aToB),
    recordBToA: toHex(bToA),
  };
}

export interface IdentityVectors {
  readonly nowMs: number;
  readonly trustDomain: string;
  readonly rootCert: string;
  readonly anchorCert: string;
  readonly bundle: string;
  readonly chainA: string;
  readonly chainB: string;
  readonly signSecretSeeds: { readonly root: string; readonly anchor: string; readonly a: string; readonly b: string };
  readonly join: ReturnType<typeof joinAndRenew>;
  readonly revocations: {
    readonly v1: string;
    readonly v2: string;
    readonly revokedSerial: string;
    readonly revokedNode: string;
  };
  readonly handshake: ReturnType<typeof handshake>;
}

/** Every vector, from one backend. The same input gives the same bytes on every backend and engine. */
export function generateIdentityVectors(base: Crypto): IdentityVectors {
  const c = seededCrypto(base, 'pki');
  const pki = buildPki(c);
  const join = joinAndRenew(c, pki);
  const v1 = signRevocationList(c, pki.root, 1, {
    issuedAtMs: vectorNowMs,
    serials: [pki.a.chain[0]!.serial],
    nodeIds: [],
  });
  const v2 = signRevocationList(c, pki.root, 2, {
    issuedAtMs: vectorNowMs + 1000,
    serials: [pki.a.chain[0]!.serial],
    nodeIds: ['spiffe://vectors.x0/node/b'],
  });
  return {
    nowMs: vectorNowMs,
    trustDomain: vectorTrustDomain,
    rootCert: toHex(pki.root.cert.bytes),
    anchorCert: toHex(pki.anchor.cert.bytes),
    bundle: toHex(encodeTrustBundle(pki.bundle)),
    chainA: toHex(encodeChain(pki.a.chain)),
    chainB: toHex(encodeChain(pki.b.chain)),
    signSecretSeeds: { root: '10'.repeat(32), anchor: '20'.repeat(32), a: '30'.repeat(32), b: '40'.repeat(32) },
    join,
    revocations: {
      v1: toHex(encodeRevocationList(v1)),
      v2: toHex(encodeRevocationList(v2)),
      revokedSerial: toHex(pki.a.chain[0]!.serial),
      revokedNode: 'spiffe://vectors.x0/node/b',
    },
    handshake: handshake(base, pki),
  };
}

/** The stored file's text: stable key order, one field per line, long hex kept on one line. */
export function renderVectorsModule(vectors: IdentityVectors): string {
  return [
    '// Generated by scripts/gen-identity-vectors.ts from test/vectors/generate.ts: do not edit by hand.',
    '// Fixed keys (seeds in signSecretSeeds), fixed time, seeded randomness; docs/protocol/channel.md and',
    '// docs/protocol/identity.md describe every format. Checked by test/vectors/*.test.ts on every backend.',
    "import type { IdentityVectors } from './generate.js';",
    '',
    `export const identityVectors: IdentityVectors = ${JSON.stringify(vectors, null, 2)};`,
    '',
  ].join('\n');
}
