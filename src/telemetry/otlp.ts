// OpenTelemetry export of self-healing traces (`x0 watch --otlp URL`, docs/mapek.md "Traces"): the trace events
// of verified telemetry become spans, one trace per MAPE-K decision (the W3C trace id the node gave it): the
// decision is the root span, the executed action and the outcome (cleared / failed, from the decision to the
// outcome: the time to repair) its children. Spans go to an OTLP/HTTP collector as JSON (POST .../v1/traces,
// the protobuf JSON mapping with trace and span ids as hex: opentelemetry-proto docs/specification.md).
// A bounded queue; one request at a time; retry with backoff on the retryable answers (429, 502, 503, 504, or
// no answer); the oldest spans dropped and counted when the queue is full. offer() only queues: the watch's
// verification never waits for the collector. Engine-neutral: the HTTP POST and the timer come in.
import { Counters } from '../core/result.js';
import { toHex } from '../core/wire/hex.js';
import type { TraceValue } from '../core/telemetry/traces.js';
import { agentVersion } from '../version.js';
import type { NodeTraceEvent } from './watcher.js';

/** Spans waiting for the collector; past this the oldest are dropped (counted spans-dropped). */
export const otlpQueueSpansMax = 2048;
/** Spans in one request. */
export const otlpBatchSpansMax = 256;
/** Traces whose root span id is remembered (so a later action or outcome links to its decision). */
export const otlpTracesMax = 1024;
/** Retry backoff: from the first delay, doubling, to the cap (a collector's Retry-After is honoured up to it). */
export const otlpBackoffFirstMs = 500;
export const otlpBackoffMaxMs = 30_000;
/** One request's time limit (the transport's). */
export const otlpRequestTimeoutMs = 5_000;

export type OtlpAnyValue =
  | { readonly stringValue: string }
  | { readonly boolValue: boolean }
  | { readonly intValue: string }
  | { readonly doubleValue: number };

export interface OtlpKeyValue {
  readonly key: string;
  readonly value: OtlpAnyValue;
}

/** opentelemetry.proto.trace.v1.Span in the OTLP/JSON mapping (only the fields we fill). */
export interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  /** SPAN_KIND_INTERNAL */
  readonly kind: 1;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes: readonly OtlpKeyValue[];
  /** STATUS_CODE_UNSET 0, OK 1, ERROR 2. */
  readonly status: { readonly code: 0 | 1 | 2; readonly message?: string };
}

/** What one POST answered: an HTTP status (and Retry-After, ms), or that there was no answer. */
export type OtlpAnswer = { readonly status: number; readonly retryAfterMs: number | null } | { readonly error: string };

export interface OtlpTransport {
  post(body: string): Promise<OtlpAnswer>;
  setTimer(ms: number, fn: () => void): void;
  randomBytes(n: number): Uint8Array;
}

interface Queued {
  readonly mesh: string;
  readonly node: string;
  readonly span: OtlpSpan;
}

interface TraceState {
  readonly rootSpanId: string;
  decidedAtMs: number | null;
  /** The root span id went to a span already (the decision, or the first event of a decision-less trace). */
  rootTaken: boolean;
  readonly done: Set<string>;
}

const nanos = (ms: number): string => (ms <= 0 ? '0' : `${Math.round(ms)}000000`);

export function anyValue(v: Exclude<TraceValue, null>): OtlpAnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  return Number.isSafeInteger(v) ? { intValue: String(v) } : { doubleValue: v };
}

function attributes(e: NodeTraceEvent): OtlpKeyValue[] {
  const out: OtlpKeyValue[] = [
    { key: 'x0.node', value: { stringValue: e.node } },
    { key: 'x0.component', value: { stringValue: e.component } },
    { key: 'x0.event', value: { stringValue: e.event } },
  ];
  if (e.reason !== null) out.push({ key: 'x0.reason', value: { stringValue: e.reason } });
  for (const [k, v] of Object.entries(e.fields)) if (v !== null) out.push({ key: `x0.${k}`, value: anyValue(v) });
  return out;
}

/** Events of one message with the same trace and kind, decided or executed, are one step said twice (the agent
 * component's and the core's line): merged, the first one's fields first. */
function merged(events: readonly NodeTraceEvent[]): NodeTraceEvent[] {
  const out: NodeTraceEvent[] = [];
  const at = new Map<string, number>();
  for (const e of events) {
    const key = `${e.node} ${e.trace_id} ${e.event}`;
    const i = e.event === 'decided' || e.event === 'executed' ? at.get(key) : undefined;
    if (i === undefined) {
      at.set(key, out.length);
      out.push(e);
      continue;
    }
    const first = out[i] as NodeTraceEvent;
    out[i] = { ...first, reason: first.reason ?? e.reason, fields: { ...e.fields, ...first.fields } };
  }
  return out;
}

export class OtlpExporter {
  readonly counters = new Counters();
  private readonly traces = new Map<string, TraceState>();
  private queue: Queued[] = [];
  private batch: Queued[] | null = null;
  private inFlight = false;
  private waiting = false;
  private attempt = 0;
  private idle: (() => void)[] = [];

  constructor(private readonly transport: OtlpTransport) {}

  get queued(): number {
    return this.queue.length + (this.batch?.length ?? 0);
  }

  /** Queues the spans of these (verified) trace events; never waits. */
  offer(events: readonly NodeTraceEvent[]): void {
    for (const e of merged(events)) {
      const span = this.spanFor(e);
      if (span === null) continue;
      this.queue.push({ mesh: e.mesh, node: e.node, span });
      this.counters.add('spans-queued');
    }
    if (this.queue.length > otlpQueueSpansMax) {
      const excess = this.queue.length - otlpQueueSpansMax;
      this.queue.splice(0, excess);
      this.counters.add('spans-dropped', excess);
    }
    this.pump();
  }

  /** Resolves once everything queued is sent or given up (dropped), or after timeoutMs; for the watch's end. */
  drain(timeoutMs: number): Promise<void> {
    if (this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.idle.push(resolve);
      this.transport.setTimer(timeoutMs, resolve);
    });
  }

  private state(traceId: string): TraceState {
    let s = this.traces.get(traceId);
    if (s !== undefined) {
      this.traces.delete(traceId);
      this.traces.set(traceId, s);
      return s;
    }
    s = { rootSpanId: this.spanId(), decidedAtMs: null, rootTaken: false, done: new Set() };
    this.traces.set(traceId, s);
    if (this.traces.size > otlpTracesMax) this.traces.delete(this.traces.keys().next().value as string);
    return s;
  }

  private spanId(): string {
    for (;;) {
      const id = toHex(this.transport.randomBytes(8));
      if (id !== '0000000000000000') return id;
    }
  }

  /** decided: the root; executed and the outcome: its children; anything else: a child once the root is known. */
  private spanFor(e: NodeTraceEvent): OtlpSpan | null {
    const s = this.state(e.trace_id);
    const once = e.event === 'decided' || e.event === 'executed';
    if (once && s.done.has(e.event)) {
      this.counters.add('events-repeated');
      return null;
    }
    s.done.add(e.event);
    const f = e.fields;
    const base = { traceId: e.trace_id, kind: 1 as const, attributes: attributes(e), endTimeUnixNano: nanos(e.at) };
    const child = { ...base, spanId: this.spanId(), parentSpanId: s.rootSpanId };
    if (e.event === 'decided') {
      s.decidedAtMs = e.at;
      const symptom = typeof f.symptom === 'string' ? f.symptom : null;
      const root = s.rootTaken ? child : { ...base, spanId: s.rootSpanId };
      s.rootTaken = true;
      return { ...root, name: `decide ${symptom ?? e.component}`, startTimeUnixNano: nanos(e.at), status: { code: 0 } };
    }
    if (e.event === 'executed') {
      const tookMs = typeof f.took_ms === 'number' && f.took_ms >= 0 && f.took_ms <= e.at ? f.took_ms : 0;
      const failed = f.ok === false;
      return {
        ...child,
        name: `execute ${typeof f.action === 'string' ? f.action : 'action'}`,
        startTimeUnixNano: nanos(e.at - tookMs),
        status: failed ? { code: 2, message: e.reason ?? 'failed' } : { code: 1 },
      };
    }
    if (e.event === 'cleared' || e.event === 'failed') {
      const from = s.decidedAtMs !== null && s.decidedAtMs <= e.at ? s.decidedAtMs : e.at;
      const message = e.reason ?? (typeof f.what === 'string' ? f.what : e.event);
      return {
        ...child,
        name: `outcome ${e.event}`,
        startTimeUnixNano: nanos(from),
        status: e.event === 'cleared' ? { code: 1 } : { code: 2, message },
      };
    }
    // held, breaker-*, incident-closed, ...: under the root when there is one, else the root of its own trace.
    const span = s.rootTaken ? child : { ...base, spanId: s.rootSpanId };
    s.rootTaken = true;
    return {
      ...span,
      name: `${e.component} ${e.event}`,
      startTimeUnixNano: nanos(e.at),
      status: { code: 0 },
    };
  }

  private pump(): void {
    if (this.inFlight || this.waiting) return;
    if (this.batch === null && this.queue.length > 0) this.batch = this.queue.splice(0, otlpBatchSpansMax);
    const batch = this.batch;
    if (batch === null) {
      for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    this.inFlight = true;
    void this.transport.post(JSON.stringify(requestBody(batch))).then(
      (answer) => this.answered(batch, answer),
      (error: unknown) => this.answered(batch, { error: String(error) }),
    );
  }

  private answered(batch: Queued[], answer: OtlpAnswer): void {
    this.inFlight = false;
    const status = 'status' in answer ? answer.status : null;
    if (status !== null && status >= 200 && status < 300) {
      this.counters.add('spans-exported', batch.length);
      this.counters.add('requests-ok');
      this.attempt = 0;
      this.batch = null;
      return this.pump();
    }
    // OTLP/HTTP: 429, 502, 503, 504 are retryable, like no answer at all; any other status is final.
    if (status !== null && ![429, 502, 503, 504].includes(status)) {
      this.counters.add(`requests-refused-${status}`);
      this.counters.add('spans-refused', batch.length);
      this.batch = null;
      return this.pump();
    }
    this.counters.add(status === null ? 'requests-failed' : `requests-retry-${status}`);
    this.attempt++;
    const backoff = Math.min(otlpBackoffMaxMs, otlpBackoffFirstMs * 2 ** Math.min(this.attempt - 1, 16));
    // Equal jitter: half fixed, half random, so that watches restarted together do not retry together.
    const jittered = backoff / 2 + ((this.transport.randomBytes(1)[0] as number) / 255) * (backoff / 2);
    const retryAfter = 'retryAfterMs' in answer && answer.retryAfterMs !== null ? answer.retryAfterMs : 0;
    this.waiting = true;
    this.transport.setTimer(Math.min(otlpBackoffMaxMs, Math.max(jittered, retryAfter)), () => {
      this.waiting = false;
      this.pump();
    });
  }
}

/** ExportTraceServiceRequest: one resourceSpans per node, one scope. */
export function requestBody(batch: readonly Queued[]): { resourceSpans: unknown[] } {
  const byNode = new Map<string, Queued[]>();
  for (const q of batch) {
    const key = `${q.mesh}/${q.node}`;
    const list = byNode.get(key) ?? [];
    list.push(q);
    byNode.set(key, list);
  }
  return {
    resourceSpans: [...byNode.values()].map((list) => {
      const { mesh, node } = list[0] as Queued;
      return {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'x0tta6bl4' } },
            { key: 'service.instance.id', value: { stringValue: `${node}@${mesh}` } },
            { key: 'host.name', value: { stringValue: node } },
            { key: 'x0.mesh', value: { stringValue: mesh } },
          ],
        },
        scopeSpans: [{ scope: { name: 'x0tta6bl4.mapek', version: agentVersion }, spans: list.map((q) => q.span) }],
      };
    }),
  };
}

/** The collector URL as given, with /v1/traces added when it names no path; null if it is not http(s). */
export function otlpTracesUrl(url: string): string | null {
  const m = /^(https?:\/\/[^/\s?#]+)(\/[^\s#]*)?$/.exec(url);
  if (m === null) return null;
  const path = m[2] ?? '';
  return path === '' || path === '/' ? `${m[1]}/v1/traces` : url;
}
