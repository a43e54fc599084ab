// Issuing: root CA creation, intermediates (an anchor router holds one so the operator's root can stay
// offline), node certificates. Pure: keys, serials and the time come in as arguments.
import type { Crypto, KeyPair } from '../../platform/types.js';
import { keyId, signCertificate, sortRoles, type Certificate } from './cert.js';
import { limits } from './limits.js';
import { assert } from './result.js';
import { caId, isName, isTrustDomain, nodeId } from './spiffe.js';

/** A CA able to sign: its certificate, the chain above it up to (not including) the root, its secret key. */
export interface Issuer {
  readonly cert: Certificate;
  /** Intermediates above this issuer, nearest first; [] for a root or an intermediate signed by the root. */
  readonly parents: readonly Certificate[];
  readonly signSecretKey: Uint8Array;
}

export interface RootOptions {
  readonly trustDomain: string;
  readonly name?: string;
  readonly nowMs: number;
  readonly ttlMs?: number;
  readonly pathLenMax?: number;
  /** Given keys (test vectors, a restored backup); fresh ones when absent. */
  readonly keys?: { readonly sign: KeyPair; readonly box: KeyPair };
}

/** A fresh root: new Ed25519 and X25519 keys, a self-signed certificate. */
export function createRoot(
  crypto: Crypto,
  options: RootOptions,
): { readonly issuer: Issuer; readonly signKeys: KeyPair; readonly boxKeys: KeyPair } {
  assert(isTrustDomain(options.trustDomain), 'createRoot: trust domain is valid');
  const signKeys = options.keys?.sign ?? crypto.signKeyPair();
  const boxKeys = options.keys?.box ?? crypto.boxKeyPair();
  const subject = caId(options.trustDomain, options.name ?? 'root');
  const cert = signCertificate(
    crypto,
    {
      kind: 'root',
      serial: crypto.randomBytes(limits.serialBytes),
      subject,
      issuer: subject,
      issuerKeyId: keyId(crypto, signKeys.publicKey),
      signPublicKey: signKeys.publicKey,
      boxPublicKey: boxKeys.publicKey,
      roles: [],
      notBeforeMs: options.nowMs - limits.issueBackdateMs,
      notAfterMs: options.nowMs + (options.ttlMs ?? limits.rootCertTtlMsDefault),
      addresses: [],
      pathLenMax: options.pathLenMax ?? 1,
    },
    signKeys.secretKey,
  );
  return { issuer: { cert, parents: [], signSecretKey: signKeys.secretKey }, signKeys, boxKeys };
}

export interface IssueOptions {
  readonly name: string;
  readonly signPublicKey: Uint8Array;
  readonly boxPublicKey: Uint8Array;
  readonly nowMs: number;
  readonly ttlMs?: number;
  readonly roles?: readonly string[];
  readonly addresses?: readonly string[];
}

function notAfter(issuer: Issuer, nowMs: number, ttlMs: number): number {
  // Never outlive the issuer: a certificate past its CA's expiry would be refused anyway.
  return Math.min(nowMs + ttlMs, issuer.cert.notAfterMs);
}

export function issueNodeCert(crypto: Crypto, issuer: Issuer, options: IssueOptions): Certificate {
  assert(isName(options.name), 'issueNodeCert: name is valid');
  assert(issuer.cert.kind !== 'node', 'issueNodeCert: issuer is a CA');
  const ttlMs = options.ttlMs ?? limits.nodeCertTtlMsDefault;
  assert(ttlMs > 0, 'issueNodeCert: ttl is positive');
  assert(ttlMs <= limits.nodeCertTtlMsMax, 'issueNodeCert: ttl within nodeCertTtlMsMax');
  const cert = signCertificate(
    crypto,
    {
      kind: 'node',
      serial: crypto.randomBytes(limits.serialBytes),
      subject: nodeId(issuer.cert.trustDomain, options.name),
      issuer: issuer.cert.subject,
      issuerKeyId: keyId(crypto, issuer.cert.signPublicKey),
      signPublicKey: options.signPublicKey,
      boxPublicKey: options.boxPublicKey,
      roles: sortRoles(options.roles ?? ['member']),
      notBeforeMs: options.nowMs - limits.issueBackdateMs,
      notAfterMs: notAfter(issuer, options.nowMs, ttlMs),
      addresses: options.addresses ?? [],
      pathLenMax: 0,
    },
    issuer.signSecretKey,
  );
  assert(cert.notAfterMs <= issuer.cert.notAfterMs, 'issueNodeCert: never outlives its issuer');
  assert(cert.issuer === issuer.cert.subject, 'issueNodeCert: names its issuer');
  return cert;
}

/** An intermediate CA for an anchor router; pathLenMax 0: it signs nodes only. */
export function issueIntermediate(
  crypto: Crypto,
  issuer: Issuer,
  options: Omit<IssueOptions, 'roles' | 'addresses'>,
): Certificate {
  assert(isName(options.name), 'issueIntermediate: name is valid');
  assert(issuer.cert.pathLenMax >= 1, 'issueIntermediate: issuer may sign a CA');
  return signCertificate(
    crypto,
    {
      kind: 'intermediate',
      serial: crypto.randomBytes(limits.serialBytes),
      subject: caId(issuer.cert.trustDomain, options.name),
      issuer: issuer.cert.subject,
      issuerKeyId: keyId(crypto, issuer.cert.signPublicKey),
      signPublicKey: options.signPublicKey,
      boxPublicKey: options.boxPublicKey,
      roles: [],
      notBeforeMs: options.nowMs - limits.issueBackdateMs,
      notAfterMs: notAfter(issuer, options.nowMs, options.ttlMs ?? limits.intermediateCertTtlMsDefault),
      addresses: [],
      pathLenMax: 0,
    },
    issuer.signSecretKey,
  );
}

/** The chain a node presents: its leaf, then the issuer and the issuer's parents (never the root). */
export function presentedChain(leaf: Certificate, issuer: Issuer): Certificate[] {
  return issuer.cert.kind === 'root' ? [leaf] : [leaf, issuer.cert, ...issuer.parents];
}
