// An established session's record layer: per-direction keys, a counter nonce, a replay window per receive
// key, and a symmetric rekey (key_{e+1} = HKDF(key_e)) after a message or time limit. Old keys are dropped
// once the grace period passes, so a later key compromise does not open earlier epochs.
import type { Crypto } from '../../platform/types.js';
import { assert, fail, ok, type Result } from '../identity/result.js';
import type { ValidatedPeer } from '../identity/chain.js';
import { hkdf } from './kdf.js';
import { dataHeaderBytes, sealTagBytes, recordKindBytes, type ChannelLimits } from './limits.js';
import { decodeDataHeader, encodeDataHeader, recordNonce, RecordKind, type DataHeader } from './messages.js';
import { ReplayWindow, type ReplayReason } from './replay.js';

export type RecordReason = ReplayReason | 'record-malformed' | 'record-bad-seal' | 'epoch-unknown' | 'record-bad-kind';

interface ReceiveKey {
  readonly epoch: number;
  readonly key: Uint8Array;
  readonly window: ReplayWindow;
  /** For the previous epoch: monotonic ms after which it is forgotten. */
  expiresAtMs: number;
}

export const nextKey = (crypto: Crypto, key: Uint8Array): Uint8Array =>
  hkdf(crypto, new Uint8Array(64), key, 'x0c1 rekey', 32);

export interface SessionInit {
  readonly localIndex: number;
  readonly remoteIndex: number;
  readonly peerAddress: string;
  readonly peer: ValidatedPeer;
  readonly role: 'initiator' | 'responder';
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
  readonly nowMs: number;
}

export interface Opened {
  readonly kind: RecordKind;
  readonly payload: Uint8Array;
}

export class Session {
  readonly localIndex: number;
  readonly remoteIndex: number;
  readonly peerAddress: string;
  readonly peer: ValidatedPeer;
  readonly role: 'initiator' | 'responder';
  readonly establishedMs: number;
  /** Initiator: true once an authenticated record from the responder arrived. Responder: always true. */
  confirmed: boolean;
  /** Set when a newer session for the same peer replaced this one: receive-only until then. */
  supersededUntilMs: number | null = null;
  lastReceiveMs: number;
  private sendKey: Uint8Array;
  private sendEpoch = 0;
  private sendCounter = 0;
  private sendEpochStartMs: number;
  private current: ReceiveKey;
  private previous: ReceiveKey | null = null;

  constructor(
    private readonly crypto: Crypto,
    private readonly limits: ChannelLimits,
    init: SessionInit,
  ) {
    this.localIndex = init.localIndex;
    this.remoteIndex = init.remoteIndex;
    this.peerAddress = init.peerAddress;
    this.peer = init.peer;
    this.role = init.role;
    this.establishedMs = init.nowMs;
    this.lastReceiveMs = init.nowMs;
    this.confirmed = init.role === 'responder';
    this.sendKey = init.sendKey;
    this.sendEpochStartMs = init.nowMs;
    this.current = {
      epoch: 0,
      key: init.receiveKey,
      window: new ReplayWindow(limits.replayWindowMessages),
      expiresAtMs: Infinity,
    };
    assert(init.sendKey.length === 32, 'session: the send key is 32 bytes');
    assert(init.receiveKey.length === 32, 'session: the receive key is 32 bytes');
  }

  get epoch(): number {
    return this.sendEpoch;
  }

  /** True when the epoch counter is exhausted: the session must be replaced by a new handshake. */
  get exhausted(): boolean {
    return this.sendEpoch >= this.limits.epochsMax;
  }

  private maybeRekey(nowMs: number): void {
    const due =
      this.sendCounter >= this.limits.rekeyAfterMessages || nowMs - this.sendEpochStartMs >= this.limits.rekeyAfterMs;
    if (!due || this.exhausted) return;
    this.sendKey = nextKey(this.crypto, this.sendKey);
    this.sendEpoch++;
    this.sendCounter = 0;
    this.sendEpochStartMs = nowMs;
    assert(this.sendEpoch <= this.limits.epochsMax, 'session: the epoch stays within its 16 bits');
  }

  seal(kind: RecordKind, payload: Uint8Array, nowMs: number): Uint8Array {
    assert(payload.length <= this.limits.payloadBytesMax, 'seal: payload within limit (callers check)');
    this.maybeRekey(nowMs);
    assert(this.sendCounter <= Number.MAX_SAFE_INTEGER, 'seal: counter is safe');
    const header = encodeDataHeader({
      receiverIndex: this.remoteIndex,
      epoch: this.sendEpoch,
      counter: this.sendCounter,
    });
    const plain = new Uint8Array(payload.length + 1);
    plain[0] = kind;
    plain.set(payload, 1);
    const box = this.crypto.secretbox(plain, recordNonce(this.sendEpoch, this.sendCounter), this.sendKey);
    this.sendCounter++;
    const out = new Uint8Array(dataHeaderBytes + box.length);
    out.set(header);
    out.set(box, dataHeaderBytes);
    assert(
      out.length === dataHeaderBytes + sealTagBytes + recordKindBytes + payload.length,
      'seal: a record is header, tag, kind and payload',
    );
    assert(out.length <= this.limits.datagramBytesMax, 'seal: a record fits a datagram');
    return out;
  }

  private receiveKeyFor(epoch: number, nowMs: number): ReceiveKey | 'next' | null {
    if (epoch === this.current.epoch) return this.current;
    if (epoch === this.current.epoch + 1) return 'next';
    if (this.previous !== null && epoch === this.previous.epoch && nowMs < this.previous.expiresAtMs)
      return this.previous;
    return null;
  }

  /** Opens a data record addressed to this session. The window moves only for an authentic record. */
  open(bytes: Uint8Array, nowMs: number): Result<Opened, RecordReason> {
    const header = decodeDataHeader(bytes);
    if (!header.ok) return fail('record-malformed');
    const slot = this.receiveKeyFor(header.value.epoch, nowMs);
    if (slot === null) return fail('epoch-unknown');
    if (slot !== 'next') {
      const replay = slot.window.check(header.value.counter);
      if (replay !== null) return fail(replay);
    }
    const key = slot === 'next' ? nextKey(this.crypto, this.current.key) : slot.key;
    const plain = this.crypto.secretboxOpen(
      bytes.subarray(dataHeaderBytes),
      recordNonce(header.value.epoch, header.value.counter),
      key,
    );
    if (plain === null) return fail('record-bad-seal');
    if (plain.length === 0 || (plain[0] as number) > RecordKind.Close) return fail('record-bad-kind');
    this.accept(slot, key, header.value, nowMs);
    return ok({ kind: plain[0] as RecordKind, payload: plain.subarray(1) });
  }

  private accept(slot: ReceiveKey | 'next', key: Uint8Array, header: DataHeader, nowMs: number): void {
    assert(
      header.epoch === (slot === 'next' ? this.current.epoch + 1 : slot.epoch),
      "session: the record was opened with its epoch's key",
    );
    if (slot === 'next') {
      this.current.expiresAtMs = nowMs + this.limits.previousKeyGraceMs;
      this.previous = this.current;
      this.current = {
        epoch: header.epoch,
        key,
        window: new ReplayWindow(this.limits.replayWindowMessages),
        expiresAtMs: Infinity,
      };
      slot = this.current;
    }
    slot.window.mark(header.counter);
    this.lastReceiveMs = nowMs;
    if (this.role === 'initiator') this.confirmed = true;
    assert(this.current.epoch >= header.epoch, 'session: the current receive key is the newest');
    assert(
      this.previous === null || this.previous.epoch < this.current.epoch,
      'session: the previous receive key is older',
    );
  }

  /** Drops the previous epoch's key once its grace period is over (forward secrecy across epochs). */
  forgetOldKeys(nowMs: number): void {
    if (this.previous !== null && nowMs >= this.previous.expiresAtMs) this.previous = null;
    assert(this.previous === null || nowMs < this.previous.expiresAtMs, 'session: no expired key is kept');
  }

  get sendCounterValue(): number {
    return this.sendCounter;
  }
}
