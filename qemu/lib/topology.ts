// Topologies: which nodes (numbered 1..N) share a point-to-point mesh link. An edge is [a, b] with a < b.
import { limits } from './limits.js';

export type Edge = readonly [number, number];
export type TopologyName = 'line' | 'ring' | 'mesh' | 'custom';

export type TopologyResult = { ok: true; edges: Edge[] } | { ok: false; reason: string };

export function buildTopology(name: string, nodes: number, custom?: string): TopologyResult {
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > limits.nodesMax) {
    return { ok: false, reason: `--nodes must be 1..${limits.nodesMax}` };
  }
  const edges: Edge[] = [];
  switch (name) {
    case 'line':
      for (let i = 1; i < nodes; i++) edges.push([i, i + 1]);
      break;
    case 'ring':
      if (nodes < 3) return { ok: false, reason: 'a ring needs at least 3 nodes' };
      for (let i = 1; i < nodes; i++) edges.push([i, i + 1]);
      edges.push([1, nodes]);
      break;
    case 'mesh':
      for (let a = 1; a <= nodes; a++) for (let b = a + 1; b <= nodes; b++) edges.push([a, b]);
      break;
    case 'custom':
      return parseEdges(custom ?? '', nodes);
    default:
      return { ok: false, reason: `unknown topology '${name}' (line, ring, mesh, custom)` };
  }
  if (edges.length > limits.edgesMax)
    return { ok: false, reason: `${edges.length} links: more than ${limits.edgesMax}` };
  return { ok: true, edges };
}

/** "1-2,2-3,3-1": each pair once, both ends in 1..nodes, no self-loops. */
export function parseEdges(text: string, nodes: number): TopologyResult {
  const edges: Edge[] = [];
  const seen = new Set<string>();
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)) {
    const m = /^(\d+)-(\d+)$/.exec(part);
    if (m === null) return { ok: false, reason: `bad edge '${part}' (want A-B, e.g. 1-2)` };
    const a = Number(m[1]);
    const b = Number(m[2]);
    if (a === b) return { ok: false, reason: `edge '${part}' links a node to itself` };
    if (a < 1 || b < 1 || a > nodes || b > nodes)
      return { ok: false, reason: `edge '${part}' names a node outside 1..${nodes}` };
    const edge: Edge = a < b ? [a, b] : [b, a];
    const key = `${edge[0]}-${edge[1]}`;
    if (seen.has(key)) return { ok: false, reason: `edge '${part}' given twice` };
    seen.add(key);
    edges.push(edge);
  }
  if (edges.length === 0) return { ok: false, reason: '--edges is empty (want e.g. 1-2,2-3)' };
  if (edges.length > limits.edgesMax) return { ok: false, reason: `more than ${limits.edgesMax} links` };
  return { ok: true, edges };
}

export function edgeName(edge: Edge): string {
  return `${edge[0]}-${edge[1]}`;
}
