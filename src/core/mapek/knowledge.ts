// Knowledge: outcome statistics per symptom and action, circuit breakers, recent incidents, and what peers
// told us through the mesh document. Explicit, bounded, JSON-serialisable; persisted by the edge when
// `due()` says so (at most once per knowledgePersistMs, and only after a change: a healthy mesh writes nothing).
import { assertThat, fail, ok, type Result } from '../result.js';
import { mapekLimits } from './limits.js';
import type {
  ActionKind,
  BreakerSnapshot,
  Incident,
  KnowledgeSnapshot,
  MapekConfig,
  MeshKnowledge,
  OutcomeStats,
  Symptom,
} from './types.js';

export const actionKinds: readonly ActionKind[] = [
  'link-down',
  'link-up',
  'retune',
  'restore-tuning',
  'rate-limit',
  'isolate',
  'lift',
  'transfer-leadership',
  'restart-component',
  'bounce-interface',
];
export const symptoms: readonly Symptom[] = [
  'neighbour-dead',
  'neighbour-alive',
  'link-flapping',
  'link-calm',
  'flood',
  'flood-stopped',
  'auth-failing',
  'auth-calm',
  'anchor-degraded',
  'component-down',
  'breaker-open',
];

interface Breaker {
  key: string;
  state: 'closed' | 'open' | 'half-open';
  failures: number;
  opened: number;
  /** null after a restart: the cool-down starts again at the first check. */
  openedAtMs: number | null;
  trialInFlight: boolean;
  incidentId: string | null;
}

/** An incident as the core keeps it (projected to `Incident` for the outside). */
export interface IncidentRecord {
  id: string;
  symptom: Symptom;
  target: string;
  openedAtMs: number;
  closedAtMs: number | null;
  actions: number;
  lastAction: ActionKind | null;
  lastWhy: string;
  state: Incident['state'];
  lastResult: 'ok' | 'failed' | null;
  lastUndo: boolean;
  /** Action kinds that failed in this incident: the planner tries the others first. */
  failedKinds: ActionKind[];
  /** After a failure, no new try before this time (escalateAfterMs). */
  retryAtMs: number;
}

const statsKeyRe = /^([a-z-]+)\/([a-z-]+)$/;

export function statsKey(symptom: Symptom, kind: ActionKind): string {
  return `${symptom}/${kind}`;
}

function validStats(s: unknown): s is OutcomeStats {
  if (typeof s !== 'object' || s === null) return false;
  const { tries, successes, clearMsMean } = s as Record<string, unknown>;
  return (
    typeof tries === 'number' &&
    Number.isSafeInteger(tries) &&
    tries >= 0 &&
    typeof successes === 'number' &&
    Number.isSafeInteger(successes) &&
    successes >= 0 &&
    successes <= tries &&
    typeof clearMsMean === 'number' &&
    Number.isFinite(clearMsMean) &&
    clearMsMean >= 0
  );
}

function validStatsKey(key: string): boolean {
  const m = statsKeyRe.exec(key);
  return m !== null && symptoms.includes(m[1] as Symptom) && actionKinds.includes(m[2] as ActionKind);
}

/**
 * Statistics from outside (a file, a peer): a plain object of at most `max` well-formed entries, or null. A peer's
 * numbers are bounded too (`fromPeer`: tries at most meshTriesMax, mean time to clear at most meshClearMsMax).
 */
function readStats(x: unknown, max: number, fromPeer = false): Map<string, OutcomeStats> | null {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return null;
  const keys = Object.keys(x);
  if (keys.length > max) return null;
  const out = new Map<string, OutcomeStats>();
  for (const k of keys) {
    const s = (x as Record<string, unknown>)[k];
    if (!validStatsKey(k) || !validStats(s)) return null;
    if (fromPeer && (s.tries > mapekLimits.meshTriesMax || s.clearMsMean > mapekLimits.meshClearMsMax)) return null;
    out.set(k, { tries: s.tries, successes: s.successes, clearMsMean: s.clearMsMean });
  }
  return out;
}

export class Knowledge {
  readonly stats = new Map<string, OutcomeStats>();
  readonly breakers = new Map<string, Breaker>();
  readonly incidents: IncidentRecord[] = [];
  /** node -> its statistics, as adopted from the mesh document. */
  readonly peers = new Map<string, Map<string, OutcomeStats>>();
  private dirty = false;
  private persistedAtMs: number | null = null;

  constructor(private readonly config: MapekConfig) {}

  // --- outcome statistics ---------------------------------------------------------------------------

  record(symptom: Symptom, kind: ActionKind, success: boolean, clearMs: number): void {
    const key = statsKey(symptom, kind);
    const was = this.stats.get(key) ?? { tries: 0, successes: 0, clearMsMean: 0 };
    assertThat(this.stats.has(key) || this.stats.size < mapekLimits.statsMax, 'the catalogue fits in statsMax');
    const successes = was.successes + (success ? 1 : 0);
    const clearMsMean = success ? was.clearMsMean + (clearMs - was.clearMsMean) / successes : was.clearMsMean;
    this.stats.set(key, { tries: was.tries + 1, successes, clearMsMean: Math.round(clearMsMean) });
    this.dirty = true;
  }

  /** Our statistics plus the peers', the peers' tries capped at peerTriesMax and weighted by peerWeight. */
  merged(key: string): { tries: number; successes: number; clearMsMean: number } {
    const own = this.stats.get(key) ?? { tries: 0, successes: 0, clearMsMean: 0 };
    let tries = 0;
    let successes = 0;
    let clearSum = 0;
    for (const stats of this.peers.values()) {
      const s = stats.get(key);
      if (s === undefined) continue;
      tries += s.tries;
      successes += s.successes;
      clearSum += s.clearMsMean * s.successes;
    }
    const peerClear = successes > 0 ? clearSum / successes : 0;
    const scale = tries > 0 ? (Math.min(tries, this.config.peerTriesMax) / tries) * this.config.peerWeight : 0;
    const t = own.tries + tries * scale;
    const s = own.successes + successes * scale;
    const weightOwn = own.successes;
    const weightPeer = successes * scale;
    const clear =
      weightOwn + weightPeer > 0
        ? (own.clearMsMean * weightOwn + peerClear * weightPeer) / (weightOwn + weightPeer)
        : 0;
    return { tries: t, successes: s, clearMsMean: clear };
  }

  /**
   * How good an action is for a symptom: the success rate with a prior from the catalogue order (the first
   * candidate is assumed 90% good, each later one 20 points less, worth two tries), minus up to 0.1 for slowness.
   */
  score(symptom: Symptom, kind: ActionKind, catalogueIndex: number): number {
    const m = this.merged(statsKey(symptom, kind));
    const prior = Math.max(0.1, 0.9 - 0.2 * catalogueIndex);
    const rate = (m.successes + 2 * prior) / (m.tries + 2);
    const slowness = m.successes > 0 ? Math.min(1, m.clearMsMean / this.config.clearTimeoutMs) * 0.1 : 0;
    return rate - slowness;
  }

  // --- circuit breakers ------------------------------------------------------------------------------

  /** May `kind` act on `target` now? Moves an open breaker to half-open after the cool-down. */
  breakerAllows(key: string, nowMs: number): 'yes' | 'no' | 'half-open' {
    const b = this.breakers.get(key);
    if (b === undefined || b.state === 'closed') return 'yes';
    if (b.state === 'half-open') return b.trialInFlight ? 'no' : 'yes';
    b.openedAtMs ??= nowMs;
    if (nowMs - b.openedAtMs < this.config.breakerCooldownMs) return 'no';
    b.state = 'half-open';
    b.trialInFlight = false;
    this.dirty = true;
    return 'half-open';
  }

  breakerTrial(key: string): void {
    const b = this.breakers.get(key);
    if (b !== undefined && b.state === 'half-open') b.trialInFlight = true;
  }

  /** A try's result: returns what changed ('opened' or 'closed'), and the breaker's incident id if any. */
  breakerResult(
    key: string,
    success: boolean,
    nowMs: number,
  ): { change: 'opened' | 'closed' | null; breaker: Breaker | null } {
    let b = this.breakers.get(key);
    if (success) {
      if (b === undefined) return { change: null, breaker: null };
      this.breakers.delete(key);
      const wasOpen = b.state !== 'closed';
      if (wasOpen) this.dirty = true;
      return { change: wasOpen ? 'closed' : null, breaker: b };
    }
    if (b === undefined) {
      this.makeBreakerRoom();
      b = { key, state: 'closed', failures: 0, opened: 0, openedAtMs: null, trialInFlight: false, incidentId: null };
      this.breakers.set(key, b);
    }
    b.failures++;
    b.trialInFlight = false;
    if (b.state === 'half-open' || (b.state === 'closed' && b.failures >= this.config.breakerFailuresMax)) {
      b.state = 'open';
      b.openedAtMs = nowMs;
      b.opened++;
      this.dirty = true;
      return { change: 'opened', breaker: b };
    }
    return { change: null, breaker: b };
  }

  private makeBreakerRoom(): void {
    if (this.breakers.size < mapekLimits.breakersMax) return;
    let victim: Breaker | null = null;
    for (const b of this.breakers.values()) {
      if (
        victim === null ||
        (b.state === 'closed' && victim.state !== 'closed') ||
        (b.state === victim.state && b.failures < victim.failures)
      ) {
        victim = b;
      }
    }
    if (victim !== null) this.breakers.delete(victim.key);
  }

  // --- incidents -------------------------------------------------------------------------------------

  openIncident(id: string, symptom: Symptom, target: string, nowMs: number): IncidentRecord {
    if (this.incidents.length >= mapekLimits.incidentsMax) {
      const closed = this.incidents.findIndex((i) => i.closedAtMs !== null);
      this.incidents.splice(Math.max(closed, 0), 1);
    }
    const inc: IncidentRecord = {
      id,
      symptom,
      target,
      openedAtMs: nowMs,
      closedAtMs: null,
      actions: 0,
      lastAction: null,
      lastWhy: '',
      state: 'open',
      lastResult: null,
      lastUndo: false,
      failedKinds: [],
      retryAtMs: 0,
    };
    this.incidents.push(inc);
    this.dirty = true;
    return inc;
  }

  openIncidentFor(target: string): IncidentRecord | null {
    for (const i of this.incidents) if (i.closedAtMs === null && i.target === target) return i;
    return null;
  }

  close(inc: IncidentRecord, nowMs: number, state: Incident['state']): void {
    assertThat(inc.closedAtMs === null, 'an incident closes once');
    inc.closedAtMs = nowMs;
    inc.state = state;
    this.dirty = true;
  }

  // --- persistence -----------------------------------------------------------------------------------

  /** Persist now? Only after a change, and at most once per knowledgePersistMs (the flash-write bound). */
  due(nowMs: number): boolean {
    if (!this.dirty) return false;
    return this.persistedAtMs === null || nowMs - this.persistedAtMs >= this.config.knowledgePersistMs;
  }

  persisted(nowMs: number): void {
    this.dirty = false;
    this.persistedAtMs = nowMs;
  }

  snapshot(): KnowledgeSnapshot {
    const stats: Record<string, OutcomeStats> = {};
    for (const k of [...this.stats.keys()].sort()) stats[k] = this.stats.get(k) as OutcomeStats;
    const breakers: BreakerSnapshot[] = [...this.breakers.values()].map((b) => ({
      key: b.key,
      state: b.state,
      failures: b.failures,
      opened: b.opened,
    }));
    return { version: 1, stats, breakers, incidents: this.incidents.map(projectIncident) };
  }

  /** Restore a snapshot that was validated by loadKnowledge (open incidents are not carried over a restart). */
  restore(s: KnowledgeSnapshot): void {
    for (const [k, v] of Object.entries(s.stats)) this.stats.set(k, v);
    for (const b of s.breakers) {
      if (b.state === 'closed' && b.failures === 0) continue;
      this.breakers.set(b.key, {
        key: b.key,
        state: b.state === 'half-open' ? 'open' : b.state,
        failures: b.failures,
        opened: b.opened,
        openedAtMs: null,
        trialInFlight: false,
        incidentId: null,
      });
    }
    for (const i of s.incidents) {
      if (i.closedAtMs === null) continue;
      this.incidents.push({ ...i, lastResult: null, lastUndo: false, failedKinds: [], retryAtMs: 0 });
    }
  }

  // --- the mesh view ---------------------------------------------------------------------------------

  /** The compact summary for the mesh document: the most-tried statistics and the latest incidents. */
  meshSummary(): MeshKnowledge {
    const top = [...this.stats.entries()]
      .sort((a, b) => b[1].tries - a[1].tries || (a[0] < b[0] ? -1 : 1))
      .slice(0, mapekLimits.summaryStatsMax);
    const stats: Record<string, OutcomeStats> = {};
    for (const [k, v] of top) stats[k] = v;
    const incidents = this.incidents
      .slice(-mapekLimits.summaryIncidentsMax)
      .map((i) => [i.symptom, i.target, i.state, i.actions] as const);
    return { version: 1, stats, incidents };
  }

  /** Adopt a peer's summary (outside input: validated, bounded). Returns a refusal reason or null. */
  adoptPeer(node: string, summary: unknown): string | null {
    if (typeof node !== 'string' || node.length === 0 || node.length > mapekLimits.nameCharsMax) return 'peer-bad-node';
    if (typeof summary !== 'object' || summary === null) return 'peer-bad-summary';
    const s = summary as Record<string, unknown>;
    if (s.version !== 1) return 'peer-bad-version';
    const stats = readStats(s.stats, mapekLimits.summaryStatsMax, true);
    if (stats === null) return 'peer-bad-stats';
    if (!this.peers.has(node) && this.peers.size >= mapekLimits.peersMax) return 'peer-table-full';
    this.peers.set(node, stats);
    return null;
  }
}

function projectIncident(i: IncidentRecord): Incident {
  return {
    id: i.id,
    symptom: i.symptom,
    target: i.target,
    openedAtMs: i.openedAtMs,
    closedAtMs: i.closedAtMs,
    actions: i.actions,
    lastAction: i.lastAction,
    lastWhy: i.lastWhy,
    state: i.state,
  };
}

export function incidentView(i: IncidentRecord): Incident {
  return projectIncident(i);
}

/** Validate a persisted snapshot (it comes from flash: outside input). */
export function loadKnowledge(x: unknown): Result<KnowledgeSnapshot, string> {
  if (typeof x !== 'object' || x === null) return fail('knowledge-not-an-object');
  const s = x as Record<string, unknown>;
  if (s.version !== 1) return fail('knowledge-bad-version');
  const stats = readStats(s.stats, mapekLimits.statsMax);
  if (stats === null) return fail('knowledge-bad-stats');
  if (!Array.isArray(s.breakers) || s.breakers.length > mapekLimits.breakersMax) return fail('knowledge-bad-breakers');
  const breakers: BreakerSnapshot[] = [];
  for (const b of s.breakers as unknown[]) {
    const r = readBreaker(b);
    if (r === null) return fail('knowledge-bad-breakers');
    breakers.push(r);
  }
  if (!Array.isArray(s.incidents) || s.incidents.length > mapekLimits.incidentsMax)
    return fail('knowledge-bad-incidents');
  const incidents: Incident[] = [];
  for (const i of s.incidents as unknown[]) {
    const r = readIncident(i);
    if (r === null) return fail('knowledge-bad-incidents');
    incidents.push(r);
  }
  return ok({ version: 1, stats: Object.fromEntries(stats), breakers, incidents });
}

const shortString = (x: unknown, max: number = mapekLimits.whyCharsMax): x is string =>
  typeof x === 'string' && x.length <= max;
const count = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const time = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;

function readBreaker(x: unknown): BreakerSnapshot | null {
  if (typeof x !== 'object' || x === null) return null;
  const b = x as Record<string, unknown>;
  if (!shortString(b.key, 2 * mapekLimits.nameCharsMax + 32) || !count(b.failures) || !count(b.opened)) return null;
  if (b.state !== 'closed' && b.state !== 'open' && b.state !== 'half-open') return null;
  const kind = b.key.split(' ')[0] as ActionKind;
  if (!actionKinds.includes(kind)) return null;
  return { key: b.key, state: b.state, failures: b.failures, opened: b.opened };
}

function readIncident(x: unknown): Incident | null {
  if (typeof x !== 'object' || x === null) return null;
  const i = x as Record<string, unknown>;
  if (!shortString(i.id, 32) || !symptoms.includes(i.symptom as Symptom)) return null;
  if (!shortString(i.target, 2 * mapekLimits.nameCharsMax) || !time(i.openedAtMs) || !count(i.actions)) return null;
  if (!(i.closedAtMs === null || time(i.closedAtMs)) || !shortString(i.lastWhy)) return null;
  if (!(i.lastAction === null || actionKinds.includes(i.lastAction as ActionKind))) return null;
  if (!['open', 'cleared', 'failed', 'undone'].includes(i.state as string)) return null;
  return {
    id: i.id,
    symptom: i.symptom as Symptom,
    target: i.target,
    openedAtMs: i.openedAtMs,
    closedAtMs: i.closedAtMs as number | null,
    actions: i.actions,
    lastAction: i.lastAction as ActionKind | null,
    lastWhy: i.lastWhy,
    state: i.state as Incident['state'],
  };
}
