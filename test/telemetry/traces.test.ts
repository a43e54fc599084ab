// Self-healing traces in telemetry (docs/mapek.md, Traces): the node's side cuts the journal's trace events to
// size, the consumer decodes them with every field checked (never a throw), they survive signing and
// verification, and the OTLP exporter turns them into linked spans with a bounded queue and retries.
// Engine-neutral (no sockets: the exporter's POST and timer are given to it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Journal } from '../../src/agent/events.js';
import { createTweetnaclCrypto } from '../../src/crypto/tweetnacl.js';
import { createRoot, issueNodeCert } from '../../src/core/identity/ca.js';
import { createTrustBundle } from '../../src/core/identity/chain.js';
import {
  traceBytesMax,
  traceEventsPerMessageMax,
  traceFieldsMax,
  traceTextCharsMax,
} from '../../src/core/telemetry/limits.js';
import { utf8 } from '../../src/core/wire/hex.js';
import { TelemetrySigner } from '../../src/core/telemetry/messages.js';
import { Rng } from '../../src/core/rng.js';
import { decodeTraceBatch, formatTraceEvent, traceBatch, type TraceEvent } from '../../src/core/telemetry/traces.js';
import {
  OtlpExporter,
  otlpQueueSpansMax,
  otlpTracesUrl,
  type OtlpAnswer,
  type OtlpSpan,
} from '../../src/telemetry/otlp.js';
import { Watcher, type NodeTraceEvent } from '../../src/telemetry/watcher.js';

const traceA = '4bf92f3577b34da6a3ce929d0e0e4736';
const traceB = '0af7651916cd43dd8448eb211c80319c';

function journalAt(startMs: number): { journal: Journal; advance: (ms: number) => void } {
  let now = startMs;
  return {
    journal: new Journal(
      () => {},
      () => now,
    ),
    advance: (ms) => (now += ms),
  };
}

/** The journal lines of one healed link, as src/agent/components/mapek.ts records a decision and its outcome. */
function healedLink(journal: Journal, advance: (ms: number) => void, traceId: string): void {
  journal.record('warn', 'mapek', 'decided', {
    trace_id: traceId,
    symptom: 'neighbour-dead',
    rule: 'neighbour-dead-link-down',
    action: 'link-down',
    target: 'iface:eth-a',
    why: 'probe: neighbour 02:00:00:00:00:0a on eth-a not alive for 300ms',
  });
  journal.record('info', 'mapek', 'decided', {
    trace_id: traceId,
    what: 'neighbour-dead [neighbour-dead-link-down] -> link-down eth-a',
  });
  advance(40);
  journal.record('info', 'mapek', 'executed', {
    trace_id: traceId,
    action: 'link-down',
    target: 'iface:eth-a',
    ok: true,
    reason: null,
    took_ms: 35,
  });
  advance(900);
  journal.record('info', 'mapek', 'cleared', { trace_id: traceId, what: 'neighbour-dead by link-down eth-a in 940ms' });
}

test('the node sends only trace events since the last message, newest kept within the count', () => {
  const { journal, advance } = journalAt(1_800_000_000_000);
  journal.record('info', 'raft', 'leader', { term: 3 });
  healedLink(journal, advance, traceA);
  let cursor = 0;
  const take = () => {
    const fresh = journal.since(cursor);
    cursor = fresh.next;
    return traceBatch(fresh.events, fresh.missed);
  };
  const first = take();
  assert.ok(first !== null);
  assert.equal(
    first.events.map((e) => e.event),
    ['decided', 'decided', 'executed', 'cleared'],
  );
  assert.is(first.events[0]?.trace_id, traceA);
  assert.is(first.events[0]?.fields.symptom, 'neighbour-dead');
  assert.is(first.events[2]?.fields.took_ms, 35);
  assert.is(take(), null, 'nothing new: no traces key at all');
  for (let i = 0; i < 40; i++) journal.record('info', 'mapek', 'held', { trace_id: traceB, what: `held ${i}` });
  const many = take();
  assert.is(many?.events.length, traceEventsPerMessageMax);
  assert.is(many?.dropped, 40 - traceEventsPerMessageMax);
  assert.is(many?.events.at(-1)?.fields.what, 'held 39', 'the newest are kept');
});

test('the node cuts long texts, too many fields and odd values; the size budget holds', () => {
  const { journal } = journalAt(1_800_000_000_000);
  const fields: Record<string, unknown> = { trace_id: traceA, nested: { a: [1, 2] }, nan: Number.NaN };
  for (let i = 0; i < 20; i++) fields[`f${i}`] = 'x'.repeat(1000);
  for (let i = 0; i < 16; i++) journal.record('info', 'mapek', 'decided', fields);
  const batch = traceBatch(journal.last(), 0);
  assert.ok(batch !== null);
  assert.ok(batch.events.length < 16 && batch.events.length > 0, `cut by size: ${batch.events.length}`);
  assert.is(batch.dropped, 16 - batch.events.length);
  const event = batch.events[0] as TraceEvent;
  assert.ok(Object.keys(event.fields).length <= traceFieldsMax);
  for (const v of Object.values(event.fields)) if (typeof v === 'string') assert.ok(v.length <= traceTextCharsMax);
  assert.ok(JSON.stringify(batch).length < 7 * 1024);
  // Three UTF-8 bytes a character: the budget is in bytes, not characters.
  const { journal: wide } = journalAt(1_800_000_000_000);
  const euros: Record<string, unknown> = { trace_id: traceA };
  for (let i = 0; i < 8; i++) euros[`f${i}`] = '€'.repeat(400);
  for (let i = 0; i < 16; i++) wide.record('info', 'mapek', 'decided', euros);
  const wideBatch = traceBatch(wide.last(), 0);
  assert.ok(wideBatch !== null && wideBatch.events.length > 0);
  const bytes = wideBatch.events.reduce((n, e) => n + utf8(JSON.stringify(e)).length, 0);
  assert.ok(bytes <= traceBytesMax, `${bytes} bytes`);
  const decoded = decodeTraceBatch(JSON.parse(JSON.stringify(batch)));
  assert.is(decoded.refused, 0, 'what the node sends, the consumer takes');
  assert.is(decoded.events.length, batch.events.length);
});

test('the consumer refuses malformed trace events by count, never throws', () => {
  const good = { at: 1, component: 'mapek', event: 'decided', trace_id: traceA, reason: null, fields: { ok: true } };
  const bad: unknown[] = [
    { ...good, trace_id: '0'.repeat(32) },
    { ...good, trace_id: traceA.toUpperCase() },
    { ...good, at: -1 },
    { ...good, at: 2 ** 60 },
    { ...good, event: 'a b' },
    { ...good, component: 7 },
    { ...good, reason: 'r'.repeat(500) },
    { ...good, fields: { x: { y: 1 } } },
    { ...good, fields: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])) },
    { ...good, fields: { 'bad key': 1 } },
    { ...good, fields: [1] },
    null,
    'decided',
  ];
  const decoded = decodeTraceBatch({ events: [good, ...bad], dropped: 3, missed: 'x' });
  assert.is(decoded.events.length, 1);
  assert.is(decoded.refused, bad.length);
  assert.is(decoded.dropped, 3);
  assert.is(decoded.missed, 0);
  assert.is(decodeTraceBatch({ events: Array(100).fill(good) }).refused, 100 - traceEventsPerMessageMax);
  assert.is(decodeTraceBatch(undefined).events.length, 0);
  assert.is(decodeTraceBatch('x').refused, 1);
  assert.is(decodeTraceBatch({ events: 'x' }).refused, 1);
  // Random structures: a count, not a throw.
  const rng = new Rng(17);
  const pick = (): unknown => {
    const r = rng.int(8);
    return [null, 1, 'x', true, [], {}, { at: rng.int(5) }, traceA][r];
  };
  for (let i = 0; i < 500; i++) {
    const event: Record<string, unknown> = { ...good };
    for (const key of Object.keys(good)) if (rng.int(3) === 0) event[key] = pick();
    const out = decodeTraceBatch({ events: [event, pick()] });
    assert.is(out.events.length + out.refused, 2);
  }
  assert.match(
    formatTraceEvent('alpha', good),
    /^trace 4bf92f3577b34da6a3ce929d0e0e4736 \S+ alpha mapek decided ok=true$/,
  );
});

test('trace events survive signing and verification; the watcher decodes and counts them', () => {
  const crypto = createTweetnaclCrypto();
  const nowMs = 1_800_000_000_000;
  const root = createRoot(crypto, { trustDomain: 'mesh.test', nowMs: nowMs - 1000 });
  const bundle = createTrustBundle(crypto, 'mesh.test', [root.issuer.cert]);
  if (!bundle.ok) throw new Error(bundle.reason);
  const sign = crypto.signKeyPair();
  const cert = issueNodeCert(crypto, root.issuer, {
    name: 'alpha',
    signPublicKey: sign.publicKey,
    boxPublicKey: crypto.boxKeyPair().publicKey,
    nowMs: nowMs - 1000,
  });
  const { journal, advance } = journalAt(nowMs - 5000);
  healedLink(journal, advance, traceA);
  const traces = traceBatch(journal.last(), 0);
  const watcher = new Watcher(crypto, bundle.value, () => nowMs);
  for (const format of ['cbor', 'json'] as const) {
    const signer = new TelemetrySigner(
      crypto,
      { signSecretKey: sign.secretKey, chain: [cert] },
      `boot-${format}`,
      format,
    );
    const m = signer.sign('telemetry', { statistics: {}, traces }, nowMs - 100, true);
    const outcome = watcher.offer(m.topic, m.payload);
    assert.ok(outcome.ok, JSON.stringify(outcome));
    assert.equal(
      outcome.traces.map((t) => [t.node, t.event, t.trace_id]),
      (traces?.events ?? []).map((e) => ['alpha', e.event, e.trace_id]),
    );
  }
  assert.is(watcher.traceCounters.get('received'), 8);
  assert.match(watcher.table(), /trace 4bf92f3577b34da6a3ce929d0e0e4736 .* alpha mapek cleared/);
});

/** A transport whose answers the test scripts; timers run when the test says. */
function scripted(answers: OtlpAnswer[]) {
  const bodies: { resourceSpans: { resource: unknown; scopeSpans: { spans: OtlpSpan[] }[] }[] }[] = [];
  const timers: { ms: number; fn: () => void }[] = [];
  const rng = new Rng(5);
  const transport = {
    post: async (body: string): Promise<OtlpAnswer> => {
      bodies.push(JSON.parse(body));
      return answers.shift() ?? { status: 200, retryAfterMs: null };
    },
    setTimer: (ms: number, fn: () => void) => {
      timers.push({ ms, fn });
    },
    randomBytes: (n: number) => Uint8Array.from({ length: n }, () => rng.int(256)),
  };
  const spans = () => bodies.flatMap((b) => b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
  return { transport, bodies, timers, spans };
}

/** Lets the scripted POST's promise chain run (microtasks only: no timers on either engine). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function nodeEvents(journalEvents: readonly TraceEvent[]): NodeTraceEvent[] {
  return journalEvents.map((e) => ({ ...e, mesh: 'mesh.test', node: 'alpha' }));
}

test('OTLP: one trace per decision: the decision is the root, the action and the outcome its children', async () => {
  const { journal, advance } = journalAt(1_800_000_000_000);
  healedLink(journal, advance, traceA);
  const events = traceBatch(journal.last(), 0)?.events ?? [];
  const s = scripted([]);
  const exporter = new OtlpExporter(s.transport);
  exporter.offer(nodeEvents(events.slice(0, 3)));
  await settle();
  exporter.offer(nodeEvents(events.slice(3)));
  await settle();
  // The same decision again (a redelivered message's events) adds no second root.
  exporter.offer(nodeEvents(events.slice(0, 1)));
  await settle();
  const spans = s.spans();
  assert.is(spans.length, 3, JSON.stringify(spans));
  const [root, executed, cleared] = spans as [OtlpSpan, OtlpSpan, OtlpSpan];
  assert.is(root.parentSpanId, undefined);
  assert.is(root.name, 'decide neighbour-dead');
  for (const child of [executed, cleared]) {
    assert.is(child.traceId, traceA);
    assert.is(child.parentSpanId, root.spanId);
    assert.match(child.spanId, /^[0-9a-f]{16}$/);
    assert.is.not(child.spanId, root.spanId);
  }
  const attrs = (span: OtlpSpan) => Object.fromEntries(span.attributes.map((a) => [a.key, a.value]));
  assert.equal(attrs(root)['x0.rule'], { stringValue: 'neighbour-dead-link-down' });
  assert.equal(attrs(root)['x0.what'], { stringValue: 'neighbour-dead [neighbour-dead-link-down] -> link-down eth-a' });
  assert.equal(attrs(executed)['x0.ok'], { boolValue: true });
  assert.equal(attrs(executed)['x0.took_ms'], { intValue: '35' });
  assert.is(BigInt(executed.endTimeUnixNano) - BigInt(executed.startTimeUnixNano), 35_000_000n);
  assert.equal(cleared.status, { code: 1 });
  assert.is(BigInt(cleared.endTimeUnixNano) - BigInt(cleared.startTimeUnixNano), 940_000_000n, 'time to repair');
  assert.is(exporter.counters.get('spans-exported'), 3);
  assert.is(exporter.counters.get('events-repeated'), 1);
});

test('OTLP: retryable answers are retried with backoff, a refusal drops the batch, a full queue drops the oldest', async () => {
  const { journal, advance } = journalAt(1_800_000_000_000);
  healedLink(journal, advance, traceA);
  const events = nodeEvents(traceBatch(journal.last(), 0)?.events ?? []);
  const s = scripted([
    { error: 'ECONNREFUSED' },
    { status: 503, retryAfterMs: 2000 },
    { status: 200, retryAfterMs: null },
  ]);
  const exporter = new OtlpExporter(s.transport);
  exporter.offer(events);
  await settle();
  assert.is(s.timers.length, 1);
  assert.ok(
    s.timers[0] !== undefined && s.timers[0].ms >= 250 && s.timers[0].ms <= 500,
    `first backoff ${s.timers[0]?.ms}`,
  );
  // More arrives while waiting: queued, not sent (one request at a time).
  exporter.offer(nodeEvents([{ ...(events[0] as TraceEvent), trace_id: traceB }]));
  assert.is(s.bodies.length, 1);
  s.timers.shift()?.fn();
  await settle();
  assert.is(s.timers[0]?.ms, 2000, "the collector's Retry-After");
  s.timers.shift()?.fn();
  await settle();
  await settle();
  assert.is(exporter.counters.get('spans-exported'), 4);
  assert.is(exporter.counters.get('requests-failed'), 1);
  assert.is(exporter.counters.get('requests-retry-503'), 1);
  assert.is(exporter.queued, 0);

  const refusing = scripted([{ status: 400, retryAfterMs: null }]);
  const refused = new OtlpExporter(refusing.transport);
  refused.offer(events);
  await settle();
  assert.is(refused.counters.get('spans-refused'), 3);
  assert.is(refused.counters.get('requests-refused-400'), 1);
  assert.is(refusing.timers.length, 0, 'a 400 is not retried');

  const down = scripted(Array.from({ length: 50 }, () => ({ error: 'ECONNREFUSED' })));
  const stuck = new OtlpExporter(down.transport);
  for (let i = 0; i < otlpQueueSpansMax + 600; i++) {
    const id = (i + 1).toString(16).padStart(32, '0');
    stuck.offer(nodeEvents([{ ...(events[0] as TraceEvent), trace_id: id }]));
  }
  await settle();
  assert.ok(stuck.queued <= otlpQueueSpansMax + 256, `bounded: ${stuck.queued}`);
  assert.ok(stuck.counters.get('spans-dropped') > 0);
  let drained = false;
  void stuck.drain(3000).then(() => {
    drained = true;
  });
  (down.timers.find((t) => t.ms === 3000) as { fn: () => void }).fn();
  await settle();
  assert.ok(drained, 'drain gives up after its time');
});

test('OTLP: the collector URL gets /v1/traces when it names no path', () => {
  assert.is(otlpTracesUrl('http://127.0.0.1:4318'), 'http://127.0.0.1:4318/v1/traces');
  assert.is(otlpTracesUrl('http://collector:4318/'), 'http://collector:4318/v1/traces');
  assert.is(otlpTracesUrl('https://otel.example/custom/v1/traces'), 'https://otel.example/custom/v1/traces');
  assert.is(otlpTracesUrl('collector:4318'), null);
  assert.is(otlpTracesUrl('ftp://x/'), null);
});

test.run();
