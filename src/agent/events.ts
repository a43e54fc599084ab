// The agent's journal: every event is one structured log line (time, level, component, event, key=value), which
// procd hands to logd, and the last eventsMax are kept for the ubus `events` method. The level filter applies to
// the log only; the journal keeps info and above whatever the log level.
import { formatLogLine } from '../platform/logger.js';
import type { LogLevel } from '../platform/types.js';

export interface AgentEvent {
  readonly time_ms: number;
  readonly level: LogLevel;
  readonly component: string;
  readonly event: string;
  readonly reason: string | null;
  readonly trace_id: string | null;
  readonly fields: Record<string, unknown>;
}

export const eventsMax = 256;
export const eventFieldsMax = 12;

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export class Journal {
  private readonly ring: AgentEvent[] = [];
  /** Events ever kept in the ring: a cursor for readers that want only what is new (telemetry's traces). */
  private kept = 0;
  level: LogLevel;

  constructor(
    private readonly write: (line: string) => void,
    private readonly wallClockMs: () => number,
    level: LogLevel = 'info',
  ) {
    this.level = level;
  }

  record(level: LogLevel, component: string, event: string, fields: Record<string, unknown> = {}): void {
    const entries = Object.entries(fields).slice(0, eventFieldsMax);
    const kept = Object.fromEntries(entries.filter(([k]) => k !== 'reason' && k !== 'trace_id'));
    const reason = typeof fields.reason === 'string' ? fields.reason : null;
    const traceId = typeof fields.trace_id === 'string' ? fields.trace_id : null;
    const timeMs = this.wallClockMs();
    if (rank[level] >= rank[this.level])
      this.write(formatLogLine(timeMs, level, `${component} ${event}`, Object.fromEntries(entries)));
    if (rank[level] < rank.info) return;
    this.ring.push({ time_ms: timeMs, level, component, event, reason, trace_id: traceId, fields: kept });
    this.kept++;
    if (this.ring.length > eventsMax) this.ring.shift();
  }

  /** The events kept after `cursor` (a previous `next`), oldest first; `missed`: those that left the ring unread. */
  since(cursor: number): { events: AgentEvent[]; next: number; missed: number } {
    const fresh = Math.max(0, Math.min(this.kept - cursor, this.kept));
    const events = this.ring.slice(Math.max(0, this.ring.length - fresh));
    return { events, next: this.kept, missed: fresh - events.length };
  }

  /** The newest `limit` events, oldest first. */
  last(limit = eventsMax): AgentEvent[] {
    const n = Math.max(0, Math.min(limit, eventsMax));
    return this.ring.slice(Math.max(0, this.ring.length - n));
  }
}
