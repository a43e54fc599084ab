// The UCI files the lab's `heal` and `heal-more` scenarios write into their routers pass the agent's own validator
// and say what the scenarios rely on: heal has node 1 as its one anchor and no XDP; heal-more has anchors 1-3 (a
// Raft of 3, so leadership can move) and XDP on both mesh NICs (the flood phase); both carry the mapek section
// off or on as asked, probe 100 ms x 5. (A file the agent refused would only show in the guests, minutes later.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfigText } from '../../src/agent/config.js';
import { healUci } from '../../qemu/scenarios/heal.js';

const routers = [1, 2, 3, 4];

function configOf(text: string, n: number) {
  const loaded = loadConfigText(text, '/etc/config/x0tta6bl4', `node-${n}`);
  if (!loaded.ok) throw new Error(`node ${n}: ${loaded.errors.map((e) => e.message).join('; ')}`);
  return loaded.value;
}

test('heal: node 1 the one anchor, no XDP, mapek off and on, probe 100 ms x 5', () => {
  for (const mapek of [false, true])
    for (const n of routers) {
      const c = configOf(healUci(n, mapek), n);
      assert.is(c.role, n === 1 ? 'anchor' : 'node');
      assert.equal(
        c.anchors.map((a) => a.name),
        ['node-1'],
      );
      assert.is(c.xdp.enabled, false);
      assert.is(c.mapek.enabled, mapek);
      assert.is(c.mapek.probeIntervalMs, 100);
      assert.is(c.mapek.detectMultiplier, 5);
      assert.is(c.meshInterface, 'bat0');
    }
});

test('heal-more: anchors 1-3, node 4 a node (a static peer of the anchors), XDP on eth1 and eth2', () => {
  for (const n of routers) {
    const c = configOf(healUci(n, true, { anchors: [1, 2, 3], xdp: true }), n);
    assert.is(c.role, n <= 3 ? 'anchor' : 'node');
    assert.equal(
      c.anchors.map((a) => `${a.name}@${a.address.host}:${a.address.port}`),
      ['node-1@10.77.0.1:7400', 'node-2@10.77.0.2:7400', 'node-3@10.77.0.3:7400'],
    );
    assert.equal(
      c.staticPeers.map((p) => p.name),
      n === 4 ? [] : ['node-4'],
    );
    assert.is(c.xdp.enabled, true);
    assert.equal(c.xdp.interfaces, ['eth1', 'eth2']);
    assert.is(c.mapek.enabled, true);
  }
});

test.run();
