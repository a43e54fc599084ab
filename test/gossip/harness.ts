// A few gossip engines on an in-memory network, for the engine tests: every datagram is checked against the
// datagram bound and delivered in order (or dropped by a filter), ticks advance a shared virtual clock.
import { Gossip, type Outgoing } from '../../src/core/gossip/gossip.js';
import { limits } from '../../src/core/gossip/limits.js';
import { MeshDoc } from '../../src/core/gossip/mesh-doc.js';
import type { LogRecord } from '../../src/core/gossip/persist.js';
import type { WriterAuth } from '../../src/core/gossip/writer.js';
import { encodeCbor } from '../../src/core/wire/cbor.js';
import { bytesEqual } from '../../src/core/wire/hex.js';
import { revocationCheck } from './kinds.js';

export const syncedWallMs = 1_750_000_000_000;

export interface EngineOptions {
  readonly incarnation?: number;
  readonly members?: readonly string[];
  readonly doc?: MeshDoc;
  readonly start?: boolean;
  readonly wallMs?: number;
  readonly onRecord?: (record: LogRecord, own: boolean) => void;
  readonly writers?: WriterAuth;
}

export function engine(nodeId: string, options: EngineOptions = {}): Gossip {
  let state = nodeId.length * 7919;
  const members = options.members;
  const g = new Gossip({
    nodeId,
    incarnation: options.incarnation ?? 1,
    doc: options.doc ?? new MeshDoc(revocationCheck),
    membership: (id) => (members === undefined || members.includes(id) ? 'member' : 'unknown'),
    random: () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0),
    onRecord: options.onRecord,
    ...(options.writers === undefined ? {} : { writers: options.writers }),
  });
  if (options.start !== false) g.start(options.wallMs ?? syncedWallMs);
  return g;
}

export interface Sent {
  readonly from: string;
  readonly to: string;
  readonly bytes: Uint8Array;
}

/** Engines that all peer with each other (or as given), on a lossless in-order network unless filtered. */
export class Wire {
  readonly byId = new Map<string, Gossip>();
  wallMs = syncedWallMs;
  /** Every datagram sent, for assertions on sizes and counts. */
  readonly sent: Sent[] = [];
  /** Return false to drop a datagram. */
  filter: (s: Sent) => boolean = () => true;

  constructor(
    readonly engines: Gossip[],
    peers?: Record<string, readonly string[]>,
  ) {
    for (const g of engines) this.byId.set(g.nodeId, g);
    for (const g of engines) g.setPeers(peers?.[g.nodeId] ?? engines.map((e) => e.nodeId));
  }

  replace(g: Gossip): void {
    const old = this.byId.get(g.nodeId) as Gossip;
    g.setPeers(old.peerList);
    this.byId.set(g.nodeId, g);
    this.engines[this.engines.indexOf(old)] = g;
  }

  /** Delivers datagrams breadth-first until the network is quiet (bounded). */
  deliver(from: string, out: readonly Outgoing[]): void {
    const queue: Sent[] = out.map((m) => ({ from, to: m.to, bytes: m.bytes }));
    for (let i = 0; i < queue.length; i++) {
      if (i > 200_000) throw new Error('Wire: the network does not go quiet');
      const s = queue[i] as Sent;
      if (s.bytes.length > limits.datagramBytesMax)
        throw new Error(`datagram of ${s.bytes.length} bytes from ${s.from}`);
      this.sent.push(s);
      if (!this.filter(s)) continue;
      const target = this.byId.get(s.to);
      if (target === undefined) continue;
      for (const m of target.receive(s.bytes, this.wallMs, s.from))
        queue.push({ from: s.to, to: m.to, bytes: m.bytes });
    }
  }

  tick(n = 1): void {
    for (let k = 0; k < n; k++) {
      this.wallMs += 100;
      for (const g of this.engines) this.deliver(g.nodeId, g.tick(this.wallMs));
    }
  }

  rounds(n: number): void {
    this.tick(n * limits.roundTicks);
  }

  /** Rounds until every engine holds the same version vector; how many it took, or -1. */
  untilSynced(maxRounds = 30): number {
    for (let r = 1; r <= maxRounds; r++) {
      this.rounds(1);
      if (this.synced()) return r;
    }
    return -1;
  }

  synced(): boolean {
    const root = (this.engines[0] as Gossip).vv.root();
    return this.engines.every((g) => g.vv.root() === root);
  }

  sameDocs(): boolean {
    const first = encodeCbor((this.engines[0] as Gossip).doc.toWire());
    return this.engines.every((g) => bytesEqual(encodeCbor(g.doc.toWire()), first));
  }

  bytesSince(mark: number): number {
    return this.sent.slice(mark).reduce((n, s) => n + s.bytes.length, 0);
  }
}
