// Fuzzing every identity decoder that takes bytes from outside: certificates, chains, trust bundles, join
// tokens (text), join requests and renew requests (through the registrar, which verifies too), revocation
// lists, and the used-token set read back from flash. Seeds are the stored test vectors. Each input must
// give a result with a reason code: never a throw, never an accepted forgery.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fc from 'fast-check';
import { decodeBounded } from '../../src/core/identity/canonical.js';
import { decodeCertificate, verifyCertificateSignature } from '../../src/core/identity/cert.js';
import { decodeChain, decodeTrustBundle, validateChain, type TrustBundle } from '../../src/core/identity/chain.js';
import { Registrar } from '../../src/core/identity/registrar.js';
import { decodeRevocationList, RevocationStore } from '../../src/core/identity/revocation.js';
import { decodeRenewRequest } from '../../src/core/identity/rotation.js';
import { decodeJoinRequest, decodeTokenBody, parseJoinToken, tokenPrefix } from '../../src/core/identity/token.js';
import { fromBase64Url, toBase64Url } from '../../src/core/identity/base64url.js';
import { fromHex, toHex } from '../../src/core/wire/hex.js';
import { createTweetnaclCrypto } from '../../src/crypto/tweetnacl.js';
import { identityVectors as v } from '../vectors/identity-vectors.js';
import { fuzz, fuzzInput, isRefusal } from './fuzz-lib.js';

const crypto = createTweetnaclCrypto();
const file = 'test/identity fuzz.test.ts';
const decodedBundle = decodeTrustBundle(crypto, fromHex(v.bundle));
if (!decodedBundle.ok) throw new Error(decodedBundle.reason);
const bundle: TrustBundle = decodedBundle.value;
const certSeeds = [v.rootCert, v.anchorCert].map(fromHex);
const chainSeeds = [v.chainA, v.chainB, v.join.issuedChain].map(fromHex);
const seedHexes = new Set([v.rootCert, v.anchorCert]);
const rootKey = bundle.roots[0]!.signPublicKey;

function anchorIssuer() {
  const cert = decodeCertificate(fromHex(v.anchorCert));
  if (!cert.ok) throw new Error(cert.reason);
  return {
    cert: cert.value,
    parents: [],
    signSecretKey: crypto.signKeyPairFromSeed(fromHex(v.signSecretSeeds.anchor)).secretKey,
  };
}

test('certificates: random and mutated bytes are refused by reason; a mutated certificate never validates', () => {
  fuzz('decodeCertificate', file, fuzzInput(certSeeds), (bytes) => {
    const cert = decodeCertificate(bytes);
    assert.ok(isRefusal(cert));
    // Changed bytes that still decode are a different certificate: the root's signature cannot hold.
    if (cert.ok && !seedHexes.has(toHex(bytes))) assert.not.ok(verifyCertificateSignature(crypto, cert.value, rootKey));
  });
});

test('presented chains: mutated chains are refused by reason and never validate as a different identity', () => {
  const validCerts = new Set<string>();
  for (const seed of chainSeeds) {
    const chain = decodeChain((decodeBounded(seed, 8192) as { value: unknown }).value);
    if (chain.ok) for (const c of chain.value) validCerts.add(toHex(c.bytes));
  }
  fuzz('decodeChain+validateChain', file, fuzzInput(chainSeeds), (bytes) => {
    const decoded = decodeBounded(bytes, 8192);
    if (!decoded.ok) return;
    const chain = decodeChain(decoded.value);
    assert.ok(isRefusal(chain));
    if (!chain.ok) return;
    const peer = validateChain(crypto, chain.value, bundle, v.nowMs);
    assert.ok(isRefusal(peer));
    // Only the issued certificates, byte for byte, can make up a chain that validates.
    if (peer.ok)
      for (const c of chain.value)
        assert.ok(validCerts.has(toHex(c.bytes)), 'a validated chain holds only issued certificates');
  });
});

test('trust bundles: random and mutated bytes are refused by reason', () => {
  fuzz('decodeTrustBundle', file, fuzzInput([fromHex(v.bundle)]), (bytes) => {
    const decoded = decodeTrustBundle(crypto, bytes);
    assert.ok(isRefusal(decoded));
    if (decoded.ok) assert.is(decoded.value.roots[0]!.bytes.length > 0, true);
  });
});

test('join tokens: mutated text and mutated token bytes are refused by reason', () => {
  const raw = fromBase64Url(v.join.joinToken.slice(tokenPrefix.length))!;
  const texts = fc.oneof(
    fuzzInput([raw]).map((bytes) => tokenPrefix + toBase64Url(bytes)),
    fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 3 })).map(([at, s]) => {
      const i = at % v.join.joinToken.length;
      return v.join.joinToken.slice(0, i) + s + v.join.joinToken.slice(i + 1);
    }),
    fc.string({ maxLength: 1200 }),
  );
  fuzz('parseJoinToken', file, texts, (text) => {
    assert.ok(isRefusal(parseJoinToken(crypto, text)));
  });
  const body = decodeJoinRequest(fromHex(v.join.joinRequest));
  assert.ok(body.ok);
  fuzz('decodeTokenBody', file, fuzzInput([body.value.tokenBodyBytes]), (bytes) => {
    assert.ok(isRefusal(decodeTokenBody(bytes)));
  });
});

test('join requests: the registrar refuses every mutated request by reason and issues nothing', () => {
  const registrar = new Registrar(crypto, anchorIssuer(), bundle);
  const original = v.join.joinRequest;
  fuzz('Registrar.redeem', file, fuzzInput([fromHex(original)], 2400), (bytes) => {
    assert.ok(isRefusal(decodeJoinRequest(bytes)));
    const issued = registrar.redeem(bytes, v.nowMs);
    assert.ok(isRefusal(issued));
    // The only request that may succeed is the untouched one (and only once).
    if (issued.ok) assert.is(toHex(bytes), original);
  });
  assert.ok(registrar.usedCount <= 1);
});

test('renew requests: the registrar refuses every mutated request by reason', () => {
  const registrar = new Registrar(crypto, anchorIssuer(), bundle);
  fuzz('Registrar.renew', file, fuzzInput([fromHex(v.join.renewRequest)], 4000), (bytes) => {
    assert.ok(isRefusal(decodeRenewRequest(bytes)));
    const renewed = registrar.renew(bytes, v.join.renewAtMs);
    assert.ok(isRefusal(renewed));
    if (renewed.ok) assert.is(toHex(bytes), v.join.renewRequest);
  });
});

test('revocation lists: mutated lists are refused by reason; the version never moves back', () => {
  const store = new RevocationStore();
  assert.ok(store.offerBytes(crypto, fromHex(v.revocations.v1), bundle).ok);
  const seeds = [v.revocations.v1, v.revocations.v2].map(fromHex);
  fuzz('decodeRevocationList', file, fuzzInput(seeds), (bytes) => {
    const before = store.version;
    assert.ok(isRefusal(decodeRevocationList(crypto, bytes, bundle)));
    const offered = store.offerBytes(crypto, bytes, bundle);
    assert.ok(isRefusal(offered));
    assert.ok(store.version >= before);
    if (offered.ok) assert.is(toHex(bytes), v.revocations.v2);
  });
});

test('the used-token set read back from flash: corrupted bytes are refused, never thrown', () => {
  const seed = fromHex(v.join.usedTokens);
  const anchor = anchorIssuer();
  fuzz('Registrar.importUsed', file, fuzzInput([seed]), (bytes) => {
    assert.ok(isRefusal(new Registrar(crypto, anchor, bundle).importUsed(bytes)));
  });
});

test.run();
