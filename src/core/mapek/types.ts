// The MAPE-K core's vocabulary: what the edge observes, what the core decides, what comes back, and the
// configuration with its one validate(). This file is the contract between the pure core (src/core/mapek)
// and the edge (src/mapek, src/agent/components/mapek.ts): add fields, never remove them.
import { mapekLimits } from './limits.js';

/** One thing the Monitor saw. `atMs` is the caller's monotonic clock, the same clock as tick(nowMs). */
export type Observation =
  | {
      kind: 'neighbour';
      atMs: number;
      /** batman-adv originator MAC of the direct neighbour. */
      neighbour: string;
      /** The hard interface the neighbour is seen on. */
      iface: string;
      /** The liveness probe's verdict (BFD-like: already includes its detect multiplier). */
      alive: boolean;
      rttMs: number | null;
      tq: number | null;
      /**
       * The neighbour, by the identity its probe channel authenticated, leads Raft and this node is another of its
       * voters: a dead link to it is held `leaderLinkHoldMs` (the leader may be handing over across it).
       */
      leadsRaft?: boolean;
    }
  /** Cumulative XDP counters for one source MAC (they only grow; a smaller value means a counter reset):
   * packets = every frame from that MAC the XDP program saw (passed + dropped), dropped = those it dropped. */
  | { kind: 'xdp'; atMs: number; mac: string; packets: number; dropped: number; ogms: number }
  | { kind: 'auth-failure'; atMs: number; mac: string | null; peer: string | null; reason: string }
  | { kind: 'component'; atMs: number; name: string; state: 'up' | 'degraded' | 'down' | 'disabled' }
  | {
      kind: 'raft';
      atMs: number;
      self: string;
      role: string;
      leader: string | null;
      term: number;
      /** e.g. high loss or latency to peers, as the edge judges it. */
      selfDegraded: boolean;
      /** What made the edge judge it degraded ("3 of 4 probed links dead"), for the decision's why; cut to 64. */
      degradedWhy?: string;
      /** Raft voters in the configuration (1 when absent): a leader with others holds its link-downs a while. */
      voters?: number;
    }
  | { kind: 'gossip'; atMs: number; rejections: number; rounds: number };

export type ObservationKind = Observation['kind'];

/** What the Execute step carries out, each through the component that owns the thing. */
export type Action =
  /** Take the hard interface out of batman-adv so it reroutes now. */
  | { kind: 'link-down'; iface: string; neighbour: string }
  /** Put it back after the probe sees the neighbour alive (stably). */
  | { kind: 'link-up'; iface: string; neighbour: string }
  /** e.g. hop_penalty, orig_interval, elp_interval while a link flaps. */
  | { kind: 'retune'; iface: string; settings: Readonly<Record<string, number>> }
  | { kind: 'restore-tuning'; iface: string }
  | { kind: 'rate-limit'; mac: string; pps: number }
  | { kind: 'isolate'; mac: string }
  | { kind: 'lift'; mac: string }
  | { kind: 'transfer-leadership'; from: string }
  | { kind: 'restart-component'; name: string }
  | { kind: 'bounce-interface'; iface: string };

export type ActionKind = Action['kind'];

export type Symptom =
  | 'neighbour-dead'
  | 'neighbour-alive'
  | 'link-flapping'
  | 'link-calm'
  | 'flood'
  | 'flood-stopped'
  | 'auth-failing'
  | 'auth-calm'
  | 'anchor-degraded'
  | 'component-down'
  | 'breaker-open';

export interface Decision {
  /** W3C trace-context trace-id: 32 lowercase hex, not all zero (from the caller's randomHex). */
  readonly traceId: string;
  readonly atMs: number;
  /** e.g. 'neighbour-dead', 'link-flapping', 'flood', 'anchor-degraded', 'component-down'. */
  readonly symptom: Symptom;
  /** The rule's stable name. */
  readonly rule: string;
  /** One line: the observations and thresholds that led here. */
  readonly why: string;
  readonly action: Action;
  /** What the action acts on ('iface:wan0', 'mac:02:..', 'raft:n1', 'component:gossip'): damping and breakers key on it. */
  readonly target: string;
  /** The incident this decision belongs to (its id is the trace id of the incident's first decision). */
  readonly incidentId: string;
  /**
   * Why this action and not the catalogue's first when knowledge changed the order (scores, own and peers' tries),
   * or why others were passed over (failed in this incident); null when the first candidate won on its own.
   */
  readonly choice: string | null;
}

/** Execute's result for one decision. ok: the action was carried out (not yet that it cleared the symptom). */
export interface Outcome {
  readonly traceId: string;
  readonly ok: boolean;
  /** A stable reason code when !ok ('batctl-failed', 'no-such-iface', ...). */
  readonly reason: string | null;
  readonly atMs: number;
}

export interface Incident {
  /** The trace id of its first decision. */
  readonly id: string;
  readonly symptom: Symptom;
  readonly target: string;
  readonly openedAtMs: number;
  /** null while open. */
  readonly closedAtMs: number | null;
  /** Decisions taken for it so far. */
  readonly actions: number;
  readonly lastAction: ActionKind | null;
  readonly lastWhy: string;
  /** 'open' | 'cleared' (the symptom went away) | 'failed' (actions exhausted or breaker open) | 'undone'. */
  readonly state: 'open' | 'cleared' | 'failed' | 'undone';
}

/** How often one action cleared one symptom, and how fast. */
export interface OutcomeStats {
  readonly tries: number;
  readonly successes: number;
  /** Mean time from decision to cleared, over the successes; 0 when there are none. */
  readonly clearMsMean: number;
}

export interface BreakerSnapshot {
  /** `${actionKind} ${target}`. */
  readonly key: string;
  readonly state: 'closed' | 'open' | 'half-open';
  /** Consecutive failures. */
  readonly failures: number;
  /** Times it opened, ever. */
  readonly opened: number;
}

/** The persisted knowledge: JSON-serialisable, bounded (mapekLimits), versioned. */
export interface KnowledgeSnapshot {
  readonly version: 1;
  /** Key `${symptom}/${actionKind}`. */
  readonly stats: Readonly<Record<string, OutcomeStats>>;
  readonly breakers: readonly BreakerSnapshot[];
  readonly incidents: readonly Incident[];
}

/** The compact summary a node puts in the mesh document (gossip) for other nodes' planners. */
export interface MeshKnowledge {
  readonly version: 1;
  /** Key `${symptom}/${actionKind}`, at most mapekLimits.summaryStatsMax entries. */
  readonly stats: Readonly<Record<string, OutcomeStats>>;
  /** At most mapekLimits.summaryIncidentsMax: [symptom, target, state, actions]. */
  readonly incidents: readonly (readonly [string, string, string, number])[];
}

export interface MapekConfig {
  // --- analyse: neighbours ---
  /** A dead neighbour counts as alive again only after this many consecutive alive observations (hysteresis). */
  readonly aliveGoodMin: number;
  /** Liveness transitions of one neighbour within flapWindowMs that make its link 'flapping'. */
  readonly flapTransitionsMin: number;
  readonly flapWindowMs: number;
  /** A flapping link is calm again after this long without a transition (then restore-tuning). */
  readonly flapCalmMs: number;
  /** batman-adv settings applied to a flapping link's interface (retune), e.g. { hop_penalty: 96 }. */
  readonly retuneSettings: Readonly<Record<string, number>>;
  /** A neighbour not observed this long is forgotten (it left; the probe stopped). */
  readonly neighbourStaleMs: number;
  // --- analyse: rates (EWMA + z-score) ---
  /** EWMA weight of a new rate sample (0 < alpha < 1). */
  readonly ewmaAlpha: number;
  /** Rate samples before a MAC's baseline is trusted (no flood verdict before). */
  readonly warmupSamples: number;
  /** z-score at or above which a rate sample is anomalous. */
  readonly zScoreMin: number;
  /** Standard deviation floor (per second) so a flat baseline does not make every blip infinitely anomalous. */
  readonly rateStdFloor: number;
  /** XDP packets per second from one MAC below which nothing is a flood, whatever the z-score. */
  readonly floodPpsMin: number;
  /** Consecutive anomalous samples before a flood is declared. */
  readonly floodSamplesMin: number;
  /** A flood has stopped after the rate stays below floodPpsMin (and normal) this long (then lift). */
  readonly floodCalmMs: number;
  /** rate-limit allows this many packets per second from the MAC (at least; the baseline x2 if higher). */
  readonly rateLimitPps: number;
  /** Auth failures per second from one MAC at or above which it is 'auth-failing' (with the z-score rule). */
  readonly authFailuresPerSecMin: number;
  /** Standard deviation floor (failures per second) of the auth-failure rate baseline. */
  readonly authStdFloor: number;
  /** An isolated auth-failing MAC is lifted after this long without new failures. */
  readonly authCalmMs: number;
  // --- analyse: anchor, components ---
  /**
   * This node, Raft leader, reports itself degraded this long before leadership is moved. Short: the hand-over
   * must cross the degraded links before the neighbours' own link-downs (about 1.3 s after their probes call the
   * link dead, the second opinion included) cut this node off (lab heal-more, 6 December).
   */
  readonly anchorDegradedMs: number;
  /**
   * A Raft voter gives a dead link to the Raft leader this long before taking it out. A leader whose links degrade
   * together hands over across them (`anchorDegradedMs` after it judges itself degraded); taken out on this side,
   * the link black-holes the hand-over on the leader's side until its batman-adv notices (lab heal-more,
   * 6 December 19:05: the TimeoutNow never arrived in 2 of 3 runs). The cost: a link cut next to the leader is
   * taken out on this side up to this much later (the leader's side after `anchorDegradedMs`).
   */
  readonly leaderLinkHoldMs: number;
  /** A component 'down' this long (the supervisor's own restarts did not help) gets restart-component. */
  readonly componentDownMs: number;
  /** Every neighbour on an interface dead this long, after link-down, escalates to bounce-interface. */
  readonly ifaceDeadBounceMs: number;
  // --- plan ---
  /** Damping: at most this many actions per target per window (undo actions are exempt but counted). */
  readonly dampingActionsMax: number;
  readonly dampingWindowMs: number;
  /** No Outcome this long after a decision counts as a failure ('outcome-timeout'). */
  readonly outcomeTimeoutMs: number;
  /** An ok action whose symptom has not cleared this long after counts as a failure ('not-cleared'). */
  readonly clearTimeoutMs: number;
  /** After a failed action, the next try on the same target waits this long (then the planner may pick another candidate). */
  readonly escalateAfterMs: number;
  /** Circuit breaker: opens after this many consecutive failures of one action kind on one target. */
  readonly breakerFailuresMax: number;
  /** An open breaker half-opens (allows one trial) after this long. */
  readonly breakerCooldownMs: number;
  // --- knowledge ---
  /** Knowledge is due for persisting at most once per this many ms (the flash-write bound). */
  readonly knowledgePersistMs: number;
  /** Weight of a peer's statistics relative to our own (0..1), and the tries a peer can add at most. */
  readonly peerWeight: number;
  readonly peerTriesMax: number;
}

export function defaultMapekConfig(): MapekConfig {
  return {
    aliveGoodMin: 3,
    flapTransitionsMin: 4,
    flapWindowMs: 30_000,
    flapCalmMs: 60_000,
    retuneSettings: { hop_penalty: 96 },
    neighbourStaleMs: 120_000,
    ewmaAlpha: 0.1,
    warmupSamples: 10,
    zScoreMin: 6,
    rateStdFloor: 20,
    floodPpsMin: 2000,
    floodSamplesMin: 2,
    floodCalmMs: 10_000,
    rateLimitPps: 500,
    authFailuresPerSecMin: 5,
    authStdFloor: 0.5,
    authCalmMs: 300_000,
    anchorDegradedMs: 500,
    leaderLinkHoldMs: 1000,
    componentDownMs: 15_000,
    ifaceDeadBounceMs: 60_000,
    dampingActionsMax: 4,
    dampingWindowMs: 300_000,
    outcomeTimeoutMs: 10_000,
    clearTimeoutMs: 5000,
    escalateAfterMs: 1000,
    breakerFailuresMax: 3,
    breakerCooldownMs: 600_000,
    knowledgePersistMs: 600_000,
    peerWeight: 0.25,
    peerTriesMax: 20,
  };
}

const posInt = (n: number): boolean => Number.isSafeInteger(n) && n > 0;
const posNum = (n: number): boolean => Number.isFinite(n) && n > 0;

/** Every problem with a configuration, as 'field: what is wrong' (empty when it is good); like etcd-raft's validate(). */
export function validateMapekConfig(c: MapekConfig): string[] {
  const errors: string[] = [];
  const need = (good: boolean, field: string, what: string): void => {
    if (!good) errors.push(`${field}: ${what}`);
  };
  for (const f of ['aliveGoodMin', 'warmupSamples', 'floodSamplesMin', 'breakerFailuresMax'] as const) {
    need(posInt(c[f]) && c[f] <= 1000, f, 'must be an integer in 1..1000');
  }
  need(posInt(c.flapTransitionsMin) && c.flapTransitionsMin >= 2, 'flapTransitionsMin', 'must be an integer >= 2');
  need(
    c.flapTransitionsMin <= mapekLimits.flapHistoryMax,
    'flapTransitionsMin',
    `must be <= ${mapekLimits.flapHistoryMax}`,
  );
  const ms = [
    'flapWindowMs',
    'flapCalmMs',
    'neighbourStaleMs',
    'floodCalmMs',
    'authCalmMs',
    'anchorDegradedMs',
    'leaderLinkHoldMs',
    'componentDownMs',
    'ifaceDeadBounceMs',
    'dampingWindowMs',
    'outcomeTimeoutMs',
    'clearTimeoutMs',
    'escalateAfterMs',
    'breakerCooldownMs',
    'knowledgePersistMs',
  ] as const;
  for (const f of ms) need(posInt(c[f]), f, 'must be a positive integer (ms)');
  need(posNum(c.ewmaAlpha) && c.ewmaAlpha < 1, 'ewmaAlpha', 'must be in (0, 1)');
  for (const f of [
    'zScoreMin',
    'rateStdFloor',
    'floodPpsMin',
    'rateLimitPps',
    'authFailuresPerSecMin',
    'authStdFloor',
  ] as const) {
    need(posNum(c[f]), f, 'must be a positive number');
  }
  need(
    posInt(c.dampingActionsMax) && c.dampingActionsMax <= mapekLimits.dampingActionsCeiling,
    'dampingActionsMax',
    `must be an integer in 1..${mapekLimits.dampingActionsCeiling}`,
  );
  need(Number.isFinite(c.peerWeight) && c.peerWeight >= 0 && c.peerWeight <= 1, 'peerWeight', 'must be in [0, 1]');
  need(Number.isSafeInteger(c.peerTriesMax) && c.peerTriesMax >= 0, 'peerTriesMax', 'must be an integer >= 0');
  need(
    c.rateLimitPps < c.floodPpsMin,
    'rateLimitPps',
    'must be below floodPpsMin (a limit above the flood floor contains nothing)',
  );
  need(c.flapCalmMs >= c.flapWindowMs, 'flapCalmMs', 'must be >= flapWindowMs (calm must outlast the flap window)');
  const keys = Object.keys(c.retuneSettings ?? {});
  need(keys.length > 0 && keys.length <= 8, 'retuneSettings', 'must name 1..8 batman-adv settings');
  for (const k of keys) {
    need(
      /^[a-z_]{1,32}$/.test(k) && Number.isSafeInteger(c.retuneSettings[k]),
      `retuneSettings.${k}`,
      'must be a lower_case batman-adv setting with an integer value',
    );
  }
  return errors;
}

/** What happened inside the core, for ubus `events`, telemetry and `x0 watch`; drained with Mapek.drainEvents(). */
export interface MapekEvent {
  readonly atMs: number;
  /** The decision's trace id (an incident's or breaker's id for incident-closed / breaker events). */
  readonly traceId: string;
  readonly kind:
    | 'decided'
    | 'executed'
    | 'cleared'
    | 'failed'
    | 'held'
    | 'breaker-opened'
    | 'breaker-half-open'
    | 'breaker-closed'
    | 'incident-closed';
  /** One line (the decision's text, the failure reason, the time to clear). */
  readonly text: string;
}
