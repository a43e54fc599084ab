// A gossip node on a Platform: the pure engine (core/gossip/gossip.ts) driven by platform timers, talking over
// platform.net UDP, persisting through platform.files (store.ts) at the pace FlushPolicy allows. Datagrams
// are queued on arrival (bounded) and handled on the next tick, at the node's own pace. The transport vouches
// for a sender by its address: a datagram from an address that is not a configured peer is refused.
import { Gossip, type Outgoing } from '../core/gossip/gossip.js';
import {
  addToCounter,
  removeNeighbour,
  setNeighbour,
  setStatus,
  setVersion,
  type LocalRefusal,
} from '../core/gossip/local.js';
import { limits } from '../core/gossip/limits.js';
import { MeshDoc, type Link, type NodeStatus, type RevocationCheck } from '../core/gossip/mesh-doc.js';
import { encodeSnapshot, FlushPolicy, handOver, nextIncarnation, type LogRecord } from '../core/gossip/persist.js';
import type { SignedDoc } from '../core/gossip/signed-doc.js';
import type { WriterAuth } from '../core/gossip/writer.js';
import { assertThat, Counters, type Result } from '../core/result.js';
import type { HostPort, Platform, TimerHandle, UdpSocket } from '../platform/types.js';
import { restoreInto, StateStore } from './store.js';

export interface PeerAddress {
  readonly name: string;
  readonly address: HostPort;
}

export interface GossipNodeOptions {
  readonly nodeId: string;
  readonly listen: HostPort;
  readonly peers: readonly PeerAddress[];
  /** Node ids whose deltas are accepted (default: this node and its peers). */
  readonly members?: readonly string[];
  /** Instead of members: decides for each writer (peers found at run time, e.g. through batman-adv). */
  readonly membership?: (nodeId: string) => boolean;
  /** Where the document persists; null keeps it in memory only (incarnation from the wall clock). */
  readonly stateDir: string | null;
  readonly revocationCheck: RevocationCheck;
  /** Writers sign their section and every other section is checked against its writer (identity-writers.ts). */
  readonly writers?: WriterAuth;
  /** Tick period; a round is limits.roundTicks ticks. */
  readonly tickMs?: number;
}

/** Datagrams waiting for the next tick; past this they are dropped (and counted). */
export const inboxMax = 512;

const key = (a: HostPort) => `${a.host}:${a.port}`;

export class GossipNode {
  engine: Gossip;
  readonly doc: MeshDoc;
  readonly counters = new Counters();
  private socket: UdpSocket | null = null;
  private timer: TimerHandle | null = null;
  private inbox: Array<{ data: Uint8Array; from: string }> = [];
  private readonly byAddress = new Map<string, string>();
  private readonly addressOf = new Map<string, HostPort>();
  /** Monotonic time of the last datagram from each peer (liveness for status pages; not used by the engine). */
  private readonly heard = new Map<string, number>();
  private readonly member: (nodeId: string) => boolean;
  private readonly store: StateStore | null;
  private policy: FlushPolicy | null = null;
  private generation = 0;
  private loading = true;
  /** A write failed: the next flush writes a whole snapshot instead of an append. */
  private snapshotOwed = false;
  private retryAtMs = 0;
  private closed = false;

  private peers: readonly PeerAddress[];

  private constructor(
    private readonly platform: Platform,
    private readonly options: GossipNodeOptions,
    incarnation: number,
    store: StateStore | null,
  ) {
    this.store = store;
    this.peers = options.peers;
    this.index(options.peers);
    const members = new Set(options.members ?? [options.nodeId, ...options.peers.map((p) => p.name)]);
    this.member = options.membership ?? ((id) => members.has(id));
    this.doc = new MeshDoc(options.revocationCheck);
    this.engine = this.makeEngine(incarnation, this.doc);
  }

  /** Loads persisted state, starts a new incarnation, writes the start snapshot, then binds the socket. */
  static async open(platform: Platform, options: GossipNodeOptions): Promise<GossipNode> {
    const store = options.stateDir === null ? null : new StateStore(platform.files, options.stateDir);
    const loaded = store?.load() ?? null;
    // readSnapshotHeader refuses an incarnation at the maximum, so a restored one always has a successor.
    const restored = loaded?.header ? nextIncarnation(loaded.header.incarnation, 0) : null;
    const incarnation = restored ?? initialIncarnation(platform, store !== null);
    const node = new GossipNode(platform, options, incarnation, store);
    node.generation = loaded?.header?.generation ?? 0;
    for (const problem of loaded === null ? [] : restoreInto(node.engine, loaded)) {
      node.count(`persist-${problem}`);
      // Damage inside the log is not a torn write: said once, loudly; anti-entropy brings back what it held.
      if (problem.startsWith('log-corrupt'))
        platform.logger.log('warn', `gossip: damaged records in the log of ${options.stateDir} skipped`, { problem });
    }
    node.engine.start(platform.wallClockMs());
    node.writeSnapshot();
    node.loading = false;
    node.socket = await platform.net.udpBind(options.listen, {
      onMessage: (data, from) => node.enqueue(data, from),
      onError: (errno) => node.count(`udp-error:${errno}`),
    });
    node.schedule();
    return node;
  }

  get local(): HostPort {
    assertThat(this.socket !== null, 'gossip node: socket bound in open()');
    return this.socket.local;
  }

  count(name: string, n = 1): void {
    this.counters.add(name, n);
  }

  /** Engine, binding and flash counters together (for status output and tests). */
  allCounters(): Record<string, number> {
    const out: Record<string, number> = { ...this.engine.counters.snapshot(), ...this.counters.snapshot() };
    if (this.policy !== null) {
      out['flash-appends'] = this.policy.stats.appends;
      out['flash-snapshots'] = this.policy.stats.snapshots;
      out['flash-bytes'] = this.policy.stats.bytesWritten;
      out['flash-dropped-records'] = this.policy.stats.droppedRecords;
    }
    return out;
  }

  /** When a datagram from this peer last arrived (monotonic ms); null if never. */
  lastHeardMs(name: string): number | null {
    return this.heard.get(name) ?? null;
  }

  /** Every peer's last digest equals ours. */
  isSynced(): boolean {
    return this.peers.every((p) => this.engine.isSyncedWith(p.name));
  }

  /** The peers change at run time (found through batman-adv): the engine gossips with the first limits.peersMax. */
  setPeers(peers: readonly PeerAddress[]): void {
    this.peers = peers;
    this.index(peers);
    this.engine.setPeers(peers.map((p) => p.name));
  }

  private index(peers: readonly PeerAddress[]): void {
    this.byAddress.clear();
    this.addressOf.clear();
    for (const p of peers) {
      this.byAddress.set(key(p.address), p.name);
      this.addressOf.set(p.name, p.address);
    }
  }

  setStatus(status: NodeStatus): Result<null, LocalRefusal> {
    return setStatus(this.engine, status, this.platform.wallClockMs());
  }

  setVersion(component: string, version: string): Result<null, LocalRefusal> {
    return setVersion(this.engine, component, version, this.platform.wallClockMs());
  }

  addToCounter(name: string, amount: number): Result<null, LocalRefusal> {
    return addToCounter(this.engine, name, amount);
  }

  setNeighbour(name: string, link: Link): Result<null, LocalRefusal> {
    return setNeighbour(this.engine, name, link, this.platform.wallClockMs());
  }

  removeNeighbour(name: string): Result<null, LocalRefusal> {
    return removeNeighbour(this.engine, name);
  }

  /** A revocation list from outside the mesh (the operator); null when taken or already held. */
  offerRevocations(doc: SignedDoc): string | null {
    return this.engine.offerDoc(doc);
  }

  /** Stops: flushes what is buffered (one append), closes the socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) this.platform.clearTimer(this.timer);
    if (this.policy !== null && this.policy.buffered > 0 && !this.snapshotOwed) {
      const errno = this.store?.append(this.policy.takeAppend(this.platform.monotonicMs()), this.generation) ?? null;
      if (errno !== null) this.count(`persist-failed:${errno}`);
    }
    this.socket?.close();
  }

  private makeEngine(incarnation: number, doc: MeshDoc): Gossip {
    const random = () => {
      const b = this.platform.randomBytes(4);
      return (((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) >>> 0;
    };
    const engine = new Gossip({
      nodeId: this.options.nodeId,
      incarnation,
      doc,
      random,
      membership: (id) => (this.member(id) ? 'member' : 'unknown'),
      onRecord: (record, own) => this.record(record, own),
      ...(this.options.writers === undefined ? {} : { writers: this.options.writers }),
    });
    engine.setPeers(this.peers.map((p) => p.name));
    return engine;
  }

  private record(record: LogRecord, own: boolean): void {
    if (!this.loading) this.policy?.add(record, own);
  }

  private enqueue(data: Uint8Array, from: HostPort): void {
    if (this.inbox.length >= inboxMax) {
      this.count('refused:inbox-full');
      return;
    }
    const sender = this.byAddress.get(key(from));
    if (sender === undefined) {
      this.count('refused:source-unknown');
      return;
    }
    this.heard.set(sender, this.platform.monotonicMs());
    // A private copy: the engine may keep parts of a datagram (state chunks) across ticks.
    this.inbox.push({ data: data.slice(0, limits.datagramBytesMax + 1), from: sender });
  }

  private schedule(): void {
    if (!this.closed) this.timer = this.platform.setTimer(this.options.tickMs ?? 100, () => this.tick());
  }

  private tick(): void {
    const wallMs = this.platform.wallClockMs();
    const inbox = this.inbox;
    this.inbox = [];
    for (const { data, from } of inbox) this.transmit(this.engine.receive(data, wallMs, from));
    this.transmit(this.engine.tick(wallMs));
    if (this.engine.ownIncarnationSeen > this.engine.incarnation) this.reincarnate();
    this.persist();
    this.schedule();
  }

  private transmit(out: readonly Outgoing[]): void {
    for (const m of out) {
      const to = this.addressOf.get(m.to);
      if (to === undefined || this.socket === null) {
        this.count('send-no-address');
        continue;
      }
      const error = this.socket.send(m.bytes, to);
      if (error !== null) this.count(`send-error:${error}`);
    }
  }

  private persist(): void {
    if (this.store === null || this.policy === null) return;
    const nowMs = this.platform.monotonicMs();
    if (nowMs < this.retryAtMs) return;
    const due = this.policy.next(nowMs);
    // A refused write (full or read-only flash) is counted, and the next write is a whole snapshot: it carries
    // what the lost append held, so nothing is lost once the flash takes writes again.
    if (due === 'append' && !this.snapshotOwed) {
      const errno = this.store.append(this.policy.takeAppend(nowMs), this.generation);
      if (errno !== null) this.failedWrite(errno, nowMs);
    } else if (due !== null) this.writeSnapshot();
  }

  private writeSnapshot(): void {
    if (this.store === null) return;
    const bytes = encodeSnapshot(this.engine, this.generation + 1);
    const errno = this.store.writeSnapshot(bytes, this.generation + 1);
    if (errno !== null) {
      this.failedWrite(errno, this.platform.monotonicMs());
      if (this.policy === null) this.policy = new FlushPolicy(this.platform.monotonicMs(), bytes.length);
      return;
    }
    this.generation += 1;
    this.snapshotOwed = false;
    const nowMs = this.platform.monotonicMs();
    if (this.policy === null) this.policy = new FlushPolicy(nowMs, bytes.length);
    else this.policy.snapshotWritten(nowMs, bytes.length);
  }

  /** Counted; the next write is a whole snapshot, tried again one flush interval later (not at every tick). */
  private failedWrite(errno: string, nowMs: number): void {
    this.count(`persist-failed:${errno}`);
    this.snapshotOwed = true;
    this.retryAtMs = nowMs + limits.persistFlushMs;
  }

  /** The mesh remembers a later life of this node (lost or rolled-back flash): start a greater incarnation. */
  private reincarnate(): void {
    const old = this.engine;
    const incarnation = nextIncarnation(old.incarnation, old.ownIncarnationSeen);
    // Peers' claims are bounded by the clock (incarnation-future), so this needs ~4 billion restarts; a value,
    // not an assertion: the node keeps its incarnation and says so.
    if (incarnation === null) {
      old.ownIncarnationSeen = old.incarnation;
      this.count('incarnation-exhausted');
      return;
    }
    this.loading = true;
    // The same document carries over (subscribers keep their subscription); the version vector moves across.
    const next = this.makeEngine(incarnation, this.doc);
    handOver(old, next);
    next.start(this.platform.wallClockMs());
    for (const [name, n] of Object.entries(old.counters.snapshot())) next.count(name, n);
    this.engine = next;
    this.count('reincarnations');
    this.loading = false;
    this.writeSnapshot();
  }
}

/** Without a snapshot: 1 with a state directory (a fresh node); else the wall clock's seconds, when set. */
function initialIncarnation(platform: Platform, persisted: boolean): number {
  const wallMs = platform.wallClockMs();
  if (persisted || wallMs < limits.wallClockFloorMs) return 1;
  return Math.min(limits.incarnationMax - limits.incarnationRestartsMax, Math.floor(wallMs / 1000));
}
