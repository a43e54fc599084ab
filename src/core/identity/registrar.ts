// The CA's (or an anchor's intermediate's) side of joining and renewal: checks a request, issues a node
// certificate, and remembers redeemed token ids so that no token works twice. Pure: the caller persists
// exportUsed() before it hands out the certificate, so a crash cannot make a token usable again.
import type { Crypto } from '../../platform/types.js';
import {
  asNat,
  bytesEqual,
  copyBytes,
  decodeBounded,
  encodeCanonical,
  isArrayOf,
  isBytes,
  toHex,
} from './canonical.js';
import { keyId, type Certificate } from './cert.js';
import { issueNodeCert, presentedChain, type Issuer } from './ca.js';
import { noRevocations, validateChain, type RevocationView, type TrustBundle } from './chain.js';
import { limits } from './limits.js';
import { assert, Counters, fail, ok, type Result } from './result.js';
import { decodeRenewRequest, verifyRenewProofs, type RenewReason } from './rotation.js';
import { parseSubject } from './spiffe.js';
import {
  decodeJoinRequest,
  tokenSignatureValid,
  verifyJoinProofs,
  type JoinReason,
  type JoinRequest,
} from './token.js';

export interface Issued {
  readonly certificate: Certificate;
  /** What the node presents: its certificate and the issuer's intermediates (never the root). */
  readonly chain: readonly Certificate[];
}

export class Registrar {
  readonly counters = new Counters();
  /** Redeemed token id (hex) → the token's expiry; forgotten once expired (the token is dead anyway). */
  private readonly used = new Map<string, number>();

  constructor(
    private readonly crypto: Crypto,
    private readonly issuer: Issuer,
    private readonly bundle: TrustBundle,
    private revocations: RevocationView = noRevocations,
  ) {}

  setRevocations(view: RevocationView): void {
    this.revocations = view;
  }

  private refuse<R extends string>(reason: R): { readonly ok: false; readonly reason: R } {
    this.counters.add(reason);
    return fail(reason);
  }

  private tokenIssuerKey(request: JoinRequest): Uint8Array | null {
    if (bytesEqual(request.token.issuerKeyId, keyId(this.crypto, this.issuer.cert.signPublicKey)))
      return this.issuer.cert.signPublicKey;
    const root = this.bundle.roots.find((_, i) =>
      bytesEqual(this.bundle.rootKeyIds[i] as Uint8Array, request.token.issuerKeyId),
    );
    return root?.signPublicKey ?? null;
  }

  private checkToken(request: JoinRequest, nowMs: number): JoinReason | null {
    const subject = parseSubject(request.token.subject);
    if (!subject.ok || subject.value.trustDomain !== this.issuer.cert.trustDomain) return 'token-wrong-trust-domain';
    if (request.token.redeemer !== '' && request.token.redeemer !== this.issuer.cert.subject)
      return 'token-wrong-redeemer';
    if (nowMs >= request.token.notAfterMs) return 'token-expired';
    if (Math.abs(nowMs - request.requestedAtMs) > limits.requestSkewMsMax) return 'join-stale';
    if (this.used.has(toHex(request.token.tokenId))) return 'token-used';
    return null;
  }

  /** Checks a join request and issues a certificate; the token is marked used on success. */
  redeem(bytes: Uint8Array, nowMs: number): Result<Issued, JoinReason> {
    const request = decodeJoinRequest(bytes);
    if (!request.ok) return this.refuse(request.reason);
    const cheap = this.checkToken(request.value, nowMs);
    if (cheap !== null) return this.refuse(cheap);
    const issuerKey = this.tokenIssuerKey(request.value);
    if (issuerKey === null) return this.refuse('token-unknown-issuer');
    if (!tokenSignatureValid(this.crypto, request.value, issuerKey)) return this.refuse('token-bad-signature');
    const proofs = verifyJoinProofs(this.crypto, request.value);
    if (!proofs.ok) return this.refuse(proofs.reason);
    this.prune(nowMs);
    if (this.used.size >= limits.usedTokensMax) return this.refuse('token-store-full');
    const tokenId = toHex(request.value.token.tokenId);
    assert(!this.used.has(tokenId), 'redeem: checkToken refused a used token');
    this.used.set(tokenId, request.value.token.notAfterMs);
    assert(this.used.size <= limits.usedTokensMax, 'redeem: the used-token set is bounded');
    const subject = parseSubject(request.value.token.subject);
    const certificate = issueNodeCert(this.crypto, this.issuer, {
      name: subject.ok ? subject.value.name : '',
      signPublicKey: request.value.signPublicKey,
      boxPublicKey: request.value.boxPublicKey,
      nowMs,
      ttlMs: request.value.token.certTtlMs,
      roles: request.value.token.roles,
      addresses: request.value.addresses,
    });
    return ok({ certificate, chain: presentedChain(certificate, this.issuer) });
  }

  /** Renewal: a still-valid, unrevoked certificate of this trust domain asks for a new one (new keys). */
  renew(bytes: Uint8Array, nowMs: number): Result<Issued, RenewReason> {
    const request = decodeRenewRequest(bytes);
    if (!request.ok) return this.refuse(request.reason);
    const leaf = request.value.chain[0] as Certificate;
    if (request.value.subject !== leaf.subject) return this.refuse('renew-malformed');
    if (Math.abs(nowMs - request.value.requestedAtMs) > limits.requestSkewMsMax) return this.refuse('renew-stale');
    const valid = validateChain(this.crypto, request.value.chain, this.bundle, nowMs, this.revocations);
    if (!valid.ok) return this.refuse(valid.reason);
    const proofs = verifyRenewProofs(this.crypto, request.value);
    if (!proofs.ok) return this.refuse(proofs.reason);
    const ttlMs = Math.min(leaf.notAfterMs - leaf.notBeforeMs - limits.issueBackdateMs, limits.nodeCertTtlMsMax);
    const certificate = issueNodeCert(this.crypto, this.issuer, {
      name: leaf.name,
      signPublicKey: request.value.signPublicKey,
      boxPublicKey: request.value.boxPublicKey,
      nowMs,
      ttlMs: Math.max(ttlMs, limits.renewedCertTtlMsMin),
      roles: leaf.roles,
      addresses: leaf.addresses,
    });
    return ok({ certificate, chain: presentedChain(certificate, this.issuer) });
  }

  private prune(nowMs: number): void {
    for (const [id, notAfterMs] of this.used) if (notAfterMs <= nowMs) this.used.delete(id);
    for (const notAfterMs of this.used.values()) assert(notAfterMs > nowMs, 'prune: only live token ids stay');
  }

  get usedCount(): number {
    return this.used.size;
  }

  /** The used-token set, to persist before the issued certificate leaves the CA. */
  exportUsed(): Uint8Array {
    const entries = [...this.used].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, t]) => [hexToBytes(id), t]);
    return encodeCanonical([1, entries]);
  }

  importUsed(bytes: Uint8Array): Result<number, 'used-tokens-malformed'> {
    const decoded = decodeBounded(bytes, limits.usedTokensBytesMax);
    if (!decoded.ok || !Array.isArray(decoded.value) || decoded.value.length !== 2 || decoded.value[0] !== 1)
      return fail('used-tokens-malformed');
    const isEntry = (e: unknown): e is [Uint8Array, unknown] =>
      Array.isArray(e) && e.length === 2 && isBytes(e[0], limits.tokenIdBytes) && asNat(e[1]) !== null;
    if (!isArrayOf(decoded.value[1], limits.usedTokensMax, isEntry)) return fail('used-tokens-malformed');
    for (const [id, t] of decoded.value[1]) this.used.set(toHex(copyBytes(id)), asNat(t) as number);
    return ok(this.used.size);
  }
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
