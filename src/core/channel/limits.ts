// Every bound of the sealed channel, with its unit. An endpoint may override some (tests shrink the rekey
// and timeout figures); validateChannelConfig() checks the relationships once, at construction.
import { assert } from '../identity/result.js';

export const channelLimits = {
  /** One datagram on the wire: 1500-byte Ethernet MTU minus IPv4 and UDP headers. */
  datagramBytesMax: 1472,
  /** A handshake message: two certificates, a signature, headers; stays below the IPv6 minimum MTU. */
  handshakeBytesMax: 1200,
  /** Data record overhead: type 1 + index 4 + epoch 2 + counter 8 + Poly1305 tag 16 + kind 1. */
  recordOverheadBytes: 32,
  /** Sliding replay window per receive key (WireGuard keeps 8192 - 64; routers see less reordering). */
  replayWindowMessages: 1024,
  /** Rekey (next epoch key) after this many messages or this long, whichever comes first. */
  rekeyAfterMessages: 1 << 20,
  rekeyAfterMs: 120_000,
  /** Previous epoch's receive key is kept this long for late, reordered records. */
  previousKeyGraceMs: 10_000,
  /** Epochs are 16-bit on the wire: a session that would wrap is closed and re-handshaken. */
  epochsMax: 0xffff,
  /** A session lives at most this long; the initiator starts a fresh handshake at sessionRenewAtPermille of it. */
  sessionLifetimeMs: 3600_000,
  /** The initiator's fresh handshake starts at this fraction of the session lifetime (numerator / 1000). */
  sessionRenewAtPermille: 900,
  /** A superseded session still accepts records this long (in flight while both sides switch). */
  supersededGraceMs: 10_000,
  /** Initiator: resend M1 / M3 this often, this many times, then give up. */
  handshakeRetryMs: 1000,
  handshakeRetriesMax: 5,
  /** Responder: a half-open handshake (M2 sent, no valid M3) is dropped after this. */
  handshakeTimeoutMs: 10_000,
  /** Half-open handshakes held at once, per role. */
  handshakesPendingMax: 64,
  /** Established sessions (live and superseded). */
  sessionsMax: 256,
  /** Handshakes accepted per peer address: a token bucket of this burst, one token back per refill period. */
  handshakeBurst: 5,
  handshakeRefillMs: 2000,
  /** Addresses the rate limiter remembers; the stalest is forgotten first. */
  rateLimitedAddressesMax: 1024,
  /** Application payload per record. */
  payloadBytesMax: 1472 - 32,
  /** The reason text carried by a close record. */
  closeReasonBytesMax: 64,

  // --- the stream (TCP) binding: one frame per message, see framing.ts ---
  /** Open streams (inbound and outbound) per node; one more is closed on accept. */
  streamsMax: 64,
  /** Bytes queued for one stream's kernel buffer; a record that would exceed it is dropped and counted. */
  streamQueuedBytesMax: 64 * 1024,
  /** A stream with no established session this long after it opened is closed (no half-open streams). */
  streamHandshakeMs: 10_000,
} as const;

export type ChannelLimits = { -readonly [K in keyof typeof channelLimits]: number };

// Fixed by the wire format (docs/protocol/channel.md), so no endpoint may override them.
/** M1 is padded to this size so that a spoofed M1 cannot make us reflect much more than it costs (M2 ~ 2×). */
export const initPaddedBytes = 512;
/** A data record's header: type 1 + receiver index 4 + epoch 2 + counter 8. */
export const dataHeaderBytes = 15;
/** Poly1305 tag of a sealed record. */
export const sealTagBytes = 16;
/** The record kind byte inside the seal. */
export const recordKindBytes = 1;

export function validateChannelLimits(l: ChannelLimits): void {
  assert(l.payloadBytesMax + l.recordOverheadBytes <= l.datagramBytesMax, 'channel: a full record fits a datagram');
  assert(l.handshakeBytesMax <= l.datagramBytesMax, 'channel: a handshake message fits a datagram');
  assert(l.replayWindowMessages % 8 === 0, 'channel: replay window is whole bytes');
  assert(l.replayWindowMessages > 0, 'channel: replay window is not empty');
  assert(l.rekeyAfterMessages > 0, 'channel: rekey after at least one message');
  assert(l.handshakeTimeoutMs >= l.handshakeRetryMs, 'channel: responder waits at least one retry');
  assert(
    l.sessionLifetimeMs > l.handshakeRetryMs * (l.handshakeRetriesMax + 1) * 2,
    'channel: a session outlives its successor handshake',
  );
  assert(l.handshakeBurst >= 1, 'channel: at least one handshake per address');
  assert(l.epochsMax <= 0xffff, 'channel: epoch fits 16 bits');
  assert(l.datagramBytesMax <= 0xffff, 'channel: a message fits a 2-byte stream frame length');
  assert(l.streamQueuedBytesMax >= 2 + l.datagramBytesMax, 'channel: a stream queue holds at least one frame');
  assert(l.streamHandshakeMs >= l.handshakeRetryMs, 'channel: a stream lives through at least one handshake retry');
  assert(l.sessionRenewAtPermille > 0, 'channel: a session is renewed after it starts');
  assert(l.sessionRenewAtPermille < 1000, 'channel: a session is renewed before its lifetime ends');
  assert(
    dataHeaderBytes + sealTagBytes + recordKindBytes === l.recordOverheadBytes,
    'channel: record overhead is header, tag and kind',
  );
  assert(initPaddedBytes <= l.handshakeBytesMax, 'channel: a padded M1 is a handshake message');
}
