// The lab's topologies: which nodes share a point-to-point link.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildTopology, parseEdges } from '../../qemu/lib/topology.js';

function edgesOf(name: string, nodes: number, custom?: string): string[] {
  const t = buildTopology(name, nodes, custom);
  if (!t.ok) throw new Error(t.reason);
  return t.edges.map(([a, b]) => `${a}-${b}`);
}

test('line, ring and full mesh link the nodes as named', () => {
  assert.equal(edgesOf('line', 4), ['1-2', '2-3', '3-4']);
  assert.equal(edgesOf('ring', 4), ['1-2', '2-3', '3-4', '1-4']);
  assert.equal(edgesOf('mesh', 4), ['1-2', '1-3', '1-4', '2-3', '2-4', '3-4']);
  assert.is(edgesOf('mesh', 8).length, 28);
  assert.equal(edgesOf('line', 1), []);
});

test('a custom edge list is normalised (smaller node first) and checked', () => {
  assert.equal(edgesOf('custom', 5, '2-1, 1-3,5-4'), ['1-2', '1-3', '4-5']);
  const bad: Array<[string, string]> = [
    ['1-1', 'itself'],
    ['1-6', 'outside 1..5'],
    ['1-2,2-1', 'twice'],
    ['1:2', 'bad edge'],
    ['', 'empty'],
  ];
  for (const [text, reason] of bad) {
    const t = parseEdges(text, 5);
    assert.is(t.ok, false, text);
    if (!t.ok) assert.ok(t.reason.includes(reason), `${text}: ${t.reason}`);
  }
});

test('rejects a ring of two, an unknown topology and node counts out of range', () => {
  assert.is(buildTopology('ring', 2).ok, false);
  assert.is(buildTopology('torus', 4).ok, false);
  assert.is(buildTopology('line', 0).ok, false);
  assert.is(buildTopology('line', 17).ok, false);
});

test.run();
