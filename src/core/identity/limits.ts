// Every bound of the identity capability, with its unit. Relationships are asserted once in validateLimits(),
// when this module loads (every identity and channel module imports it).
import { assert } from './result.js';

export const limits = {
  // --- SPIFFE IDs (SPIFFE ID spec §2) ---
  /** Whole SPIFFE ID, as the spec caps it. */
  spiffeIdCharsMax: 2048,
  /** Trust domain name, as the spec caps it. */
  trustDomainCharsMax: 255,
  /** Our own cap on the node / CA name (the last path segment): fits a hostname label. */
  nameCharsMax: 63,

  // --- times ---
  /**
   * Every time on the wire (validity, expiry, issue and request times) in ms since 1970: at most the last ms of
   * year 9999, what a Date can print (its range ends at 8.64e15 ms; a later time decoded fine, then threw).
   */
  timeMsMax: 253_402_300_799_999,

  // --- certificates ---
  /** One encoded certificate (tbs + signature); ours are ~330 bytes. */
  certBytesMax: 1024,
  /** Roles on one certificate. */
  rolesMax: 8,
  roleCharsMax: 24,
  /** Mesh addresses on one certificate. */
  addressesMax: 8,
  addressCharsMax: 64,
  /** Certificates in a presented chain: leaf + intermediates (the root comes from the trust bundle). */
  chainCertsMax: 3,
  /** Roots in one trust bundle: the current CA, the next one during a rollover, and slack. */
  bundleRootsMax: 4,
  bundleBytesMax: 8 * 1024,
  /** Default node certificate lifetime (SPIRE's default SVID TTL is 1 h; routers renew less eagerly). */
  nodeCertTtlMsDefault: 24 * 3600 * 1000,
  nodeCertTtlMsMax: 90 * 24 * 3600 * 1000,
  /** Root CA lifetime by default: long, and rolled over by a bundle holding old and new. */
  rootCertTtlMsDefault: 10 * 365 * 24 * 3600 * 1000,
  intermediateCertTtlMsDefault: 365 * 24 * 3600 * 1000,
  /** Back-dating of notBefore on issue, so a peer whose clock lags a little still accepts a fresh cert. */
  issueBackdateMs: 5 * 60 * 1000,
  /** Wall clock below this (2024-01-01T00:00:00Z) means "not yet set by NTP": validity cannot be judged. */
  wallClockFloorMs: 1_704_067_200_000,

  // --- join tokens ---
  tokenCharsMax: 1024,
  tokenBytesMax: 512,
  joinRequestBytesMax: 2048,
  tokenTtlMsDefault: 3600 * 1000,
  tokenTtlMsMax: 30 * 24 * 3600 * 1000,
  /** Redeemed token ids remembered until their expiry; when full of live ids we refuse (fail closed). */
  usedTokensMax: 4096,
  /** The persisted used-token set: usedTokensMax entries of at most 40 bytes, plus the envelope. */
  usedTokensBytesMax: 4096 * 40 + 16,
  /** A join or renew request older (or further ahead) than this is refused as stale. */
  requestSkewMsMax: 10 * 60 * 1000,

  // --- revocation ---
  revocationBytesMax: 64 * 1024,
  revokedSerialsMax: 2048,
  revokedNodesMax: 1024,

  // --- rotation ---
  /** Renew at this fraction of the lifetime, as SPIRE does (½). Expressed as numerator / 1000. */
  renewAtPermille: 500,
  /** A renewal request without an answer is sent again after this, doubling up to renewRetryMsMax. */
  renewRetryMs: 15_000,
  renewRetryMsMax: 10 * 60 * 1000,
  /** A renewed certificate lives at least this long, however short the one it replaces. */
  renewedCertTtlMsMin: 60 * 1000,

  // --- canonical CBOR ---
  /** Array nesting in a signed structure (a chain of certificates of arrays of roles). */
  canonicalDepthMax: 4,

  // --- sizes of fixed fields ---
  serialBytes: 16,
  keyIdBytes: 8,
  tokenIdBytes: 16,
} as const;

export function validateLimits(): void {
  assert(limits.nameCharsMax < limits.spiffeIdCharsMax, 'name fits a SPIFFE ID');
  assert(limits.chainCertsMax * limits.certBytesMax < limits.joinRequestBytesMax * 4, 'chains fit a request');
  assert(limits.nodeCertTtlMsDefault <= limits.nodeCertTtlMsMax, 'default ttl within max');
  assert(limits.tokenTtlMsDefault <= limits.tokenTtlMsMax, 'default token ttl within max');
  assert(limits.renewAtPermille > 0, 'renew after issue');
  assert(limits.renewAtPermille < 1000, 'renew before expiry');
  assert(limits.issueBackdateMs < limits.nodeCertTtlMsDefault / 2, 'backdate is small');
  assert(limits.renewRetryMs <= limits.renewRetryMsMax, 'renewal backoff starts below its cap');
  assert(limits.renewRetryMsMax < limits.nodeCertTtlMsDefault / 2, 'several renewal attempts fit half a lifetime');
  assert(limits.renewedCertTtlMsMin <= limits.nodeCertTtlMsMax, 'the shortest renewed certificate is allowed');
  // An entry: array head 1 + byte string head 1 + token id + expiry as a uint64 (1 + 8).
  assert(
    limits.usedTokensBytesMax >= limits.usedTokensMax * (1 + 1 + limits.tokenIdBytes + 9) + 16,
    'a full used-token set fits its bound',
  );
}

validateLimits();
