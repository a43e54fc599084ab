// One lifecycle shape for every part of the agent: start (resolves with its first health), stop, health (cheap,
// synchronous: a component that needs I/O to know its health refreshes it on its own timer). The supervisor
// (supervisor.ts) starts them, polls their health and restarts a failed one after its backoff.
import type { Health } from './supervisor.js';

export interface Component {
  readonly name: string;
  start(): Promise<Health>;
  stop(): void;
  health(): Health;
  /** Counters and gauges for telemetry and the exporter (numbers only, a few dozen at most). */
  metrics?(): Record<string, number>;
}

export const up: Health = { state: 'up', reason: null };
export const degraded = (reason: string): Health => ({ state: 'degraded', reason });
export const down = (reason: string): Health => ({ state: 'down', reason });

/** The error of a failed start, as a reason code a person can read: `Error: EADDRINUSE` -> `EADDRINUSE`. */
export function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/^Error:\s*/, '').slice(0, 120) || 'error';
}
