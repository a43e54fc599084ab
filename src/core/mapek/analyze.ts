// Monitor + Analyse: observations are recorded into bounded per-entity state (neighbours, MACs, components,
// this node's Raft role), and on tick turned into findings: a symptom on a target with the candidate actions
// the catalogue offers, or an undo action when what we did is no longer needed. Nothing here decides which
// action runs (plan.ts) or remembers outcomes (knowledge.ts).
import { assertThat, type Counters } from '../result.js';
import { authBucketMs, mapekLimits, rateSampleMsMin } from './limits.js';
import type { Action, MapekConfig, Observation, Symptom } from './types.js';
import { cut, fmtMs, fmtRate } from './trace.js';

/** A finding: a symptom on a target; planning picks one of `actions` (for an undo there is exactly one). */
export interface Finding {
  readonly symptom: Symptom;
  readonly target: string;
  readonly rule: string;
  readonly why: string;
  readonly actions: readonly Action[];
  /** Undo findings restore what an earlier action changed: exempt from damping, never escalated. */
  readonly undo: boolean;
}

/** What our ok'd actions changed, so analysis knows what to undo (kept by mapek.ts from outcomes). */
export interface Applied {
  /** iface -> the neighbour whose death took it out of batman-adv, and when. */
  readonly linkDown: Map<string, { neighbour: string; atMs: number }>;
  readonly retuned: Set<string>;
  /** iface -> when we last bounced it (the next bounce waits ifaceDeadBounceMs again). */
  readonly bounced: Map<string, number>;
  /** mac -> what is in force and why. */
  readonly macs: Map<string, { kind: 'rate-limit' | 'isolate'; cause: 'flood' | 'auth' }>;
}

interface NeighbourState {
  readonly neighbour: string;
  readonly iface: string;
  /** The verdict after hysteresis: dead at once when the probe says so, alive after aliveGoodMin good ones. */
  alive: boolean;
  goodRun: number;
  lastRaw: boolean;
  deadSinceMs: number | null;
  lastSeenMs: number;
  rttMs: number | null;
  tq: number | null;
  /** The neighbour leads Raft (this node votes there): its dead link is held leaderLinkHoldMs. */
  leadsRaft: boolean;
  /** Times of the probe's raw alive/dead transitions, oldest first, at most flapHistoryMax. */
  transitions: number[];
}

/** EWMA mean and variance of a rate (per second), and the z-score of a new sample against them. */
export class RateBaseline {
  mean = 0;
  variance = 0;
  samples = 0;

  z(x: number, stdFloor: number): number {
    return (x - this.mean) / Math.max(Math.sqrt(this.variance), stdFloor);
  }

  add(x: number, alpha: number): void {
    if (this.samples === 0) {
      this.mean = x;
    } else {
      const d = x - this.mean;
      this.mean += alpha * d;
      this.variance = (1 - alpha) * (this.variance + alpha * d * d);
    }
    this.samples++;
  }
}

interface MacState {
  readonly mac: string;
  lastSeenMs: number;
  lastAtMs: number | null;
  lastPackets: number;
  lastDropped: number;
  pps: number;
  passedPps: number;
  z: number;
  readonly baseline: RateBaseline;
  /** Rate samples seen (the warm-up counts these, not the ones the baseline learnt). */
  seen: number;
  anomalousRun: number;
  flooding: boolean;
  /** When the rate last went below floodPpsMin (null while above). */
  calmSinceMs: number | null;
  authCount: number;
  authBucketStartMs: number | null;
  authRate: number;
  authZ: number;
  readonly authBaseline: RateBaseline;
  authFailing: boolean;
  lastAuthMs: number | null;
  lastAuthReason: string;
}

interface ComponentState {
  state: 'up' | 'degraded' | 'down' | 'disabled';
  sinceMs: number;
  lastSeenMs: number;
}

interface RaftState {
  self: string;
  role: string;
  leader: string | null;
  term: number;
  degradedSinceMs: number | null;
  degradedWhy: string | null;
  voters: number;
  atMs: number;
}

const macRe = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Why an observation is refused (a counted reason), or null when it is usable. */
export function checkObservation(o: Observation): string | null {
  if (!Number.isFinite(o.atMs) || o.atMs < 0) return 'observation-bad-time';
  switch (o.kind) {
    case 'neighbour':
      if (!macRe.test(o.neighbour)) return 'observation-bad-mac';
      return goodName(o.iface) ? null : 'observation-bad-name';
    case 'xdp':
      if (!macRe.test(o.mac)) return 'observation-bad-mac';
      return counter(o.packets) && counter(o.dropped) && counter(o.ogms) && o.dropped <= o.packets
        ? null
        : 'observation-bad-counter';
    case 'auth-failure':
      return o.mac === null || macRe.test(o.mac) ? null : 'observation-bad-mac';
    case 'component':
      return goodName(o.name) ? null : 'observation-bad-name';
    case 'raft':
      return goodName(o.self) && Number.isSafeInteger(o.term) ? null : 'observation-bad-name';
    case 'gossip':
      return counter(o.rejections) && counter(o.rounds) ? null : 'observation-bad-counter';
  }
}

const counter = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
const goodName = (s: string): boolean => typeof s === 'string' && s.length > 0 && s.length <= mapekLimits.nameCharsMax;

/** The recorded state of everything observed, bounded; `findings()` reads it on tick. */
export class Analysis {
  readonly neighbours = new Map<string, NeighbourState>();
  readonly macs = new Map<string, MacState>();
  readonly components = new Map<string, ComponentState>();
  raft: RaftState | null = null;
  gossipRejections = 0;

  constructor(
    private readonly config: MapekConfig,
    private readonly counters: Counters,
    private readonly applied: Applied,
  ) {}

  observe(o: Observation): void {
    switch (o.kind) {
      case 'neighbour':
        return this.observeNeighbour(o);
      case 'xdp':
        return this.observeXdp(o);
      case 'auth-failure':
        return this.observeAuth(o);
      case 'component':
        return this.observeComponent(o);
      case 'raft':
        return this.observeRaft(o);
      case 'gossip':
        this.gossipRejections = o.rejections;
        return;
    }
  }

  private observeNeighbour(o: Extract<Observation, { kind: 'neighbour' }>): void {
    const key = `${o.iface} ${o.neighbour}`;
    let n = this.neighbours.get(key);
    if (n === undefined) {
      if (!this.makeRoom(this.neighbours, mapekLimits.neighboursMax, (x) => x.lastSeenMs)) return;
      n = {
        neighbour: o.neighbour,
        iface: o.iface,
        alive: o.alive,
        goodRun: o.alive ? 1 : 0,
        lastRaw: o.alive,
        deadSinceMs: o.alive ? null : o.atMs,
        lastSeenMs: o.atMs,
        rttMs: o.rttMs,
        tq: o.tq,
        leadsRaft: o.leadsRaft === true,
        transitions: [],
      };
      this.neighbours.set(key, n);
      return;
    }
    if (o.atMs < n.lastSeenMs) return this.counters.add('observation-out-of-order');
    n.lastSeenMs = o.atMs;
    n.rttMs = o.rttMs;
    n.tq = o.tq;
    n.leadsRaft = o.leadsRaft === true;
    if (o.alive !== n.lastRaw) {
      if (n.transitions.length >= mapekLimits.flapHistoryMax) n.transitions.shift();
      n.transitions.push(o.atMs);
      n.lastRaw = o.alive;
    }
    if (!o.alive) {
      n.goodRun = 0;
      if (n.alive) n.deadSinceMs = o.atMs;
      n.alive = false;
      return;
    }
    n.goodRun++;
    // Hysteresis: dead at the probe's first "not alive" (its detect multiplier already waited), alive again
    // only after aliveGoodMin consecutive good observations, so one lucky probe does not bring a link back.
    if (!n.alive && n.goodRun >= this.config.aliveGoodMin) {
      n.alive = true;
      n.deadSinceMs = null;
    }
  }

  private macState(mac: string, atMs: number): MacState | null {
    let m = this.macs.get(mac);
    if (m === undefined) {
      const keep = (x: MacState): boolean => x.flooding || x.authFailing || this.applied.macs.has(x.mac);
      if (!this.makeRoom(this.macs, mapekLimits.macsMax, (x) => (keep(x) ? Infinity : x.lastSeenMs))) {
        return null;
      }
      m = {
        mac,
        lastSeenMs: atMs,
        lastAtMs: null,
        lastPackets: 0,
        lastDropped: 0,
        pps: 0,
        passedPps: 0,
        z: 0,
        baseline: new RateBaseline(),
        seen: 0,
        anomalousRun: 0,
        flooding: false,
        calmSinceMs: null,
        authCount: 0,
        authBucketStartMs: null,
        authRate: 0,
        authZ: 0,
        authBaseline: new RateBaseline(),
        authFailing: false,
        lastAuthMs: null,
        lastAuthReason: '',
      };
      this.macs.set(mac, m);
    }
    m.lastSeenMs = Math.max(m.lastSeenMs, atMs);
    return m;
  }

  private observeXdp(o: Extract<Observation, { kind: 'xdp' }>): void {
    const m = this.macState(o.mac, o.atMs);
    if (m === null) return;
    if (m.lastAtMs === null || o.packets < m.lastPackets || o.dropped < m.lastDropped) {
      if (m.lastAtMs !== null) this.counters.add('xdp-counter-reset');
      m.lastAtMs = o.atMs;
      m.lastPackets = o.packets;
      m.lastDropped = o.dropped;
      return;
    }
    const dtMs = o.atMs - m.lastAtMs;
    if (dtMs < rateSampleMsMin) return; // merged into the next sample
    m.pps = ((o.packets - m.lastPackets) * 1000) / dtMs;
    m.passedPps = ((o.packets - o.dropped - (m.lastPackets - m.lastDropped)) * 1000) / dtMs;
    m.lastAtMs = o.atMs;
    m.lastPackets = o.packets;
    m.lastDropped = o.dropped;
    this.rateSample(m, o.atMs);
  }

  private rateSample(m: MacState, atMs: number): void {
    const c = this.config;
    m.z = m.baseline.z(m.pps, c.rateStdFloor);
    // An outlier never teaches the baseline (a long flood must not become normal), not even during warm-up
    // once three samples give the baseline a shape; a verdict waits for warmupSamples.
    const outlier = m.baseline.samples >= 3 && m.pps >= c.floodPpsMin && m.z >= c.zScoreMin;
    m.seen++;
    const anomalous = outlier && m.seen > c.warmupSamples;
    m.calmSinceMs = m.pps < c.floodPpsMin ? (m.calmSinceMs ?? atMs) : null;
    if (outlier && !anomalous) return;
    if (anomalous) {
      m.anomalousRun++;
      if (m.anomalousRun >= c.floodSamplesMin) m.flooding = true;
      return;
    }
    m.anomalousRun = 0;
    if (m.flooding && m.calmSinceMs !== null && atMs - m.calmSinceMs >= c.floodCalmMs) m.flooding = false;
    if (!m.flooding) m.baseline.add(m.pps, c.ewmaAlpha);
  }

  private observeAuth(o: Extract<Observation, { kind: 'auth-failure' }>): void {
    if (o.mac === null) return this.counters.add('auth-failure-without-mac');
    const m = this.macState(o.mac, o.atMs);
    if (m === null) return;
    m.authCount++;
    m.authBucketStartMs ??= o.atMs;
    m.lastAuthMs = Math.max(m.lastAuthMs ?? 0, o.atMs);
    m.lastAuthReason = cut(o.reason, mapekLimits.nameCharsMax);
  }

  private observeComponent(o: Extract<Observation, { kind: 'component' }>): void {
    const c = this.components.get(o.name);
    if (c === undefined) {
      if (!this.makeRoom(this.components, mapekLimits.componentsMax, (x) => x.lastSeenMs)) return;
      this.components.set(o.name, { state: o.state, sinceMs: o.atMs, lastSeenMs: o.atMs });
      return;
    }
    if (c.state !== o.state) c.sinceMs = o.atMs;
    c.state = o.state;
    c.lastSeenMs = o.atMs;
  }

  private observeRaft(o: Extract<Observation, { kind: 'raft' }>): void {
    const was = this.raft;
    const degraded = o.selfDegraded && o.role === 'leader';
    const since = degraded ? (was?.degradedSinceMs ?? o.atMs) : null;
    const why = degraded && typeof o.degradedWhy === 'string' ? cut(o.degradedWhy, mapekLimits.nameCharsMax) : null;
    this.raft = {
      self: o.self,
      role: o.role,
      leader: o.leader,
      term: o.term,
      degradedSinceMs: since,
      degradedWhy: why,
      voters: typeof o.voters === 'number' && Number.isInteger(o.voters) && o.voters >= 1 ? Math.min(o.voters, 255) : 1,
      atMs: o.atMs,
    };
  }

  /** Insert room in a bounded map: forget the entry with the smallest age key (Infinity = keep). */
  private makeRoom<T>(map: Map<string, T>, max: number, age: (t: T) => number): boolean {
    if (map.size < max) return true;
    let oldest: string | null = null;
    let oldestAge = Infinity;
    for (const [k, v] of map) {
      const a = age(v);
      if (a < oldestAge) {
        oldest = k;
        oldestAge = a;
      }
    }
    if (oldest === null) {
      this.counters.add('observation-table-full');
      return false;
    }
    map.delete(oldest);
    this.counters.add('observation-forgotten');
    return true;
  }

  /** Per-tick upkeep: auth-failure buckets become rates, silent neighbours and MACs are forgotten. */
  advance(nowMs: number): void {
    const applied = this.applied;
    const c = this.config;
    for (const m of this.macs.values()) this.authBucket(m, nowMs);
    for (const [key, n] of this.neighbours) {
      if (nowMs - n.lastSeenMs >= c.neighbourStaleMs) {
        this.neighbours.delete(key);
        this.counters.add('neighbour-forgotten');
      }
    }
    for (const [mac, m] of this.macs) {
      const quietMs = Math.max(c.neighbourStaleMs, c.authCalmMs);
      if (!applied.macs.has(mac) && !m.flooding && !m.authFailing && nowMs - m.lastSeenMs >= quietMs) {
        this.macs.delete(mac);
      }
    }
  }

  private authBucket(m: MacState, nowMs: number): void {
    const c = this.config;
    if (m.authBucketStartMs === null || nowMs - m.authBucketStartMs < authBucketMs) {
      if (m.authFailing && m.lastAuthMs !== null && nowMs - m.lastAuthMs >= c.authCalmMs) m.authFailing = false;
      return;
    }
    m.authRate = (m.authCount * 1000) / (nowMs - m.authBucketStartMs);
    m.authZ = m.authBaseline.z(m.authRate, c.authStdFloor);
    const anomalous = m.authRate >= c.authFailuresPerSecMin && m.authZ >= c.zScoreMin;
    if (anomalous) m.authFailing = true;
    else if (!m.authFailing) m.authBaseline.add(m.authRate, c.ewmaAlpha);
    m.authCount = 0;
    m.authBucketStartMs = m.authRate > 0 ? nowMs : null;
  }

  /** The neighbours seen on one interface. */
  onIface(iface: string): NeighbourState[] {
    const out: NeighbourState[] = [];
    for (const n of this.neighbours.values()) if (n.iface === iface) out.push(n);
    return out;
  }

  ifaces(applied: Applied): string[] {
    const set = new Set<string>();
    for (const n of this.neighbours.values()) set.add(n.iface);
    for (const iface of applied.linkDown.keys()) set.add(iface);
    for (const iface of applied.retuned) set.add(iface);
    return [...set].sort();
  }

  /** Transitions of the neighbours on an interface within the flap window, and the latest one. */
  flap(iface: string, nowMs: number): { count: number; lastMs: number | null } {
    let count = 0;
    let lastMs: number | null = null;
    for (const n of this.onIface(iface)) {
      for (const t of n.transitions) {
        if (nowMs - t < this.config.flapWindowMs) count++;
        if (lastMs === null || t > lastMs) lastMs = t;
      }
    }
    return { count, lastMs };
  }

  /** Every finding, in a fixed order: interfaces, MACs, the anchor, components. Healthy state: none. */
  findings(nowMs: number, applied: Applied): Finding[] {
    assertThat(applied.linkDown.size <= mapekLimits.ifacesMax, 'applied.linkDown is bounded');
    const out: Finding[] = [];
    for (const iface of this.ifaces(applied)) this.ifaceFindings(iface, nowMs, applied, out);
    for (const m of this.macs.values()) this.macFindings(m, nowMs, applied, out);
    this.anchorFinding(nowMs, out);
    for (const [name, comp] of this.components) {
      if (comp.state !== 'down' || nowMs - comp.sinceMs < this.config.componentDownMs) continue;
      out.push({
        symptom: 'component-down',
        target: `component:${name}`,
        rule: 'component-down-restart',
        undo: false,
        why: `component ${name} down for ${fmtMs(nowMs - comp.sinceMs)} >= componentDownMs=${this.config.componentDownMs}`,
        actions: [{ kind: 'restart-component', name }],
      });
    }
    return out;
  }

  private ifaceFindings(iface: string, nowMs: number, applied: Applied, out: Finding[]): void {
    const c = this.config;
    const target = `iface:${iface}`;
    const flap = this.flap(iface, nowMs);
    const flapping = flap.count >= c.flapTransitionsMin;
    const down = applied.linkDown.get(iface);
    const nbs = this.onIface(iface);
    if (down !== undefined) {
      const n = nbs.find((x) => x.neighbour === down.neighbour);
      if (n === undefined || n.alive) {
        const why =
          n === undefined
            ? `neighbour ${down.neighbour} on ${iface} forgotten (no observation for neighbourStaleMs=${c.neighbourStaleMs}): restore the link`
            : `neighbour ${n.neighbour} on ${iface} alive again: ${n.goodRun} good probes >= aliveGoodMin=${c.aliveGoodMin} (rtt ${n.rttMs ?? '-'} ms, tq ${n.tq ?? '-'})`;
        out.push({
          symptom: 'neighbour-alive',
          target,
          rule: 'neighbour-alive-link-up',
          why,
          undo: true,
          actions: [{ kind: 'link-up', iface, neighbour: down.neighbour }],
        });
      } else if (
        nbs.every((x) => !x.alive) &&
        nowMs - Math.max(down.atMs, applied.bounced.get(iface) ?? 0) >= c.ifaceDeadBounceMs
      ) {
        const since = Math.max(down.atMs, applied.bounced.get(iface) ?? 0);
        const what = applied.bounced.has(iface) ? 'the last bounce' : 'link-down';
        out.push({
          symptom: 'neighbour-dead',
          target,
          rule: 'iface-dead-bounce',
          undo: false,
          why: `every neighbour on ${iface} dead for ${fmtMs(nowMs - since)} since ${what} >= ifaceDeadBounceMs=${c.ifaceDeadBounceMs}`,
          actions: [{ kind: 'bounce-interface', iface }],
        });
      }
    } else {
      this.deadFinding(iface, nbs, flapping, flap.count, nowMs, out);
    }
    if (applied.retuned.has(iface)) {
      if (!flapping && flap.lastMs !== null && nowMs - flap.lastMs >= c.flapCalmMs) {
        out.push({
          symptom: 'link-calm',
          target,
          rule: 'link-calm-restore',
          undo: true,
          why: `${iface} calm: no transition for ${fmtMs(nowMs - flap.lastMs)} >= flapCalmMs=${c.flapCalmMs}`,
          actions: [{ kind: 'restore-tuning', iface }],
        });
      }
    } else if (flapping && down === undefined) {
      // Retuned only while the link is under the mesh interface: batctl cannot set a hard interface's settings
      // while we keep it out (seen in the lab: retune failed not-in-mesh). Its link-up comes first.
      out.push({
        symptom: 'link-flapping',
        target,
        rule: 'link-flapping-retune',
        undo: false,
        why: `${iface} flapping: ${flap.count} transitions in flapWindowMs=${c.flapWindowMs} >= flapTransitionsMin=${c.flapTransitionsMin}`,
        actions: [{ kind: 'retune', iface, settings: c.retuneSettings }],
      });
    }
  }

  private deadFinding(
    iface: string,
    nbs: NeighbourState[],
    flapping: boolean,
    flaps: number,
    nowMs: number,
    out: Finding[],
  ): void {
    const dead = nbs.find((x) => !x.alive);
    // A shared interface (several neighbours on it) is taken out only when every neighbour on it is dead.
    if (dead === undefined || nbs.some((x) => x.alive)) return;
    // A degraded Raft leader hands over first (anchor-degraded-transfer): taking its links out can leave the
    // hand-over no path (lab heal-more, 6 December: the leader and a neighbour each took a link out, the transfer's
    // TimeoutNow never arrived and an election timeout moved the leadership 16 s after the links degraded).
    if (this.raft !== null && this.raft.role === 'leader' && this.raft.degradedSinceMs !== null) return;
    const since = dead.deadSinceMs ?? nowMs;
    // And a leader with other voters gives a dead link anchorDegradedMs before taking it out: when its links
    // degrade together the first is called dead before the others count as lossy, and taking it out cut the leader
    // off before it judged itself degraded and handed over (lab heal-more, 6 December 17:26). A lone voter (heal's
    // node 1) has nobody to hand over to and is not held.
    if (this.raft?.role === 'leader' && this.raft.voters > 1 && nowMs - since < this.config.anchorDegradedMs) return;
    // The other side of that: a voter gives its dead link to the leader leaderLinkHoldMs, for the hand-over of a
    // leader whose links degrade together to cross it (taken out here, it black-holes the leader's sends to us).
    if (dead.leadsRaft && this.raft?.role !== 'leader' && nowMs - since < this.config.leaderLinkHoldMs) return;
    if (flapping) return; // a flapping link is retuned, not cycled (link-flapping-retune)
    // Taking a link out helps only when batman-adv has another way: some other interface with a live neighbour.
    const other = [...this.neighbours.values()].find((x) => x.iface !== iface && x.alive);
    if (other === undefined) return;
    out.push({
      symptom: 'neighbour-dead',
      target: `iface:${iface}`,
      rule: 'neighbour-dead-link-down',
      undo: false,
      why:
        `probe: neighbour ${dead.neighbour} on ${iface} not alive for ${fmtMs(nowMs - since)} (rtt ${dead.rttMs ?? '-'} ms, tq ${dead.tq ?? '-'}); ` +
        `reroute via ${other.iface} (${other.neighbour} alive); ${flaps} transitions < flapTransitionsMin=${this.config.flapTransitionsMin}`,
      actions: [{ kind: 'link-down', iface, neighbour: dead.neighbour }],
    });
  }

  private macFindings(m: MacState, nowMs: number, applied: Applied, out: Finding[]): void {
    const c = this.config;
    const target = `mac:${m.mac}`;
    const inForce = applied.macs.get(m.mac);
    if (inForce === undefined) {
      if (m.flooding) {
        // Twice the MAC's normal, at least rateLimitPps, below floodPpsMin so the limit can contain (verification).
        const pps = Math.min(Math.max(c.rateLimitPps, Math.round(m.baseline.mean * 2)), Math.ceil(c.floodPpsMin) - 1);
        out.push({
          symptom: 'flood',
          target,
          rule: 'flood-contain',
          undo: false,
          why: `${m.mac} sends ${fmtRate(m.pps)} pps, z=${m.z.toFixed(1)} >= zScoreMin=${c.zScoreMin} for >= floodSamplesMin=${c.floodSamplesMin} samples (baseline ${fmtRate(m.baseline.mean)} pps), >= floodPpsMin=${c.floodPpsMin}`,
          actions: [
            { kind: 'rate-limit', mac: m.mac, pps },
            { kind: 'isolate', mac: m.mac },
          ],
        });
      } else if (m.authFailing) {
        out.push({
          symptom: 'auth-failing',
          target,
          rule: 'auth-isolate',
          undo: false,
          why: `${m.mac}: ${m.authRate.toFixed(1)} auth failures/s (${m.lastAuthReason}), z=${m.authZ.toFixed(1)} >= zScoreMin=${c.zScoreMin}, >= authFailuresPerSecMin=${c.authFailuresPerSecMin}`,
          actions: [{ kind: 'isolate', mac: m.mac }],
        });
      }
      return;
    }
    if (inForce.cause === 'flood') {
      if (!m.flooding && m.calmSinceMs !== null) {
        out.push({
          symptom: 'flood-stopped',
          target,
          rule: 'flood-stopped-lift',
          undo: true,
          why: `${m.mac} at ${fmtRate(m.pps)} pps < floodPpsMin=${c.floodPpsMin} for ${fmtMs(nowMs - m.calmSinceMs)} >= floodCalmMs=${c.floodCalmMs}`,
          actions: [{ kind: 'lift', mac: m.mac }],
        });
      } else if (m.flooding && inForce.kind === 'rate-limit' && m.passedPps >= c.floodPpsMin) {
        out.push({
          symptom: 'flood',
          target,
          rule: 'flood-escalate',
          undo: false,
          why: `${m.mac} still passes ${fmtRate(m.passedPps)} pps through the rate limit >= floodPpsMin=${c.floodPpsMin}`,
          actions: [{ kind: 'isolate', mac: m.mac }],
        });
      }
    } else if (!m.authFailing && m.lastAuthMs !== null) {
      out.push({
        symptom: 'auth-calm',
        target,
        rule: 'auth-calm-lift',
        undo: true,
        why: `${m.mac}: no auth failure for ${fmtMs(nowMs - m.lastAuthMs)} >= authCalmMs=${c.authCalmMs}`,
        actions: [{ kind: 'lift', mac: m.mac }],
      });
    }
  }

  private anchorFinding(nowMs: number, out: Finding[]): void {
    const r = this.raft;
    if (r === null || r.degradedSinceMs === null || r.role !== 'leader') return;
    const forMs = nowMs - r.degradedSinceMs;
    if (forMs < this.config.anchorDegradedMs) return;
    out.push({
      symptom: 'anchor-degraded',
      target: `raft:${r.self}`,
      rule: 'anchor-degraded-transfer',
      undo: false,
      why: `this node ${r.self} leads term ${r.term} and reports itself degraded${r.degradedWhy === null ? '' : ` (${r.degradedWhy})`} for ${fmtMs(forMs)} >= anchorDegradedMs=${this.config.anchorDegradedMs}`,
      actions: [{ kind: 'transfer-leadership', from: r.self }],
    });
  }
}
