// The republisher's rules (src/telemetry/republish.ts), pure: what a verified status or telemetry message becomes
// on the plain tree and in Home Assistant's discovery, that events and older messages change nothing, that a
// revoked node is withdrawn for good, that the number of nodes is bounded, and which prefixes are allowed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Verified } from '../../src/core/telemetry/messages.js';
import { nodesMax } from '../../src/core/telemetry/limits.js';
import { Republisher, validPrefix } from '../../src/telemetry/republish.js';

const message = (node: string, kind: Verified['kind'], at: number, data: Record<string, unknown>): Verified =>
  ({ mesh: 'mesh.test', node, kind, at, seq: at, data }) as unknown as Verified;

test('a first status announces the device (one config per sensor), then availability and state', () => {
  const r = new Republisher({ prefix: 'plain', discoveryPrefix: 'ha' });
  const out = r.verified(message('alpha', 'status', 1000, { state: 'online', version: '0.1.0', uptimeS: 5 }));
  const topics = out.map((p) => p.topic);
  assert.equal(topics.slice(0, 5), [
    'ha/sensor/x0_mesh_test_alpha/state/config',
    'ha/sensor/x0_mesh_test_alpha/uptime/config',
    'ha/sensor/x0_mesh_test_alpha/load/config',
    'ha/sensor/x0_mesh_test_alpha/clients/config',
    'ha/sensor/x0_mesh_test_alpha/memory_available/config',
  ]);
  assert.equal(topics.slice(5), ['plain/mesh.test/alpha/availability', 'plain/mesh.test/alpha/state']);
  assert.ok(out.every((p) => p.retain));
  assert.is(JSON.parse(out[0]?.payload ?? '{}').device.sw_version, '0.1.0');
  const state = JSON.parse(out[6]?.payload ?? '{}');
  assert.equal([state.state, state.uptime_s, state.version, state.verified], ['online', 5, '0.1.0', true]);
  const telemetry = r.verified(
    message('alpha', 'telemetry', 2000, {
      statistics: { uptime: 7, loadavg: 0.5, clients: { total: 3 }, memory: { available: 900 } },
    }),
  );
  assert.is(telemetry.length, 2, 'announced once');
  const next = JSON.parse(telemetry[1]?.payload ?? '{}');
  assert.equal([next.uptime_s, next.load, next.clients, next.memory_available_kb], [7, 0.5, 3, 900]);
  assert.equal(r.verified(message('alpha', 'events', 3000, { type: 'cmd-result' })), [], 'events change nothing');
  assert.equal(r.verified(message('alpha', 'status', 1500, { state: 'offline' })), [], 'older than what was shown');
  const offline = r.verified(message('alpha', 'status', 4000, { state: 'offline' }));
  assert.is(offline[0]?.payload, 'offline');
});

test('a revoked node is withdrawn once and never republished again; an unseen one needs nothing', () => {
  const r = new Republisher();
  r.verified(message('bravo', 'status', 1000, { state: 'online' }));
  assert.equal(r.revoked('mesh.test', 'bravo'), [
    { topic: 'x0-verified/mesh.test/bravo/availability', payload: 'offline', retain: true },
    { topic: 'x0-verified/mesh.test/bravo/state', payload: '', retain: true },
  ]);
  assert.equal(r.revoked('mesh.test', 'bravo'), []);
  assert.equal(r.verified(message('bravo', 'telemetry', 5000, { statistics: {} })), []);
  assert.equal(r.shown(), []);
  assert.equal(r.revoked('mesh.test', 'never-seen'), []);
});

test('at most nodesMax nodes are republished', () => {
  const r = new Republisher();
  for (let i = 0; i < nodesMax + 5; i++) r.verified(message(`n${i}`, 'status', 1, { state: 'online' }));
  assert.is(r.shown().length, nodesMax);
});

test('prefixes: topic levels without wildcards, never under the verified x0/ tree', () => {
  for (const ok of ['x0-verified', 'home/x0', 'a.b_c-d']) assert.ok(validPrefix(ok), ok);
  for (const bad of ['x0', 'x0/plain', '', 'a/+', 'a/#', '/a', 'a//b', 'a/']) assert.not.ok(validPrefix(bad), bad);
});

test.run();
