// A deterministic mesh simulation for the gossip engine, on the shared kernel (src/sim: seeded Rng, virtual
// time): N nodes on a random geometric graph (radio-like: neighbours are the nodes within range, multi-hop),
// a datagram network with latency, loss, duplication and reordering, partitions that heal, node restarts
// from their last snapshot (losing what they wrote since: the new incarnation replaces it mesh-wide), random
// local updates. Engine-neutral: a small one runs inside QuickJS-ng too.
import { Rng } from '../../src/core/rng.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { Gossip } from '../../src/core/gossip/gossip.js';
import { MeshDoc } from '../../src/core/gossip/mesh-doc.js';
import { addToCounter, removeNeighbour, setNeighbour, setStatus, setVersion } from '../../src/core/gossip/local.js';
import { limits } from '../../src/core/gossip/limits.js';
import { encodeSnapshot, readSnapshotHeader, restoreSnapshot } from '../../src/core/gossip/persist.js';
import { revocationCheck } from './kinds.js';

export interface SimOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly avgDegree: number;
  readonly lossRate: number;
  readonly duplicateRate: number;
  readonly latencyMs: readonly [number, number];
  readonly mode: 'delta' | 'full';
  readonly tickMs: number;
  /** Random local updates per simulated second while updating. */
  readonly updatesPerSecond: number;
  readonly updatesUntilMs: number;
  /** Nodes west of x = 0.5 are cut off from the east during [startMs, healMs). */
  readonly partition: { readonly startMs: number; readonly healMs: number } | null;
  /** Node restarts per simulated second while updating (each from its last snapshot). */
  readonly restartsPerSecond: number;
  /** Wall clock of every node at time 0 (1970 before NTP, or a real date). */
  readonly wallStartMs: number;
}

export const defaultSim: SimOptions = {
  seed: 1,
  nodes: 1000,
  avgDegree: 6,
  lossRate: 0.05,
  duplicateRate: 0.02,
  latencyMs: [2, 30],
  mode: 'delta',
  tickMs: 100,
  updatesPerSecond: 20,
  updatesUntilMs: 20_000,
  partition: { startMs: 5_000, healMs: 15_000 },
  restartsPerSecond: 0,
  wallStartMs: 1_718_000_000_000,
};

interface Point {
  readonly x: number;
  readonly y: number;
}

export class MeshSim {
  readonly rng: Rng;
  readonly scheduler = new Scheduler();
  readonly nodes: Gossip[] = [];
  readonly points: Point[] = [];
  readonly adjacency: number[][] = [];
  /** Each node's last snapshot (its flash), taken every snapshotEveryMs. */
  private readonly flash: Uint8Array[] = [];
  private readonly nodeRngs: Rng[] = [];
  private readonly ids: Set<string>;
  bytesSent = 0;
  datagramsSent = 0;
  updates = 0;
  restarts = 0;
  partitioned = false;

  constructor(readonly options: SimOptions) {
    this.rng = new Rng(options.seed);
    this.buildTopology();
    this.ids = new Set(Array.from({ length: options.nodes }, (_, i) => `n${i}`));
    for (let i = 0; i < options.nodes; i++) {
      this.nodeRngs.push(this.rng.fork());
      this.nodes.push(this.makeNode(i, 1, new MeshDoc(revocationCheck)));
    }
  }

  get nowMs(): number {
    return this.scheduler.now;
  }

  wallMs(): number {
    return this.options.wallStartMs + this.scheduler.now;
  }

  private makeNode(i: number, incarnation: number, doc: MeshDoc): Gossip {
    const nodeRng = this.nodeRngs[i] as Rng;
    const gossip = new Gossip({
      nodeId: `n${i}`,
      incarnation,
      doc,
      membership: (id) => (this.ids.has(id) ? 'member' : 'unknown'),
      random: () => nodeRng.nextUint32(),
      mode: this.options.mode,
    });
    gossip.setPeers((this.adjacency[i] as number[]).map((j) => `n${j}`));
    return gossip;
  }

  /** Starts every node (its first incarnation), their tick timers (staggered) and the workload. */
  start(): void {
    const o = this.options;
    for (const g of this.nodes) g.start(this.wallMs());
    this.nodes.forEach((_, i) => this.scheduler.at(this.rng.int(o.tickMs), () => this.tick(i)));
    if (o.updatesPerSecond > 0) this.scheduler.at(0, () => this.update());
    if (o.restartsPerSecond > 0) {
      this.nodes.forEach((g, i) => {
        this.flash[i] = encodeSnapshot(g, 0);
      });
      this.scheduler.at(0, () => this.snapshotAll());
      this.scheduler.at(500, () => this.restartSome());
    }
    if (o.partition !== null) {
      this.scheduler.at(o.partition.startMs, () => {
        this.partitioned = true;
      });
      this.scheduler.at(o.partition.healMs, () => {
        this.partitioned = false;
      });
    }
  }

  /** One random local write at node i. */
  writeAt(i: number): void {
    const g = this.nodes[i] as Gossip;
    const wall = this.wallMs();
    const neighbours = this.adjacency[i] as number[];
    const choice = neighbours.length === 0 ? 0 : this.rng.int(6);
    const peer = neighbours.length === 0 ? 'none' : `n${this.rng.pick(neighbours)}`;
    if (choice === 0)
      setStatus(
        g,
        { online: this.rng.chance(0.9), uptimeS: Math.floor(this.nowMs / 1000), loadMilli: this.rng.int(4000) },
        wall,
      );
    else if (choice <= 2) setNeighbour(g, peer, { tq: this.rng.int(256), rttMs: this.rng.range(1, 200) }, wall);
    else if (choice === 3) removeNeighbour(g, peer);
    else if (choice === 4) setVersion(g, this.rng.chance(0.5) ? 'firmware' : 'agent', `1.${this.rng.int(9)}`, wall);
    else addToCounter(g, this.rng.chance(0.5) ? 'alerts' : 'reboots', this.rng.range(-2, 5));
    this.updates += 1;
  }

  /** Node i crashes and restarts from its last snapshot with the next incarnation. */
  restart(i: number): void {
    const old = this.nodes[i] as Gossip;
    const header = readSnapshotHeader(this.flash[i] as Uint8Array);
    if (!header.ok) throw new Error(`n${i}: snapshot unreadable: ${header.reason}`);
    const g = this.makeNode(i, old.incarnation + 1, new MeshDoc(revocationCheck));
    restoreSnapshot(g, header.value.body);
    g.start(this.wallMs());
    this.nodes[i] = g;
    this.flash[i] = encodeSnapshot(g, 0);
    this.restarts += 1;
  }

  runUntil(ms: number): void {
    this.scheduler.runUntil(ms, 50_000_000);
  }

  /** Runs round by round until `converged`; the rounds it took, or -1. Invariants are checked every round. */
  runToConvergence(maxMs: number, converged: () => boolean = () => this.converged()): number {
    const roundMs = this.options.tickMs * limits.roundTicks;
    const from = this.nowMs;
    while (this.nowMs < maxMs) {
      this.runUntil(this.nowMs + roundMs);
      this.checkInvariants();
      if (converged()) return Math.round((this.nowMs - from) / roundMs);
    }
    return -1;
  }

  /** Nodes still in the mesh (as node 0 sees it): a revoked node's messages are refused, so it lags behind. */
  members(): Gossip[] {
    const revoked = (this.nodes[0] as Gossip).doc.revoked;
    return this.nodes.filter((g) => !revoked.has(g.nodeId));
  }

  /** Every member holds the same version vector and the same revocation list. */
  converged(): boolean {
    const members = this.members();
    const first = members[0] as Gossip;
    return members.every(
      (g) => g.vv.root() === first.vv.root() && g.doc.revocations.version === first.doc.revocations.version,
    );
  }

  /** Invariants on every round: nobody has a delta its writer has not written; logs stay bounded. */
  checkInvariants(): void {
    const seqOf = new Map(this.nodes.map((g) => [g.stream, g.seq]));
    for (const g of this.nodes) {
      if (g.retainedDeltas > limits.retainedDeltasMax + limits.batchItemsMax * limits.peersMax)
        throw new Error(`${g.nodeId} retains ${g.retainedDeltas} deltas`);
      if (g.vv.size > this.options.nodes)
        throw new Error(`${g.nodeId} tracks ${g.vv.size} streams for ${this.options.nodes} nodes`);
      for (const [stream, max] of g.vv.entries()) {
        const written = seqOf.get(stream);
        if (written !== undefined && max > written)
          throw new Error(`${g.nodeId} claims ${stream}@${max}, written only up to ${written}`);
      }
    }
  }

  total(counter: string): number {
    return this.nodes.reduce((n, g) => n + (g.counters.get(counter) ?? 0), 0);
  }

  /** Counters whose name starts with `prefix`, summed over all nodes. */
  totals(prefix: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const g of this.nodes)
      for (const [k, v] of Object.entries(g.counters.snapshot())) if (k.startsWith(prefix)) out[k] = (out[k] ?? 0) + v;
    return out;
  }

  private tick(i: number): void {
    const out = (this.nodes[i] as Gossip).tick(this.wallMs());
    for (const m of out) this.transmit(i, Number(m.to.slice(1)), m.bytes);
    this.scheduler.after(this.options.tickMs, () => this.tick(i));
  }

  private update(): void {
    if (this.nowMs >= this.options.updatesUntilMs) return;
    this.writeAt(this.rng.int(this.options.nodes));
    this.scheduler.after(Math.max(1, Math.round(1000 / this.options.updatesPerSecond)), () => this.update());
  }

  private snapshotAll(): void {
    if (this.nowMs >= this.options.updatesUntilMs) return;
    this.nodes.forEach((g, i) => {
      if (this.rng.chance(0.2)) this.flash[i] = encodeSnapshot(g, 0);
    });
    this.scheduler.after(2_000, () => this.snapshotAll());
  }

  private restartSome(): void {
    if (this.nowMs >= this.options.updatesUntilMs) return;
    this.restart(this.rng.int(this.options.nodes));
    this.scheduler.after(Math.max(1, Math.round(1000 / this.options.restartsPerSecond)), () => this.restartSome());
  }

  private transmit(from: number, to: number, bytes: Uint8Array): void {
    this.bytesSent += bytes.length;
    this.datagramsSent += 1;
    if (this.cut(from, to) || this.rng.chance(this.options.lossRate)) return;
    const copies = this.rng.chance(this.options.duplicateRate) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const [lo, hi] = this.options.latencyMs;
      this.scheduler.after(this.rng.range(lo, hi), () => this.deliver(from, to, bytes));
    }
  }

  private deliver(from: number, to: number, bytes: Uint8Array): void {
    if (this.cut(from, to)) return;
    const out = (this.nodes[to] as Gossip).receive(bytes, this.wallMs());
    for (const m of out) this.transmit(to, Number(m.to.slice(1)), m.bytes);
  }

  private cut(a: number, b: number): boolean {
    return this.partitioned && (this.points[a] as Point).x < 0.5 !== (this.points[b] as Point).x < 0.5;
  }

  /** Random geometric graph in the unit square; radius for the wanted mean degree; components bridged. */
  private buildTopology(): void {
    const n = this.options.nodes;
    const radius = Math.sqrt(this.options.avgDegree / (Math.PI * n));
    for (let i = 0; i < n; i++) {
      this.points.push({ x: this.rng.next(), y: this.rng.next() });
      this.adjacency.push([]);
    }
    const cells = Math.max(1, Math.floor(1 / radius));
    const grid = new Map<number, number[]>();
    const cellOf = (p: Point) =>
      Math.min(cells - 1, Math.floor(p.x * cells)) * cells + Math.min(cells - 1, Math.floor(p.y * cells));
    this.points.forEach((p, i) => {
      const c = cellOf(p);
      (grid.get(c) ?? (grid.set(c, []).get(c) as number[])).push(i);
    });
    for (let i = 0; i < n; i++) {
      const p = this.points[i] as Point;
      const cx = Math.min(cells - 1, Math.floor(p.x * cells));
      const cy = Math.min(cells - 1, Math.floor(p.y * cells));
      for (let dx = -1; dx <= 1; dx++)
        for (let dy = -1; dy <= 1; dy++) {
          for (const j of grid.get((cx + dx) * cells + (cy + dy)) ?? []) {
            if (cx + dx < 0 || cy + dy < 0 || cx + dx >= cells || cy + dy >= cells || j <= i) continue;
            const q = this.points[j] as Point;
            if ((p.x - q.x) ** 2 + (p.y - q.y) ** 2 <= radius * radius) this.link(i, j);
          }
        }
    }
    this.bridgeComponents();
  }

  private link(a: number, b: number): void {
    if (
      (this.adjacency[a] as number[]).length >= limits.peersMax ||
      (this.adjacency[b] as number[]).length >= limits.peersMax
    )
      return;
    (this.adjacency[a] as number[]).push(b);
    (this.adjacency[b] as number[]).push(a);
  }

  /** Joins every component to the first one by its geometrically closest pair (a longer radio link). */
  private bridgeComponents(): void {
    for (let guard = 0; guard < this.options.nodes; guard++) {
      const component = this.componentOf(0);
      if (component.size === this.options.nodes) return;
      let best: [number, number, number] = [Infinity, -1, -1];
      for (let i = 0; i < this.options.nodes; i++) {
        if (component.has(i)) continue;
        for (const j of component) {
          const d =
            ((this.points[i] as Point).x - (this.points[j] as Point).x) ** 2 +
            ((this.points[i] as Point).y - (this.points[j] as Point).y) ** 2;
          if (d < best[0] && (this.adjacency[j] as number[]).length < limits.peersMax) best = [d, i, j];
        }
      }
      (this.adjacency[best[1]] as number[]).push(best[2]);
      (this.adjacency[best[2]] as number[]).push(best[1]);
    }
  }

  /** A node whose loss leaves the others connected (so revoking it cuts nobody else off). */
  nonCutNode(from: number): number {
    for (let i = from; i < this.options.nodes; i++)
      if (this.componentOf(i === 0 ? 1 : 0, i).size === this.options.nodes - 1) return i;
    throw new Error('every node is a cut vertex');
  }

  componentOf(start: number, without = -1): Set<number> {
    const seen = new Set([start, without]);
    const queue = [start];
    for (let k = 0; k < queue.length; k++)
      for (const j of this.adjacency[queue[k] as number] as number[])
        if (!seen.has(j)) {
          seen.add(j);
          queue.push(j);
        }
    seen.delete(without);
    return seen;
  }

  /** Hop distance from `start` to the farthest node (a lower bound for hop-by-hop propagation). */
  eccentricity(start = 0): number {
    const dist = new Map([[start, 0]]);
    const queue = [start];
    for (let k = 0; k < queue.length; k++) {
      const a = queue[k] as number;
      for (const j of this.adjacency[a] as number[])
        if (!dist.has(j)) {
          dist.set(j, (dist.get(a) as number) + 1);
          queue.push(j);
        }
    }
    return Math.max(...dist.values());
  }

  meanDegree(): number {
    return this.adjacency.reduce((n, a) => n + a.length, 0) / this.options.nodes;
  }
}
