// One node's channel endpoint: the handshake and session state machine for all its peers. Input in
// (a datagram from an address, a tick, a send request, a new revocation list), output out (datagrams to
// send, payloads delivered, events); the caller does all I/O. Peers are addressed by an opaque string
// (the binding's "host:port"). Refusals are counted by reason and never leave half-open state behind.
import type { Crypto } from '../../platform/types.js';
import { compareBytes, toHex } from '../identity/canonical.js';
import type { RevocationView } from '../identity/chain.js';
import { assert, Counters, fail, ok, type Result } from '../identity/result.js';
import {
  finishInitiator,
  finishResponder,
  respond,
  sameEphemeral,
  startInitiator,
  type HandshakeContext,
  type InitiatorState,
  type LocalIdentity,
  type ResponderState,
} from './handshake.js';
import { channelLimits, validateChannelLimits, type ChannelLimits } from './limits.js';
import {
  decodeDataHeader,
  decodeFinish,
  decodeInit,
  decodeResponse,
  messageType,
  MessageType,
  RecordKind,
} from './messages.js';
import { HandshakeRateLimiter } from './rate-limit.js';
import { Session } from './session.js';
import type { TrustBundle } from '../identity/chain.js';

/** Monotonic time drives timers; the wall clock judges certificate validity. */
export interface Now {
  readonly monoMs: number;
  readonly wallMs: number;
}

export type ChannelEvent =
  | {
      readonly type: 'established';
      readonly address: string;
      readonly peerId: string;
      readonly role: 'initiator' | 'responder';
    }
  | { readonly type: 'closed'; readonly address: string; readonly peerId: string; readonly reason: string }
  | { readonly type: 'handshake-failed'; readonly address: string; readonly reason: string };

export interface Output {
  readonly send: { readonly to: string; readonly bytes: Uint8Array }[];
  readonly delivered: { readonly from: string; readonly peerId: string; readonly data: Uint8Array }[];
  readonly events: ChannelEvent[];
}

export interface EndpointConfig {
  readonly crypto: Crypto;
  readonly identity: LocalIdentity;
  readonly bundle: TrustBundle;
  readonly revocations: RevocationView;
  readonly limits?: Partial<ChannelLimits>;
}

interface PendingInitiator {
  readonly state: InitiatorState;
  readonly address: string;
  readonly expectedPeerId: string | null;
  retries: number;
  nextRetryMs: number;
}

interface PendingResponder {
  readonly state: ResponderState;
  readonly address: string;
  readonly createdMs: number;
}

interface Finishing {
  readonly m3: Uint8Array;
  retries: number;
  nextRetryMs: number;
}

const emptyOutput = (): Output => ({ send: [], delivered: [], events: [] });

export class ChannelEndpoint {
  readonly counters = new Counters();
  readonly limits: ChannelLimits;
  private ctx: HandshakeContext;
  private readonly initiators = new Map<string, PendingInitiator>();
  private readonly initiatorIndex = new Map<number, string>();
  private readonly responders = new Map<number, PendingResponder>();
  private readonly sessions = new Map<number, Session>();
  private readonly current = new Map<string, Session>();
  private readonly finishing = new Map<number, Finishing>();
  /** Responder side: digest of the M3 that made a session, to answer a retransmitted M3 idempotently. */
  private readonly finishDigest = new Map<number, string>();
  private readonly rateLimiter: HandshakeRateLimiter;

  constructor(config: EndpointConfig) {
    this.limits = { ...channelLimits, ...config.limits };
    validateChannelLimits(this.limits);
    assert(config.identity.chain.length > 0, 'endpoint: identity has a certificate');
    this.ctx = {
      crypto: config.crypto,
      identity: config.identity,
      bundle: config.bundle,
      revocations: config.revocations,
    };
    this.rateLimiter = new HandshakeRateLimiter(
      this.limits.handshakeBurst,
      this.limits.handshakeRefillMs,
      this.limits.rateLimitedAddressesMax,
    );
  }

  private refuse(out: Output, reason: string): Output {
    this.counters.add(reason);
    return out;
  }

  private freshIndex(): number {
    for (let attempt = 0; attempt < 8; attempt++) {
      const b = this.ctx.crypto.randomBytes(4);
      const index =
        (((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) >>> 0;
      if (!this.sessions.has(index) && !this.responders.has(index) && !this.initiatorIndex.has(index)) return index;
    }
    assert(false, 'endpoint: 8 random 32-bit indices in a row collided');
  }

  /** Starts a handshake to `address` unless a session or a handshake with it already exists. */
  connect(address: string, now: Now, expectedPeerId: string | null = null): Output {
    const out = emptyOutput();
    if (this.current.has(address) || this.initiators.has(address)) return out;
    if (this.initiators.size >= this.limits.handshakesPendingMax) return this.refuse(out, 'handshake-busy');
    this.startHandshake(address, now, expectedPeerId, out);
    return out;
  }

  private startHandshake(address: string, now: Now, expectedPeerId: string | null, out: Output): void {
    assert(!this.initiators.has(address), 'endpoint: one handshake per address at a time');
    const state = startInitiator(this.ctx, this.freshIndex());
    this.initiators.set(address, {
      state,
      address,
      expectedPeerId,
      retries: 0,
      nextRetryMs: now.monoMs + this.limits.handshakeRetryMs,
    });
    this.initiatorIndex.set(state.index, address);
    out.send.push({ to: address, bytes: state.m1 });
    assert(this.initiatorIndex.get(state.index) === address, 'endpoint: the handshake is found by its index');
    assert(this.initiatorIndex.size === this.initiators.size, 'endpoint: every pending handshake has one index');
  }

  receive(address: string, bytes: Uint8Array, now: Now): Output {
    const out = emptyOutput();
    const type = messageType(bytes);
    if (!type.ok) return this.refuse(out, type.reason);
    switch (type.value) {
      case MessageType.Init:
        return this.onInit(address, bytes, now, out);
      case MessageType.Response:
        return this.onResponse(address, bytes, now, out);
      case MessageType.Finish:
        return this.onFinish(address, bytes, now, out);
      case MessageType.Data:
        return this.onData(address, bytes, now, out);
    }
  }

  private onInit(address: string, bytes: Uint8Array, now: Now, out: Output): Output {
    const init = decodeInit(bytes);
    if (!init.ok) return this.refuse(out, init.reason);
    for (const pending of this.responders.values()) {
      if (pending.address === address && sameEphemeral(pending.state, init.value)) {
        out.send.push({ to: address, bytes: pending.state.m2 }); // a retransmitted M1: same answer, no new work
        return this.refuse(out, 'handshake-duplicate');
      }
    }
    const mine = this.initiators.get(address);
    // Both sides started at once: the handshake whose initiator ephemeral is smaller wins, on both sides.
    if (mine !== undefined && compareBytes(mine.state.ephemeral.publicKey, init.value.ephemeral) < 0)
      return this.refuse(out, 'handshake-collision');
    if (!this.rateLimiter.take(hostOf(address), now.monoMs)) return this.refuse(out, 'handshake-rate-limited');
    if (this.sessions.size >= this.limits.sessionsMax) return this.refuse(out, 'handshake-busy');
    const state = respond(this.ctx, bytes, init.value, this.freshIndex());
    if (!state.ok) return this.refuse(out, state.reason);
    // Full: the oldest half-open handshake makes room. A refusal instead would let a trickle of M1s (one per
    // slot per handshakeTimeoutMs) keep every peer out; evicting, an attacker must send handshakesPendingMax
    // M1s within one round trip of a real peer's M1 to M3, which the per-host rate limit makes costly.
    if (this.responders.size >= this.limits.handshakesPendingMax) {
      this.responders.delete(this.responders.keys().next().value as number);
      this.counters.add('handshake-evicted');
    }
    if (mine !== undefined) this.dropInitiator(address);
    this.responders.set(state.value.index, { state: state.value, address, createdMs: now.monoMs });
    out.send.push({ to: address, bytes: state.value.m2 });
    assert(this.responders.size <= this.limits.handshakesPendingMax, 'endpoint: half-open handshakes are bounded');
    return out;
  }

  private dropInitiator(address: string): void {
    const pending = this.initiators.get(address);
    if (pending === undefined) return;
    this.initiators.delete(address);
    this.initiatorIndex.delete(pending.state.index);
    assert(!this.initiators.has(address), 'endpoint: the handshake is dropped');
    assert(this.initiatorIndex.size === this.initiators.size, 'endpoint: every pending handshake has one index');
  }

  private onResponse(address: string, bytes: Uint8Array, now: Now, out: Output): Output {
    const response = decodeResponse(bytes);
    if (!response.ok) return this.refuse(out, response.reason);
    const pending = this.initiators.get(this.initiatorIndex.get(response.value.receiverIndex) ?? '');
    if (pending === undefined || pending.address !== address) return this.refuse(out, 'handshake-unknown-session');
    const result = finishInitiator(this.ctx, pending.state, response.value, now.wallMs);
    // A bad seal may be noise from anyone who saw M1: ignore it and keep waiting. Anything later came from
    // a party that did the DH with our ephemeral key: the handshake is over, and refused.
    if (!result.ok && result.reason === 'handshake-bad-seal') return this.refuse(out, result.reason);
    this.dropInitiator(address);
    const reason = !result.ok
      ? result.reason
      : pending.expectedPeerId !== null && result.value.peer.id !== pending.expectedPeerId
        ? 'peer-id-mismatch'
        : null;
    if (reason !== null || !result.ok) {
      out.events.push({ type: 'handshake-failed', address, reason: reason ?? 'handshake-failed' });
      return this.refuse(out, reason ?? 'handshake-failed');
    }
    const session = new Session(this.ctx.crypto, this.limits, {
      localIndex: pending.state.index,
      remoteIndex: response.value.senderIndex,
      peerAddress: address,
      peer: result.value.peer,
      role: 'initiator',
      sendKey: result.value.sendKey,
      receiveKey: result.value.receiveKey,
      nowMs: now.monoMs,
    });
    this.install(session, now);
    this.finishing.set(session.localIndex, {
      m3: result.value.m3,
      retries: 0,
      nextRetryMs: now.monoMs + this.limits.handshakeRetryMs,
    });
    out.send.push({ to: address, bytes: result.value.m3 });
    out.events.push({ type: 'established', address, peerId: session.peer.id, role: 'initiator' });
    return out;
  }

  private onFinish(address: string, bytes: Uint8Array, now: Now, out: Output): Output {
    const finish = decodeFinish(bytes);
    if (!finish.ok) return this.refuse(out, finish.reason);
    const pending = this.responders.get(finish.value.receiverIndex);
    if (pending === undefined || pending.address !== address) {
      const session = this.sessions.get(finish.value.receiverIndex);
      if (session !== undefined && this.finishDigest.get(session.localIndex) === toHex(this.ctx.crypto.sha512(bytes))) {
        out.send.push({ to: address, bytes: session.seal(RecordKind.Keepalive, new Uint8Array(0), now.monoMs) });
        return this.refuse(out, 'handshake-duplicate');
      }
      return this.refuse(out, 'handshake-unknown-session');
    }
    this.responders.delete(finish.value.receiverIndex); // success or failure: nothing half-open stays
    const result = finishResponder(this.ctx, pending.state, finish.value, now.wallMs);
    if (!result.ok) {
      out.events.push({ type: 'handshake-failed', address, reason: result.reason });
      return this.refuse(out, result.reason);
    }
    const session = new Session(this.ctx.crypto, this.limits, {
      localIndex: pending.state.index,
      remoteIndex: pending.state.peerIndex,
      peerAddress: address,
      peer: result.value.peer,
      role: 'responder',
      sendKey: result.value.sendKey,
      receiveKey: result.value.receiveKey,
      nowMs: now.monoMs,
    });
    this.install(session, now);
    this.finishDigest.set(session.localIndex, toHex(this.ctx.crypto.sha512(bytes)));
    // Key confirmation for the initiator, which stops resending M3 when this arrives.
    out.send.push({ to: address, bytes: session.seal(RecordKind.Keepalive, new Uint8Array(0), now.monoMs) });
    out.events.push({ type: 'established', address, peerId: session.peer.id, role: 'responder' });
    return out;
  }

  /** The new session sends from now on; the one it replaces still receives for a grace period. */
  private install(session: Session, now: Now): void {
    assert(!this.sessions.has(session.localIndex), 'endpoint: a new session has a fresh index');
    const old = this.current.get(session.peerAddress);
    if (old !== undefined) {
      old.supersededUntilMs = now.monoMs + this.limits.supersededGraceMs;
      this.finishing.delete(old.localIndex);
    }
    this.sessions.set(session.localIndex, session);
    this.current.set(session.peerAddress, session);
    assert(this.current.get(session.peerAddress) === session, 'endpoint: the new session sends from now on');
    assert(old === undefined || old.supersededUntilMs !== null, 'endpoint: the replaced session only receives');
  }

  private onData(address: string, bytes: Uint8Array, now: Now, out: Output): Output {
    const header = decodeDataHeader(bytes);
    if (!header.ok) return this.refuse(out, header.reason);
    const session = this.sessions.get(header.value.receiverIndex);
    if (session === undefined) return this.refuse(out, 'session-unknown');
    const opened = session.open(bytes, now.monoMs);
    if (!opened.ok) return this.refuse(out, opened.reason);
    if (session.confirmed) this.finishing.delete(session.localIndex);
    if (opened.value.kind === RecordKind.Payload)
      out.delivered.push({ from: address, peerId: session.peer.id, data: new Uint8Array(opened.value.payload) });
    if (opened.value.kind === RecordKind.Close) this.teardown(session, 'peer-closed', false, now, out);
    return out;
  }

  send(address: string, data: Uint8Array, now: Now): Result<Output, 'no-session' | 'payload-too-large'> {
    const session = this.current.get(address);
    if (session === undefined) return fail('no-session');
    if (data.length > this.limits.payloadBytesMax) return fail('payload-too-large');
    const out = emptyOutput();
    out.send.push({ to: address, bytes: session.seal(RecordKind.Payload, data, now.monoMs) });
    return ok(out);
  }

  private teardown(session: Session, reason: string, notifyPeer: boolean, now: Now, out: Output): void {
    if (notifyPeer && session.supersededUntilMs === null) {
      const text = new TextEncoder().encode(reason).slice(0, this.limits.closeReasonBytesMax);
      out.send.push({ to: session.peerAddress, bytes: session.seal(RecordKind.Close, text, now.monoMs) });
    }
    this.sessions.delete(session.localIndex);
    this.finishing.delete(session.localIndex);
    this.finishDigest.delete(session.localIndex);
    if (this.current.get(session.peerAddress) === session) {
      this.current.delete(session.peerAddress);
      out.events.push({ type: 'closed', address: session.peerAddress, peerId: session.peer.id, reason });
    }
    this.counters.add(`closed-${reason}`);
    assert(!this.sessions.has(session.localIndex), 'endpoint: a torn-down session is gone');
    assert(this.current.get(session.peerAddress) !== session, 'endpoint: a torn-down session sends no more');
  }

  close(address: string, now: Now, reason = 'local-close'): Output {
    const out = emptyOutput();
    const session = this.current.get(address);
    if (session !== undefined) this.teardown(session, reason, true, now, out);
    this.dropInitiator(address);
    return out;
  }

  /**
   * The transport to `address` is gone (a stream binding's connection closed or broke). Over a stream the
   * connection is the path: every handshake and session with that address ends now, so a peer that hangs
   * up mid-handshake leaves nothing half-open behind.
   */
  disconnected(address: string, now: Now, reason = 'stream-closed'): Output {
    const out = emptyOutput();
    let halfOpen = this.initiators.has(address);
    this.dropInitiator(address);
    for (const [index, pending] of [...this.responders]) {
      if (pending.address !== address) continue;
      this.responders.delete(index);
      halfOpen = true;
    }
    for (const session of [...this.sessions.values()]) {
      if (session.peerAddress !== address) continue;
      if (this.finishing.has(session.localIndex)) halfOpen = true; // M3 sent, never confirmed
      this.teardown(session, reason, false, now, out);
    }
    if (halfOpen) {
      this.counters.add(`${reason}-mid-handshake`);
      out.events.push({ type: 'handshake-failed', address, reason: `${reason}-mid-handshake` });
    }
    return out;
  }

  /** New revocation list: future handshakes use it, and live sessions with a revoked peer end now. */
  setRevocations(view: RevocationView, now: Now): Output {
    this.ctx = { ...this.ctx, revocations: view };
    const out = emptyOutput();
    for (const session of [...this.sessions.values()]) {
      if (session.peer.chain.some((cert) => view.isRevoked(cert)))
        this.teardown(session, 'cert-revoked', true, now, out);
    }
    return out;
  }

  /** A new trust bundle (CA rollover) or identity (renewed certificate) for future handshakes. */
  setTrust(update: { readonly bundle?: TrustBundle; readonly identity?: LocalIdentity }): void {
    this.ctx = {
      ...this.ctx,
      bundle: update.bundle ?? this.ctx.bundle,
      identity: update.identity ?? this.ctx.identity,
    };
  }

  /**
   * After a renewal: a fresh handshake with every current peer, so each session carries the new certificate
   * before the old one expires (the old session keeps receiving through its grace period).
   */
  refresh(now: Now): Output {
    const out = emptyOutput();
    for (const session of [...this.current.values()]) {
      if (this.initiators.has(session.peerAddress) || this.initiators.size >= this.limits.handshakesPendingMax)
        continue;
      this.startHandshake(session.peerAddress, now, session.peer.id, out);
      this.counters.add('session-refresh');
    }
    return out;
  }

  tick(now: Now): Output {
    const out = emptyOutput();
    this.tickInitiators(now, out);
    for (const [index, pending] of [...this.responders]) {
      if (now.monoMs - pending.createdMs >= this.limits.handshakeTimeoutMs) {
        this.responders.delete(index);
        this.counters.add('handshake-timeout');
      }
    }
    for (const session of [...this.sessions.values()]) this.tickSession(session, now, out);
    return out;
  }

  private tickInitiators(now: Now, out: Output): void {
    for (const pending of [...this.initiators.values()]) {
      if (now.monoMs < pending.nextRetryMs) continue;
      if (pending.retries >= this.limits.handshakeRetriesMax) {
        this.dropInitiator(pending.address);
        this.counters.add('handshake-timeout');
        out.events.push({ type: 'handshake-failed', address: pending.address, reason: 'handshake-timeout' });
        continue;
      }
      pending.retries++;
      pending.nextRetryMs = now.monoMs + this.limits.handshakeRetryMs;
      out.send.push({ to: pending.address, bytes: pending.state.m1 });
    }
  }

  private tickSession(session: Session, now: Now, out: Output): void {
    session.forgetOldKeys(now.monoMs);
    if (session.supersededUntilMs !== null) {
      if (now.monoMs >= session.supersededUntilMs) this.teardown(session, 'superseded', false, now, out);
      return;
    }
    if (now.wallMs >= session.peer.expiresAtMs) return this.teardown(session, 'cert-expired', true, now, out);
    const age = now.monoMs - session.establishedMs;
    if (age >= this.limits.sessionLifetimeMs) return this.teardown(session, 'session-lifetime', true, now, out);
    if (session.exhausted) return this.teardown(session, 'session-exhausted', true, now, out);
    const finishing = this.finishing.get(session.localIndex);
    if (finishing !== undefined && now.monoMs >= finishing.nextRetryMs) {
      if (finishing.retries >= this.limits.handshakeRetriesMax)
        return this.teardown(session, 'handshake-timeout', false, now, out);
      finishing.retries++;
      finishing.nextRetryMs = now.monoMs + this.limits.handshakeRetryMs;
      out.send.push({ to: session.peerAddress, bytes: finishing.m3 });
    }
    // The initiator renews the session (fresh ephemeral keys) before its lifetime ends.
    if (
      session.role === 'initiator' &&
      age >= (this.limits.sessionLifetimeMs * this.limits.sessionRenewAtPermille) / 1000 &&
      !this.initiators.has(session.peerAddress)
    ) {
      this.startHandshake(session.peerAddress, now, session.peer.id, out);
    }
  }

  /** Established peers, for status output and tests. */
  peers(): { address: string; peerId: string; role: string; confirmed: boolean; epoch: number; expiresAtMs: number }[] {
    return [...this.current.values()].map((s) => ({
      address: s.peerAddress,
      peerId: s.peer.id,
      role: s.role,
      confirmed: s.confirmed,
      epoch: s.epoch,
      expiresAtMs: s.peer.expiresAtMs,
    }));
  }

  /** Half-open state, for tests: it must drain to zero. */
  pendingCounts(): { initiators: number; responders: number; sessions: number } {
    return { initiators: this.initiators.size, responders: this.responders.size, sessions: this.sessions.size };
  }

  sessionFor(address: string): Session | undefined {
    return this.current.get(address);
  }
}

/**
 * The host part of a transport address (`host:port`, `[v6]:port`): the rate limit is per host, or one host
 * would get a fresh bucket for every source port. An address without a port is its own host.
 */
export function hostOf(address: string): string {
  const colon = address.lastIndexOf(':');
  if (colon <= 0 || !/^\d+$/.test(address.slice(colon + 1))) return address;
  const host = address.slice(0, colon);
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
