// The signed revocation list: serials and node IDs, a version that only moves forward, signed by a root of
// the trust bundle. Its signed message is the CRDT signed-document format ("x0-signed-doc\0revocations\0",
// the version as 8 bytes big-endian, the payload), so the list can ride the mesh document as a SignedDoc
// {kind: 'revocations', version, payload, signature} without re-signing.
import type { Crypto } from '../../platform/types.js';
import {
  asNat,
  bytesEqual,
  compareBytes,
  concatBytes,
  copyBytes,
  decodeBounded,
  encodeCanonical,
  isArrayOf,
  isBytes,
  isText,
  toHex,
  asTimeMs,
} from './canonical.js';
import type { Certificate } from './cert.js';
import type { RevocationView, TrustBundle } from './chain.js';
import { limits } from './limits.js';
import { assert, fail, ok, type Result } from './result.js';
import { parseSubject } from './spiffe.js';

export const revocationKind = 'revocations';

export interface RevocationList {
  readonly version: number;
  readonly trustDomain: string;
  readonly issuedAtMs: number;
  /** Key id of the root that signed it. */
  readonly signerKeyId: Uint8Array;
  /** Sorted, unique. */
  readonly serials: readonly Uint8Array[];
  /** Node SPIFFE IDs, sorted, unique: every certificate of these nodes is refused. */
  readonly nodeIds: readonly string[];
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
}

export type RevocationReason =
  | 'revocation-too-large'
  | 'revocation-malformed'
  | 'revocation-not-canonical'
  | 'revocation-wrong-trust-domain'
  | 'revocation-unknown-signer'
  | 'revocation-bad-signature'
  | 'revocation-stale';

const textEncoder = new TextEncoder();

/** The CRDT signed-document message: tag, kind, version (u64 big-endian), payload. */
export function revocationSignedMessage(version: number, payload: Uint8Array): Uint8Array {
  const tag = textEncoder.encode(`x0-signed-doc\u0000${revocationKind}\u0000`);
  const v = new Uint8Array(8);
  const view = new DataView(v.buffer);
  view.setUint32(0, Math.floor(version / 0x1_0000_0000));
  view.setUint32(4, version >>> 0);
  return concatBytes([tag, v, payload]);
}

interface RevocationContent {
  readonly trustDomain: string;
  readonly issuedAtMs: number;
  readonly signerKeyId: Uint8Array;
  readonly serials: readonly Uint8Array[];
  readonly nodeIds: readonly string[];
}

const payloadOf = (c: RevocationContent): Uint8Array =>
  encodeCanonical([1, c.trustDomain, c.issuedAtMs, c.signerKeyId, c.serials, c.nodeIds]);

export function signRevocationList(
  crypto: Crypto,
  signer: { readonly cert: Certificate; readonly signSecretKey: Uint8Array },
  version: number,
  content: Omit<RevocationContent, 'signerKeyId' | 'trustDomain'>,
): RevocationList {
  assert(signer.cert.kind === 'root', 'signRevocationList: signed by a root');
  assert(Number.isSafeInteger(version), 'signRevocationList: version is an integer');
  assert(version > 0, 'signRevocationList: version is positive');
  assert(content.serials.length <= limits.revokedSerialsMax, 'signRevocationList: serials within limit');
  assert(content.nodeIds.length <= limits.revokedNodesMax, 'signRevocationList: node ids within limit');
  const serials = [...content.serials]
    .sort(compareBytes)
    .filter((s, i, a) => i === 0 || compareBytes(a[i - 1] as Uint8Array, s) !== 0);
  const nodeIds = [...new Set(content.nodeIds)].sort();
  const full = {
    trustDomain: signer.cert.trustDomain,
    issuedAtMs: content.issuedAtMs,
    signerKeyId: signer.cert.issuerKeyId,
    serials,
    nodeIds,
  };
  const payload = payloadOf(full);
  const signature = crypto.sign(revocationSignedMessage(version, payload), signer.signSecretKey);
  return { ...full, version, payload, signature };
}

export function encodeRevocationList(list: RevocationList): Uint8Array {
  return encodeCanonical([list.version, list.payload, list.signature]);
}

function parsePayload(payload: Uint8Array): RevocationContent | RevocationReason {
  const decoded = decodeBounded(payload, limits.revocationBytesMax);
  if (!decoded.ok || !Array.isArray(decoded.value) || decoded.value.length !== 6) return 'revocation-malformed';
  const [format, trustDomain, issuedAt, signerKeyId, serials, nodeIds] = decoded.value as unknown[];
  const issuedAtMs = asTimeMs(issuedAt);
  if (
    format !== 1 ||
    issuedAtMs === null ||
    !isText(trustDomain, limits.trustDomainCharsMax) ||
    !isBytes(signerKeyId, limits.keyIdBytes)
  )
    return 'revocation-malformed';
  if (!isArrayOf(serials, limits.revokedSerialsMax, (x): x is Uint8Array => isBytes(x, limits.serialBytes)))
    return 'revocation-malformed';
  if (
    !isArrayOf(
      nodeIds,
      limits.revokedNodesMax,
      (x): x is string => isText(x, limits.spiffeIdCharsMax) && parseSubject(x).ok,
    )
  )
    return 'revocation-malformed';
  const content = {
    trustDomain,
    issuedAtMs,
    signerKeyId: copyBytes(signerKeyId),
    serials: serials.map(copyBytes),
    nodeIds: [...nodeIds],
  };
  return bytesEqual(payloadOf(content), payload) ? content : 'revocation-not-canonical';
}

/** Decodes and verifies a list from outside against the bundle's roots. */
export function decodeRevocationList(
  crypto: Crypto,
  bytes: Uint8Array,
  bundle: TrustBundle,
): Result<RevocationList, RevocationReason> {
  if (bytes.length > limits.revocationBytesMax) return fail('revocation-too-large');
  const decoded = decodeBounded(bytes, limits.revocationBytesMax);
  if (!decoded.ok || !Array.isArray(decoded.value) || decoded.value.length !== 3) return fail('revocation-malformed');
  const [v, payload, signature] = decoded.value as unknown[];
  const version = asNat(v);
  if (version === null || version === 0 || !isBytes(payload) || !isBytes(signature, 64))
    return fail('revocation-malformed');
  const content = parsePayload(payload);
  if (typeof content === 'string') return fail(content);
  if (!bytesEqual(encodeCanonical([version, payload, signature]), bytes)) return fail('revocation-not-canonical');
  if (content.trustDomain !== bundle.trustDomain) return fail('revocation-wrong-trust-domain');
  const root = bundle.roots.find((_root, i) => bytesEqual(bundle.rootKeyIds[i] as Uint8Array, content.signerKeyId));
  if (root === undefined) return fail('revocation-unknown-signer');
  if (!crypto.verify(revocationSignedMessage(version, payload), signature, root.signPublicKey))
    return fail('revocation-bad-signature');
  return ok({ ...content, version, payload: copyBytes(payload), signature: copyBytes(signature) });
}

/**
 * The node's current list. offer() takes a newer list only (the version never moves back), and reports
 * what it newly revokes so the caller can tear down sessions: this is the hook for distribution over
 * Raft/CRDT (call offer with what arrived) and for XDP enforcement (read serials/nodeIds after a change).
 */
export class RevocationStore implements RevocationView {
  private current: RevocationList | null = null;
  private serials = new Set<string>();
  private nodeIds = new Set<string>();

  get version(): number {
    return this.current?.version ?? 0;
  }

  get list(): RevocationList | null {
    return this.current;
  }

  offerBytes(crypto: Crypto, bytes: Uint8Array, bundle: TrustBundle): Result<RevocationList, RevocationReason> {
    const decoded = decodeRevocationList(crypto, bytes, bundle);
    if (!decoded.ok) return decoded;
    return this.offer(decoded.value);
  }

  /** The list must come from decodeRevocationList or signRevocationList (already verified). */
  offer(list: RevocationList): Result<RevocationList, RevocationReason> {
    if (list.version <= this.version) return fail('revocation-stale');
    this.current = list;
    this.serials = new Set(list.serials.map(toHex));
    this.nodeIds = new Set(list.nodeIds);
    return ok(list);
  }

  isRevoked(cert: Certificate): boolean {
    return this.serials.has(toHex(cert.serial)) || (cert.kind === 'node' && this.nodeIds.has(cert.subject));
  }
}
