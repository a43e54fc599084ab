// The agent's supervisor as a pure state machine (the Raft core's shape: inputs in, decisions out, the caller
// does the I/O). It knows each component's state, when a failed one may start again (bounded exponential
// backoff), and how often it was restarted. A component that fails is never fatal to the agent.
import { assertThat } from '../core/result.js';

export type ComponentState = 'starting' | 'up' | 'degraded' | 'down' | 'disabled';

/** What a component says of itself: running, running with a handicap (and why), or failed (and why). */
export interface Health {
  readonly state: 'up' | 'degraded' | 'down';
  readonly reason: string | null;
}

export interface ComponentHealth {
  readonly state: ComponentState;
  readonly reason: string | null;
  readonly restarts: number;
  readonly sinceMs: number;
}

export const supervisorLimits = {
  /** First restart delay after a failure; doubles per consecutive failure. */
  backoffBaseMs: 500,
  /** Restart delay ceiling. */
  backoffMaxMs: 30_000,
  /** A component up this long has its consecutive-failure count forgotten. */
  stableAfterMs: 60_000,
  componentsMax: 16,
} as const;
assertThat(supervisorLimits.backoffMaxMs >= supervisorLimits.backoffBaseMs, 'backoff ceiling below its base');

/** A change worth a log line and an event. */
export interface Transition {
  readonly component: string;
  readonly from: ComponentState;
  readonly to: ComponentState;
  readonly reason: string | null;
  /** For a failure: when the next start is due. */
  readonly retryInMs?: number;
}

interface Entry {
  state: ComponentState;
  reason: string | null;
  restarts: number;
  failures: number;
  sinceMs: number;
  nextStartMs: number;
  starting: boolean;
  everStarted: boolean;
  /** Its first start has ended (up, degraded or failed): until then the agent as a whole is starting. */
  settled: boolean;
}

export function backoffMs(failures: number): number {
  assertThat(failures >= 1, 'backoff before any failure');
  const exponent = Math.min(failures - 1, 16);
  return Math.min(supervisorLimits.backoffMaxMs, supervisorLimits.backoffBaseMs * 2 ** exponent);
}

export class Supervisor {
  private readonly entries = new Map<string, Entry>();

  /** A component to run; it is due to start at once. */
  add(name: string, nowMs: number): void {
    assertThat(!this.entries.has(name), `component ${name} added twice`);
    assertThat(this.entries.size < supervisorLimits.componentsMax, 'too many components');
    this.entries.set(name, {
      state: 'starting',
      reason: null,
      restarts: 0,
      failures: 0,
      sinceMs: nowMs,
      nextStartMs: nowMs,
      starting: false,
      everStarted: false,
      settled: false,
    });
  }

  /** A component that does not run in this configuration (and why); never started. */
  disable(name: string, reason: string, nowMs: number): void {
    assertThat(!this.entries.has(name), `component ${name} added twice`);
    this.entries.set(name, {
      state: 'disabled',
      reason,
      restarts: 0,
      failures: 0,
      sinceMs: nowMs,
      nextStartMs: Infinity,
      starting: false,
      everStarted: false,
      settled: true,
    });
  }

  /** Components whose start is due now; each is marked as starting until started() or failed() says how it went. */
  due(nowMs: number): string[] {
    const names: string[] = [];
    for (const [name, e] of this.entries) {
      if (e.starting || e.nextStartMs > nowMs) continue;
      if (e.state !== 'starting' && e.state !== 'down') continue;
      e.starting = true;
      if (e.everStarted) e.restarts++;
      e.everStarted = true;
      names.push(name);
    }
    return names;
  }

  started(name: string, health: Health, nowMs: number): Transition | null {
    const e = this.entry(name);
    assertThat(e.starting, `component ${name} reported started without a start`);
    e.starting = false;
    e.settled = true;
    e.nextStartMs = Infinity;
    if (health.state === 'down') return this.fail(name, e, health.reason ?? 'start-failed', nowMs);
    return this.set(name, e, health.state, health.reason, nowMs);
  }

  failed(name: string, reason: string, nowMs: number): Transition | null {
    const e = this.entry(name);
    e.starting = false;
    e.settled = true;
    return this.fail(name, e, reason, nowMs);
  }

  /**
   * An operator's (or a reload's) restart of a stopped component: due at once, counted, not a failure. A component
   * whose start is under way is left to it (null): it is about to run with what the restart would give it.
   */
  restart(name: string, reason: string, nowMs: number): Transition | null {
    const e = this.entry(name);
    assertThat(e.state !== 'disabled', `component ${name} is disabled`);
    if (e.starting) return null;
    const from = e.state;
    e.starting = false;
    e.state = 'starting';
    e.reason = reason;
    e.sinceMs = nowMs;
    e.nextStartMs = nowMs;
    return { component: name, from, to: 'starting', reason };
  }

  /** The periodic health check of a running component; a component that reports down is restarted after its backoff. */
  observed(name: string, health: Health, nowMs: number): Transition | null {
    const e = this.entry(name);
    if (e.starting || e.state === 'disabled' || e.state === 'down' || e.state === 'starting') return null;
    if (e.failures > 0 && e.state === 'up' && nowMs - e.sinceMs >= supervisorLimits.stableAfterMs) e.failures = 0;
    if (health.state === 'down') return this.fail(name, e, health.reason ?? 'health-down', nowMs);
    return this.set(name, e, health.state, health.reason, nowMs);
  }

  /** A start of this component is under way (due() handed it out; started() or failed() has not come yet). */
  isStarting(name: string): boolean {
    return this.entry(name).starting;
  }

  /** Names of the components that run now (started and not down), for the health poll. */
  running(): string[] {
    return [...this.entries]
      .filter(([, e]) => !e.starting && (e.state === 'up' || e.state === 'degraded'))
      .map(([n]) => n);
  }

  health(name: string): ComponentHealth | undefined {
    const e = this.entries.get(name);
    return e === undefined ? undefined : { state: e.state, reason: e.reason, restarts: e.restarts, sinceMs: e.sinceMs };
  }

  snapshot(): Record<string, ComponentHealth> {
    const out: Record<string, ComponentHealth> = {};
    for (const name of this.entries.keys()) out[name] = this.health(name) as ComponentHealth;
    return out;
  }

  /** The agent as a whole: starting until every component has started once; degraded while any is not up. */
  overall(): 'starting' | 'running' | 'degraded' {
    const states = [...this.entries.values()];
    if (states.some((e) => !e.settled)) return 'starting';
    return states.every((e) => e.state === 'up' || e.state === 'disabled') ? 'running' : 'degraded';
  }

  private fail(name: string, e: Entry, reason: string, nowMs: number): Transition {
    e.failures++;
    const retryInMs = backoffMs(e.failures);
    e.nextStartMs = nowMs + retryInMs;
    const from = e.state;
    e.state = 'down';
    e.reason = reason;
    e.sinceMs = nowMs;
    assertThat(e.nextStartMs > nowMs, 'restart not in the future');
    return { component: name, from, to: 'down', reason, retryInMs };
  }

  private set(
    name: string,
    e: Entry,
    state: 'up' | 'degraded',
    reason: string | null,
    nowMs: number,
  ): Transition | null {
    if (e.state === state && e.reason === reason) return null;
    const from = e.state;
    e.state = state;
    e.reason = state === 'up' ? null : reason;
    e.sinceMs = nowMs;
    return { component: name, from, to: state, reason: e.reason };
  }

  private entry(name: string): Entry {
    const e = this.entries.get(name);
    assertThat(e !== undefined, `unknown component ${name}`);
    return e;
  }
}
