// The MAPE-K core: observe() records (Monitor), tick() analyses and plans and returns the decisions to
// execute now, outcome() brings Execute's result back into Knowledge. No I/O, no clock, no randomness of its
// own (trace ids come from the caller's randomHex), like the Raft core: the edge does the work.
import { assertThat, Counters } from '../result.js';
import { Analysis, type Applied, checkObservation, type Finding } from './analyze.js';
import { type IncidentRecord, incidentView, Knowledge, loadKnowledge } from './knowledge.js';
import { mapekLimits } from './limits.js';
import { decodeMeshStats, encodeMeshStats } from './mesh-view.js';
import { breakerKey, choose, Damping, verifiedBy } from './plan.js';
import { cut, fmtMs, formatAction, formatDecision, isTraceId } from './trace.js';
import type {
  Action,
  Decision,
  Incident,
  KnowledgeSnapshot,
  MapekConfig,
  MapekEvent,
  MeshKnowledge,
  Observation,
  Outcome,
  OutcomeStats,
} from './types.js';
import { validateMapekConfig } from './types.js';

interface Pending {
  readonly decision: Decision;
  readonly undo: boolean;
  /** When the executor said ok (null while we wait for the outcome). */
  okAtMs: number | null;
}

const eventsMax = 128;
const reasonRe = /^[a-z0-9-]{1,32}$/;

export class Mapek {
  private readonly counts = new Counters();
  private readonly applied: Applied = { linkDown: new Map(), retuned: new Set(), bounced: new Map(), macs: new Map() };
  private readonly analysis: Analysis;
  private readonly know: Knowledge;
  private readonly damping: Damping;
  private readonly pending = new Map<string, Pending>();
  /** target -> trace id of the decision in flight on it. */
  private readonly busy = new Map<string, string>();
  private readonly held = new Map<string, string>();
  private events: MapekEvent[] = [];
  private lastTickMs = -Infinity;

  constructor(
    private readonly config: MapekConfig,
    private readonly randomHex: () => string,
    knowledge?: KnowledgeSnapshot,
  ) {
    const errors = validateMapekConfig(config);
    assertThat(errors.length === 0, `MapekConfig is invalid (validate it at the edge first): ${errors.join('; ')}`);
    this.analysis = new Analysis(config, this.counts, this.applied);
    this.know = new Knowledge(config);
    this.damping = new Damping(config);
    if (knowledge !== undefined) {
      const checked = loadKnowledge(knowledge);
      assertThat(
        checked.ok,
        `knowledge snapshot is invalid (check it with loadKnowledge at the edge first): ${checked.ok ? '' : checked.reason}`,
      );
      this.know.restore(knowledge);
    }
  }

  /** Monitor: record only; decisions come on the next tick. Bad observations are refused and counted. */
  observe(o: Observation): void {
    const reason = checkObservation(o);
    if (reason !== null) return this.counts.add(reason);
    this.counts.add(`observed-${o.kind}`);
    this.analysis.observe(o);
  }

  /** Analyse + Plan: the decisions to execute now (none on a healthy mesh). */
  tick(nowMs: number): Decision[] {
    assertThat(Number.isFinite(nowMs), 'tick: nowMs is a number');
    assertThat(nowMs >= this.lastTickMs, 'tick: time does not go backwards');
    this.lastTickMs = nowMs;
    this.settle(nowMs);
    this.analysis.advance(nowMs);
    const findings = this.analysis.findings(nowMs, this.applied);
    const decisions: Decision[] = [];
    for (const f of findings) {
      if (decisions.length >= mapekLimits.decisionsPerTickMax) {
        this.counts.add('decision-deferred');
        break;
      }
      const d = this.plan(f, nowMs);
      if (d !== null) decisions.push(d);
    }
    this.closeIncidents(findings, nowMs);
    return decisions;
  }

  private plan(f: Finding, nowMs: number): Decision | null {
    if (this.busy.has(f.target)) return null;
    const incident = this.know.openIncidentFor(f.target);
    const choice = choose(f, incident, this.know, this.damping, nowMs);
    if ('hold' in choice) {
      // Count a hold once per target and reason, not once per tick.
      if (this.held.get(f.target) !== choice.hold) {
        if (this.held.size >= mapekLimits.dampingTargetsMax) this.held.clear();
        this.held.set(f.target, choice.hold);
        this.counts.add(`held-${choice.hold}`);
        if (choice.hold !== 'retry-wait')
          this.event(nowMs, incident?.id ?? this.freshId(), 'held', this.holdText(f, choice.hold, nowMs));
      }
      return null;
    }
    this.held.delete(f.target);
    return this.decide(f, choice.action, choice.halfOpen, choice.choice, incident, nowMs);
  }

  private holdText(f: Finding, hold: string, nowMs: number): string {
    const c = this.config;
    const why =
      hold === 'damped'
        ? `${this.damping.count(f.target, nowMs)} actions in dampingWindowMs=${c.dampingWindowMs} >= dampingActionsMax=${c.dampingActionsMax}`
        : `circuit breaker open for ${f.actions.map((a) => a.kind).join('/')} (breakerCooldownMs=${c.breakerCooldownMs})`;
    return `${f.symptom} [${f.rule}] on ${f.target}: ${hold}, ${why}`;
  }

  private decide(
    f: Finding,
    action: Action,
    halfOpen: boolean,
    choice: string | null,
    incident: IncidentRecord | null,
    nowMs: number,
  ): Decision {
    const traceId = this.randomHex();
    assertThat(
      isTraceId(traceId),
      `randomHex returned '${traceId}', not a W3C trace id (32 lowercase hex, not all zero)`,
    );
    assertThat(!this.pending.has(traceId), 'trace ids do not repeat');
    const inc = incident ?? this.know.openIncident(traceId, f.symptom, f.target, nowMs);
    const why = cut(f.why, mapekLimits.whyCharsMax);
    const decision: Decision = {
      traceId,
      atMs: nowMs,
      symptom: f.symptom,
      rule: f.rule,
      why,
      action,
      target: f.target,
      incidentId: inc.id,
      choice: choice === null ? null : cut(choice, mapekLimits.whyCharsMax),
    };
    inc.actions++;
    inc.lastAction = action.kind;
    inc.lastWhy = why;
    inc.lastUndo = f.undo;
    this.pending.set(traceId, { decision, undo: f.undo, okAtMs: null });
    this.busy.set(f.target, traceId);
    if (!f.undo) this.damping.note(f.target, nowMs);
    if (halfOpen) this.know.breakerTrial(breakerKey(action.kind, f.target));
    this.counts.add('decisions');
    this.counts.add(`action-${action.kind}`);
    this.event(nowMs, traceId, 'decided', formatDecision(decision));
    return decision;
  }

  /** Execute's result. Unknown or repeated trace ids are counted and ignored (the edge may be late). */
  outcome(o: Outcome): void {
    const p = this.pending.get(o.traceId);
    if (p === undefined) return this.counts.add('outcome-unknown');
    if (p.okAtMs !== null) return this.counts.add('outcome-repeated');
    const atMs = Number.isFinite(o.atMs) ? Math.max(o.atMs, p.decision.atMs) : p.decision.atMs;
    if (!o.ok) {
      const reason = o.reason !== null && reasonRe.test(o.reason) ? o.reason : 'other';
      return this.failed(p, `executor: ${reason}`, atMs);
    }
    this.apply(p.decision.action);
    this.event(atMs, o.traceId, 'executed', formatAction(p.decision.action));
    if (verifiedBy[p.decision.action.kind] === 'outcome') return this.succeeded(p, atMs);
    p.okAtMs = atMs; // verified on a later tick by what is observed
  }

  /** What an ok'd action changed, so later analysis knows what to undo. */
  private apply(a: Action): void {
    const ap = this.applied;
    switch (a.kind) {
      case 'link-down':
        if (ap.linkDown.size < mapekLimits.ifacesMax)
          ap.linkDown.set(a.iface, { neighbour: a.neighbour, atMs: this.lastTickMs });
        else this.counts.add('applied-table-full');
        return;
      case 'link-up':
        ap.linkDown.delete(a.iface);
        ap.bounced.delete(a.iface);
        return;
      case 'bounce-interface':
        if (ap.bounced.has(a.iface) || ap.bounced.size < mapekLimits.ifacesMax)
          ap.bounced.set(a.iface, this.lastTickMs);
        return;
      case 'retune':
        if (ap.retuned.size < mapekLimits.ifacesMax) ap.retuned.add(a.iface);
        else this.counts.add('applied-table-full');
        return;
      case 'restore-tuning':
        ap.retuned.delete(a.iface);
        return;
      case 'rate-limit':
      case 'isolate': {
        const cause = this.pendingCause(a.mac);
        if (ap.macs.has(a.mac) || ap.macs.size < mapekLimits.macsMax) ap.macs.set(a.mac, { kind: a.kind, cause });
        else this.counts.add('applied-table-full');
        return;
      }
      case 'lift':
        ap.macs.delete(a.mac);
        return;
      default:
        return; // transfer-leadership and restart-component leave nothing to undo
    }
  }

  private pendingCause(mac: string): 'flood' | 'auth' {
    const id = this.busy.get(`mac:${mac}`);
    const symptom = id === undefined ? undefined : this.pending.get(id)?.decision.symptom;
    return symptom === 'auth-failing' ? 'auth' : 'flood';
  }

  /** Outcome timeouts, and the verification of actions whose effect shows in observations. */
  private settle(nowMs: number): void {
    for (const p of [...this.pending.values()]) {
      if (p.okAtMs === null) {
        if (nowMs - p.decision.atMs >= this.config.outcomeTimeoutMs) this.failed(p, 'outcome-timeout', nowMs);
      } else if (this.verified(p.decision.action, p.okAtMs)) {
        this.succeeded(p, nowMs);
      } else if (nowMs - p.okAtMs >= this.config.clearTimeoutMs) {
        this.failed(p, `not-cleared within clearTimeoutMs=${this.config.clearTimeoutMs}`, nowMs);
      }
    }
  }

  private verified(a: Action, okAtMs: number): boolean {
    const an = this.analysis;
    switch (a.kind) {
      case 'rate-limit': {
        const m = an.macs.get(a.mac);
        return m !== undefined && m.lastAtMs !== null && m.lastAtMs > okAtMs && m.passedPps < this.config.floodPpsMin;
      }
      case 'transfer-leadership':
        return an.raft !== null && an.raft.atMs > okAtMs && an.raft.role !== 'leader';
      case 'restart-component': {
        const c = an.components.get(a.name);
        return c !== undefined && c.lastSeenMs > okAtMs && c.state === 'up';
      }
      case 'bounce-interface':
        return an.onIface(a.iface).some((n) => n.alive && n.lastSeenMs > okAtMs);
      default:
        return true;
    }
  }

  private succeeded(p: Pending, atMs: number): void {
    const d = p.decision;
    const clearMs = atMs - d.atMs;
    this.finish(p);
    this.know.record(d.symptom, d.action.kind, true, clearMs);
    const inc = this.know.openIncidentFor(d.target);
    if (inc !== null) inc.lastResult = 'ok';
    this.counts.add('action-succeeded');
    this.event(atMs, d.traceId, 'cleared', `${d.symptom} by ${formatAction(d.action)} in ${fmtMs(clearMs)}`);
    const { change, breaker } = this.know.breakerResult(breakerKey(d.action.kind, d.target), true, atMs);
    if (change === 'closed' && breaker !== null) {
      this.counts.add('breaker-closed');
      this.event(atMs, breaker.incidentId ?? d.traceId, 'breaker-closed', `${breaker.key}: a trial succeeded`);
      const binc = this.know.openIncidentFor(`breaker:${breaker.key}`);
      if (binc !== null) this.know.close(binc, atMs, 'cleared');
    }
  }

  private failed(p: Pending, reason: string, atMs: number): void {
    const d = p.decision;
    this.finish(p);
    this.know.record(d.symptom, d.action.kind, false, 0);
    this.counts.add('action-failed');
    this.counts.add(`action-failed-${reason.split(' ')[0]}`);
    this.event(atMs, d.traceId, 'failed', `${formatAction(d.action)}: ${reason}`);
    const inc = this.know.openIncidentFor(d.target);
    if (inc !== null) {
      inc.lastResult = 'failed';
      if (!inc.failedKinds.includes(d.action.kind)) inc.failedKinds.push(d.action.kind);
      inc.retryAtMs = atMs + this.config.escalateAfterMs;
    }
    const { change, breaker } = this.know.breakerResult(breakerKey(d.action.kind, d.target), false, atMs);
    if (change !== 'opened' || breaker === null) return;
    this.counts.add('breaker-opened');
    const target = `breaker:${breaker.key}`;
    const binc =
      this.know.openIncidentFor(target) ?? this.know.openIncident(this.freshId(), 'breaker-open', target, atMs);
    binc.lastAction = d.action.kind;
    binc.lastWhy = cut(
      `${breaker.key} failed ${breaker.failures} times in a row (breakerFailuresMax=${this.config.breakerFailuresMax}), last: ${reason}; cool-down breakerCooldownMs=${this.config.breakerCooldownMs}`,
      mapekLimits.whyCharsMax,
    );
    breaker.incidentId = binc.id;
    this.event(atMs, binc.id, 'breaker-opened', binc.lastWhy);
  }

  private finish(p: Pending): void {
    this.pending.delete(p.decision.traceId);
    if (this.busy.get(p.decision.target) === p.decision.traceId) this.busy.delete(p.decision.target);
  }

  private freshId(): string {
    const id = this.randomHex();
    assertThat(isTraceId(id), `randomHex returned '${id}', not a W3C trace id`);
    return id;
  }

  /** An incident closes when its target has no finding, nothing in flight and nothing of ours in force. */
  private closeIncidents(findings: readonly Finding[], nowMs: number): void {
    const troubled = new Set(findings.map((f) => f.target));
    for (const target of [...this.held.keys()]) if (!troubled.has(target)) this.held.delete(target);
    for (const inc of this.know.incidents) {
      if (inc.closedAtMs !== null || inc.symptom === 'breaker-open') continue;
      if (troubled.has(inc.target) || this.busy.has(inc.target) || this.inForce(inc.target)) continue;
      const state = inc.lastResult === 'failed' ? 'failed' : inc.lastUndo ? 'undone' : 'cleared';
      this.know.close(inc, nowMs, state);
      this.counts.add(`incident-${state}`);
      this.event(
        nowMs,
        inc.id,
        'incident-closed',
        `${inc.symptom} on ${inc.target} ${state} after ${inc.actions} action(s), ${fmtMs(nowMs - inc.openedAtMs)}`,
      );
    }
  }

  private inForce(target: string): boolean {
    const [kind, ...rest] = target.split(':');
    const name = rest.join(':');
    if (kind === 'iface') return this.applied.linkDown.has(name) || this.applied.retuned.has(name);
    if (kind === 'mac') return this.applied.macs.has(name);
    return false;
  }

  private event(atMs: number, traceId: string, kind: MapekEvent['kind'], text: string): void {
    if (this.events.length >= eventsMax) {
      this.events.shift();
      this.counts.add('events-dropped');
    }
    this.events.push({ atMs, traceId, kind, text: cut(text, 2 * mapekLimits.whyCharsMax) });
  }

  /** The events since the last call (at most 128; older ones are dropped and counted). */
  drainEvents(): MapekEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  knowledge(): KnowledgeSnapshot {
    return this.know.snapshot();
  }

  /** Should the edge persist knowledge() now? At most once per knowledgePersistMs, and only after a change. */
  knowledgeDue(nowMs: number): boolean {
    return this.know.due(nowMs);
  }

  /** The edge wrote knowledge() to flash at nowMs. */
  knowledgePersisted(nowMs: number): void {
    this.know.persisted(nowMs);
  }

  /** The compact summary for the mesh document. */
  meshKnowledge(): MeshKnowledge {
    return this.know.meshSummary();
  }

  /** A peer's summary from the mesh document (outside input): adopted with a bounded weight, or refused. */
  adoptPeerKnowledge(node: string, summary: unknown): { ok: true } | { ok: false; reason: string } {
    const reason = this.know.adoptPeer(node, summary);
    if (reason === null) return { ok: true };
    this.counts.add(reason);
    return { ok: false, reason };
  }

  /**
   * Our statistics as gossip text (mesh-view.ts): at most meshValuesMax values of meshValueCharsMax characters.
   * What does not fit is counted ('mesh-entries-left').
   */
  meshValues(): string[] {
    const { values, left } = encodeMeshStats(this.know.meshSummary().stats);
    if (left > 0) this.counts.add('mesh-entries-left', left);
    return values;
  }

  /** A peer's gossip text (outside input): decoded, bounded and adopted, or refused with a counted reason. */
  adoptPeerValues(node: string, values: readonly unknown[]): { ok: true } | { ok: false; reason: string } {
    const stats = decodeMeshStats(values);
    if (!stats.ok) {
      this.counts.add(stats.reason);
      return { ok: false, reason: stats.reason };
    }
    return this.adoptPeerKnowledge(node, { version: 1, stats: stats.value, incidents: [] });
  }

  /** The statistics adopted from each peer, for status and tests. */
  peerKnowledge(): Record<string, Record<string, OutcomeStats>> {
    const out: Record<string, Record<string, OutcomeStats>> = {};
    for (const [node, stats] of this.know.peers) out[node] = Object.fromEntries(stats);
    return out;
  }

  incidents(): readonly Incident[] {
    return this.know.incidents.map(incidentView);
  }

  counters(): Record<string, number> {
    return this.counts.snapshot();
  }

  /** What our actions changed and is still in force (for status and tests). */
  inForceNow(): { linkDown: string[]; retuned: string[]; macs: string[] } {
    return {
      linkDown: [...this.applied.linkDown.keys()].sort(),
      retuned: [...this.applied.retuned].sort(),
      macs: [...this.applied.macs.keys()].sort(),
    };
  }
}
