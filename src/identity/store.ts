// Identity state on disk, through platform.files only (the same code on the router and on Node). Secret
// keys are written 0600 with an atomic replace; everything read back is decoded with limits and
// validated like outside input (a corrupted flash page is refused by reason, not trusted).
import type { Crypto, KeyPair, Platform } from '../platform/types.js';
import { asNat, bytesEqual, decodeBounded, encodeCanonical, isBytes } from '../core/identity/canonical.js';
import { decodeCertificate, type Certificate } from '../core/identity/cert.js';
import { decodeChain, decodeTrustBundle, encodeChain, encodeTrustBundle, type TrustBundle } from '../core/identity/chain.js';
import { fail, ok, type Result } from '../core/identity/result.js';

export const secretFileMode = 0o600;
export const publicFileMode = 0o644;

export interface KeyFile {
  readonly sign: KeyPair;
  readonly box: KeyPair;
}

export const caFiles = (dir: string) => ({
  key: `${dir}/ca.key`, cert: `${dir}/ca.cert`, bundle: `${dir}/bundle.cbor`, used: `${dir}/used-tokens.cbor`, revocations: `${dir}/revocations.cbor`,
});

export const nodeFiles = (dir: string) => ({
  key: `${dir}/node.key`, chain: `${dir}/node.chain`, bundle: `${dir}/bundle.cbor`, request: `${dir}/join-request.cbor`, revocations: `${dir}/revocations.cbor`,
});

export function encodeKeyFile(keys: KeyFile): Uint8Array {
  return encodeCanonical([1, keys.sign.secretKey.slice(0, 32), keys.box.secretKey]);
}

export function decodeKeyFile(crypto: Crypto, bytes: Uint8Array): Result<KeyFile, 'key-file-malformed'> {
  const decoded = decodeBounded(bytes, 256);
  if (!decoded.ok || !Array.isArray(decoded.value) || decoded.value.length !== 3) return fail('key-file-malformed');
  const [format, signSeed, boxSecret] = decoded.value as unknown[];
  if (format !== 1 || !isBytes(signSeed, 32) || !isBytes(boxSecret, 32)) return fail('key-file-malformed');
  return ok({ sign: crypto.signKeyPairFromSeed(new Uint8Array(signSeed)), box: crypto.boxKeyPairFromSecretKey(new Uint8Array(boxSecret)) });
}

export function writeSecret(platform: Platform, path: string, data: Uint8Array): void {
  platform.files.writeAtomic(path, data, secretFileMode);
}

export function writePublic(platform: Platform, path: string, data: Uint8Array): void {
  platform.files.writeAtomic(path, data, publicFileMode);
}

export type LoadReason = 'file-missing' | 'key-file-malformed' | 'key-mismatch' | string;

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

export function saveChain(platform: Platform, path: string, chain: readonly Certificate[]): void {
  writePublic(platform, path, encodeChain(chain));
}

export function loadBundle(platform: Platform, path: string): Result<TrustBundle, LoadReason> {
  const bytes = platform.files.read(path);
  if (bytes === null) return fail('file-missing');
  return decodeTrustBundle(platform.crypto, bytes);
}

export function saveBundle(platform: Platform, path: string, bundle: TrustBundle): void {
  writePublic(platform, path, encodeTrustBundle(bundle));
}

/** A node's identity: keys, chain and bundle from one directory, checked to belong together. */
export function loadNodeIdentity(platform: Platform, dir: string): Result<{ keys: KeyFile; chain: Certificate[]; bundle: TrustBundle }, LoadReason> {
  const files = nodeFiles(dir);
  const keys = loadKeys(platform, files.key);
  if (!keys.ok) return keys;
  const chain = loadChain(platform, files.chain);
  if (!chain.ok) return chain;
  const bundle = loadBundle(platform, files.bundle);
  if (!bundle.ok) return bundle;
  if (!bytesEqual((chain.value[0] as Certificate).signPublicKey, keys.value.sign.publicKey)) return fail('key-mismatch');
  return ok({ keys: keys.value, chain: chain.value, bundle: bundle.value });
}

export { asNat };
