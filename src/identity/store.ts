// Identity state on disk, through platform.files only (the same code on the router and on Node). Secret
// keys are written 0600 with an atomic replace; everything read back is decoded with limits and
// validated like outside input (a corrupted flash page is refused by reason, not trusted).
import { removeStaleTempFiles } from '../platform/temp-files.js';
import type { Crypto, KeyPair, Platform } from '../platform/types.js';
import { asNat, bytesEqual, decodeBounded, encodeCanonical, isBytes } from '../core/identity/canonical.js';
import { decodeCertificate, type Certificate, type CertReason } from '../core/identity/cert.js';
import {
  decodeChain,
  decodeTrustBundle,
  encodeChain,
  encodeTrustBundle,
  type BundleReason,
  type ChainReason,
  type TrustBundle,
} from '../core/identity/chain.js';
import { fail, ok, type Result } from '../core/identity/result.js';
import type { Issuer } from '../core/identity/ca.js';
import { RevocationStore } from '../core/identity/revocation.js';

export const secretFileMode = 0o600;
export const publicFileMode = 0o644;

export interface KeyFile {
  readonly sign: KeyPair;
  readonly box: KeyPair;
}

export const caFiles = (dir: string) => ({
  key: `${dir}/ca.key`,
  cert: `${dir}/ca.cert`,
  bundle: `${dir}/bundle.cbor`,
  used: `${dir}/used-tokens.cbor`,
  revocations: `${dir}/revocations.cbor`,
  /** The next issuer (key, certificate, bundle) while saveIssuer writes them: the set is committed here. */
  next: `${dir}/issuer.next`,
});

export const nodeFiles = (dir: string) => ({
  key: `${dir}/node.key`,
  nextKey: `${dir}/node.key.next`,
  chain: `${dir}/node.chain`,
  bundle: `${dir}/bundle.cbor`,
  request: `${dir}/join-request.cbor`,
  revocations: `${dir}/revocations.cbor`,
});

export function encodeKeyFile(keys: KeyFile): Uint8Array {
  return encodeCanonical([1, keys.sign.secretKey.slice(0, 32), keys.box.secretKey]);
}

export function decodeKeyFile(crypto: Crypto, bytes: Uint8Array): Result<KeyFile, 'key-file-malformed'> {
  const decoded = decodeBounded(bytes, 256);
  if (!decoded.ok || !Array.isArray(decoded.value) || decoded.value.length !== 3) return fail('key-file-malformed');
  const [format, signSeed, boxSecret] = decoded.value as unknown[];
  if (format !== 1 || !isBytes(signSeed, 32) || !isBytes(boxSecret, 32)) return fail('key-file-malformed');
  return ok({
    sign: crypto.signKeyPairFromSeed(new Uint8Array(signSeed)),
    box: crypto.boxKeyPairFromSecretKey(new Uint8Array(boxSecret)),
  });
}

/** A failed write: `cannot write PATH: ERRNO` (for the one line a command prints); null when it worked. */
export type WriteError = string | null;

export const described = (path: string, errno: string | null): WriteError =>
  errno === null ? null : `cannot write ${path}: ${errno}`;

export function writeSecret(platform: Platform, path: string, data: Uint8Array): WriteError {
  return described(path, platform.files.writeAtomic(path, data, secretFileMode));
}

export function writePublic(platform: Platform, path: string, data: Uint8Array): WriteError {
  return described(path, platform.files.writeAtomic(path, data, publicFileMode));
}

/** The first failure of a sequence of writes, which stops at it (later steps depend on earlier ones). */
export function firstFailure(...steps: Array<() => WriteError>): WriteError {
  for (const step of steps) {
    const failed = step();
    if (failed !== null) return failed;
  }
  return null;
}

export type LoadReason =
  | 'file-missing'
  | 'key-file-malformed'
  | 'key-mismatch'
  | 'chain-malformed'
  | ChainReason
  | BundleReason
  | CertReason;

export function loadKeys(platform: Platform, path: string): Result<KeyFile, LoadReason> {
  const bytes = platform.files.read(path);
  if (bytes === null) return fail('file-missing');
  return decodeKeyFile(platform.crypto, bytes);
}

export function loadCertificate(platform: Platform, path: string): Result<Certificate, LoadReason> {
  const bytes = platform.files.read(path);
  if (bytes === null) return fail('file-missing');
  return decodeCertificate(bytes);
}

export function loadChain(platform: Platform, path: string): Result<Certificate[], LoadReason> {
  const bytes = platform.files.read(path);
  if (bytes === null) return fail('file-missing');
  const decoded = decodeBounded(bytes, 8192);
  if (!decoded.ok) return fail('chain-malformed');
  return decodeChain(decoded.value);
}

export function saveChain(platform: Platform, path: string, chain: readonly Certificate[]): WriteError {
  return writePublic(platform, path, encodeChain(chain));
}

export function loadBundle(platform: Platform, path: string): Result<TrustBundle, LoadReason> {
  // A CA directory's bundle is one of the issuer's set: an interrupted saveIssuer is finished first.
  const dir = path.slice(0, Math.max(0, path.lastIndexOf('/')));
  if (path === caFiles(dir).bundle && platform.files.exists(caFiles(dir).next)) finishIssuerWrite(platform, dir);
  const bytes = platform.files.read(path);
  if (bytes === null) return fail('file-missing');
  return decodeTrustBundle(platform.crypto, bytes);
}

export function saveBundle(platform: Platform, path: string, bundle: TrustBundle): WriteError {
  return writePublic(platform, path, encodeTrustBundle(bundle));
}

/** A node's identity: keys, chain and bundle from one directory, checked to belong together. */
export function loadNodeIdentity(
  platform: Platform,
  dir: string,
): Result<{ keys: KeyFile; chain: Certificate[]; bundle: TrustBundle }, LoadReason> {
  const files = nodeFiles(dir);
  removeStaleTempFiles(platform.files, dir);
  const keys = loadKeys(platform, files.key);
  if (!keys.ok) return keys;
  const chain = loadChain(platform, files.chain);
  if (!chain.ok) return chain;
  const bundle = loadBundle(platform, files.bundle);
  if (!bundle.ok) return bundle;
  const leafKey = (chain.value[0] as Certificate).signPublicKey;
  if (bytesEqual(leafKey, keys.value.sign.publicKey))
    return ok({ keys: keys.value, chain: chain.value, bundle: bundle.value });
  // A renewal stopped between writing the new chain and the new key: the key waits in node.key.next.
  const next = loadKeys(platform, files.nextKey);
  if (!next.ok || !bytesEqual(leafKey, next.value.sign.publicKey)) return fail('key-mismatch');
  // Finishing the switch takes two writes; if the flash refuses them, the identity is still whole (node.key.next
  // holds the key) and the next load tries again.
  firstFailure(
    () => writeSecret(platform, files.key, encodeKeyFile(next.value)),
    () => described(files.nextKey, platform.files.remove(files.nextKey)),
  );
  return ok({ keys: next.value, chain: chain.value, bundle: bundle.value });
}

/**
 * Stores a renewed identity so that a stop at any point leaves a loadable one: the new key goes to
 * node.key.next first, then the bundle (when given: an enrolment's), then the chain, then the key;
 * loadNodeIdentity finishes an interrupted switch. The bundle goes before the chain so that a chain on disk
 * always has its bundle (enrolment wrote it last: a stop between them left a node that could not load).
 */
export function saveNodeIdentity(
  platform: Platform,
  dir: string,
  keys: KeyFile,
  chain: readonly Certificate[],
  bundle?: TrustBundle,
): WriteError {
  const files = nodeFiles(dir);
  return firstFailure(
    () => writeSecret(platform, files.nextKey, encodeKeyFile(keys)),
    () => (bundle === undefined ? null : saveBundle(platform, files.bundle, bundle)),
    () => saveChain(platform, files.chain, chain),
    () => writeSecret(platform, files.key, encodeKeyFile(keys)),
    () => described(files.nextKey, platform.files.remove(files.nextKey)),
  );
}

/**
 * Writes a CA's key, certificate and bundle as one set: a stop at any point leaves the old set or the new one,
 * never a key that does not match its certificate (a CA that cannot sign). The set goes to issuer.next in one
 * atomic write first (0600: it holds the key), then to each file, then issuer.next is removed; loadIssuer and
 * loadBundle finish an interrupted write from issuer.next.
 */
export function saveIssuer(
  platform: Platform,
  dir: string,
  keys: KeyFile,
  cert: Certificate,
  bundle: TrustBundle,
): WriteError {
  const files = caFiles(dir);
  const set = encodeCanonical([1, encodeKeyFile(keys), cert.bytes, encodeTrustBundle(bundle)]);
  return firstFailure(
    () => writeSecret(platform, files.next, set),
    () => finishIssuerWrite(platform, dir),
  );
}

/** Writes the set in issuer.next to its files and removes it; null when there is none or it is done. */
export function finishIssuerWrite(platform: Platform, dir: string): WriteError {
  const files = caFiles(dir);
  const bytes = platform.files.read(files.next);
  if (bytes === null) return null;
  const decoded = decodeBounded(bytes, 16_384);
  const set = decoded.ok && Array.isArray(decoded.value) ? (decoded.value as unknown[]) : [];
  const [format, key, cert, bundle] = set;
  // issuer.next is written atomically: one that does not decode is damage, left for the operator to see.
  if (set.length !== 4 || format !== 1 || !isBytes(key) || !isBytes(cert) || !isBytes(bundle))
    return `${files.next} is damaged: move it aside, then check ${files.key} and ${files.cert}`;
  return firstFailure(
    () => writeSecret(platform, files.key, key),
    () => writePublic(platform, files.cert, cert),
    () => writePublic(platform, files.bundle, bundle),
    () => described(files.next, platform.files.remove(files.next)),
  );
}

/** A CA (root, or an anchor's intermediate with its parents) from its directory. */
export function loadIssuer(platform: Platform, dir: string): Issuer | string {
  const files = caFiles(dir);
  removeStaleTempFiles(platform.files, dir);
  const unfinished = finishIssuerWrite(platform, dir);
  if (unfinished !== null) return unfinished;
  const keys = loadKeys(platform, files.key);
  if (!keys.ok) return `cannot load ${files.key}: ${keys.reason}`;
  const cert = loadCertificate(platform, files.cert);
  if (!cert.ok) return `cannot load ${files.cert}: ${cert.reason}`;
  if (!bytesEqual(cert.value.signPublicKey, keys.value.sign.publicKey))
    return `${files.key} does not match ${files.cert}`;
  return { cert: cert.value, parents: [], signSecretKey: keys.value.sign.secretKey };
}

/**
 * The revocation list in `path` (an empty store when there is none). A list that is present but refused is
 * an error, never an empty store: signing the next version from nothing would un-revoke everyone.
 */
export function loadRevocations(platform: Platform, path: string, bundle: TrustBundle): RevocationStore | string {
  const revocations = new RevocationStore();
  const listBytes = platform.files.read(path);
  if (listBytes === null) return revocations;
  const offered = revocations.offerBytes(platform.crypto, listBytes, bundle);
  return offered.ok ? revocations : `revocation list ${path} refused: ${offered.reason}`;
}

export { asNat };
