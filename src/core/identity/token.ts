// Join tokens: one-time, expiring, bound to a node name (and optionally to the CA that may redeem them).
// The token carries a CA-signed body and a fresh Ed25519 seed. The node generates its own keys, signs its
// join request with the token key (possession of the token) and with its new key (possession of the key);
// the seed itself never travels. Anyone holding the trust bundle can check a token, so an anchor with an
// intermediate can redeem it too; one-time use is enforced by the redeemer's used-token set.
import type { Crypto, KeyPair } from '../../platform/types.js';
import { fromBase64Url, toBase64Url } from './base64url.js';
import {
  asNat,
  bytesEqual,
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
import { keyId, knownRoles, sortRoles } from './cert.js';
import type { Issuer } from './ca.js';
import { limits } from './limits.js';
import { assert, fail, ok, type Result } from './result.js';
import { isName, nodeId, parseSubject } from './spiffe.js';

export const tokenPrefix = 'x0jt1.';

export interface TokenBody {
  readonly tokenId: Uint8Array;
  /** The node the token is for: spiffe://<td>/node/<name>. */
  readonly subject: string;
  /** The CA allowed to redeem it (its SPIFFE ID), or '' for any CA of the trust domain. */
  readonly redeemer: string;
  readonly notAfterMs: number;
  readonly tokenPublicKey: Uint8Array;
  readonly roles: readonly string[];
  readonly certTtlMs: number;
  readonly issuerKeyId: Uint8Array;
}

export interface JoinToken {
  readonly body: TokenBody;
  readonly bodyBytes: Uint8Array;
  readonly signature: Uint8Array;
  readonly tokenKeys: KeyPair;
}

export type TokenReason =
  | 'token-too-large'
  | 'token-malformed'
  | 'token-not-canonical'
  | 'token-bad-signature'
  | 'token-expired'
  | 'token-used'
  | 'token-wrong-redeemer'
  | 'token-wrong-trust-domain'
  | 'token-unknown-issuer'
  | 'token-store-full';
export type JoinReason = TokenReason | 'join-malformed' | 'join-bad-token-proof' | 'join-bad-key-proof' | 'join-stale';

const bodyArray = (b: TokenBody): Canon => [
  1,
  b.tokenId,
  b.subject,
  b.redeemer,
  b.notAfterMs,
  b.tokenPublicKey,
  b.roles,
  b.certTtlMs,
  b.issuerKeyId,
];
const tokenSignedMessage = (bodyBytes: Uint8Array) => labelled('x0-join-token-v1', bodyBytes);

export interface IssueTokenOptions {
  readonly name: string;
  readonly nowMs: number;
  readonly ttlMs?: number;
  readonly roles?: readonly string[];
  readonly certTtlMs?: number;
  readonly redeemer?: string;
}

export function issueJoinToken(
  crypto: Crypto,
  issuer: Issuer,
  options: IssueTokenOptions,
): { readonly token: JoinToken; readonly text: string } {
  assert(isName(options.name), 'issueJoinToken: name is valid');
  const ttlMs = options.ttlMs ?? limits.tokenTtlMsDefault;
  assert(ttlMs > 0, 'issueJoinToken: ttl is positive');
  assert(ttlMs <= limits.tokenTtlMsMax, 'issueJoinToken: ttl within tokenTtlMsMax');
  const roles = sortRoles(options.roles ?? ['member']);
  assert(
    roles.every((r) => knownRoles.includes(r)),
    'issueJoinToken: roles are known',
  );
  const tokenKeys = crypto.signKeyPairFromSeed(crypto.randomBytes(32));
  const body: TokenBody = {
    tokenId: crypto.randomBytes(limits.tokenIdBytes),
    subject: nodeId(issuer.cert.trustDomain, options.name),
    redeemer: options.redeemer ?? '',
    notAfterMs: options.nowMs + ttlMs,
    tokenPublicKey: tokenKeys.publicKey,
    roles,
    certTtlMs: options.certTtlMs ?? limits.nodeCertTtlMsDefault,
    issuerKeyId: keyId(crypto, issuer.cert.signPublicKey),
  };
  const bodyBytes = encodeCanonical(bodyArray(body));
  const signature = crypto.sign(tokenSignedMessage(bodyBytes), issuer.signSecretKey);
  const seed = tokenKeys.secretKey.slice(0, 32);
  const text = tokenPrefix + toBase64Url(encodeCanonical([bodyBytes, signature, seed]));
  assert(text.length <= limits.tokenCharsMax, 'issueJoinToken: token text within limit');
  return { token: { body, bodyBytes, signature, tokenKeys }, text };
}

function parseBody(x: unknown): TokenBody | null {
  if (!Array.isArray(x) || x.length !== 9) return null;
  const [format, tokenId, subject, redeemer, notAfter, tokenPublicKey, roles, certTtl, issuerKeyId] = x as unknown[];
  const notAfterMs = asTimeMs(notAfter);
  const certTtlMs = asNat(certTtl);
  if (
    format !== 1 ||
    notAfterMs === null ||
    certTtlMs === null ||
    certTtlMs === 0 ||
    certTtlMs > limits.nodeCertTtlMsMax
  )
    return null;
  if (
    !isBytes(tokenId, limits.tokenIdBytes) ||
    !isBytes(tokenPublicKey, 32) ||
    !isBytes(issuerKeyId, limits.keyIdBytes)
  )
    return null;
  if (!isText(subject, limits.spiffeIdCharsMax) || !isText(redeemer, limits.spiffeIdCharsMax)) return null;
  const parsedSubject = parseSubject(subject);
  if (!parsedSubject.ok || parsedSubject.value.kind !== 'node') return null;
  if (redeemer !== '' && !parseSubject(redeemer).ok) return null;
  if (!isArrayOf(roles, limits.rolesMax, (r): r is string => typeof r === 'string' && knownRoles.includes(r)))
    return null;
  return {
    tokenId: copyBytes(tokenId),
    subject,
    redeemer,
    notAfterMs,
    tokenPublicKey: copyBytes(tokenPublicKey),
    roles: [...roles],
    certTtlMs,
    issuerKeyId: copyBytes(issuerKeyId),
  };
}

/** Decodes a signed token body (no signature check: the redeemer checks it against its CA keys). */
export function decodeTokenBody(bodyBytes: Uint8Array): Result<TokenBody, TokenReason> {
  const decoded = decodeBounded(bodyBytes, limits.tokenBytesMax);
  if (!decoded.ok) return fail(decoded.reason === 'too-large' ? 'token-too-large' : 'token-malformed');
  const body = parseBody(decoded.value);
  if (body === null) return fail('token-malformed');
  if (!bytesEqual(encodeCanonical(bodyArray(body)), bodyBytes)) return fail('token-not-canonical');
  return ok(body);
}

/** The node's side: parses the text the operator pasted. */
export function parseJoinToken(crypto: Crypto, text: string): Result<JoinToken, TokenReason> {
  if (text.length > limits.tokenCharsMax) return fail('token-too-large');
  if (!text.startsWith(tokenPrefix)) return fail('token-malformed');
  const raw = fromBase64Url(text.slice(tokenPrefix.length).trim());
  if (raw === null) return fail('token-malformed');
  const decoded = decodeBounded(raw, limits.tokenBytesMax);
  if (!decoded.ok || !Array.isArray(decoded.value) || decoded.value.length !== 3) return fail('token-malformed');
  const [bodyBytes, signature, seed] = decoded.value as unknown[];
  if (!isBytes(bodyBytes) || !isBytes(signature, 64) || !isBytes(seed, 32)) return fail('token-malformed');
  const body = decodeTokenBody(bodyBytes);
  if (!body.ok) return body;
  const tokenKeys = crypto.signKeyPairFromSeed(copyBytes(seed));
  if (!bytesEqual(tokenKeys.publicKey, body.value.tokenPublicKey)) return fail('token-malformed');
  return ok({ body: body.value, bodyBytes: copyBytes(bodyBytes), signature: copyBytes(signature), tokenKeys });
}

export interface JoinRequest {
  readonly token: TokenBody;
  readonly tokenBodyBytes: Uint8Array;
  readonly tokenSignature: Uint8Array;
  readonly signPublicKey: Uint8Array;
  readonly boxPublicKey: Uint8Array;
  readonly requestedAtMs: number;
  readonly addresses: readonly string[];
  readonly requestBody: Uint8Array;
  readonly tokenProof: Uint8Array;
  readonly keyProof: Uint8Array;
}

const joinSignedMessage = (requestBody: Uint8Array) => labelled('x0-join-request-v1', requestBody);

/** The node's side: a join request proving possession of the token and of the node's new signing key. */
export function createJoinRequest(
  crypto: Crypto,
  token: JoinToken,
  nodeKeys: { readonly sign: KeyPair; readonly box: KeyPair },
  nowMs: number,
  addresses: readonly string[] = [],
): Uint8Array {
  const requestBody = encodeCanonical([
    1,
    token.body.tokenId,
    nodeKeys.sign.publicKey,
    nodeKeys.box.publicKey,
    nowMs,
    addresses,
  ]);
  const message = joinSignedMessage(requestBody);
  const tokenProof = crypto.sign(message, token.tokenKeys.secretKey);
  const keyProof = crypto.sign(message, nodeKeys.sign.secretKey);
  return encodeCanonical([1, token.bodyBytes, token.signature, requestBody, tokenProof, keyProof]);
}

function parseRequestBody(requestBody: Uint8Array): {
  tokenId: Uint8Array;
  signPublicKey: Uint8Array;
  boxPublicKey: Uint8Array;
  requestedAtMs: number;
  addresses: string[];
} | null {
  const decoded = decodeBounded(requestBody, limits.joinRequestBytesMax);
  if (!decoded.ok || !Array.isArray(decoded.value) || decoded.value.length !== 6) return null;
  const [format, tokenId, signPublicKey, boxPublicKey, requestedAt, addresses] = decoded.value as unknown[];
  const requestedAtMs = asTimeMs(requestedAt);
  if (
    format !== 1 ||
    requestedAtMs === null ||
    !isBytes(tokenId, limits.tokenIdBytes) ||
    !isBytes(signPublicKey, 32) ||
    !isBytes(boxPublicKey, 32)
  )
    return null;
  if (
    !isArrayOf(
      addresses,
      limits.addressesMax,
      (a): a is string => isText(a, limits.addressCharsMax) && /^[0-9A-Fa-f:./]+$/.test(a),
    )
  )
    return null;
  const body = {
    tokenId: copyBytes(tokenId),
    signPublicKey: copyBytes(signPublicKey),
    boxPublicKey: copyBytes(boxPublicKey),
    requestedAtMs,
    addresses: [...addresses],
  };
  return bytesEqual(
    encodeCanonical([1, body.tokenId, body.signPublicKey, body.boxPublicKey, requestedAtMs, body.addresses]),
    requestBody,
  )
    ? body
    : null;
}

/** Decodes a join request from outside: shape only; verifyJoinProofs and the redeemer do the signatures. */
export function decodeJoinRequest(bytes: Uint8Array): Result<JoinRequest, JoinReason> {
  const decoded = decodeBounded(bytes, limits.joinRequestBytesMax);
  if (!decoded.ok || !Array.isArray(decoded.value) || decoded.value.length !== 6) return fail('join-malformed');
  const [format, tokenBodyBytes, tokenSignature, requestBody, tokenProof, keyProof] = decoded.value as unknown[];
  if (
    format !== 1 ||
    !isBytes(tokenBodyBytes) ||
    !isBytes(tokenSignature, 64) ||
    !isBytes(requestBody) ||
    !isBytes(tokenProof, 64) ||
    !isBytes(keyProof, 64)
  )
    return fail('join-malformed');
  const token = decodeTokenBody(tokenBodyBytes);
  if (!token.ok) return token;
  const body = parseRequestBody(requestBody);
  if (body === null || !bytesEqual(body.tokenId, token.value.tokenId)) return fail('join-malformed');
  return ok({
    token: token.value,
    tokenBodyBytes: copyBytes(tokenBodyBytes),
    tokenSignature: copyBytes(tokenSignature),
    signPublicKey: body.signPublicKey,
    boxPublicKey: body.boxPublicKey,
    requestedAtMs: body.requestedAtMs,
    addresses: body.addresses,
    requestBody: copyBytes(requestBody),
    tokenProof: copyBytes(tokenProof),
    keyProof: copyBytes(keyProof),
  });
}

export const tokenSignatureValid = (crypto: Crypto, request: JoinRequest, issuerSignPublicKey: Uint8Array): boolean =>
  crypto.verify(tokenSignedMessage(request.tokenBodyBytes), request.tokenSignature, issuerSignPublicKey);

/** Possession of the token key and of the node's new signing key, both over the same request body. */
export function verifyJoinProofs(crypto: Crypto, request: JoinRequest): Result<true, JoinReason> {
  const message = joinSignedMessage(request.requestBody);
  if (!crypto.verify(message, request.tokenProof, request.token.tokenPublicKey)) return fail('join-bad-token-proof');
  if (!crypto.verify(message, request.keyProof, request.signPublicKey)) return fail('join-bad-key-proof');
  return ok(true);
}
