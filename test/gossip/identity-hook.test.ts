// The revocation hook between identity and gossip: a list signed by the identity CA (src/core/identity)
// becomes the mesh document's revocation register unchanged, its revoked SPIFFE node IDs become refused
// gossip nodes, and a list signed by another CA is refused and never merged. Engine-neutral (tweetnacl).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRoot } from '../../src/core/identity/ca.js';
import { createTrustBundle } from '../../src/core/identity/chain.js';
import { encodeRevocationList, signRevocationList } from '../../src/core/identity/revocation.js';
import { nodeId } from '../../src/core/identity/spiffe.js';
import type { Gossip } from '../../src/core/gossip/gossip.js';
import { setStatus } from '../../src/core/gossip/local.js';
import { MeshDoc } from '../../src/core/gossip/mesh-doc.js';
import { createTweetnaclCrypto } from '../../src/crypto/tweetnacl.js';
import { identityRevocations, signedDocFromIdentityList } from '../../src/gossip/identity-revocations.js';
import { engine, syncedWallMs, Wire } from './harness.js';

const crypto = createTweetnaclCrypto();
const nowMs = 1_800_000_000_000;
const keys = (byte: number) => ({
  sign: crypto.signKeyPairFromSeed(new Uint8Array(32).fill(byte)),
  box: crypto.boxKeyPairFromSecretKey(new Uint8Array(32).fill(byte + 1)),
});
const ours = createRoot(crypto, { trustDomain: 'mesh.test', nowMs, keys: keys(3) });
const foreign = createRoot(crypto, { trustDomain: 'mesh.test', nowMs, keys: keys(5) });
const bundle = createTrustBundle(crypto, 'mesh.test', [ours.issuer.cert]);
assert.ok(bundle.ok);
const check = identityRevocations(crypto, bundle.value);

const list = signRevocationList(crypto, ours.issuer, 1, {
  issuedAtMs: nowMs,
  serials: [],
  nodeIds: [nodeId('mesh.test', 'x'), nodeId('other.test', 'b')],
});

test('a list from the identity CA is taken as it is; it revokes the named node of our trust domain only', () => {
  const doc = signedDocFromIdentityList(crypto, encodeRevocationList(list), bundle.value);
  assert.ok(doc.ok);
  const wire = new Wire(['a', 'b', 'x'].map((id) => engine(id, { doc: new MeshDoc(check) })));
  const [a, b, x] = wire.engines as [Gossip, Gossip, Gossip];
  setStatus(x, { online: true, uptimeS: 1, loadMilli: 0 }, syncedWallMs);
  assert.ok(wire.untilSynced() > 0);
  assert.is(a.offerDoc(doc.value), null);
  assert.ok(wire.untilSynced() > 0);
  assert.equal([...b.doc.revoked], ['x'], 'a node of another trust domain with the same name is not ours');
  assert.not.ok(b.doc.sections.has('x'));
  assert.ok(x.revoked, 'the revoked node learned it');
});

test('a list signed by another CA is refused with the identity reason and never merged', () => {
  const forged = signRevocationList(crypto, foreign.issuer, 7, {
    issuedAtMs: nowMs,
    serials: [],
    nodeIds: [nodeId('mesh.test', 'a')],
  });
  assert.not.ok(signedDocFromIdentityList(crypto, encodeRevocationList(forged), bundle.value).ok);
  const a = engine('a', { doc: new MeshDoc(check) });
  const offered = a.offerDoc({
    kind: 'revocations',
    version: forged.version,
    payload: forged.payload,
    signature: forged.signature,
  });
  assert.is(offered, 'revocation-unknown-signer');
  assert.is(a.doc.revocations.version, 0);
  const tampered = { kind: 'revocations', version: list.version + 1, payload: list.payload, signature: list.signature };
  assert.is(a.offerDoc(tampered), 'revocation-bad-signature', 'the version is part of what is signed');
});

test.run();
