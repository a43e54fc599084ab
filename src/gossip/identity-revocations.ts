// The identity CA's revocation list as the mesh document's revocation register: the hook between
// src/core/identity (which signs and reads the list) and the gossip engine (which spreads it and refuses
// revoked nodes). The list is signed over the CRDT signed-document message, so it travels unchanged as a
// SignedDoc {kind 'revocations', version, payload, signature}; the node ids it names are SPIFFE IDs
// (spiffe://<trust domain>/node/<name>) and gossip node ids are the names.
import type { RevocationCheck } from '../core/gossip/mesh-doc.js';
import type { SignedDoc } from '../core/gossip/signed-doc.js';
import { fail, ok } from '../core/result.js';
import { encodeCanonical } from '../core/identity/canonical.js';
import type { TrustBundle } from '../core/identity/chain.js';
import { decodeRevocationList, type RevocationList } from '../core/identity/revocation.js';
import { parseSubject } from '../core/identity/spiffe.js';
import type { Crypto } from '../platform/types.js';

/** Gossip node ids (names) of the nodes a verified list revokes, in the bundle's trust domain. */
export function revokedNames(list: RevocationList, trustDomain: string): Set<string> {
  const names = new Set<string>();
  for (const id of list.nodeIds) {
    const subject = parseSubject(id);
    if (subject.ok && subject.value.kind === 'node' && subject.value.trustDomain === trustDomain)
      names.add(subject.value.name);
  }
  return names;
}

/** A list as the identity layer encodes it on disk and on the wire: [version, payload, signature]. */
export function encodeIdentityList(doc: SignedDoc): Uint8Array {
  return encodeCanonical([doc.version, doc.payload, doc.signature]);
}

/** Checks a candidate with the identity layer's own decoder (signature by a root of the bundle, format). */
export function identityRevocations(crypto: Crypto, bundle: TrustBundle): RevocationCheck {
  return (doc) => {
    if (doc.kind !== 'revocations') return fail('signed-doc-kind');
    const decoded = decodeRevocationList(crypto, encodeIdentityList(doc), bundle);
    return decoded.ok ? ok(revokedNames(decoded.value, bundle.trustDomain)) : fail(decoded.reason);
  };
}

/** A list file written by `x0 ca revoke` as a SignedDoc, checked against the bundle; or the reason. */
export function signedDocFromIdentityList(
  crypto: Crypto,
  bytes: Uint8Array,
  bundle: TrustBundle,
): { ok: true; value: SignedDoc } | { ok: false; reason: string } {
  const decoded = decodeRevocationList(crypto, bytes, bundle);
  if (!decoded.ok) return decoded;
  const { version, payload, signature } = decoded.value;
  return { ok: true, value: { kind: 'revocations', version, payload, signature } };
}

/** When the node has no trust bundle: every revocation list is refused (nobody could have signed one). */
export const noRevocationAuthority: RevocationCheck = () => fail('revocations-no-authority');
