// What an offline CA remembers about what it handed out (`x0 ca list`, `x0 ca revoke`'s unknown-node check), the
// one-file CA backup (`x0 ca backup|restore`), and checking one certificate or chain against a trust bundle
// (`x0 ca verify`). Pure: the caller reads and writes the files; the time comes in as nowMs.
import type { Crypto } from '../../platform/types.js';
import {
  asTimeMs,
  bytesEqual,
  copyBytes,
  decodeBounded,
  encodeCanonical,
  isArrayOf,
  isBytes,
  isText,
  labelled,
} from './canonical.js';
import { keyId, verifyCertificateSignature, type Certificate } from './cert.js';
import { validateChain, type ChainReason, type RevocationView, type TrustBundle } from './chain.js';
import { limits } from './limits.js';
import { fail, ok, type Result } from './result.js';
import { isName } from './spiffe.js';

/** Entries the ledger keeps per kind; the oldest go first (a CA that issued more keeps the newest). */
export const ledgerEntriesMax = 4096;
/** A ledger of ledgerEntriesMax tokens and certificates: each entry well under 160 bytes, plus the envelope. */
export const ledgerBytesMax = ledgerEntriesMax * 2 * 160 + 64;
/** The CA directory is a handful of small files; a backup holds at most this many and this many bytes. */
export const backupFilesMax = 16;
export const backupBytesMax = 2 * 1024 * 1024;

export interface TokenRecord {
  readonly tokenId: Uint8Array;
  readonly name: string;
  readonly roles: readonly string[];
  readonly issuedAtMs: number;
  readonly notAfterMs: number;
}

export interface CertRecord {
  readonly kind: 'node' | 'intermediate' | 'root';
  readonly name: string;
  readonly serial: Uint8Array;
  /** Key id of the CA that signed it (which root, during a rollover). */
  readonly issuerKeyId: Uint8Array;
  readonly notAfterMs: number;
}

export interface Ledger {
  readonly tokens: readonly TokenRecord[];
  readonly certs: readonly CertRecord[];
}

export const emptyLedger: Ledger = { tokens: [], certs: [] };

export function encodeLedger(ledger: Ledger): Uint8Array {
  return encodeCanonical([
    1,
    ledger.tokens.map((t) => [t.tokenId, t.name, [...t.roles], t.issuedAtMs, t.notAfterMs]),
    ledger.certs.map((c) => [c.kind, c.name, c.serial, c.issuerKeyId, c.notAfterMs]),
  ]);
}

function decodeToken(x: unknown): TokenRecord | null {
  if (!Array.isArray(x) || x.length !== 5) return null;
  const [tokenId, name, roles, issuedAt, notAfter] = x as unknown[];
  const issuedAtMs = asTimeMs(issuedAt);
  const notAfterMs = asTimeMs(notAfter);
  if (!isBytes(tokenId, limits.tokenIdBytes) || !isText(name, limits.nameCharsMax) || !isName(name)) return null;
  if (!isArrayOf(roles, limits.rolesMax, (r): r is string => isText(r, limits.roleCharsMax))) return null;
  if (issuedAtMs === null || notAfterMs === null) return null;
  return { tokenId: copyBytes(tokenId), name, roles: [...roles], issuedAtMs, notAfterMs };
}

function decodeCert(x: unknown): CertRecord | null {
  if (!Array.isArray(x) || x.length !== 5) return null;
  const [kind, name, serial, issuerKeyId, notAfter] = x as unknown[];
  const notAfterMs = asTimeMs(notAfter);
  if (kind !== 'node' && kind !== 'intermediate' && kind !== 'root') return null;
  if (!isText(name, limits.nameCharsMax) || !isName(name)) return null;
  if (!isBytes(serial, limits.serialBytes) || !isBytes(issuerKeyId, limits.keyIdBytes) || notAfterMs === null)
    return null;
  return { kind, name, serial: copyBytes(serial), issuerKeyId: copyBytes(issuerKeyId), notAfterMs };
}

export function decodeLedger(bytes: Uint8Array): Result<Ledger, 'ledger-malformed'> {
  const decoded = decodeBounded(bytes, ledgerBytesMax);
  if (!decoded.ok || !Array.isArray(decoded.value) || decoded.value.length !== 3 || decoded.value[0] !== 1)
    return fail('ledger-malformed');
  const [, tokenItems, certItems] = decoded.value as unknown[];
  const isList = (v: unknown): v is unknown[] => isArrayOf(v, ledgerEntriesMax, (_y): _y is unknown => true);
  if (!isList(tokenItems) || !isList(certItems)) return fail('ledger-malformed');
  const tokens = tokenItems.map(decodeToken);
  const certs = certItems.map(decodeCert);
  if (tokens.some((t) => t === null) || certs.some((c) => c === null)) return fail('ledger-malformed');
  return ok({ tokens: tokens as TokenRecord[], certs: certs as CertRecord[] });
}

const newest = <T>(items: readonly T[]): T[] => items.slice(Math.max(0, items.length - ledgerEntriesMax));

export const withToken = (ledger: Ledger, token: TokenRecord): Ledger => ({
  tokens: newest([...ledger.tokens, token]),
  certs: ledger.certs,
});

export function withCert(crypto: Crypto, ledger: Ledger, cert: Certificate): Ledger {
  const record: CertRecord = {
    kind: cert.kind,
    name: cert.name,
    serial: cert.serial,
    issuerKeyId: cert.kind === 'root' ? keyId(crypto, cert.signPublicKey) : cert.issuerKeyId,
    notAfterMs: cert.notAfterMs,
  };
  return { tokens: ledger.tokens, certs: newest([...ledger.certs, record]) };
}

/** A node is known to this CA when it issued the node a join token or signed a certificate for it. */
export const knowsNode = (ledger: Ledger, name: string): boolean =>
  ledger.tokens.some((t) => t.name === name) || ledger.certs.some((c) => c.kind === 'node' && c.name === name);

// ---- backup: every file of the CA directory in one file, with a digest over all of them

export interface BackupFile {
  readonly name: string;
  readonly mode: number;
  readonly data: Uint8Array;
}

export interface Backup {
  readonly createdAtMs: number;
  readonly files: readonly BackupFile[];
}

export type BackupReason = 'backup-too-large' | 'backup-malformed' | 'backup-digest-mismatch';

const backupMagic = 'x0-ca-backup';
const isFileName = (x: unknown): x is string =>
  typeof x === 'string' && /^[a-z][a-z0-9.-]{0,40}(\/[a-z][a-z0-9.-]{0,40})?$/.test(x) && !x.includes('..');

const backupBody = (b: Backup): Uint8Array =>
  encodeCanonical([b.createdAtMs, b.files.map((f) => [f.name, f.mode, f.data])]);

export function encodeBackup(crypto: Crypto, backup: Backup): Uint8Array {
  const body = backupBody(backup);
  const digest = crypto.sha512(labelled(backupMagic, body));
  return encodeCanonical([backupMagic, 1, body, digest]);
}

export function decodeBackup(crypto: Crypto, bytes: Uint8Array): Result<Backup, BackupReason> {
  if (bytes.length > backupBytesMax) return fail('backup-too-large');
  const outer = decodeBounded(bytes, backupBytesMax);
  if (!outer.ok || !Array.isArray(outer.value) || outer.value.length !== 4) return fail('backup-malformed');
  const [magic, format, body, digest] = outer.value as unknown[];
  if (magic !== backupMagic || format !== 1 || !isBytes(body) || !isBytes(digest, 64)) return fail('backup-malformed');
  if (!bytesEqual(crypto.sha512(labelled(backupMagic, body)), digest)) return fail('backup-digest-mismatch');
  const inner = decodeBounded(body, backupBytesMax);
  if (!inner.ok || !Array.isArray(inner.value) || inner.value.length !== 2) return fail('backup-malformed');
  const [createdAt, items] = inner.value as unknown[];
  const createdAtMs = asTimeMs(createdAt);
  const isItem = (x: unknown): x is [string, number, Uint8Array] =>
    Array.isArray(x) && x.length === 3 && isFileName(x[0]) && (x[1] === 0o600 || x[1] === 0o644) && isBytes(x[2]);
  if (createdAtMs === null || !isArrayOf(items, backupFilesMax, isItem)) return fail('backup-malformed');
  const names = new Set(items.map((i) => i[0]));
  if (names.size !== items.length) return fail('backup-malformed');
  return ok({ createdAtMs, files: items.map(([name, mode, data]) => ({ name, mode, data: copyBytes(data) })) });
}

// ---- verify: one certificate or chain against a trust bundle

export type VerifyReason = ChainReason | 'issuer-not-in-bundle';

export interface Verified {
  readonly cert: Certificate;
  /** The root of the bundle the chain ends at (its key id, to tell roots apart during a rollover). */
  readonly rootKeyId: Uint8Array;
}

/**
 * A node chain (leaf first) is validated as a peer would validate it; a lone intermediate or root certificate is
 * checked for its signature by a root of the bundle, its time and its serial in the revocation list.
 */
export function verifyCertificates(
  crypto: Crypto,
  certs: readonly Certificate[],
  bundle: TrustBundle,
  nowMs: number,
  revocations: RevocationView,
): Result<Verified, VerifyReason> {
  const first = certs[0];
  if (first === undefined) return fail('chain-empty');
  if (first.kind === 'node') {
    const valid = validateChain(crypto, certs, bundle, nowMs, revocations);
    if (!valid.ok) return valid;
    const top = certs[certs.length - 1] as Certificate;
    return ok({ cert: first, rootKeyId: top.issuerKeyId });
  }
  if (certs.length !== 1) return fail('cert-not-node');
  if (first.trustDomain !== bundle.trustDomain) return fail('wrong-trust-domain');
  const index = bundle.roots.findIndex((r, i) =>
    first.kind === 'root'
      ? bytesEqual(r.bytes, first.bytes)
      : r.subject === first.issuer && bytesEqual(bundle.rootKeyIds[i] as Uint8Array, first.issuerKeyId),
  );
  const root = bundle.roots[index];
  if (root === undefined) return fail(first.kind === 'root' ? 'issuer-not-in-bundle' : 'unknown-issuer');
  if (nowMs < limits.wallClockFloorMs) return fail('clock-not-set');
  if (nowMs < first.notBeforeMs) return fail('cert-not-yet-valid');
  if (nowMs >= first.notAfterMs) return fail('cert-expired');
  if (nowMs >= root.notAfterMs) return fail('issuer-expired');
  if (revocations.isRevoked(first)) return fail('cert-revoked');
  if (!verifyCertificateSignature(crypto, first, root.signPublicKey)) return fail('cert-bad-signature');
  return ok({ cert: first, rootKeyId: bundle.rootKeyIds[index] as Uint8Array });
}
