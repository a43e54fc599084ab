// Per-neighbour liveness, BFD-like (RFC 5880 §6.8.4: detection time = detect multiplier × interval): a probe
// goes out every interval over the one link to the neighbour, the neighbour echoes it, and a neighbour that has
// answered nothing for multiplier × interval is down. Pure: the caller sends what due() asks for, reports each
// echo with reply(), and calls tick() at its own pace; transitions come back as values.
//
// Unlike BFD's three-way handshake, a neighbour is `init` until it has answered `upAfterReplies` consecutive
// probes, and only a neighbour that was `up` can go `down`: a neighbour that never answers (no agent, an old
// version) is never declared dead, so it can never cause an action (issue 17: no false actions on a healthy mesh).
// BFD runs in the kernel or in hardware; this one runs in the agent's event loop, which can stall (a busy or
// emulated CPU). Time this node did not run does not count against the neighbour (a tick that comes more than two
// intervals late adds the excess to a credit), and a neighbour is down only when at least `detectMultiplier`
// probes were sent since its last echo, so a stall on our side never reads as a silence on theirs. And when echoes
// take long (the neighbour's CPU is the slow one), the wait is at least the smoothed round trip plus four times
// its variation (RFC 6298's retransmission timeout), up to twice the detection time: a slow neighbour is not a
// dead one.
import { assertThat } from '../result.js';

export interface LivenessConfig {
  /** Probe interval (BFD's Desired Min TX Interval). */
  readonly intervalMs: number;
  /** Missed intervals that make a neighbour down (BFD's Detect Mult). */
  readonly detectMultiplier: number;
  /** Consecutive answered probes that make a neighbour up (the hysteresis against a flapping link). */
  readonly upAfterReplies: number;
}

export const livenessDefaults: LivenessConfig = { intervalMs: 100, detectMultiplier: 3, upAfterReplies: 3 };

export const livenessLimits = {
  /** Below this a router's timer and a TCG guest's scheduling jitter are the probe. */
  intervalMsMin: 20,
  /** Above this the probe is slower than batman-adv's own OGM window: no point. */
  intervalMsMax: 10_000,
  detectMultiplierMin: 2,
  /** BFD's Detect Mult is one byte. */
  detectMultiplierMax: 255,
  upAfterRepliesMax: 16,
  /** Probes remembered for matching echoes (a later echo is counted as late and ignored). */
  outstandingMax: 64,
  /** Smoothing of the round-trip time (RFC 6298's alpha) and of its variation (beta). */
  rttWeight: 0.125,
  rttVarWeight: 0.25,
  /** Slow echoes stretch the wait to at most this many detection times. */
  rtoDetectionsMax: 2,
  /**
   * Weight of one probe's outcome in the loss estimate (an EWMA over about the last 8 probes: 0.8 s at the default
   * interval). 1/16 took about 1.4 s to cross one half at 84 % round-trip loss, longer than a dead verdict, and a
   * degraded Raft leader took its first dead link out before its others counted as lossy (lab heal-more, 6 December).
   */
  lossWeight: 1 / 8,
} as const;

/** The loss estimate's window in probes (1 / lossWeight). */
const lossWindowProbes = Math.round(1 / livenessLimits.lossWeight);

assertThat(
  livenessLimits.outstandingMax >= livenessLimits.detectMultiplierMax / 4,
  'liveness: echoes within the window',
);

export function validateLivenessConfig(c: LivenessConfig): string[] {
  const errors: string[] = [];
  const l = livenessLimits;
  if (!Number.isInteger(c.intervalMs) || c.intervalMs < l.intervalMsMin || c.intervalMs > l.intervalMsMax)
    errors.push(`probe interval ${c.intervalMs} ms: allowed ${l.intervalMsMin}..${l.intervalMsMax} ms`);
  if (
    !Number.isInteger(c.detectMultiplier) ||
    c.detectMultiplier < l.detectMultiplierMin ||
    c.detectMultiplier > l.detectMultiplierMax
  )
    errors.push(`detect multiplier ${c.detectMultiplier}: allowed ${l.detectMultiplierMin}..${l.detectMultiplierMax}`);
  if (!Number.isInteger(c.upAfterReplies) || c.upAfterReplies < 1 || c.upAfterReplies > l.upAfterRepliesMax)
    errors.push(`up after replies ${c.upAfterReplies}: allowed 1..${l.upAfterRepliesMax}`);
  return errors;
}

/** Detection time (RFC 5880 §6.8.4). */
export const detectionTimeMs = (c: LivenessConfig): number => c.intervalMs * c.detectMultiplier;

/**
 * Bytes per second one node sends to one neighbour for liveness: its own probes and its echoes of the
 * neighbour's probes (both ends probe), each `wireBytes` long on the wire.
 */
export const probeBytesPerS = (c: LivenessConfig, wireBytes: number): number =>
  Math.round((2 * wireBytes * 1000) / c.intervalMs);

export type LivenessState = 'init' | 'up' | 'down';

export interface LivenessTransition {
  readonly from: LivenessState;
  readonly to: LivenessState;
  readonly atMs: number;
  /** 'replies': upAfterReplies consecutive echoes; 'detect-timeout': nothing for the detection time. */
  readonly reason: 'replies' | 'detect-timeout';
  /** Time since the last echo (down) or the smoothed round trip (up). */
  readonly sinceReplyMs: number | null;
  readonly rttMs: number | null;
}

export class Liveness {
  private current: LivenessState = 'init';
  private nextSeq = 1;
  private nextDueMs: number;
  private readonly sentAtMs = new Map<number, number>();
  private lastReplySeq = 0;
  private run = 0;
  private lastReplyAtMs: number | null = null;
  private lastTickMs: number | null = null;
  /** Time this node was stalled since the last echo (it does not count as the neighbour's silence). */
  private creditMs = 0;
  /** Probes sent since the last echo. */
  private unanswered = 0;
  private smoothedRttMs: number | null = null;
  private rttVarMs = 0;
  /** Share of recent probes that got no echo (0..1), null before the first echo: a probe skipped by a later
   * echo counts as lost (echoes come back in order on one link; a straggler is `late`). */
  private lossEstimate: number | null = null;
  readonly counters = { sent: 0, replies: 0, late: 0, unexpected: 0, downs: 0, ups: 0 };

  constructor(
    readonly config: LivenessConfig,
    startMs: number,
  ) {
    assertThat(
      validateLivenessConfig(config).length === 0,
      `liveness: valid config (${validateLivenessConfig(config)})`,
    );
    this.nextDueMs = startMs;
  }

  get state(): LivenessState {
    return this.current;
  }

  get rttMs(): number | null {
    return this.smoothedRttMs === null ? null : Math.round(this.smoothedRttMs * 10) / 10;
  }

  get lastReplyMs(): number | null {
    return this.lastReplyAtMs;
  }

  /**
   * Share of the last ~8 probes that got no echo, 0..1 (null before the first echo). The probes sent after the last
   * echo and unanswered for longer than an echo takes (`echoWaitMs`) count as lost until an echo says otherwise: a
   * link going bad reads lossy now, not at its next echo (at 84 % loss one comes every 0.6 s or so).
   */
  loss(nowMs: number): number | null {
    if (this.lossEstimate === null) return null;
    const waitMs = this.echoWaitMs;
    let overdue = 0;
    for (const [seq, sentAt] of this.sentAtMs) if (seq > this.lastReplySeq && nowMs - sentAt > waitMs) overdue++;
    let loss = this.lossEstimate;
    for (let i = 0; i < Math.min(overdue, lossWindowProbes); i++) loss += livenessLimits.lossWeight * (1 - loss);
    return Math.round(loss * 1000) / 1000;
  }

  /** How long an echo may take before its probe counts as lost for `loss`: the RTO, at least one interval. */
  get echoWaitMs(): number {
    const rto = this.smoothedRttMs === null ? 0 : this.smoothedRttMs + 4 * this.rttVarMs;
    return Math.min(Math.max(this.config.intervalMs, rto), this.detectMs);
  }

  /** The sequence number of the probe to send now, or null when none is due. Records it as sent. */
  due(nowMs: number): number | null {
    if (nowMs < this.nextDueMs) return null;
    // A caller that was late (a stalled event loop) sends one probe, not the backlog.
    this.nextDueMs = Math.max(this.nextDueMs + this.config.intervalMs, nowMs + 1);
    const seq = this.nextSeq;
    this.nextSeq = (this.nextSeq % 0xffffffff) + 1;
    this.sentAtMs.set(seq, nowMs);
    this.unanswered++;
    if (this.sentAtMs.size > livenessLimits.outstandingMax)
      this.sentAtMs.delete(this.sentAtMs.keys().next().value as number);
    this.counters.sent++;
    assertThat(this.sentAtMs.size <= livenessLimits.outstandingMax, 'liveness: outstanding probes bounded');
    return seq;
  }

  /** An echo of probe `seq` arrived (already authenticated by the caller). */
  reply(seq: number, nowMs: number): void {
    const sentAt = this.sentAtMs.get(seq);
    if (sentAt === undefined) {
      if (seq > 0 && seq < this.nextSeq) this.counters.late++;
      else this.counters.unexpected++;
      return;
    }
    this.sentAtMs.delete(seq);
    this.counters.replies++;
    const rtt = Math.max(0, nowMs - sentAt);
    if (this.smoothedRttMs === null) {
      this.smoothedRttMs = rtt;
      this.rttVarMs = rtt / 2;
    } else {
      this.rttVarMs += livenessLimits.rttVarWeight * (Math.abs(this.smoothedRttMs - rtt) - this.rttVarMs);
      this.smoothedRttMs += livenessLimits.rttWeight * (rtt - this.smoothedRttMs);
    }
    const w = livenessLimits.lossWeight;
    if (seq > this.lastReplySeq) {
      // Probes between the last echo and this one got none: each lost, then this one answered. A gap longer than
      // the estimate's window (a link that was down: the state machine says so) counts as one window, so a link
      // that comes back reads lossy for a few echoes, not for dozens.
      let loss = this.lossEstimate ?? 0;
      const skipped = Math.min(seq - this.lastReplySeq - 1, this.lastReplySeq === 0 ? 0 : lossWindowProbes);
      for (let i = 0; i < skipped; i++) loss += w * (1 - loss);
      this.lossEstimate = loss * (1 - w);
    }
    this.run = seq === this.lastReplySeq + 1 ? this.run + 1 : 1;
    this.lastReplySeq = seq;
    this.lastReplyAtMs = nowMs;
    this.creditMs = 0;
    this.unanswered = 0;
  }

  /** State changes due at nowMs (at most one per call). */
  tick(nowMs: number): LivenessTransition | null {
    const from = this.current;
    const lateMs = this.lastTickMs === null ? 0 : nowMs - this.lastTickMs - this.config.intervalMs;
    this.lastTickMs = nowMs;
    if (lateMs > this.config.intervalMs) {
      // We were not running: what arrived meanwhile is still in the socket. No verdict on this tick.
      this.creditMs += lateMs;
      return null;
    }
    if (from !== 'up' && this.run >= this.config.upAfterReplies && this.answeredRecently(nowMs)) {
      this.current = 'up';
      this.counters.ups++;
      return {
        from,
        to: 'up',
        atMs: nowMs,
        reason: 'replies',
        sinceReplyMs: this.sinceReply(nowMs),
        rttMs: this.rttMs,
      };
    }
    if (from === 'up' && !this.answeredRecently(nowMs) && this.unanswered >= this.config.detectMultiplier) {
      this.current = 'down';
      this.run = 0;
      this.counters.downs++;
      return {
        from,
        to: 'down',
        atMs: nowMs,
        reason: 'detect-timeout',
        sinceReplyMs: this.sinceReply(nowMs),
        rttMs: this.rttMs,
      };
    }
    return null;
  }

  private sinceReply(nowMs: number): number | null {
    return this.lastReplyAtMs === null ? null : nowMs - this.lastReplyAtMs;
  }

  /**
   * The wait before down: the configured detection time, or longer when echoes are slow (RFC 6298's RTO), at most
   * rtoDetectionsMax detection times (a neighbour slower than that is reported; the edge asks batman-adv too).
   */
  get detectMs(): number {
    const base = detectionTimeMs(this.config);
    const rto = this.smoothedRttMs === null ? 0 : this.smoothedRttMs + 4 * this.rttVarMs;
    return Math.round(Math.min(Math.max(base, rto), livenessLimits.rtoDetectionsMax * base));
  }

  private answeredRecently(nowMs: number): boolean {
    return this.lastReplyAtMs !== null && nowMs - this.lastReplyAtMs - this.creditMs <= this.detectMs;
  }
}

/** How an anchor judges its own links (`linksDegraded`). */
export const anchorLinkLimits = {
  /**
   * A link is failing when its probe is down or lost at least this share of its recent probes: a leader behind
   * lossy links (60 % each way is 84 % of round trips) is heard late and rarely while its probes still see an echo
   * now and then, so it is never all "dead" at once (lab heal-more, anchor phase).
   */
  lossMin: 0.5,
  /**
   * Once one link is dead, another counts as failing from this share on: links that degrade together go dead one
   * after another, up to a second or two apart under 84 % loss, while the loss of the others shows after two or
   * three probes (a single cut leaves them clean). At `lossMin` the leader judged itself degraded only when its
   * second link went dead too, 1.2-2 s after the first (lab heal-more, 6 December 19:13).
   */
  suspectLossMin: 0.25,
} as const;

/**
 * Whether most of a node's probed links are failing (dead, or lossy as `anchorLinkLimits` says). Not half: the
 * neighbour of a bad node has half its links bad too (the one to it), and moved Raft leadership back to it (lab
 * heal-more, 6 December 13:25). Links never answered (`init`) are not counted.
 */
export function linksDegraded(links: ReadonlyArray<{ readonly state: LivenessState; readonly loss: number | null }>): {
  degraded: boolean;
  probed: number;
  dead: number;
  lossy: number;
  lossMin: number;
} {
  const probed = links.filter((l) => l.state !== 'init');
  const dead = probed.filter((l) => l.state === 'down').length;
  const lossMin = dead > 0 ? anchorLinkLimits.suspectLossMin : anchorLinkLimits.lossMin;
  const lossy = probed.filter((l) => l.state === 'up' && (l.loss ?? 0) >= lossMin).length;
  return {
    degraded: probed.length > 0 && (dead + lossy) * 2 > probed.length,
    probed: probed.length,
    dead,
    lossy,
    lossMin,
  };
}

/** The probe on the wire (inside a sealed record): kind, then the sequence number, big-endian. */
export const probeKind = { request: 1, reply: 2 } as const;
export const probePayloadBytes = 5;

export function encodeProbe(kind: 'request' | 'reply', seq: number): Uint8Array {
  assertThat(Number.isInteger(seq) && seq >= 0 && seq <= 0xffffffff, 'probe: seq is a u32');
  const out = new Uint8Array(probePayloadBytes);
  out[0] = probeKind[kind];
  new DataView(out.buffer).setUint32(1, seq);
  return out;
}

export function decodeProbe(bytes: Uint8Array): { kind: 'request' | 'reply'; seq: number } | null {
  if (bytes.length !== probePayloadBytes) return null;
  const kind = bytes[0] === probeKind.request ? 'request' : bytes[0] === probeKind.reply ? 'reply' : null;
  if (kind === null) return null;
  return { kind, seq: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1) };
}
