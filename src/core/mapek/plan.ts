// Plan: which of a finding's candidate actions runs, if any. Gates in order: one action in flight per
// target, the retry spacing after a failure, damping (at most dampingActionsMax corrective actions per
// target per window; undo actions neither count nor wait), the circuit breaker of each action kind on the
// target; then the best candidate by the knowledge of past outcomes (knowledge.ts score), actions that
// already failed in this incident last.
import { assertThat } from '../result.js';
import type { Finding } from './analyze.js';
import type { IncidentRecord, Knowledge } from './knowledge.js';
import { mapekLimits } from './limits.js';
import type { Action, ActionKind, MapekConfig } from './types.js';

/** The catalogue: rule -> the actions it may take, in order of preference before any knowledge. */
export const catalogue: Readonly<Record<string, readonly ActionKind[]>> = {
  'neighbour-dead-link-down': ['link-down'],
  'iface-dead-bounce': ['bounce-interface'],
  'neighbour-alive-link-up': ['link-up'],
  'link-flapping-retune': ['retune'],
  'link-calm-restore': ['restore-tuning'],
  'flood-contain': ['rate-limit', 'isolate'],
  'flood-escalate': ['isolate'],
  'flood-stopped-lift': ['lift'],
  'auth-isolate': ['isolate'],
  'auth-calm-lift': ['lift'],
  'anchor-degraded-transfer': ['transfer-leadership'],
  'component-down-restart': ['restart-component'],
};

/**
 * How an action's success is known: 'outcome' when the executor's ok is the effect (the link is out of
 * batman-adv once batctl says so), 'observation' when later observations must show it (the leader moved,
 * the component is up, the passed rate fell, a neighbour answers after the bounce).
 */
export const verifiedBy: Readonly<Record<ActionKind, 'outcome' | 'observation'>> = {
  'link-down': 'outcome',
  'link-up': 'outcome',
  retune: 'outcome',
  'restore-tuning': 'outcome',
  'rate-limit': 'observation',
  isolate: 'outcome',
  lift: 'outcome',
  'transfer-leadership': 'observation',
  'restart-component': 'observation',
  'bounce-interface': 'observation',
};

export const breakerKey = (kind: ActionKind, target: string): string => `${kind} ${target}`;

/** Damping: the times of the actions on each target within the window, bounded. */
export class Damping {
  private readonly windows = new Map<string, number[]>();

  constructor(private readonly config: MapekConfig) {}

  private window(target: string, nowMs: number): number[] {
    const w = this.windows.get(target) ?? [];
    while (w.length > 0 && nowMs - (w[0] as number) >= this.config.dampingWindowMs) w.shift();
    return w;
  }

  allows(target: string, nowMs: number): boolean {
    return this.window(target, nowMs).length < this.config.dampingActionsMax;
  }

  /** Count a corrective action (undo actions neither count nor wait: restoring is always allowed). */
  note(target: string, nowMs: number): void {
    const w = this.window(target, nowMs);
    if (w.length >= mapekLimits.dampingActionsCeiling) w.shift();
    w.push(nowMs);
    if (!this.windows.has(target)) {
      if (this.windows.size >= mapekLimits.dampingTargetsMax) this.forgetQuiet(nowMs);
      this.windows.set(target, w);
    }
  }

  private forgetQuiet(nowMs: number): void {
    for (const [t, w] of this.windows) {
      if (this.window(t, nowMs).length === 0 || w.length === 0) this.windows.delete(t);
    }
    if (this.windows.size >= mapekLimits.dampingTargetsMax) {
      const first = this.windows.keys().next();
      if (first.done !== true) this.windows.delete(first.value);
    }
  }

  count(target: string, nowMs: number): number {
    return this.window(target, nowMs).length;
  }
}

export type Hold = 'busy' | 'retry-wait' | 'damped' | 'breaker-open';

/** The action to take for a finding, or why none is taken now. */
export function choose(
  f: Finding,
  incident: IncidentRecord | null,
  knowledge: Knowledge,
  damping: Damping,
  nowMs: number,
): { action: Action; halfOpen: boolean; choice: string | null } | { hold: Hold } {
  assertThat(f.actions.length > 0, 'a finding offers at least one action');
  if (incident !== null && nowMs < incident.retryAtMs) return { hold: 'retry-wait' };
  if (!f.undo && !damping.allows(f.target, nowMs)) return { hold: 'damped' };
  const open: { action: Action; index: number; halfOpen: boolean }[] = [];
  f.actions.forEach((action, index) => {
    const allows = knowledge.breakerAllows(breakerKey(action.kind, f.target), nowMs);
    if (allows !== 'no') open.push({ action, index, halfOpen: allows === 'half-open' });
  });
  if (open.length === 0) return { hold: 'breaker-open' };
  const failed = incident?.failedKinds ?? [];
  const fresh = open.filter((c) => !failed.includes(c.action.kind));
  const pool = fresh.length > 0 ? fresh : open;
  const first = pool[0] as (typeof pool)[number];
  let best = first;
  let bestScore = knowledge.score(f.symptom, best.action.kind, best.index);
  const firstScore = bestScore;
  for (const c of pool.slice(1)) {
    const s = knowledge.score(f.symptom, c.action.kind, c.index);
    if (s > bestScore) {
      best = c;
      bestScore = s;
    }
  }
  const passed = open.filter((c) => failed.includes(c.action.kind)).map((c) => c.action.kind);
  const choice =
    best !== first
      ? `${best.action.kind} ${bestScore.toFixed(2)} over ${first.action.kind} ${firstScore.toFixed(2)} by knowledge (${tally(knowledge, f, best.action.kind)}; ${tally(knowledge, f, first.action.kind)})`
      : fresh.length < open.length && fresh.length > 0
        ? `${best.action.kind}: ${passed.join('/')} failed in this incident`
        : null;
  return { action: best.action, halfOpen: best.halfOpen, choice };
}

/** "isolate: own 1/1, peers 4/4 (weighted 1.0)": the record behind a score. */
function tally(knowledge: Knowledge, f: Finding, kind: ActionKind): string {
  const key = `${f.symptom}/${kind}`;
  const own = knowledge.stats.get(key);
  const merged = knowledge.merged(key);
  const peerTries = merged.tries - (own?.tries ?? 0);
  const peerSuccesses = merged.successes - (own?.successes ?? 0);
  return `${kind} own ${own?.successes ?? 0}/${own?.tries ?? 0}, peers ${fmt1(peerSuccesses)}/${fmt1(peerTries)} weighted`;
}

const fmt1 = (n: number): string => (Math.round(n * 10) / 10).toString();
