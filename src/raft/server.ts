// One Raft KV node on a real Platform: storage on platform.files, messages and client requests over a
// PacketLink (UDP), ticks from platform timers. The loop follows the core's contract: take a Ready, persist it
// (one fsync), then send its messages, apply committed entries, answer reads, advance. Inputs that arrive
// together are handled in one Ready, which is what batches writes under load.
import { Counters, ok } from '../core/result.js';
import { defaultConfig, validateConfig, type RaftConfig } from '../core/raft/config.js';
import { Raft } from '../core/raft/raft.js';
import { KvStore } from '../core/raft/kv.js';
import { KvService, type ClientOp } from '../core/raft/kv-service.js';
import { sendBeforePersist, type NodeId, type Ready, type Stored } from '../core/raft/types.js';
import type { HostPort, Platform, TimerHandle } from '../platform/types.js';
import { RaftStorage } from './storage.js';
import { RaftTransport, udpLink, type PacketLink } from './transport.js';
import {
  encodeReply,
  encodeRequest,
  type AdminAction,
  type NodeStatus,
  type Packet,
  type Reply,
  type Request,
} from './protocol.js';
import { compactEveryEntries } from './limits.js';
import { RemoteWatchers } from './watchers.js';
import { holdLock } from './lock.js';

export interface ServerOptions {
  readonly id: NodeId;
  /** Every node's address, this one's included. The founding voters are these ids unless `voters` says otherwise. */
  readonly peers: ReadonlyMap<NodeId, HostPort>;
  readonly voters?: readonly NodeId[];
  readonly dataDir: string;
  readonly tickMs: number;
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  readonly compactEvery?: number;
  /** Called on every leadership or role change (the CLI prints it). */
  readonly onRole?: (status: NodeStatus) => void;
}

export type ServerReason = 'server-bad-config' | 'server-no-address' | 'storage-failed' | 'server-bind-failed';

/** What start() returns: the server, or why not with a one-line detail naming the path or address and errno. */
export type StartResult =
  | { readonly ok: true; readonly value: RaftServer }
  | { readonly ok: false; readonly reason: ServerReason; readonly detail: string };

/**
 * The errno name of an operating error (both platforms throw an Error whose `code`, or whose message, is one:
 * 'EACCES', 'EADDRINUSE', ...), or null for anything else, which is a bug and is rethrown.
 */
export function errnoOf(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
  const message = error instanceof Error ? error.message : '';
  const m = /^(E[A-Z0-9]+)\b/.exec(message);
  return m === null ? null : (m[1] as string);
}

function operating<T>(
  body: () => T,
  describe: (errno: string) => string,
): { ok: true; value: T } | { ok: false; detail: string } {
  try {
    return { ok: true, value: body() };
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === null) throw error;
    return { ok: false, detail: describe(errno) };
  }
}

export class RaftServer {
  readonly counters = new Counters();
  private readonly raft: Raft;
  private readonly kv = new KvStore();
  private readonly service: KvService;
  private link: PacketLink | null = null;
  private transport: RaftTransport | null = null;
  private tickTimer: TimerHandle | null = null;
  private flushTimer: TimerHandle | null = null;
  private stopped = false;
  /** Removes DIR/lock (offline tools refuse a directory a live server holds). */
  private releaseLock: () => void = () => {};
  /** Requests this node forwarded to the leader for a local caller (submitLocal), by request id. */
  private readonly forwarded = new Map<number, (reply: Reply | null) => void>();
  private nextForwardId = 1;
  private readonly watchers = new RemoteWatchers((to, id, event) =>
    this.link?.send(to, encodeReply(id, { ok: true, event })),
  );
  committedEntries = 0;

  private constructor(
    private readonly platform: Platform,
    private readonly options: ServerOptions,
    readonly storage: RaftStorage,
    config: RaftConfig,
    stored: Stored | null,
  ) {
    this.raft = new Raft(config, stored);
    if (stored?.snapshot) this.kv.restore(stored.snapshot.data);
    this.service = new KvService(this.raft, this.kv);
    this.kv.watch('', (event) => this.watchers.changed(event));
  }

  static async start(platform: Platform, options: ServerOptions): Promise<StartResult> {
    const listen = options.peers.get(options.id);
    if (listen === undefined)
      return { ok: false, reason: 'server-no-address', detail: `node ${options.id} has no address in peers` };
    const voters = options.voters ?? [...options.peers.keys()];
    const random = (): number => {
      const b = platform.randomBytes(4);
      return (
        ((((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) >>> 0) /
        4294967296
      );
    };
    const config: RaftConfig = {
      ...defaultConfig(options.id, random, { voters: [...voters].sort((a, b) => a - b), learners: [] }),
      ...(options.electionTicks !== undefined ? { electionTicks: options.electionTicks } : {}),
      ...(options.heartbeatTicks !== undefined ? { heartbeatTicks: options.heartbeatTicks } : {}),
    };
    const valid = validateConfig(config);
    if (!valid.ok) return { ok: false, reason: 'server-bad-config', detail: valid.reason };
    const io = operating(
      () => RaftStorage.open(platform.files, options.dataDir),
      (errno) => `cannot open raft data directory ${options.dataDir}: ${errno}`,
    );
    const opened = io.ok ? io.value : { ok: false as const, reason: 'storage-failed' as const, detail: io.detail };
    if (!opened.ok) {
      // The caller reports it (one line from the CLI): logging here too would say it twice.
      const detail = !io.ok
        ? opened.detail
        : opened.reason === 'dir-unusable'
          ? `cannot open raft data directory ${options.dataDir}: ${opened.detail}`
          : `raft data in ${options.dataDir} refused (${opened.reason}): ${opened.detail}`;
      return { ok: false, reason: 'storage-failed', detail };
    }
    const server = new RaftServer(platform, options, opened.value.storage, config, opened.value.stored);
    try {
      server.link = await udpLink(platform, listen, (packet, from) => server.onPacket(packet, from), server.counters);
    } catch (error) {
      const errno = errnoOf(error);
      if (errno === null) throw error;
      return {
        ok: false,
        reason: 'server-bind-failed',
        detail: `cannot bind udp ${listen.host}:${listen.port}: ${errno}`,
      };
    }
    server.releaseLock = holdLock(platform.files, options.dataDir);
    server.transport = new RaftTransport(server.link, options.peers, server.counters);
    server.scheduleTick();
    server.process();
    return ok(server);
  }

  status(): NodeStatus {
    const conf = this.raft.conf();
    return {
      id: this.raft.id,
      role: this.raft.role,
      term: this.raft.term,
      lead: this.raft.lead,
      commit: this.raft.log.committed,
      applied: this.raft.log.applied,
      lastIndex: this.raft.log.lastIndex(),
      voters: conf.voters,
      learners: conf.learners,
      keys: this.kv.size,
      bytesWritten: this.storage.bytesWritten,
      appends: this.storage.appends,
    };
  }

  /**
   * A request from inside this process (the agent's registrar): served here on the leader, else forwarded to the
   * leader over this node's link and its reply routed back; null when there is no leader or no answer in time.
   */
  submitLocal(request: ClientOp, timeoutMs = 2_000): Promise<Reply | null> {
    if (this.stopped) return Promise.resolve(null);
    if (this.raft.role === 'leader') {
      return new Promise((resolve) =>
        this.service.submit(request, (r) => {
          resolve(r);
          this.soon();
        }),
      );
    }
    const to = this.options.peers.get(this.raft.lead);
    if (this.raft.lead === 0 || to === undefined || this.link === null) return Promise.resolve(null);
    const id = this.nextForwardId;
    this.nextForwardId = (this.nextForwardId % 0x3fffffff) + 1;
    return new Promise((resolve) => {
      const timer = this.platform.setTimer(timeoutMs, () => {
        this.forwarded.delete(id);
        resolve(null);
      });
      this.forwarded.set(id, (reply) => {
        this.platform.clearTimer(timer);
        resolve(reply);
      });
      this.link?.send(to, encodeRequest(id, request));
    });
  }

  /**
   * On the leader: hands leadership to the voter whose log is furthest along (Raft thesis §3.10), so a degraded
   * anchor stops leading (MAPE-K's transfer-leadership, src/mapek/executor.ts). The core checks the rest.
   */
  transferLeadershipAway(): { ok: boolean; reason: string | null; to: NodeId | null } {
    if (this.stopped || this.raft.role !== 'leader') return { ok: false, reason: 'not-leader', to: null };
    let best: { id: NodeId; match: number } | null = null;
    for (const [id, match] of this.progress()) {
      if (id === this.raft.id || !this.raft.conf().voters.includes(id)) continue;
      if (best === null || match > best.match) best = { id, match };
    }
    if (best === null) return { ok: false, reason: 'no-other-voter', to: null };
    const result = this.raft.transferLeadership(best.id);
    this.counters.add(`mapek-transfer-${result.ok ? 'ok' : result.reason}`);
    this.soon();
    return result.ok ? { ok: true, reason: null, to: best.id } : { ok: false, reason: result.reason, to: null };
  }

  /** On the leader: each follower's match index (how far its log is known to agree); empty elsewhere. */
  progress(): Map<NodeId, number> {
    const out = new Map<NodeId, number>();
    if (this.raft.role !== 'leader') return out;
    const conf = this.raft.conf();
    for (const id of [...conf.voters, ...conf.learners]) {
      const pr = id === this.raft.id ? { match: this.raft.log.lastIndex() } : this.raft.progressOf(id);
      if (pr !== undefined) out.set(id, pr.match);
    }
    return out;
  }

  get store(): KvStore {
    return this.kv;
  }

  stop(): void {
    this.stopped = true;
    if (this.tickTimer !== null) this.platform.clearTimer(this.tickTimer);
    if (this.flushTimer !== null) this.platform.clearTimer(this.flushTimer);
    this.link?.close();
    this.releaseLock();
  }

  private scheduleTick(): void {
    this.tickTimer = this.platform.setTimer(this.options.tickMs, () => {
      if (this.stopped) return;
      this.raft.tick();
      this.service.tick(2 * (this.options.electionTicks ?? 10));
      this.watchers.tick();
      this.process();
      this.scheduleTick();
    });
  }

  /** Inputs are handled at once; their Ready is processed on the next turn of the loop, batching a burst. */
  private soon(): void {
    if (this.flushTimer !== null || this.stopped) return;
    this.flushTimer = this.platform.setTimer(0, () => {
      this.flushTimer = null;
      this.process();
    });
  }

  private onPacket(packet: Packet, from: HostPort): void {
    if (this.stopped) return;
    if (packet.kind === 'raft') this.raft.step(packet.message);
    else if (packet.kind === 'request') this.onRequest(packet.id, packet.request, from);
    else {
      const waiting = this.forwarded.get(packet.id);
      this.forwarded.delete(packet.id);
      if (waiting === undefined) this.counters.add('unexpected-reply');
      else waiting(packet.reply);
    }
    this.soon();
  }

  private onRequest(id: number, request: Request, from: HostPort): void {
    const reply = (r: Reply): void => this.link?.send(from, encodeReply(id, r));
    if (request.op === 'status') return reply({ ok: true, status: this.status() });
    if (request.op === 'admin') return reply(this.admin(request.action, request.node));
    if (request.op === 'watch')
      return reply(
        this.watchers.watch(from, id, request.prefix)
          ? { ok: true, done: true }
          : { ok: true, done: false, reason: 'kv-too-many-watchers' },
      );
    this.service.submit(request, (r) => {
      reply(r);
      this.soon();
    });
  }

  private admin(action: AdminAction, node: NodeId): Reply {
    if (this.raft.role !== 'leader')
      return { ok: false, reason: this.raft.lead === 0 ? 'no-leader' : 'not-leader', leader: this.raft.lead };
    const result =
      action === 'transfer' ? this.raft.transferLeadership(node) : this.raft.proposeConfChange({ op: action, node });
    this.counters.add(`admin-${action}-${result.ok ? 'ok' : result.reason}`);
    return result.ok ? { ok: true, done: true } : { ok: true, done: false, reason: result.reason };
  }

  private process(): void {
    // Bounded: each round consumes the Ready it took; a few rounds drain what applying produced.
    for (let round = 0; round < 8 && !this.stopped && this.raft.hasReady(); round++)
      this.handleReady(this.raft.ready());
  }

  private handleReady(rd: Ready): void {
    for (const m of rd.messages) if (sendBeforePersist(m)) this.transport?.send(m);
    this.storage.save(rd);
    for (const m of rd.messages) if (!sendBeforePersist(m)) this.transport?.send(m);
    if (rd.snapshot !== null) {
      const restored = this.kv.restore(rd.snapshot.data);
      if (!restored.ok) this.counters.add(restored.reason);
      this.service.restored();
    }
    this.service.apply(rd.committedEntries);
    this.committedEntries += rd.committedEntries.length;
    this.service.readStates(rd.readStates);
    if (rd.softState !== null) {
      this.service.roleChanged();
      this.options.onRole?.(this.status());
    }
    this.raft.advance(rd);
    this.maybeCompact();
  }

  private maybeCompact(): void {
    const log = this.raft.log;
    if (log.applied - log.snapshot.meta.index < (this.options.compactEvery ?? compactEveryEntries)) return;
    const snapshot = this.raft.compact(log.applied, this.kv.snapshot());
    if (snapshot !== null) this.storage.saveSnapshot(snapshot);
  }
}
