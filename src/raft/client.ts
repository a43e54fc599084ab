// A client of a Raft KV cluster over UDP: finds the leader (following "not-leader" hints), retries on loss with
// the same (client id, sequence) so a retried write applies once, and gives up after a bounded number of tries.
import { fail, ok, type Result } from '../core/result.js';
import type { KvCommand, KvEvent, KvResult } from '../core/raft/kv.js';
import type { NodeId } from '../core/raft/types.js';
import type { HostPort, Platform, TimerHandle, UdpSocket } from '../platform/types.js';
import {
  decodePacket,
  encodeRequest,
  type AdminAction,
  type NodeStatus,
  type Reply,
  type Request,
} from './protocol.js';
import { clientRetriesMax } from './limits.js';

export type ClientReason = 'client-gave-up' | 'client-closed';

export interface ClientOptions {
  readonly attemptTimeoutMs: number;
  readonly attempts: number;
}

export const clientDefaults: ClientOptions = { attemptTimeoutMs: 600, attempts: clientRetriesMax };

interface Waiting {
  readonly resolve: (reply: Reply | null) => void;
  readonly timer: TimerHandle;
}

export interface WatchHandle {
  stop(): void;
}

export class RaftClient {
  private readonly waiting = new Map<number, Waiting>();
  private readonly watches = new Map<number, (event: KvEvent) => void>();
  private nextRequestId = 1;
  private seq = 0;
  private leader: NodeId = 0;
  private closed = false;

  private constructor(
    private readonly platform: Platform,
    private readonly servers: ReadonlyMap<NodeId, HostPort>,
    private readonly socket: UdpSocket,
    readonly clientId: number,
    private readonly options: ClientOptions,
  ) {}

  static async open(
    platform: Platform,
    servers: ReadonlyMap<NodeId, HostPort>,
    options: ClientOptions = clientDefaults,
  ): Promise<RaftClient> {
    const bytes = platform.randomBytes(6);
    const clientId = bytes.reduce((n, b) => n * 256 + b, 0) + 1;
    let client: RaftClient | null = null;
    const socket = await platform.net.udpBind(
      { host: '127.0.0.1', port: 0 },
      {
        onMessage(data) {
          const packet = decodePacket(data);
          if (packet.ok && packet.value.kind === 'reply') client?.settle(packet.value.id, packet.value.reply);
        },
      },
    );
    client = new RaftClient(platform, servers, socket, clientId, options);
    return client;
  }

  close(): void {
    this.closed = true;
    for (const [id] of this.waiting) this.settle(id, null);
    this.socket.close();
  }

  private settle(id: number, reply: Reply | null): void {
    const watch = this.watches.get(id);
    if (watch !== undefined && reply !== null && 'event' in reply) {
      watch(reply.event);
      return;
    }
    const waiting = this.waiting.get(id);
    if (waiting === undefined) return;
    this.waiting.delete(id);
    this.platform.clearTimer(waiting.timer);
    waiting.resolve(reply);
  }

  private once(target: NodeId, request: Request, id = this.nextRequestId++): Promise<Reply | null> {
    const address = this.servers.get(target) as HostPort;
    return new Promise((resolve) => {
      const timer = this.platform.setTimer(this.options.attemptTimeoutMs, () => this.settle(id, null));
      this.waiting.set(id, { resolve, timer });
      this.socket.send(encodeRequest(id, request), address);
    });
  }

  private pickTarget(attempt: number): NodeId {
    if (this.leader !== 0 && this.servers.has(this.leader)) return this.leader;
    const ids = [...this.servers.keys()];
    return ids[attempt % ids.length] as NodeId;
  }

  /** Sends a request to the leader (or `to`), retrying on loss and following leader hints. */
  async request(request: Request, to?: NodeId): Promise<Result<Reply, ClientReason>> {
    for (let attempt = 0; attempt < this.options.attempts; attempt++) {
      if (this.closed) return fail('client-closed');
      const target = to ?? this.pickTarget(attempt);
      const reply = await this.once(target, request);
      if (reply === null) {
        if (target === this.leader) this.leader = 0;
        continue;
      }
      if (to !== undefined || reply.ok) return ok(reply);
      this.leader = 'leader' in reply && reply.leader !== 0 && reply.leader !== target ? reply.leader : 0;
      if (this.leader === 0) await this.pause(this.options.attemptTimeoutMs / 4);
    }
    return fail('client-gave-up');
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.platform.setTimer(ms, resolve);
    });
  }

  async write(command: KvCommand): Promise<Result<KvResult, ClientReason | string>> {
    const reply = await this.request({ op: 'write', client: this.clientId, seq: ++this.seq, command });
    if (!reply.ok) return reply;
    return 'write' in reply.value
      ? ok(reply.value.write)
      : fail('reason' in reply.value ? String(reply.value.reason) : 'unexpected-reply');
  }

  async get(key: string): Promise<Result<string | null, ClientReason | string>> {
    const reply = await this.request({ op: 'get', key });
    if (!reply.ok) return reply;
    return 'value' in reply.value ? ok(reply.value.value) : fail('unexpected-reply');
  }

  async list(prefix: string, limit: number): Promise<Result<readonly [string, string][], ClientReason | string>> {
    const reply = await this.request({ op: 'list', prefix, limit });
    if (!reply.ok) return reply;
    return 'items' in reply.value ? ok(reply.value.items) : fail('unexpected-reply');
  }

  async status(id: NodeId): Promise<Result<NodeStatus, ClientReason | string>> {
    const reply = await this.request({ op: 'status' }, id);
    if (!reply.ok) return reply;
    return 'status' in reply.value ? ok(reply.value.status) : fail('unexpected-reply');
  }

  /**
   * Watches changes under prefix as node `at` applies them (at most once each: UDP). The watch is renewed every
   * renewMs until stop(); the first registration must be accepted.
   */
  async watch(
    at: NodeId,
    prefix: string,
    onEvent: (event: KvEvent) => void,
    renewMs = 10_000,
  ): Promise<Result<WatchHandle, ClientReason | string>> {
    if (!this.servers.has(at)) return fail('unknown-node');
    const id = this.nextRequestId++;
    let first: Reply | null = null;
    for (let attempt = 0; attempt < this.options.attempts && first === null; attempt++)
      first = await this.once(at, { op: 'watch', prefix }, id);
    if (first === null) return fail('client-gave-up');
    if (!('done' in first) || !first.done) return fail('reason' in first ? String(first.reason) : 'refused');
    this.watches.set(id, onEvent);
    let timer: TimerHandle;
    const renew = (): void => {
      timer = this.platform.setTimer(renewMs, () => {
        this.socket.send(encodeRequest(id, { op: 'watch', prefix }), this.servers.get(at) as HostPort);
        renew();
      });
    };
    renew();
    return ok({
      stop: () => {
        this.watches.delete(id);
        this.platform.clearTimer(timer);
      },
    });
  }

  /** A leadership transfer or membership change, done by the leader: true when it accepted it. */
  async admin(action: AdminAction, node: NodeId): Promise<Result<boolean, ClientReason | string>> {
    const reply = await this.request({ op: 'admin', action, node });
    if (!reply.ok) return reply;
    if (!('done' in reply.value)) return fail('unexpected-reply');
    return reply.value.done ? ok(true) : fail(reply.value.reason ?? 'refused');
  }
}
