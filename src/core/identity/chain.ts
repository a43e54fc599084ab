// Chain validation: a presented chain (leaf first, then intermediates) against a trust bundle (the roots of
// one trust domain; two of them during a CA rollover), at a given wall-clock time, with a revocation view.
// Cheap checks run before any signature check (a verify costs ~100 ms with tweetnacl on the router).
import type { Crypto } from '../../platform/types.js';
import { bytesEqual, decodeBounded, encodeCanonical, isArrayOf, isBytes, isText } from './canonical.js';
import { decodeCertificate, keyId, verifyCertificateSignature, type CertReason, type Certificate } from './cert.js';
import { limits } from './limits.js';
import { fail, ok, type Result } from './result.js';
import { isTrustDomain } from './spiffe.js';

export type ChainReason =
  | CertReason
  | 'chain-empty'
  | 'chain-too-long'
  | 'clock-not-set'
  | 'cert-not-node'
  | 'issuer-not-ca'
  | 'wrong-trust-domain'
  | 'cert-not-yet-valid'
  | 'cert-expired'
  | 'issuer-not-yet-valid'
  | 'issuer-expired'
  | 'chain-broken'
  | 'unknown-issuer'
  | 'path-too-long'
  | 'cert-revoked'
  | 'cert-bad-signature';

/** What revocation looks like to validation; the revocation list implements it. */
export interface RevocationView {
  isRevoked(cert: Certificate): boolean;
}

export const noRevocations: RevocationView = { isRevoked: () => false };

export interface TrustBundle {
  readonly trustDomain: string;
  /** Self-signed roots, verified when the bundle was built or loaded. */
  readonly roots: readonly Certificate[];
  /** Key id (hex) per root, computed once. */
  readonly rootKeyIds: readonly Uint8Array[];
}

/** A peer whose chain validated: what the channel and the rest of the agent may believe about it. */
export interface ValidatedPeer {
  readonly id: string;
  readonly name: string;
  readonly trustDomain: string;
  readonly roles: readonly string[];
  readonly signPublicKey: Uint8Array;
  readonly boxPublicKey: Uint8Array;
  readonly serial: Uint8Array;
  readonly addresses: readonly string[];
  /** The earliest notAfter along the chain, root included: the session must end by then. */
  readonly expiresAtMs: number;
  readonly chain: readonly Certificate[];
}

export type BundleReason =
  | 'bundle-too-large'
  | 'bundle-malformed'
  | 'bundle-bad-root'
  | 'bundle-wrong-trust-domain'
  | 'bundle-empty';

export function createTrustBundle(
  crypto: Crypto,
  trustDomain: string,
  roots: readonly Certificate[],
): Result<TrustBundle, BundleReason> {
  if (!isTrustDomain(trustDomain)) return fail('bundle-malformed');
  if (roots.length === 0) return fail('bundle-empty');
  if (roots.length > limits.bundleRootsMax) return fail('bundle-too-large');
  for (const root of roots) {
    if (root.kind !== 'root') return fail('bundle-bad-root');
    if (root.trustDomain !== trustDomain) return fail('bundle-wrong-trust-domain');
    if (!bytesEqual(root.issuerKeyId, keyId(crypto, root.signPublicKey))) return fail('bundle-bad-root');
    if (!verifyCertificateSignature(crypto, root, root.signPublicKey)) return fail('bundle-bad-root');
  }
  return ok({ trustDomain, roots: [...roots], rootKeyIds: roots.map((r) => r.issuerKeyId) });
}

export function encodeTrustBundle(bundle: TrustBundle): Uint8Array {
  return encodeCanonical([1, bundle.trustDomain, bundle.roots.map((r) => r.bytes)]);
}

export function decodeTrustBundle(crypto: Crypto, bytes: Uint8Array): Result<TrustBundle, BundleReason | CertReason> {
  if (bytes.length > limits.bundleBytesMax) return fail('bundle-too-large');
  const decoded = decodeBounded(bytes, limits.bundleBytesMax);
  if (!decoded.ok || !Array.isArray(decoded.value) || decoded.value.length !== 3) return fail('bundle-malformed');
  const [format, trustDomain, rootBytes] = decoded.value as unknown[];
  if (format !== 1 || !isText(trustDomain, limits.trustDomainCharsMax)) return fail('bundle-malformed');
  if (!isArrayOf(rootBytes, limits.bundleRootsMax, (x): x is Uint8Array => isBytes(x))) return fail('bundle-malformed');
  const roots: Certificate[] = [];
  for (const b of rootBytes) {
    const cert = decodeCertificate(b);
    if (!cert.ok) return cert;
    roots.push(cert.value);
  }
  return createTrustBundle(crypto, trustDomain, roots);
}

function checkTime(cert: Certificate, nowMs: number, isLeaf: boolean): ChainReason | null {
  if (nowMs < cert.notBeforeMs) return isLeaf ? 'cert-not-yet-valid' : 'issuer-not-yet-valid';
  if (nowMs >= cert.notAfterMs) return isLeaf ? 'cert-expired' : 'issuer-expired';
  return null;
}

/** Shape, trust domain, time, linkage and path length: everything but revocation and signatures. */
function checkStructure(
  crypto: Crypto,
  chain: readonly Certificate[],
  bundle: TrustBundle,
  nowMs: number,
): Result<Certificate, ChainReason> {
  if (chain.length === 0) return fail('chain-empty');
  if (chain.length > limits.chainCertsMax) return fail('chain-too-long');
  if (nowMs < limits.wallClockFloorMs) return fail('clock-not-set');
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i] as Certificate;
    if (cert.trustDomain !== bundle.trustDomain) return fail('wrong-trust-domain');
    if (i === 0 && cert.kind !== 'node') return fail('cert-not-node');
    if (i > 0 && cert.kind !== 'intermediate') return fail('issuer-not-ca');
    // An intermediate at position i has i - 1 intermediates below it.
    if (i > 0 && cert.pathLenMax < i - 1) return fail('path-too-long');
    const time = checkTime(cert, nowMs, i === 0);
    if (time !== null) return fail(time);
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    const cert = chain[i] as Certificate;
    const issuer = chain[i + 1] as Certificate;
    if (cert.issuer !== issuer.subject || !bytesEqual(cert.issuerKeyId, keyId(crypto, issuer.signPublicKey)))
      return fail('chain-broken');
  }
  const top = chain[chain.length - 1] as Certificate;
  const root = bundle.roots.find(
    (r, i) => r.subject === top.issuer && bytesEqual(bundle.rootKeyIds[i] as Uint8Array, top.issuerKeyId),
  );
  if (root === undefined) return fail('unknown-issuer');
  if (root.pathLenMax < chain.length - 1) return fail('path-too-long');
  const rootTime = checkTime(root, nowMs, false);
  return rootTime !== null ? fail(rootTime) : ok(root);
}

export function validateChain(
  crypto: Crypto,
  chain: readonly Certificate[],
  bundle: TrustBundle,
  nowMs: number,
  revocations: RevocationView = noRevocations,
): Result<ValidatedPeer, ChainReason> {
  const structure = checkStructure(crypto, chain, bundle, nowMs);
  if (!structure.ok) return structure;
  const root = structure.value;
  for (const cert of chain) if (revocations.isRevoked(cert)) return fail('cert-revoked');
  for (let i = 0; i < chain.length; i++) {
    const issuerKey = (chain[i + 1] ?? root).signPublicKey;
    if (!verifyCertificateSignature(crypto, chain[i] as Certificate, issuerKey)) return fail('cert-bad-signature');
  }
  const leaf = chain[0] as Certificate;
  let expiresAtMs = root.notAfterMs;
  for (const cert of chain) expiresAtMs = Math.min(expiresAtMs, cert.notAfterMs);
  return ok({
    id: leaf.subject,
    name: leaf.name,
    trustDomain: leaf.trustDomain,
    roles: leaf.roles,
    signPublicKey: leaf.signPublicKey,
    boxPublicKey: leaf.boxPublicKey,
    serial: leaf.serial,
    addresses: leaf.addresses,
    expiresAtMs,
    chain,
  });
}

export const maxChainBytes = limits.chainCertsMax * (limits.certBytesMax + 3) + 1;

export function encodeChain(chain: readonly Certificate[]): Uint8Array {
  return encodeCanonical(chain.map((c) => c.bytes));
}

/** Decodes a chain (array of encoded certificates) from outside input. */
export function decodeChain(value: unknown): Result<Certificate[], ChainReason> {
  if (!Array.isArray(value)) return fail('cert-malformed');
  if (value.length === 0) return fail('chain-empty');
  if (value.length > limits.chainCertsMax) return fail('chain-too-long');
  const out: Certificate[] = [];
  for (const item of value) {
    if (!isBytes(item)) return fail('cert-malformed');
    const cert = decodeCertificate(item);
    if (!cert.ok) return cert;
    out.push(cert.value);
  }
  return ok(out);
}
