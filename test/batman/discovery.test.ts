// Peers from batman-adv: originator tables recorded in the lab's ring of 5 (recorded.ts) joined with what each node
// announces in its mesh-document section. A MAC two nodes claim belongs to neither; revoked nodes, this node and nodes
// without an address are never peers; the number of peers and announced MACs is bounded.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decodeMacs,
  discoverPeers,
  discoveryLimits,
  encodeMacs,
  formatLinkAddress,
  heldPeers,
  macOwners,
  macsOf,
  parseLinkAddress,
  readAnnouncement,
  type Announcement,
} from '../../src/batman/discovery.js';
import { parseOriginators } from '../../src/batman/tables.js';
import { ring5Node1Originators, ring5Node5Originators } from './recorded.js';

// The lab's ring: node N's NIC on link L is 52:54:00:0N:0L:01, links 0:1-2 1:2-3 2:3-4 3:4-5 4:1-5; eth1 (the first
// link) is the primary interface, whose MAC is the originator address.
const interfaces: Record<string, [string, string]> = {
  'node-1': ['52:54:00:01:00:01', '52:54:00:01:04:01'],
  'node-2': ['52:54:00:02:00:01', '52:54:00:02:01:01'],
  'node-3': ['52:54:00:03:01:01', '52:54:00:03:02:01'],
  'node-4': ['52:54:00:04:02:01', '52:54:00:04:03:01'],
  'node-5': ['52:54:00:05:03:01', '52:54:00:05:04:01'],
};

function ring(): Map<string, Announcement> {
  const out = new Map<string, Announcement>();
  for (const [name, macs] of Object.entries(interfaces)) {
    const n = name.slice(-1);
    out.set(name, { mac: macs[0], macs, link: { host: `10.77.0.${n}`, port: 7400 } });
  }
  return out;
}

const summary = (peers: ReturnType<typeof discoverPeers>) =>
  peers.map((p) => `${p.name}${p.direct ? '' : '~'} ${p.tq} ${formatLinkAddress(p.address)}`);

test('node 1 of the ring finds every other node: its two neighbours first, by TQ, then the far ones', () => {
  const peers = discoverPeers('node-1', parseOriginators(ring5Node1Originators), ring(), new Set());
  assert.equal(summary(peers), [
    'node-5 255 10.77.0.5:7400',
    'node-2 251 10.77.0.2:7400',
    'node-4~ 225 10.77.0.4:7400',
    'node-3~ 217 10.77.0.3:7400',
  ]);
  // The originator is the node's announced primary MAC, also when the row that found it was a secondary one.
  assert.is(peers[0]?.originator, '52:54:00:05:03:01');
});

test('node 5 sees node 1 through its secondary interface and node 4 directly', () => {
  const peers = discoverPeers('node-5', parseOriginators(ring5Node5Originators), ring(), new Set());
  assert.equal(summary(peers), [
    'node-1 255 10.77.0.1:7400',
    'node-4 255 10.77.0.4:7400',
    'node-3~ 225 10.77.0.3:7400',
    'node-2~ 221 10.77.0.2:7400',
  ]);
});

test('revoked nodes, nodes without an announced address and unannounced originators are not peers', () => {
  const a = ring();
  a.set('node-3', { ...(a.get('node-3') as Announcement), link: null });
  a.delete('node-4');
  const peers = discoverPeers('node-1', parseOriginators(ring5Node1Originators), a, new Set(['node-5']));
  assert.equal(summary(peers), ['node-2 251 10.77.0.2:7400']);
});

test('a MAC claimed by two nodes belongs to neither: no peer through it, no block of it', () => {
  const a = ring();
  // node-9 (enrolled, perhaps compromised) announces node 2's primary MAC as its own.
  a.set('node-9', { mac: '52:54:00:02:00:01', macs: ['52:54:00:02:00:01'], link: { host: '10.77.0.9', port: 7400 } });
  const { conflicts } = macOwners(a);
  assert.equal(conflicts, ['52:54:00:02:00:01']);
  const names = discoverPeers('node-1', parseOriginators(ring5Node1Originators), a, new Set()).map((p) => p.name);
  assert.not.ok(names.includes('node-9'));
  assert.not.ok(names.includes('node-2')); // its only route here is through the claimed MAC
  // Revoking node-9 must not block node 2's MAC; node 2's own block list keeps only its unclaimed MAC.
  assert.equal(macsOf('node-9', a), []);
  assert.equal(macsOf('node-2', a), ['52:54:00:02:01:01']);
});

test("a revoked node's MACs are its originator and interfaces, as it announced them", () => {
  assert.equal(macsOf('node-5', ring()), ['52:54:00:05:03:01', '52:54:00:05:04:01']);
  assert.equal(macsOf('node-7', ring()), []);
});

test('announced MACs: compact, checked and bounded', () => {
  const text = encodeMacs(['52:54:00:01:00:01', '52:54:00:01:04:01']);
  assert.is(text, '525400010001 525400010401');
  assert.ok(`batman.ifs ${text}`.length <= 64);
  assert.equal(decodeMacs(text), ['52:54:00:01:00:01', '52:54:00:01:04:01']);
  const many = Array.from({ length: 9 }, (_, i) => `52:54:00:01:0${i}:01`);
  assert.is(decodeMacs(encodeMacs(many)).length, discoveryLimits.announcedMacsMax);
  assert.equal(decodeMacs('zz5400010001 52540001000 525400010001 525400010001'), ['52:54:00:01:00:01']);
  assert.equal(decodeMacs(undefined), []);
});

test('announced addresses: an IPv4 or IPv6 address and a port, never a host name or a wildcard', () => {
  assert.equal(parseLinkAddress('10.77.0.4:7400'), { host: '10.77.0.4', port: 7400 });
  assert.equal(parseLinkAddress('[fd00::4]:7400'), { host: 'fd00::4', port: 7400 });
  for (const bad of ['router4:7400', '0.0.0.0:7400', '[::]:7400', '10.77.0.4', '10.77.0.400:7400', '10.77.0.4:0'])
    assert.is(parseLinkAddress(bad), null, bad);
  assert.is(formatLinkAddress({ host: 'fd00::4', port: 7400 }), '[fd00::4]:7400');
  const a = readAnnouncement(
    (c) => ({ 'batman.mac': '52:54:00:04:02:01', 'batman.ifs': 'nonsense', link: 'x:1' })[c as 'link'],
  );
  assert.equal(a, { mac: '52:54:00:04:02:01', macs: [], link: null });
});

test('a peer batman-adv stops listing is held for peerHoldMs (no churn on a bad read), a revoked one is dropped at once', () => {
  const full = discoverPeers('node-1', parseOriginators(ring5Node1Originators), ring(), new Set());
  const seen = new Map<string, number>();
  let held = heldPeers([], full, seen, 1_000, new Set());
  assert.is(held.length, 4);
  // A starved router's batctl printed only the header (recorded: originatorsEmpty's shape): nothing found.
  held = heldPeers(held, [], seen, 1_000 + discoveryLimits.peerHoldMs, new Set());
  assert.equal(
    held.map((p) => p.name),
    ['node-5', 'node-2', 'node-4', 'node-3'],
  );
  held = heldPeers(held, [], seen, 1_000 + discoveryLimits.peerHoldMs, new Set(['node-2']));
  assert.equal(
    held.map((p) => p.name),
    ['node-5', 'node-4', 'node-3'],
  );
  held = heldPeers(held, full.slice(0, 1), seen, 2_000 + discoveryLimits.peerHoldMs, new Set(['node-2']));
  assert.equal(
    held.map((p) => p.name),
    ['node-5'],
  );
  assert.equal([...seen.keys()], ['node-5']);
});

test('at most discoveredPeersMax peers, the best routes kept', () => {
  const count = discoveryLimits.discoveredPeersMax + 8;
  const a = new Map<string, Announcement>();
  const rows: string[] = [];
  for (let i = 0; i < count; i++) {
    const mac = `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    a.set(`n${i}`, { mac, macs: [mac], link: { host: `10.1.${i >> 8}.${i & 255}`, port: 7400 } });
    rows.push(` * ${mac}    0.100s   (${String(100 + (i % 100)).padStart(3)}) 52:54:00:02:00:01 [      eth1]`);
  }
  const peers = discoverPeers('node-1', parseOriginators(rows.join('\n')), a, new Set());
  assert.is(peers.length, discoveryLimits.discoveredPeersMax);
  const kept = new Set(peers.map((p) => p.name));
  const dropped = [...a.keys()].filter((n) => !kept.has(n)).map((n) => 100 + (Number(n.slice(1)) % 100));
  assert.ok(Math.min(...peers.map((p) => p.tq)) >= Math.max(...dropped));
});

test.run();
