// Issue 21 item 2: the five Grafana dashboards in monitoring/dashboards/ query only metrics the exporter
// actually serves: a real `x0 exporter` runs with two nodes publishing (every family with samples), and every
// panel's and variable's PromQL is checked against its output; every query also parses (promtool). The guard
// tests itself: a bogus metric planted in a panel, and one in a template variable, are reported.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { bundlePath, runtimePath } from '../lib/processes.js';
import { testDir } from '../mqtt/lib.js';
import { exportedFamilies, metricNames, queriesOf, unknownMetrics, type Query } from './dashboard-check.js';
import { monitoringDir, promtool, requirePrometheus, startMonitoredMesh } from './lib.js';

const dashboardsDir = `${monitoringDir}/dashboards`;
const expected: Record<string, string> = {
  'mesh-overview.json': 'x0-mesh-overview',
  'node-detail.json': 'x0-node-detail',
  'consensus.json': 'x0-consensus',
  'self-healing.json': 'x0-self-healing',
  'security.json': 'x0-security',
};

type Dashboard = {
  uid: string;
  title: string;
  panels: { type: string; title: string; datasource?: { uid?: string }; targets?: { expr?: string }[] }[];
  templating?: { list?: unknown[] };
};
const load = (file: string): Dashboard => JSON.parse(readFileSync(`${dashboardsDir}/${file}`, 'utf8')) as Dashboard;
const allQueries = (): Query[] => Object.keys(expected).flatMap((file) => queriesOf(file, load(file)));

test.before(() => {
  requirePrometheus();
  assert.ok(
    existsSync(runtimePath) && existsSync(bundlePath),
    'build/x0-runtime and dist/x0tta6bl4.js are needed (bash scripts/setup.sh)',
  );
});

test('five dashboards, each panel with a query on the chosen data source', () => {
  assert.equal(
    readdirSync(dashboardsDir)
      .filter((f) => f.endsWith('.json'))
      .sort(),
    Object.keys(expected).sort(),
  );
  for (const [file, uid] of Object.entries(expected)) {
    const d = load(file);
    assert.is(d.uid, uid, file);
    assert.ok(d.panels.length >= 5, `${file}: at least five panels`);
    for (const p of d.panels.filter((panel) => panel.type !== 'text' && panel.type !== 'row')) {
      assert.ok(
        (p.targets ?? []).some((t) => typeof t.expr === 'string' && t.expr.length > 0),
        `${file} / ${p.title}: a query`,
      );
      assert.is(p.datasource?.uid, '${datasource}', `${file} / ${p.title}: the dashboard's data source variable`);
    }
  }
});

test('every query parses as PromQL (promtool, with the Grafana variables filled in)', () => {
  const dir = testDir('monitoring-dashboard-promql');
  const fill = (expr: string) => expr.replace(/\$__rate_interval/g, '1m').replace(/\$\{?\w+\}?/g, '.*');
  const rules = allQueries().map(
    (q, i) => `      - record: dashboard_query_${i}\n        expr: ${JSON.stringify(fill(q.expr))}`,
  );
  writeFileSync(`${dir}/queries.yml`, `groups:\n  - name: dashboards\n    rules:\n${rules.join('\n')}\n`);
  const check = promtool('check', 'rules', `${dir}/queries.yml`);
  assert.is(check.code, 0, check.output);
});

test('the guard finds metric names, and only metric names, in PromQL', () => {
  assert.equal(
    metricNames('sum by (reason) (rate(x0_messages_rejected_total{reason!="duplicate"}[$__rate_interval]))'),
    ['x0_messages_rejected_total'],
  );
  assert.equal(metricNames('x0_node_up == 0 unless on (mesh, node) group_left x0_node_revoked == 1'), [
    'x0_node_up',
    'x0_node_revoked',
  ]);
  assert.equal(metricNames('count(x0_a{mesh=~"$mesh"} offset 5m) or vector(0) * 1e3 + time()'), ['x0_a']);
});

test('every panel and variable reads only metrics the running exporter serves; a planted one is caught', async () => {
  const mesh = await startMonitoredMesh(testDir('monitoring-dashboards'));
  let sampled: Set<string>;
  try {
    sampled = exportedFamilies(await mesh.scrape()).sampled;
  } finally {
    await mesh.stop();
  }
  const queries = allQueries();
  assert.ok(queries.length >= 60, `${queries.length} queries`);
  assert.equal(unknownMetrics(queries, sampled), []);
  // Each dashboard reads something the exporter serves (none is all Prometheus built-ins).
  for (const file of Object.keys(expected))
    assert.ok(
      queries.some((q) => q.dashboard === file && metricNames(q.expr).some((n) => sampled.has(n))),
      file,
    );

  // Self-test: a bogus metric in a panel, and one in a variable, are each reported by name and place.
  const planted = load('node-detail.json');
  const panel = planted.panels.find((p) => p.title === 'Load (1 min)')!;
  panel.targets![0]!.expr = 'avg by (node) (x0_node_load_bogus{mesh=~"$mesh"}) * on (node) group_left x0_node_up';
  (planted.templating!.list![1] as { query: string }).query = 'label_values(x0_mesh_bogus_info, mesh)';
  assert.equal(unknownMetrics(queriesOf('node-detail.json', planted), sampled), [
    'node-detail.json / Load (1 min): x0_node_load_bogus',
    'node-detail.json / variable $mesh: x0_mesh_bogus_info',
  ]);
});

test.run();
