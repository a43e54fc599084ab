// Rotation: node certificates are short-lived and renewed at half their lifetime (SPIRE's rule), by a
// request signed with the current key (proving the node is who its still-valid certificate says) and with
// the new key (proving possession). CA rollover: the trust bundle holds the old and the new root while
// certificates migrate, so no node is ever left with a chain that nobody accepts.
import type { Crypto, KeyPair } from '../../platform/types.js';
import {
  bytesEqual,
  copyBytes,
  decodeBounded,
  encodeCanonical,
  isBytes,
  isText,
  labelled,
  asTimeMs,
} from './canonical.js';
import type { Certificate } from './cert.js';
import { createTrustBundle, decodeChain, type BundleReason, type ChainReason, type TrustBundle } from './chain.js';
import { limits } from './limits.js';
import { fail, ok, type Result } from './result.js';

/**
 * When a certificate should be renewed: at renewAtPermille of its lifetime, counted from its issue time.
 * notBefore is back-dated by issueBackdateMs on issue; counting from it would make a short-lived
 * certificate due at once (a 1-minute certificate's "half" would lie before it was issued).
 */
export function renewalDueAtMs(cert: Certificate): number {
  const issuedMs =
    cert.notBeforeMs + limits.issueBackdateMs < cert.notAfterMs
      ? cert.notBeforeMs + limits.issueBackdateMs
      : cert.notBeforeMs;
  return issuedMs + Math.floor(((cert.notAfterMs - issuedMs) * limits.renewAtPermille) / 1000);
}

export const needsRenewal = (cert: Certificate, nowMs: number): boolean => nowMs >= renewalDueAtMs(cert);

export type RenewReason =
  | ChainReason
  | 'renew-malformed'
  | 'renew-bad-key-proof'
  | 'renew-bad-new-key-proof'
  | 'renew-stale';

export interface RenewRequest {
  readonly chain: readonly Certificate[];
  readonly subject: string;
  readonly signPublicKey: Uint8Array;
  readonly boxPublicKey: Uint8Array;
  readonly requestedAtMs: number;
  readonly body: Uint8Array;
  readonly oldKeyProof: Uint8Array;
  readonly newKeyProof: Uint8Array;
}

const renewSignedMessage = (body: Uint8Array) => labelled('x0-renew-request-v1', body);

export function createRenewRequest(
  crypto: Crypto,
  chain: readonly Certificate[],
  currentSignSecretKey: Uint8Array,
  next: { readonly sign: KeyPair; readonly box: KeyPair },
  nowMs: number,
): Uint8Array {
  const leaf = chain[0] as Certificate;
  const body = encodeCanonical([1, leaf.subject, next.sign.publicKey, next.box.publicKey, nowMs]);
  const message = renewSignedMessage(body);
  return encodeCanonical([
    2,
    chain.map((c) => c.bytes),
    body,
    crypto.sign(message, currentSignSecretKey),
    crypto.sign(message, next.sign.secretKey),
  ]);
}

export function decodeRenewRequest(bytes: Uint8Array): Result<RenewRequest, RenewReason> {
  const decoded = decodeBounded(bytes, limits.joinRequestBytesMax * 2);
  if (!decoded.ok || !Array.isArray(decoded.value) || decoded.value.length !== 5) return fail('renew-malformed');
  const [format, chainBytes, body, oldKeyProof, newKeyProof] = decoded.value as unknown[];
  if (format !== 2 || !isBytes(body) || !isBytes(oldKeyProof, 64) || !isBytes(newKeyProof, 64))
    return fail('renew-malformed');
  const chain = decodeChain(chainBytes);
  if (!chain.ok) return chain;
  const inner = decodeBounded(body, limits.joinRequestBytesMax);
  if (!inner.ok || !Array.isArray(inner.value) || inner.value.length !== 5) return fail('renew-malformed');
  const [innerFormat, subject, signPublicKey, boxPublicKey, requestedAt] = inner.value as unknown[];
  const requestedAtMs = asTimeMs(requestedAt);
  if (
    innerFormat !== 1 ||
    requestedAtMs === null ||
    !isText(subject, limits.spiffeIdCharsMax) ||
    !isBytes(signPublicKey, 32) ||
    !isBytes(boxPublicKey, 32)
  )
    return fail('renew-malformed');
  if (!bytesEqual(encodeCanonical([1, subject, signPublicKey, boxPublicKey, requestedAtMs]), body))
    return fail('renew-malformed');
  return ok({
    chain: chain.value,
    subject,
    signPublicKey: copyBytes(signPublicKey),
    boxPublicKey: copyBytes(boxPublicKey),
    requestedAtMs,
    body: copyBytes(body),
    oldKeyProof: copyBytes(oldKeyProof),
    newKeyProof: copyBytes(newKeyProof),
  });
}

export function verifyRenewProofs(crypto: Crypto, request: RenewRequest): Result<true, RenewReason> {
  const message = renewSignedMessage(request.body);
  const leaf = request.chain[0] as Certificate;
  if (!crypto.verify(message, request.oldKeyProof, leaf.signPublicKey)) return fail('renew-bad-key-proof');
  if (!crypto.verify(message, request.newKeyProof, request.signPublicKey)) return fail('renew-bad-new-key-proof');
  return ok(true);
}

/** Rollover step 1: trust the new root next to the old one (distribute this bundle before issuing from it). */
export function addRoot(crypto: Crypto, bundle: TrustBundle, root: Certificate): Result<TrustBundle, BundleReason> {
  const others = bundle.roots.filter((r) => !bytesEqual(r.issuerKeyId, root.issuerKeyId));
  return createTrustBundle(crypto, bundle.trustDomain, [...others, root]);
}

/** Rollover step 3: once every node holds a certificate from the new root, drop the old one. */
export function retireRoot(
  crypto: Crypto,
  bundle: TrustBundle,
  rootKeyId: Uint8Array,
): Result<TrustBundle, BundleReason> {
  return createTrustBundle(
    crypto,
    bundle.trustDomain,
    bundle.roots.filter((r) => !bytesEqual(r.issuerKeyId, rootKeyId)),
  );
}
