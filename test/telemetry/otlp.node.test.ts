// Self-healing traces end to end (docs/mapek.md, Traces): the real MAPE-K core decides (a dead link, then the
// link back), its steps go into the agent's journal as src/agent/components/mapek.ts records them, the real uplink
// signs them into telemetry through a real mosquitto, `x0 watch --otlp` verifies them and exports OpenTelemetry
// spans to a small HTTP server standing in for the collector, and the test decodes what it received. A collector
// that is down costs counted spans, not the watch.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Journal } from '../../src/agent/events.js';
import { Mapek } from '../../src/core/mapek/mapek.js';
import { defaultMapekConfig, type Decision } from '../../src/core/mapek/types.js';
import { traceBatch } from '../../src/core/telemetry/traces.js';
import { traceTextCharsMax } from '../../src/core/telemetry/limits.js';
import { loadChain, loadKeys } from '../../src/identity/store.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { SimulatedMetrics } from '../../src/telemetry/metrics.js';
import { runUplink } from '../../src/telemetry/uplink.js';
import { freePort, run } from '../lib/processes.js';
import { Mosquitto, makeMesh, start, testDir, waitFor, x0Node } from '../mqtt/lib.js';

const platform = createNodePlatform({ argv: [] });
const macA = '02:00:00:00:00:0a';
const macB = '02:00:00:00:00:0b';

interface Collector {
  readonly server: Server;
  readonly url: string;
  readonly bodies: { contentType: string | undefined; path: string | undefined; body: string }[];
}

async function collector(): Promise<Collector> {
  const bodies: Collector['bodies'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      bodies.push({ contentType: req.headers['content-type'], path: req.url, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies };
}

/**
 * The MAPE-K loop of one node, driven through phases, one per telemetry message: the core decides on probe
 * observations, the executor always works, and every step is a journal line as the agent component writes it.
 */
class HealingNode {
  readonly journal = new Journal(
    () => {},
    () => Date.now(),
  );
  private readonly core = new Mapek(defaultMapekConfig(), () =>
    platform.randomBytes(16).reduce((s, b) => s + b.toString(16).padStart(2, '0'), ''),
  );
  private t = 0;
  readonly decisions: Decision[] = [];

  /** Probes every 100 ms until `untilMs`; eth-a's neighbour alive as `aliveA` says. */
  private probe(untilMs: number, aliveA: boolean): void {
    for (; this.t <= untilMs; this.t += 100) {
      this.core.observe({
        kind: 'neighbour',
        atMs: this.t,
        neighbour: macA,
        iface: 'eth-a',
        alive: aliveA,
        rttMs: aliveA ? 2 : null,
        tq: aliveA ? 250 : null,
      });
      this.core.observe({
        kind: 'neighbour',
        atMs: this.t,
        neighbour: macB,
        iface: 'eth-b',
        alive: true,
        rttMs: 2,
        tq: 250,
      });
      for (const d of this.core.tick(this.t)) this.decide(d);
      this.drain();
    }
  }

  private decide(d: Decision): void {
    this.decisions.push(d);
    this.journal.record('warn', 'mapek', 'decided', {
      trace_id: d.traceId,
      symptom: d.symptom,
      rule: d.rule,
      action: d.action.kind,
      target: d.target,
      why: d.why,
    });
    this.drain();
    this.journal.record('info', 'mapek', 'executed', {
      trace_id: d.traceId,
      action: d.action.kind,
      target: d.target,
      ok: true,
      reason: null,
      took_ms: 12,
    });
    this.core.outcome({ traceId: d.traceId, ok: true, reason: null, atMs: this.t });
  }

  private drain(): void {
    for (const e of this.core.drainEvents())
      this.journal.record('info', 'mapek', e.kind, { trace_id: e.traceId, what: e.text });
  }

  phase(n: number): void {
    if (n === 0) this.probe(1000, true); // healthy: nothing
    if (n === 1) this.probe(1500, false); // eth-a's neighbour dies: link-down
    if (n === 2) this.probe(3500, true); // back: link-up, the incident closes
  }
}

async function runNode(mesh: ReturnType<typeof makeMesh>, port: number, node: HealingNode, count: number) {
  const keys = loadKeys(platform, `${mesh.nodeDir('alpha')}/node.key`);
  const chain = loadChain(platform, `${mesh.nodeDir('alpha')}/node.chain`);
  if (!keys.ok || !chain.ok) throw new Error('alpha identity unreadable');
  let cursor = 0;
  let phase = 0;
  return runUplink(platform, {
    host: '127.0.0.1',
    port,
    signSecretKey: keys.value.sign.secretKey,
    chain: chain.value,
    metrics: new SimulatedMetrics(platform, 'alpha', 'mesh.test', 1),
    intervalMs: 250,
    count,
    format: 'cbor',
    version: 4,
    operatorKeys: [],
    traces: () => {
      node.phase(phase++);
      const fresh = node.journal.since(cursor);
      cursor = fresh.next;
      return traceBatch(fresh.events, fresh.missed);
    },
  });
}

const spanFields = new Set([
  'traceId',
  'spanId',
  'traceState',
  'parentSpanId',
  'flags',
  'name',
  'kind',
  'startTimeUnixNano',
  'endTimeUnixNano',
  'attributes',
  'droppedAttributesCount',
  'events',
  'droppedEventsCount',
  'links',
  'droppedLinksCount',
  'status',
]);

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: Record<string, unknown> }[];
  status: { code: number; message?: string };
}

test('x0 watch --otlp exports each decision as a trace: root decision, children action and outcome', async () => {
  const dir = testDir('otlp');
  const broker = await Mosquitto.start(dir);
  const mesh = makeMesh(dir, 'mesh.test', ['alpha']);
  const sink = await collector();
  try {
    const watch = start(
      x0Node(
        'watch',
        '--trust',
        mesh.bundlePath,
        '--broker',
        `127.0.0.1:${broker.port}`,
        '--json',
        '--otlp',
        sink.url,
        '--duration',
        '40s',
      ),
    );
    await waitFor(watch, /subscribed to x0\/mesh\.test\/#/);
    const node = new HealingNode();
    const result = await runNode(mesh, broker.port, node, 4);
    assert.ok(result.ok, JSON.stringify(result));
    await waitFor(watch, /"kind":"status".*"state":"offline"/, 10_000);
    watch.child.kill('SIGINT');
    assert.is(await watch.done, 0, watch.stderr);
    const lines = watch.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);
    // --json passes the traces through in the verified telemetry.
    const passed = lines.filter((l) => l.kind === 'telemetry').flatMap((l) => l.data.traces?.events ?? []);
    const decisions = node.decisions.map((d) => d.traceId);
    assert.equal(
      decisions.map((d) => node.decisions.find((x) => x.traceId === d)?.action.kind),
      ['link-down', 'link-up'],
    );
    assert.equal([...new Set(passed.map((e: { trace_id: string }) => e.trace_id))].sort(), [...decisions].sort());
    const summary = lines.at(-1) as { traces: { received: number; otlp: Record<string, number> } };
    assert.is(summary.traces.received, passed.length);
    assert.is(summary.traces.otlp.queued, 0);
    assert.ok((summary.traces.otlp['spans-exported'] ?? 0) > 0, JSON.stringify(summary.traces));

    // What the collector got: OTLP/HTTP JSON on /v1/traces.
    assert.ok(sink.bodies.length > 0);
    for (const b of sink.bodies) {
      assert.is(b.path, '/v1/traces');
      assert.is(b.contentType, 'application/json');
    }
    const requests = sink.bodies.map((b) => JSON.parse(b.body));
    const resources = requests.flatMap((r) => r.resourceSpans);
    for (const r of resources) {
      const attrs = Object.fromEntries(r.resource.attributes.map((a: Span['attributes'][0]) => [a.key, a.value]));
      assert.equal(attrs['service.name'], { stringValue: 'x0tta6bl4' });
      assert.equal(attrs['host.name'], { stringValue: 'alpha' });
    }
    const spans: Span[] = resources.flatMap((r) => r.scopeSpans.flatMap((s: { spans: Span[] }) => s.spans));
    assert.is(spans.length, summary.traces.otlp['spans-exported']);
    for (const s of spans) {
      // Only field names of opentelemetry.proto.trace.v1.Span (trace.proto), in the JSON mapping's lowerCamelCase.
      for (const key of Object.keys(s)) assert.ok(spanFields.has(key), `Span has no field ${key}`);
      assert.match(s.traceId, /^[0-9a-f]{32}$/);
      assert.match(s.spanId, /^[0-9a-f]{16}$/);
      assert.match(s.startTimeUnixNano, /^[0-9]{19}$/);
      assert.match(s.endTimeUnixNano, /^[0-9]{19}$/);
      assert.ok(BigInt(s.startTimeUnixNano) <= BigInt(s.endTimeUnixNano));
      assert.is(s.kind, 1);
    }
    assert.is(new Set(spans.map((s) => s.spanId)).size, spans.length, 'span ids unique');
    for (const decision of node.decisions) {
      const mine = spans.filter((s) => s.traceId === decision.traceId);
      const roots = mine.filter((s) => s.parentSpanId === undefined);
      assert.is(roots.length, 1, `${decision.action.kind}: one root`);
      const root = roots[0] as Span;
      const attrs = Object.fromEntries(root.attributes.map((a) => [a.key, a.value]));
      assert.equal(attrs['x0.node'], { stringValue: 'alpha' });
      assert.equal(attrs['x0.symptom'], { stringValue: decision.symptom });
      assert.equal(attrs['x0.rule'], { stringValue: decision.rule });
      const why =
        decision.why.length <= traceTextCharsMax ? decision.why : `${decision.why.slice(0, traceTextCharsMax - 1)}…`;
      assert.equal(attrs['x0.why'], { stringValue: why });
      assert.equal(attrs['x0.action'], { stringValue: decision.action.kind });
      assert.equal(attrs['x0.target'], { stringValue: decision.target });
      const children = mine.filter((s) => s.parentSpanId === root.spanId);
      const executed = children.find((s) => s.name === `execute ${decision.action.kind}`);
      assert.ok(executed !== undefined, `${decision.action.kind}: executed span under the decision`);
      const ok = Object.fromEntries(executed.attributes.map((a) => [a.key, a.value]))['x0.ok'];
      assert.equal(ok, { boolValue: true });
      const outcome = children.find((s) => s.name === 'outcome cleared');
      assert.ok(outcome !== undefined, `${decision.action.kind}: outcome span under the decision`);
      assert.is(outcome.startTimeUnixNano, root.startTimeUnixNano, 'the outcome runs from the decision');
      assert.is(outcome.status.code, 1);
    }
  } finally {
    await broker.stop();
    sink.server.close();
  }
});

test('x0 watch --otlp with the collector down: verification goes on, the spans are counted as not sent', async () => {
  const dir = testDir('otlp-down');
  const broker = await Mosquitto.start(dir);
  const mesh = makeMesh(dir, 'mesh.test', ['alpha']);
  const port = await freePort(); // nothing listens there
  try {
    const watch = start(
      x0Node(
        'watch',
        '--trust',
        mesh.bundlePath,
        '--broker',
        `127.0.0.1:${broker.port}`,
        '--otlp',
        `http://127.0.0.1:${port}`,
        '--duration',
        '40s',
      ),
    );
    await waitFor(watch, /subscribed to x0\/mesh\.test\/#/);
    const node = new HealingNode();
    const result = await runNode(mesh, broker.port, node, 4);
    assert.ok(result.ok);
    await waitFor(watch, /verified status from alpha@mesh\.test seq 3/, 10_000);
    watch.child.kill('SIGINT');
    assert.is(await watch.done, 0, watch.stderr);
    assert.is(watch.stdout.match(/^verified telemetry from alpha/gm)?.length, 4, watch.stdout);
    // Human lines: one per trace event, with its trace id.
    for (const d of node.decisions)
      assert.match(watch.stdout, new RegExp(`^trace ${d.traceId} \\S+ alpha mapek decided`, 'm'));
    const traces = JSON.parse(/^traces: (.*)$/m.exec(watch.stdout)?.[1] ?? 'null') as { otlp: Record<string, number> };
    assert.ok((traces.otlp['requests-failed'] ?? 0) >= 1, JSON.stringify(traces));
    assert.is(traces.otlp['spans-exported'], undefined);
    assert.ok((traces.otlp.queued ?? 0) > 0, 'what could not go is counted as still queued');
  } finally {
    await broker.stop();
  }
});

test('x0 watch --otlp: the flag is in the help; a URL that is not http(s) is refused by name', async () => {
  const help = await run(x0Node('watch', '--help'));
  assert.is(help.code, 0);
  assert.match(help.stdout, /--otlp URL/);
  const dir = testDir('otlp-args');
  const mesh = makeMesh(dir, 'mesh.test', []);
  const bad = await run(x0Node('watch', '--trust', mesh.bundlePath, '--otlp', 'collector:4318'));
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--otlp collector:4318: give the collector's OTLP\/HTTP URL/);
});

test.run();
