// Issue 21 item 1: monitoring/alerts.yml is unit-tested with `promtool test rules` on synthetic series (and
// that test is shown to catch a broken rule); every rule reads only metrics the exporter serves; and end to end: a real Prometheus scrapes a real `x0 exporter`
// on loopback while two nodes publish; one node is killed (SIGKILL: its socket closes without DISCONNECT, so
// the broker publishes its signed Last Will, "offline") and X0NodeOffline fires for it, and only for it, as
// Prometheus' API reports.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { bundlePath, runtimePath } from '../lib/processes.js';
import { sleep, testDir } from '../mqtt/lib.js';
import { exportedFamilies, unknownMetrics } from './dashboard-check.js';
import { Prometheus, monitoringDir, promtool, requirePrometheus, startMonitoredMesh, withFor } from './lib.js';

test.before(() => {
  requirePrometheus();
  assert.ok(
    existsSync(runtimePath) && existsSync(bundlePath),
    'build/x0-runtime and dist/x0tta6bl4.js are needed (bash scripts/setup.sh)',
  );
});

test('promtool: the rule file and the example configuration are valid; every alert passes its unit tests', () => {
  const check = promtool('check', 'rules', `${monitoringDir}/alerts.yml`);
  assert.is(check.code, 0, check.output);
  const config = promtool('check', 'config', `${monitoringDir}/prometheus.yml`);
  assert.is(config.code, 0, config.output);
  const unit = promtool('test', 'rules', `${monitoringDir}/alerts.test.yml`);
  assert.is(unit.code, 0, unit.output);
  assert.match(unit.output, /SUCCESS/);
});

test('the unit tests catch a broken rule (a revoked node counted as offline)', () => {
  const dir = testDir('monitoring-broken-rule');
  const rules = readFileSync(`${monitoringDir}/alerts.yml`, 'utf8');
  const broken = rules.replace(
    'expr: x0_node_up == 0 unless on (mesh, node) x0_node_revoked == 1',
    'expr: x0_node_up == 0',
  );
  assert.is.not(broken, rules, 'the planted change applies');
  writeFileSync(`${dir}/alerts.yml`, broken);
  writeFileSync(`${dir}/alerts.test.yml`, readFileSync(`${monitoringDir}/alerts.test.yml`, 'utf8'));
  const unit = promtool('test', 'rules', `${dir}/alerts.test.yml`);
  assert.is.not(unit.code, 0, unit.output);
  assert.match(unit.output, /X0NodeOffline/);
});

test('end to end: Prometheus scrapes x0 exporter; its rules read only exported metrics; a killed node raises X0NodeOffline', async () => {
  const dir = testDir('monitoring-e2e');
  writeFileSync(
    `${dir}/alerts.yml`,
    withFor(readFileSync(`${monitoringDir}/alerts.yml`, 'utf8'), 'X0NodeOffline', '2s'),
  );
  // bravo runs on x0-runtime, as on a router. Keep-alive 2 s: had it died without its socket closing (a power
  // cut), the broker would still send its Last Will within ~3 s.
  const mesh = await startMonitoredMesh(dir, { keepAliveS: 2 });
  let prometheus: Prometheus | null = null;
  try {
    prometheus = await Prometheus.start(dir, [`127.0.0.1:${mesh.exporterPort}`], `${dir}/alerts.yml`);
    const p = prometheus;
    // Every rule, as Prometheus parsed it, reads only metrics the exporter serves (or Prometheus' own `up`).
    const groups = await p.api<{ groups: { rules: { name: string; query: string }[] }[] }>('rules');
    const queries = groups.groups.flatMap((g) =>
      g.rules.map((r) => ({ dashboard: 'alerts.yml', panel: r.name, expr: r.query })),
    );
    assert.is(queries.length, 24, 'every rule loaded');
    assert.equal(unknownMetrics(queries, exportedFamilies(await mesh.scrape()).sampled), []);
    const upOf = async (): Promise<Record<string, string>> => {
      const result = await p.api<{ result: { metric: { node: string }; value: [number, string] }[] }>(
        'query?query=x0_node_up',
      );
      return Object.fromEntries(result.result.map((r) => [r.metric.node, r.value[1]]));
    };
    const firing = async (): Promise<{ labels: Record<string, string>; state: string }[]> =>
      (await p.api<{ alerts: { labels: Record<string, string>; state: string }[] }>('alerts')).alerts.filter(
        (a) => a.labels.alertname === 'X0NodeOffline',
      );
    for (let i = 0; ; i++) {
      const up = await upOf();
      if (up.alpha === '1' && up.bravo === '1') break;
      if (i > 150)
        throw new Error(`both nodes never up in Prometheus: ${JSON.stringify(up)}\n${mesh.exporter.stderr}\n${p.log}`);
      await sleep(200);
    }
    assert.equal(await firing(), [], 'no node-offline alert while both run');
    const killedAt = Date.now();
    mesh.uplinks.bravo!.child.kill('SIGKILL');
    let alerts: { labels: Record<string, string>; state: string }[] = [];
    while (!alerts.some((a) => a.state === 'firing')) {
      if (Date.now() - killedAt > 45_000)
        throw new Error(`X0NodeOffline did not fire within 45 s: ${JSON.stringify(alerts)}\n${p.log}`);
      await sleep(250);
      alerts = await firing();
    }
    const tookMs = Date.now() - killedAt;
    const fired = alerts.filter((a) => a.state === 'firing');
    assert.is(fired.length, 1, JSON.stringify(alerts));
    assert.is(fired[0]!.labels.node, 'bravo');
    assert.is(fired[0]!.labels.mesh, 'mesh.test');
    assert.is(fired[0]!.labels.severity, 'critical');
    assert.is((await upOf()).alpha, '1', 'alpha still up');
    console.log(`  X0NodeOffline firing ${tookMs} ms after SIGKILL (scrape and evaluation every 1 s, for: 2s)`);
  } finally {
    await prometheus?.stop();
    await mesh.stop();
  }
});

test.run();
