// The agent and the lab read batman-adv's state from batctl's text tables: the parsers, checked against output recorded
// from the lab's guests (batctl 2023.0, batman-adv 2022.3 in Debian's 6.1 kernel, BATMAN_IV).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  bestRoute,
  neighbourLinks,
  parseNeighbours,
  parseOriginators,
  parsePrimaryMac,
} from '../../src/batman/tables.js';

// `batctl meshif bat0 originators` on node 1 of a 3-node ring, 6 s after boot.
const originators = `[B.A.T.M.A.N. adv 2022.3, MainIF/MAC: eth1/52:54:00:01:00:01 (bat0/ca:a1:05:40:c2:dd BATMAN_IV)]
   Originator        last-seen (#/255) Nexthop           [outgoingIF]
 * 52:54:00:03:02:01    0.344s   ( 45) 52:54:00:03:02:01 [      eth2]
   52:54:00:02:00:01    0.008s   (  8) 52:54:00:03:02:01 [      eth2]
 * 52:54:00:02:00:01    0.008s   ( 45) 52:54:00:02:00:01 [      eth1]
   52:54:00:03:01:01    0.204s   (  8) 52:54:00:02:00:01 [      eth1]
 * 52:54:00:03:01:01    0.204s   ( 40) 52:54:00:03:02:01 [      eth2]
`;

// `batctl meshif bat0 neighbors -H` on the same node.
const neighbours = '         eth1\t  52:54:00:02:00:01    0.116s\n         eth2\t  52:54:00:03:02:01    0.452s\n';

test('reads every originator row, the best-route mark, TQ, next hop and interface', () => {
  const rows = parseOriginators(originators);
  assert.is(rows.length, 5);
  assert.equal(rows[0], {
    best: true,
    originator: '52:54:00:03:02:01',
    lastSeenMs: 344,
    tq: 45,
    nextHop: '52:54:00:03:02:01',
    outgoingIf: 'eth2',
  });
  assert.equal(rows[1], {
    best: false,
    originator: '52:54:00:02:00:01',
    lastSeenMs: 8,
    tq: 8,
    nextHop: '52:54:00:03:02:01',
    outgoingIf: 'eth2',
  });
});

test('the best route is the starred row, not the first one listed', () => {
  const route = bestRoute(parseOriginators(originators), '52:54:00:02:00:01');
  assert.is(route?.nextHop, '52:54:00:02:00:01');
  assert.is(route?.tq, 45);
  assert.is(bestRoute(parseOriginators(originators), '52:54:00:09:00:01'), null);
});

test('the header names the primary interface, whose MAC is the originator address', () => {
  assert.is(parsePrimaryMac(originators), '52:54:00:01:00:01');
  assert.is(parsePrimaryMac('Error - interface bat0 is not present or not a batman-adv interface'), null);
});

test('reads the neighbour table and ignores error text', () => {
  assert.equal(parseNeighbours(neighbours), [
    { iface: 'eth1', neighbour: '52:54:00:02:00:01', lastSeenMs: 116 },
    { iface: 'eth2', neighbour: '52:54:00:03:02:01', lastSeenMs: 452 },
  ]);
  assert.equal(parseNeighbours('Error - batman-adv module has not been loaded\n'), []);
  assert.equal(parseOriginators('Error - batman-adv module has not been loaded\n'), []);
});

test("a neighbour's TQ is its own row via itself on the same interface, not a route through it", () => {
  const links = neighbourLinks(parseNeighbours(neighbours), parseOriginators(originators));
  assert.equal(links, [
    { iface: 'eth1', neighbour: '52:54:00:02:00:01', lastSeenMs: 116, tq: 45, best: true },
    { iface: 'eth2', neighbour: '52:54:00:03:02:01', lastSeenMs: 452, tq: 45, best: true },
  ]);
});

test('row limits stop parsing early', () => {
  assert.is(parseOriginators(originators, 2).length, 2);
  assert.is(parseNeighbours(neighbours, 1).length, 1);
});

test.run();
