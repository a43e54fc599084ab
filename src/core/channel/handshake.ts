// The channel handshake (SIGMA-I, the shape of TLS 1.3's certificate-authenticated ECDHE), as pure steps:
//   M1 I→R  ephemeral X25519 key, sender index, trust domain (padded)
//   M2 R→I  ephemeral key, indices, seal_kR(chain_R, sig_R(h2 ‖ H(chain_R)))
//   M3 I→R  seal_kI(chain_I, sig_I(h3 ‖ H(chain_I)))
// h1..h4 chain SHA-512 over every byte of the exchange (trust domain included); handshake keys come from
// HKDF(h2, DH), session keys from HKDF(h4, DH), so both identities and the trust domain are bound into the
// session keys. Each step takes bytes and returns bytes or a reason; the endpoint does the bookkeeping.
import type { Crypto, KeyPair } from '../../platform/types.js';
import { bytesEqual, labelled } from '../identity/canonical.js';
import type { Certificate } from '../identity/cert.js';
import {
  decodeChain,
  validateChain,
  type ChainReason,
  type RevocationView,
  type TrustBundle,
  type ValidatedPeer,
} from '../identity/chain.js';
import { fail, ok, type Result } from '../identity/result.js';
import { chainHash, hkdf, isAllZero } from './kdf.js';
import {
  decodeProof,
  encodeFinish,
  encodeInit,
  encodeProof,
  encodeResponse,
  responseHeaderBytes,
  type Finish,
  type Init,
  type Response,
} from './messages.js';
import { encodeCanonical } from '../identity/canonical.js';

export type HandshakeReason =
  | ChainReason
  | 'wrong-trust-domain'
  | 'handshake-bad-key'
  | 'handshake-bad-seal'
  | 'handshake-malformed'
  | 'handshake-bad-signature';

export interface LocalIdentity {
  /** Leaf first, then intermediates (never the root). */
  readonly chain: readonly Certificate[];
  readonly signSecretKey: Uint8Array;
}

export interface HandshakeContext {
  readonly crypto: Crypto;
  readonly identity: LocalIdentity;
  readonly bundle: TrustBundle;
  readonly revocations: RevocationView;
}

export interface InitiatorState {
  readonly index: number;
  readonly ephemeral: KeyPair;
  readonly m1: Uint8Array;
  readonly h1: Uint8Array;
}

export interface ResponderState {
  readonly index: number;
  readonly peerIndex: number;
  readonly peerEphemeral: Uint8Array;
  readonly dh: Uint8Array;
  readonly h3: Uint8Array;
  readonly initiatorKey: Uint8Array;
  readonly m2: Uint8Array;
}

export interface SessionKeys {
  readonly peer: ValidatedPeer;
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
}

const zeroNonce = new Uint8Array(24); // each handshake key seals exactly one message
const h1Of = (crypto: Crypto, m1: Uint8Array) => crypto.sha512(labelled('x0c1 m1', m1));
const chainBytesOf = (chain: readonly Certificate[]) => encodeCanonical(chain.map((c) => c.bytes));
const responderSigned = (crypto: Crypto, h2: Uint8Array, chainBytes: Uint8Array) =>
  labelled('x0c1 responder', h2, crypto.sha512(chainBytes));
const initiatorSigned = (crypto: Crypto, h3: Uint8Array, chainBytes: Uint8Array) =>
  labelled('x0c1 initiator', h3, crypto.sha512(chainBytes));

function handshakeKeys(
  crypto: Crypto,
  h2: Uint8Array,
  dh: Uint8Array,
): { responderKey: Uint8Array; initiatorKey: Uint8Array } {
  const okm = hkdf(crypto, h2, dh, 'x0c1 handshake', 64);
  return { responderKey: okm.slice(0, 32), initiatorKey: okm.slice(32, 64) };
}

function sessionKeys(
  crypto: Crypto,
  h4: Uint8Array,
  dh: Uint8Array,
): { initiatorToResponder: Uint8Array; responderToInitiator: Uint8Array } {
  const okm = hkdf(crypto, h4, dh, 'x0c1 session', 64);
  return { initiatorToResponder: okm.slice(0, 32), responderToInitiator: okm.slice(32, 64) };
}

export function startInitiator(ctx: HandshakeContext, index: number): InitiatorState {
  const ephemeral = ctx.crypto.boxKeyPair();
  const m1 = encodeInit({ senderIndex: index, ephemeral: ephemeral.publicKey, trustDomain: ctx.bundle.trustDomain });
  return { index, ephemeral, m1, h1: h1Of(ctx.crypto, m1) };
}

/** Opens a sealed proof and checks the chain and the signature over `signed(chainBytes)`. */
function checkProof(
  ctx: HandshakeContext,
  sealed: Uint8Array,
  key: Uint8Array,
  wallMs: number,
  signed: (chainBytes: Uint8Array) => Uint8Array,
): Result<{ peer: ValidatedPeer; chainBytes: Uint8Array; signature: Uint8Array }, HandshakeReason> {
  const plain = ctx.crypto.secretboxOpen(sealed, zeroNonce, key);
  if (plain === null) return fail('handshake-bad-seal');
  const proof = decodeProof(plain);
  if (!proof.ok) return proof;
  const chain = decodeChain(proof.value.chain);
  if (!chain.ok) return chain;
  const peer = validateChain(ctx.crypto, chain.value, ctx.bundle, wallMs, ctx.revocations);
  if (!peer.ok) return peer;
  if (!ctx.crypto.verify(signed(proof.value.chainBytes), proof.value.signature, peer.value.signPublicKey))
    return fail('handshake-bad-signature');
  return ok({ peer: peer.value, chainBytes: proof.value.chainBytes, signature: proof.value.signature });
}

/** Responder, on M1: refuses another trust domain before any expensive work. */
export function respond(
  ctx: HandshakeContext,
  m1: Uint8Array,
  init: Init,
  index: number,
): Result<ResponderState, HandshakeReason> {
  if (init.trustDomain !== ctx.bundle.trustDomain) return fail('wrong-trust-domain');
  const ephemeral = ctx.crypto.boxKeyPair();
  const dh = ctx.crypto.scalarMult(ephemeral.secretKey, init.ephemeral);
  if (isAllZero(dh)) return fail('handshake-bad-key'); // a low-order point: no shared secret
  const header = { senderIndex: index, receiverIndex: init.senderIndex, ephemeral: ephemeral.publicKey };
  const h2 = chainHash(ctx.crypto, h1Of(ctx.crypto, m1), responseHeaderBytes(header));
  const keys = handshakeKeys(ctx.crypto, h2, dh);
  const chainBytes = chainBytesOf(ctx.identity.chain);
  const signature = ctx.crypto.sign(responderSigned(ctx.crypto, h2, chainBytes), ctx.identity.signSecretKey);
  const sealed = ctx.crypto.secretbox(
    encodeProof(
      ctx.identity.chain.map((c) => c.bytes),
      signature,
    ),
    zeroNonce,
    keys.responderKey,
  );
  const m2 = encodeResponse({ ...header, sealed });
  return ok({
    index,
    peerIndex: init.senderIndex,
    peerEphemeral: init.ephemeral,
    dh,
    h3: chainHash(ctx.crypto, h2, chainBytes, signature),
    initiatorKey: keys.initiatorKey,
    m2,
  });
}

/** Initiator, on M2: authenticates the responder, answers with M3, and derives the session keys. */
export function finishInitiator(
  ctx: HandshakeContext,
  state: InitiatorState,
  response: Response,
  wallMs: number,
): Result<SessionKeys & { readonly m3: Uint8Array }, HandshakeReason> {
  const dh = ctx.crypto.scalarMult(state.ephemeral.secretKey, response.ephemeral);
  if (isAllZero(dh)) return fail('handshake-bad-key');
  const h2 = chainHash(ctx.crypto, state.h1, responseHeaderBytes(response));
  const keys = handshakeKeys(ctx.crypto, h2, dh);
  const proof = checkProof(ctx, response.sealed, keys.responderKey, wallMs, (chainBytes) =>
    responderSigned(ctx.crypto, h2, chainBytes),
  );
  if (!proof.ok) return proof;
  const h3 = chainHash(ctx.crypto, h2, proof.value.chainBytes, proof.value.signature);
  const chainBytes = chainBytesOf(ctx.identity.chain);
  const signature = ctx.crypto.sign(initiatorSigned(ctx.crypto, h3, chainBytes), ctx.identity.signSecretKey);
  const sealed = ctx.crypto.secretbox(
    encodeProof(
      ctx.identity.chain.map((c) => c.bytes),
      signature,
    ),
    zeroNonce,
    keys.initiatorKey,
  );
  const session = sessionKeys(ctx.crypto, chainHash(ctx.crypto, h3, chainBytes, signature), dh);
  const m3 = encodeFinish({ receiverIndex: response.senderIndex, sealed });
  return ok({
    peer: proof.value.peer,
    sendKey: session.initiatorToResponder,
    receiveKey: session.responderToInitiator,
    m3,
  });
}

/** Responder, on M3: authenticates the initiator and derives the session keys. */
export function finishResponder(
  ctx: HandshakeContext,
  state: ResponderState,
  finish: Finish,
  wallMs: number,
): Result<SessionKeys, HandshakeReason> {
  const proof = checkProof(ctx, finish.sealed, state.initiatorKey, wallMs, (chainBytes) =>
    initiatorSigned(ctx.crypto, state.h3, chainBytes),
  );
  if (!proof.ok) return proof;
  const session = sessionKeys(
    ctx.crypto,
    chainHash(ctx.crypto, state.h3, proof.value.chainBytes, proof.value.signature),
    state.dh,
  );
  return ok({
    peer: proof.value.peer,
    sendKey: session.responderToInitiator,
    receiveKey: session.initiatorToResponder,
  });
}

export const sameEphemeral = (state: ResponderState, init: Init): boolean =>
  bytesEqual(state.peerEphemeral, init.ephemeral);
