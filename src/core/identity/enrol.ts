// Enrolment over the network (docs/protocol/identity.md, "Enrolment over the network"): a new node that has only a
// join token sends its join request (token.ts: proofs of the token and of its new key) to an anchor, which redeems
// it with its issuing key and answers with the node's certificate chain and the mesh's trust bundle. Pure: the
// messages, their bounds, and the node's check of the answer. The node trusts the answer only if the bundle holds
// the root that signed its token (the token names its issuer's key id), the chain validates against that bundle,
// and the certificate is for the node's own name and key: an impostor anchor cannot pass without the root key.
import type { Crypto } from '../../platform/types.js';
import { bytesEqual, decodeBounded, encodeCanonical, isBytes, isText } from './canonical.js';
import { keyId, type Certificate } from './cert.js';
import {
  decodeChain,
  decodeTrustBundle,
  encodeChain,
  encodeTrustBundle,
  maxChainBytes,
  validateChain,
  type TrustBundle,
} from './chain.js';
import { limits } from './limits.js';
import { assert, fail, ok, type Result } from './result.js';
import { parseSubject } from './spiffe.js';
import type { JoinToken } from './token.js';

export const enrolFormat = 1;

export type EnrolReason =
  | 'enrol-malformed'
  | 'enrol-too-large'
  | 'enrol-refused'
  | 'enrol-wrong-root'
  | 'enrol-wrong-key'
  | 'enrol-wrong-name'
  | 'enrol-bad-chain';

/** The largest enrolment message either way: a join request, or a chain and a bundle with their framing. */
export const enrolMessageBytesMax =
  limits.joinRequestBytesMax + limits.chainCertsMax * limits.certBytesMax + limits.bundleBytesMax + 64;
/** A refusal's reason code, as the anchor sends it. */
export const enrolReasonCharsMax = 64;

export function encodeEnrolRequest(joinRequest: Uint8Array): Uint8Array {
  assert(joinRequest.length <= limits.joinRequestBytesMax, 'enrol: a join request within its bound');
  const bytes = encodeCanonical([enrolFormat, 'join', joinRequest]);
  assert(bytes.length <= enrolMessageBytesMax, 'enrol: the request fits a message');
  return bytes;
}

export function decodeEnrolRequest(bytes: Uint8Array): Result<Uint8Array, 'enrol-malformed' | 'enrol-too-large'> {
  const decoded = decodeBounded(bytes, enrolMessageBytesMax);
  if (!decoded.ok) return fail(decoded.reason === 'too-large' ? 'enrol-too-large' : 'enrol-malformed');
  const v = decoded.value;
  if (
    !Array.isArray(v) ||
    v.length !== 3 ||
    v[0] !== enrolFormat ||
    v[1] !== 'join' ||
    !isBytes(v[2]) ||
    v[2].length > limits.joinRequestBytesMax
  )
    return fail('enrol-malformed');
  return ok(v[2]);
}

export type EnrolAnswer =
  | { readonly ok: true; readonly chain: readonly Certificate[]; readonly bundle: TrustBundle }
  | { readonly ok: false; readonly reason: string };

export function encodeEnrolAnswer(answer: EnrolAnswer): Uint8Array {
  if (!answer.ok) {
    assert(answer.reason.length <= enrolReasonCharsMax, 'enrol: a reason code is short');
    return encodeCanonical([enrolFormat, 'refused', answer.reason]);
  }
  assert(answer.chain.length > 0 && answer.chain.length <= limits.chainCertsMax, 'enrol: a chain within its bound');
  const bytes = encodeCanonical([enrolFormat, 'issued', encodeChain(answer.chain), encodeTrustBundle(answer.bundle)]);
  assert(bytes.length <= enrolMessageBytesMax, 'enrol: the answer fits a message');
  return bytes;
}

/** Decodes an anchor's answer (the bundle's roots are verified as the bundle is decoded). */
export function decodeEnrolAnswer(
  crypto: Crypto,
  bytes: Uint8Array,
): Result<EnrolAnswer, 'enrol-malformed' | 'enrol-too-large'> {
  const decoded = decodeBounded(bytes, enrolMessageBytesMax);
  if (!decoded.ok) return fail(decoded.reason === 'too-large' ? 'enrol-too-large' : 'enrol-malformed');
  const v = decoded.value;
  if (!Array.isArray(v) || v[0] !== enrolFormat) return fail('enrol-malformed');
  if (v[1] === 'refused' && v.length === 3 && isText(v[2], enrolReasonCharsMax) && /^[a-z0-9-]+$/.test(v[2]))
    return ok({ ok: false, reason: v[2] });
  if (v[1] !== 'issued' || v.length !== 4 || !isBytes(v[2]) || !isBytes(v[3])) return fail('enrol-malformed');
  const chainValue = decodeBounded(v[2], maxChainBytes);
  if (!chainValue.ok) return fail('enrol-malformed');
  const chain = decodeChain(chainValue.value);
  const bundle = decodeTrustBundle(crypto, v[3]);
  if (!chain.ok || !bundle.ok) return fail('enrol-malformed');
  return ok({ ok: true, chain: chain.value, bundle: bundle.value });
}

/** What the node knows of itself when it checks the answer: its token and its new signing key. */
export interface Enrolling {
  readonly token: JoinToken;
  readonly signPublicKey: Uint8Array;
}

/** The node's check of an issued answer (see the header): the chain and bundle to store, or why not. */
export function acceptEnrolment(
  crypto: Crypto,
  answer: EnrolAnswer,
  me: Enrolling,
  nowMs: number,
): Result<{ chain: readonly Certificate[]; bundle: TrustBundle }, EnrolReason> {
  if (!answer.ok) return fail('enrol-refused');
  // The token's signer is a root of the bundle, or an intermediate of the chain (an anchor's issuing key), which
  // the chain's validation below then ties to a root of the bundle.
  const signers = [...answer.bundle.rootKeyIds, ...answer.chain.slice(1).map((c) => keyId(crypto, c.signPublicKey))];
  if (!signers.some((id) => bytesEqual(id, me.token.body.issuerKeyId))) return fail('enrol-wrong-root');
  const leaf = answer.chain[0] as Certificate;
  if (!bytesEqual(leaf.signPublicKey, me.signPublicKey)) return fail('enrol-wrong-key');
  const subject = parseSubject(me.token.body.subject);
  if (!subject.ok || leaf.name !== subject.value.name || leaf.trustDomain !== subject.value.trustDomain)
    return fail('enrol-wrong-name');
  const valid = validateChain(crypto, answer.chain, answer.bundle, nowMs);
  if (!valid.ok) return fail('enrol-bad-chain');
  assert(valid.value.name === leaf.name, 'enrol: the validated peer is the leaf');
  return ok({ chain: answer.chain, bundle: answer.bundle });
}
