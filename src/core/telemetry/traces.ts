// Self-healing traces in telemetry (docs/mapek.md, "Traces"; docs/telemetry.md): the agent's journal events that
// carry a W3C trace id (a MAPE-K decision, its action, its outcome) ride in the signed telemetry body as
// `traces: {events, dropped, missed}`. The node cuts them to size here (traceBatch); a consumer decodes them
// with every field checked (decodeTraceBatch): the body is signed, but a signed bug is still outside input.
// Pure.
import {
  atMsMax,
  traceBytesMax,
  traceEventsPerMessageMax,
  traceFieldsMax,
  traceNameCharsMax,
  traceTextCharsMax,
} from './limits.js';
import { utf8 } from '../wire/hex.js';

export type TraceValue = string | number | boolean | null;

export interface TraceEvent {
  /** The node's wall clock, ms since the epoch. */
  readonly at: number;
  readonly component: string;
  readonly event: string;
  /** W3C trace-context trace-id: 32 lowercase hex digits, not all zero. */
  readonly trace_id: string;
  readonly reason: string | null;
  readonly fields: Readonly<Record<string, TraceValue>>;
}

export interface TraceBatch {
  readonly events: readonly TraceEvent[];
  /** Trace events the node had but did not send (over the per-message count or size). */
  readonly dropped: number;
  /** Journal events (any) that left the node's ring before the uplink read them. */
  readonly missed: number;
}

/** The journal's event shape (src/agent/events.ts), as far as traces need it. */
export interface JournalEventLike {
  readonly time_ms: number;
  readonly component: string;
  readonly event: string;
  readonly reason: string | null;
  readonly trace_id: string | null;
  readonly fields: Record<string, unknown>;
}

export function isTraceId(s: unknown): s is string {
  return typeof s === 'string' && /^[0-9a-f]{32}$/.test(s) && !/^0+$/.test(s);
}

const nameSyntax = new RegExp(`^[A-Za-z0-9._-]{1,${traceNameCharsMax}}$`);

function cutText(s: string): string {
  return s.length <= traceTextCharsMax ? s : `${s.slice(0, traceTextCharsMax - 1)}…`;
}

function toValue(v: unknown): TraceValue {
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') return cutText(v);
  if (v === undefined) return null;
  try {
    return cutText(JSON.stringify(v) ?? String(v));
  } catch {
    return null;
  }
}

function fromJournal(e: JournalEventLike): TraceEvent {
  const fields: Record<string, TraceValue> = {};
  for (const [k, v] of Object.entries(e.fields)) {
    if (Object.keys(fields).length >= traceFieldsMax) break;
    if (nameSyntax.test(k)) fields[k] = toValue(v);
  }
  return {
    at: Math.round(e.time_ms),
    component: e.component.slice(0, traceNameCharsMax),
    event: e.event.slice(0, traceNameCharsMax),
    trace_id: e.trace_id as string,
    reason: e.reason === null ? null : cutText(e.reason),
    fields,
  };
}

/**
 * The node's side: of the journal events since the last message, those with a trace id, the newest kept within
 * traceEventsPerMessageMax and traceBytesMax. null when there is nothing to say (no key in the body then).
 */
export function traceBatch(events: readonly JournalEventLike[], missed: number): TraceBatch | null {
  const traced = events.filter((e) => isTraceId(e.trace_id));
  if (traced.length === 0 && missed === 0) return null;
  const kept: TraceEvent[] = [];
  let bytes = 0;
  for (let i = traced.length - 1; i >= 0 && kept.length < traceEventsPerMessageMax; i--) {
    const event = fromJournal(traced[i] as JournalEventLike);
    const size = utf8(JSON.stringify(event)).length;
    if (bytes + size > traceBytesMax) break;
    bytes += size;
    kept.push(event);
  }
  kept.reverse();
  return { events: kept, dropped: traced.length - kept.length, missed };
}

export interface DecodedTraces {
  readonly events: TraceEvent[];
  /** Entries that failed a check (counted by the consumer as trace-event-refused). */
  readonly refused: number;
  readonly dropped: number;
  readonly missed: number;
}

const noTraces: DecodedTraces = { events: [], refused: 0, dropped: 0, missed: 0 };

const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

function decodeFields(x: unknown): Record<string, TraceValue> | null {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return null;
  const entries = Object.entries(x as Record<string, unknown>);
  if (entries.length > traceFieldsMax) return null;
  const out: Record<string, TraceValue> = {};
  for (const [k, v] of entries) {
    if (!nameSyntax.test(k)) return null;
    const good =
      v === null ||
      typeof v === 'boolean' ||
      (typeof v === 'number' && Number.isFinite(v)) ||
      (typeof v === 'string' && v.length <= traceTextCharsMax);
    if (!good) return null;
    out[k] = v as TraceValue;
  }
  return out;
}

function decodeEvent(x: unknown): TraceEvent | null {
  if (typeof x !== 'object' || x === null) return null;
  const e = x as Record<string, unknown>;
  if (!Number.isSafeInteger(e.at) || (e.at as number) < 0 || (e.at as number) >= atMsMax) return null;
  if (typeof e.component !== 'string' || !nameSyntax.test(e.component)) return null;
  if (typeof e.event !== 'string' || !nameSyntax.test(e.event)) return null;
  if (!isTraceId(e.trace_id)) return null;
  if (e.reason !== null && (typeof e.reason !== 'string' || e.reason.length > traceTextCharsMax)) return null;
  const fields = decodeFields(e.fields);
  if (fields === null) return null;
  return {
    at: e.at as number,
    component: e.component,
    event: e.event,
    trace_id: e.trace_id,
    reason: e.reason as string | null,
    fields,
  };
}

/** The consumer's side: `data.traces` of a verified telemetry message, every field checked, never a throw. */
export function decodeTraceBatch(x: unknown): DecodedTraces {
  if (x === undefined) return noTraces;
  if (typeof x !== 'object' || x === null) return { ...noTraces, refused: 1 };
  const b = x as Record<string, unknown>;
  if (!Array.isArray(b.events)) return { ...noTraces, refused: 1 };
  const events: TraceEvent[] = [];
  let refused = Math.max(0, b.events.length - traceEventsPerMessageMax);
  for (const item of b.events.slice(0, traceEventsPerMessageMax)) {
    const event = decodeEvent(item);
    if (event === null) refused++;
    else events.push(event);
  }
  return {
    events,
    refused,
    dropped: isCount(b.dropped) ? b.dropped : 0,
    missed: isCount(b.missed) ? b.missed : 0,
  };
}

const quoted = (v: TraceValue): string => (typeof v === 'string' && /[\s"=]/.test(v) ? JSON.stringify(v) : String(v));

/** One human line: `trace <id> <node> <component> <event> key=value ...` (x0 watch). */
export function formatTraceEvent(node: string, e: TraceEvent): string {
  const fields = Object.entries(e.fields).map(([k, v]) => `${k}=${quoted(v)}`);
  if (e.reason !== null) fields.unshift(`reason=${quoted(e.reason)}`);
  const at = new Date(e.at).toISOString().slice(11, 23);
  return `trace ${e.trace_id} ${at} ${node} ${e.component} ${e.event}${fields.length > 0 ? ` ${fields.join(' ')}` : ''}`;
}
