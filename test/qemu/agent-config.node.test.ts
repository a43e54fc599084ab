// The UCI files the lab's `agent` scenario writes into its routers pass the agent's own validator and say what the
// scenario relies on: 3 anchors and 2 nodes, only the anchors named (the rest found through batman-adv), each router
// announcing its bat0 address, batman-adv read on bat0, XDP on both mesh NICs, telemetry to the lab's uplink. (A file the agent refused would only show in the guests, minutes later.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfigText } from '../../src/agent/config.js';
import { configuredPeers } from '../../src/agent/context.js';
import { uciFor } from '../../qemu/scenarios/agent.js';

const routers = [1, 2, 3, 4, 5];

function configOf(n: number) {
  const loaded = loadConfigText(uciFor(n), '/etc/config/x0tta6bl4', `node-${n}`);
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'));
  return loaded.value;
}

test("every router's UCI file is valid for x0 agent", () => {
  for (const n of routers) {
    const loaded = loadConfigText(uciFor(n), '/etc/config/x0tta6bl4', `node-${n}`);
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.map((e) => e.message).join('; '));
  }
});

test('3 anchors and 2 nodes, batman-adv on bat0, the same anchors everywhere', () => {
  const roles = routers.map((n) => configOf(n).role);
  assert.equal(roles, ['anchor', 'anchor', 'anchor', 'node', 'node']);
  for (const n of routers) {
    const c = configOf(n);
    assert.is(c.nodeName, `node-${n}`);
    assert.is(c.meshInterface, 'bat0');
    assert.is(c.xdp.enabled, true);
    assert.equal(c.xdp.interfaces, ['eth1', 'eth2']);
    assert.equal(
      c.anchors.map((a) => `${a.name}@${a.address.host}:${a.address.port}`),
      ['node-1@10.77.0.1:7400', 'node-2@10.77.0.2:7400', 'node-3@10.77.0.3:7400'],
    );
  }
});

test('no static peer: each router names only the anchors and announces its own bat0 address', () => {
  for (const n of routers) {
    const c = configOf(n);
    assert.equal(c.staticPeers, [], `node-${n}`);
    const peers = configuredPeers(c).map((p) => `${p.name}@${p.address.host}`);
    const anchors = [1, 2, 3].filter((m) => m !== n).map((m) => `node-${m}@10.77.0.${m}`);
    assert.equal(peers, anchors, `node-${n}`);
    assert.equal(c.announce, { host: `10.77.0.${n}`, port: 7400 });
  }
});

test("telemetry goes to the lab uplink (10.0.2.100:1883, the host's x0 watch) over MQTT 3.1.1", () => {
  for (const n of routers) {
    const u = configOf(n).uplink;
    assert.is(u.enabled, true);
    assert.equal(u.broker, { host: '10.0.2.100', port: 1883 });
    assert.is(u.protocol, 4); // MQTT 3.1.1, what x0 watch's embedded broker speaks
    assert.is(u.intervalMs, 2000);
  }
});

test.run();
