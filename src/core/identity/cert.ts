// Mesh certificates: a canonical CBOR array (the "to be signed" part, tbs) and an Ed25519 signature by the
// issuer over "x0-cert-v1\0" || tbs. Fixed-order arrays instead of maps, so the signed bytes are one
// exact byte string; decoding re-encodes the parsed fields and refuses anything that is not those bytes.
import type { Crypto } from '../../platform/types.js';
import {
  asNat,
  bytesEqual,
  compareBytes,
  copyBytes,
  decodeBounded,
  encodeCanonical,
  isArrayOf,
  isBytes,
  isText,
  labelled,
  type Canon,
  asTimeMs,
} from './canonical.js';
import { limits } from './limits.js';
import { assert, fail, ok, type Result } from './result.js';
import { parseSubject } from './spiffe.js';

export const certFormat = 1;
export type CertKind = 'root' | 'intermediate' | 'node';
const kindCodes: readonly CertKind[] = ['root', 'intermediate', 'node'];

export interface CertFields {
  readonly kind: CertKind;
  readonly serial: Uint8Array;
  readonly subject: string;
  readonly issuer: string;
  /** First 8 bytes of SHA-512 of the issuer's signing key: picks the right CA during a rollover. */
  readonly issuerKeyId: Uint8Array;
  readonly signPublicKey: Uint8Array;
  readonly boxPublicKey: Uint8Array;
  /** Sorted, unique (e.g. 'anchor', 'gateway', 'member'); [] on CA certificates. */
  readonly roles: readonly string[];
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** Mesh addresses the node may use (informational for the channel, enforced by XDP later). */
  readonly addresses: readonly string[];
  /** CA certificates: intermediates allowed below this one. Node certificates: 0. */
  readonly pathLenMax: number;
}

export interface Certificate extends CertFields {
  readonly tbs: Uint8Array;
  readonly signature: Uint8Array;
  /** The whole encoded certificate, as it travels and is stored. */
  readonly bytes: Uint8Array;
  readonly trustDomain: string;
  readonly name: string;
}

export type CertReason =
  | 'cert-too-large'
  | 'cert-malformed'
  | 'cert-not-canonical'
  | 'cert-bad-field'
  | 'cert-bad-subject'
  | 'cert-bad-role'
  | 'cert-bad-validity';

export const knownRoles: readonly string[] = ['anchor', 'gateway', 'member'];
const roleSyntax = /^[a-z][a-z0-9-]*$/;
const addressSyntax = /^[0-9A-Fa-f:./]+$/;

export function keyId(crypto: Crypto, signPublicKey: Uint8Array): Uint8Array {
  return crypto.sha512(signPublicKey).slice(0, limits.keyIdBytes);
}

function tbsArray(f: CertFields): Canon {
  return [
    certFormat,
    kindCodes.indexOf(f.kind),
    f.serial,
    f.subject,
    f.issuer,
    f.issuerKeyId,
    f.signPublicKey,
    f.boxPublicKey,
    f.roles,
    f.notBeforeMs,
    f.notAfterMs,
    f.addresses,
    f.pathLenMax,
  ];
}

export const certSignedMessage = (tbs: Uint8Array): Uint8Array => labelled('x0-cert-v1', tbs);

const isRole = (x: unknown): x is string => isText(x, limits.roleCharsMax) && roleSyntax.test(x);
const isAddress = (x: unknown): x is string =>
  isText(x, limits.addressCharsMax) && x.length > 0 && addressSyntax.test(x);
const sortedUnique = (xs: readonly string[]): boolean => xs.every((x, i) => i === 0 || (xs[i - 1] as string) < x);

/** Checks the fields' meaning (not the signature): the same check before encode and after decode. */
export function checkFields(f: CertFields): Result<{ trustDomain: string; name: string }, CertReason> {
  const subject = parseSubject(f.subject);
  const issuer = parseSubject(f.issuer);
  if (!subject.ok || !issuer.ok) return fail('cert-bad-subject');
  if (subject.value.kind !== (f.kind === 'node' ? 'node' : 'ca') || issuer.value.kind !== 'ca')
    return fail('cert-bad-subject');
  if (subject.value.trustDomain !== issuer.value.trustDomain) return fail('cert-bad-subject');
  if (f.kind === 'root' && f.subject !== f.issuer) return fail('cert-bad-subject');
  if (!sortedUnique(f.roles) || (f.kind !== 'node' && f.roles.length > 0)) return fail('cert-bad-role');
  if (f.notAfterMs <= f.notBeforeMs || f.notAfterMs > limits.timeMsMax) return fail('cert-bad-validity');
  if (f.kind === 'node' && f.pathLenMax !== 0) return fail('cert-bad-field');
  return ok({ trustDomain: subject.value.trustDomain, name: subject.value.name });
}

/** Signs a certificate. Our own input: a bad field is a bug of the caller (the CLI validates first). */
export function signCertificate(crypto: Crypto, fields: CertFields, issuerSecretKey: Uint8Array): Certificate {
  const checked = checkFields(fields);
  assert(checked.ok, `signCertificate: fields are valid (${checked.ok ? '' : checked.reason})`);
  const tbs = encodeCanonical(tbsArray(fields));
  const signature = crypto.sign(certSignedMessage(tbs), issuerSecretKey);
  const bytes = encodeCanonical([tbs, signature]);
  assert(bytes.length <= limits.certBytesMax, 'signCertificate: certificate fits certBytesMax');
  return { ...fields, tbs, signature, bytes, trustDomain: checked.value.trustDomain, name: checked.value.name };
}

function parseTbs(x: unknown): CertFields | null {
  if (!Array.isArray(x) || x.length !== 13) return null;
  const [
    format,
    kindCode,
    serial,
    subject,
    issuer,
    issuerKeyId,
    signPublicKey,
    boxPublicKey,
    roles,
    notBefore,
    notAfter,
    addresses,
    pathLen,
  ] = x as unknown[];
  const kind = typeof kindCode === 'number' ? kindCodes[kindCode] : undefined;
  const notBeforeMs = asTimeMs(notBefore);
  const notAfterMs = asTimeMs(notAfter);
  const pathLenMax = asNat(pathLen);
  if (format !== certFormat || kind === undefined || notBeforeMs === null || notAfterMs === null || pathLenMax === null)
    return null;
  if (!isBytes(serial, limits.serialBytes) || !isBytes(issuerKeyId, limits.keyIdBytes)) return null;
  if (!isBytes(signPublicKey, 32) || !isBytes(boxPublicKey, 32)) return null;
  if (!isText(subject, limits.spiffeIdCharsMax) || !isText(issuer, limits.spiffeIdCharsMax)) return null;
  if (!isArrayOf(roles, limits.rolesMax, isRole) || !isArrayOf(addresses, limits.addressesMax, isAddress)) return null;
  return {
    kind,
    serial: copyBytes(serial),
    subject,
    issuer,
    issuerKeyId: copyBytes(issuerKeyId),
    signPublicKey: copyBytes(signPublicKey),
    boxPublicKey: copyBytes(boxPublicKey),
    roles: [...roles],
    notBeforeMs,
    notAfterMs,
    addresses: [...addresses],
    pathLenMax,
  };
}

/** Decodes a certificate from outside. Does not verify the signature: chain validation does. */
export function decodeCertificate(bytes: Uint8Array): Result<Certificate, CertReason> {
  if (bytes.length > limits.certBytesMax) return fail('cert-too-large');
  const outer = decodeBounded(bytes, limits.certBytesMax);
  if (!outer.ok || !Array.isArray(outer.value) || outer.value.length !== 2) return fail('cert-malformed');
  const [tbs, signature] = outer.value as unknown[];
  if (!isBytes(tbs) || !isBytes(signature, 64)) return fail('cert-malformed');
  const inner = decodeBounded(tbs, limits.certBytesMax);
  if (!inner.ok) return fail('cert-malformed');
  const fields = parseTbs(inner.value);
  if (fields === null) return fail('cert-bad-field');
  const checked = checkFields(fields);
  if (!checked.ok) return checked;
  const tbsCopy = copyBytes(tbs);
  // The signature covers exact bytes: any other encoding of the same fields is a different certificate.
  if (!bytesEqual(encodeCanonical(tbsArray(fields)), tbsCopy)) return fail('cert-not-canonical');
  const whole = copyBytes(bytes);
  if (!bytesEqual(encodeCanonical([tbsCopy, signature]), whole)) return fail('cert-not-canonical');
  return ok({
    ...fields,
    tbs: tbsCopy,
    signature: copyBytes(signature),
    bytes: whole,
    trustDomain: checked.value.trustDomain,
    name: checked.value.name,
  });
}

export function verifyCertificateSignature(
  crypto: Crypto,
  cert: Certificate,
  issuerSignPublicKey: Uint8Array,
): boolean {
  return crypto.verify(certSignedMessage(cert.tbs), cert.signature, issuerSignPublicKey);
}

export function sortRoles(roles: readonly string[]): string[] {
  return [...new Set(roles)].sort();
}

export const isKnownRole = (role: string): boolean => knownRoles.includes(role);

export const sameCertificate = (a: Certificate, b: Certificate): boolean => compareBytes(a.bytes, b.bytes) === 0;

/** A JSON-friendly view for `x0 cert show --json` and logs. */
export function describeCertificate(cert: Certificate, toHex: (b: Uint8Array) => string): Record<string, unknown> {
  return {
    kind: cert.kind,
    subject: cert.subject,
    issuer: cert.issuer,
    serial: toHex(cert.serial),
    issuerKeyId: toHex(cert.issuerKeyId),
    signPublicKey: toHex(cert.signPublicKey),
    boxPublicKey: toHex(cert.boxPublicKey),
    roles: cert.roles,
    notBefore: new Date(cert.notBeforeMs).toISOString(),
    notAfter: new Date(cert.notAfterMs).toISOString(),
    notBeforeMs: cert.notBeforeMs,
    notAfterMs: cert.notAfterMs,
    addresses: cert.addresses,
    pathLenMax: cert.pathLenMax,
  };
}
