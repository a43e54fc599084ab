// Automatic certificate renewal, both ends, as pure state machines. The node's RenewalClient asks at half
// the lifetime (renewalDueAtMs) with fresh keys, retries with a bounded backoff, and accepts only a chain
// that validates, names the same node and carries exactly the keys it generated. The RenewalService is the
// CA or anchor side: it answers only a request that arrived over a sealed channel from the very node the
// request names (the channel authenticated it), and lets the Registrar check chain, revocation and proofs.
// Messages ride channel payloads: service byte 1 = request, 2 = issued chain, 3 = refusal (reason text).
import type { Crypto, KeyPair } from '../../platform/types.js';
import { bytesEqual, decodeBounded } from './canonical.js';
import type { Certificate } from './cert.js';
import {
  decodeChain,
  encodeChain,
  maxChainBytes,
  validateChain,
  type ChainReason,
  type RevocationView,
  type TrustBundle,
} from './chain.js';
import { limits } from './limits.js';
import type { Registrar } from './registrar.js';
import { assert, Counters, fail, ok, type Result } from './result.js';
import { createRenewRequest, decodeRenewRequest, renewalDueAtMs } from './rotation.js';

export enum RenewalMessage {
  Request = 1,
  Issued = 2,
  Refused = 3,
}

export interface NodeKeys {
  readonly sign: KeyPair;
  readonly box: KeyPair;
}

export interface Identity {
  readonly keys: NodeKeys;
  readonly chain: readonly Certificate[];
}

export type RenewalReason =
  | ChainReason
  | 'renewal-unexpected'
  | 'renewal-malformed'
  | 'renewal-wrong-subject'
  | 'renewal-wrong-key'
  | 'renewal-refused';

const withType = (type: RenewalMessage, body: Uint8Array): Uint8Array => {
  const out = new Uint8Array(body.length + 1);
  out[0] = type;
  out.set(body, 1);
  return out;
};

export class RenewalClient {
  readonly counters = new Counters();
  private pending: { readonly next: NodeKeys; readonly request: Uint8Array } | null = null;
  private nextAttemptMs = 0;
  private attempts = 0;

  constructor(
    private readonly crypto: Crypto,
    private current: Identity,
  ) {
    assert(current.chain.length > 0, 'renewal: the identity has a certificate');
  }

  get identity(): Identity {
    return this.current;
  }

  get dueAtMs(): number {
    return renewalDueAtMs(this.current.chain[0] as Certificate);
  }

  /** The request to send now (wall clock), or null: not due yet, or waiting for the answer to the last one. */
  tick(nowMs: number): Uint8Array | null {
    if (nowMs < this.dueAtMs || nowMs < this.nextAttemptMs) return null;
    // A lost request or answer is retried with fresh time and the same keys, less and less often.
    const next = this.pending?.next ?? { sign: this.crypto.signKeyPair(), box: this.crypto.boxKeyPair() };
    const request = withType(
      RenewalMessage.Request,
      createRenewRequest(this.crypto, this.current.chain, this.current.keys.sign.secretKey, next, nowMs),
    );
    this.pending = { next, request };
    this.attempts++;
    this.nextAttemptMs =
      nowMs + Math.min(limits.renewRetryMsMax, limits.renewRetryMs * 2 ** Math.min(this.attempts - 1, 16));
    this.counters.add('renewal-requested');
    assert(this.nextAttemptMs > nowMs, 'renewal: the next attempt is later');
    assert(this.nextAttemptMs - nowMs <= limits.renewRetryMsMax, 'renewal: the backoff is capped');
    return request;
  }

  /** An answer from the renewal service: the new identity to install and persist, or a reason. */
  accept(message: Uint8Array, bundle: TrustBundle, nowMs: number): Result<Identity, RenewalReason> {
    const result = this.check(message, bundle, nowMs);
    this.counters.add(result.ok ? 'renewed' : result.reason);
    if (!result.ok) return result;
    const subject = (this.current.chain[0] as Certificate).subject;
    this.current = result.value;
    this.pending = null;
    this.attempts = 0;
    this.nextAttemptMs = 0;
    assert(this.current.chain.length > 0, 'renewal: the renewed identity has a certificate');
    assert(
      (this.current.chain[0] as Certificate).subject === subject,
      'renewal: the renewed identity names the same node',
    );
    return result;
  }

  private check(message: Uint8Array, bundle: TrustBundle, nowMs: number): Result<Identity, RenewalReason> {
    if (this.pending === null) return fail('renewal-unexpected');
    if (message[0] === RenewalMessage.Refused) return fail('renewal-refused');
    if (message[0] !== RenewalMessage.Issued) return fail('renewal-malformed');
    const decoded = decodeBounded(message.subarray(1), maxChainBytes);
    if (!decoded.ok) return fail('renewal-malformed');
    const chain = decodeChain(decoded.value);
    if (!chain.ok) return chain;
    const valid = validateChain(this.crypto, chain.value, bundle, nowMs);
    if (!valid.ok) return valid;
    if (valid.value.id !== (this.current.chain[0] as Certificate).subject) return fail('renewal-wrong-subject');
    const next = this.pending.next;
    if (
      !bytesEqual(valid.value.signPublicKey, next.sign.publicKey) ||
      !bytesEqual(valid.value.boxPublicKey, next.box.publicKey)
    )
      return fail('renewal-wrong-key');
    return ok({ keys: next, chain: chain.value });
  }
}

export class RenewalService {
  readonly counters = new Counters();

  constructor(private readonly registrar: Registrar) {}

  setRevocations(view: RevocationView): void {
    this.registrar.setRevocations(view);
  }

  /**
   * A payload from an authenticated peer. Returns the answer to send back, or null when the payload is
   * not a renewal request at all. The request must name the peer the channel authenticated.
   */
  handle(peerId: string, message: Uint8Array, nowMs: number): Uint8Array | null {
    if (message[0] !== RenewalMessage.Request) return null;
    const body = message.subarray(1);
    const request = decodeRenewRequest(body);
    const refuse = (reason: string): Uint8Array => {
      this.counters.add(reason);
      return withType(RenewalMessage.Refused, new TextEncoder().encode(reason));
    };
    if (!request.ok) return refuse(request.reason);
    if (request.value.subject !== peerId) return refuse('renewal-not-the-peer');
    const issued = this.registrar.renew(body, nowMs);
    if (!issued.ok) return refuse(issued.reason);
    this.counters.add('renewal-issued');
    return withType(RenewalMessage.Issued, encodeChain(issued.value.chain));
  }
}
