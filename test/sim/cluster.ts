// A deterministic simulation of a Raft KV cluster: N nodes (the real core, KV store and client service) in one
// process, a network and disks under a fault mix, clients that retry, all in virtual time from one seed.
// Invariants are checked after every step; at the end the client history is checked for linearizability and
// liveness (after the faults heal, every pending request is answered within a bound). Engine-neutral.
import { Rng } from '../../src/core/rng.js';
import { Scheduler, type SimTimer } from '../../src/sim/scheduler.js';
import {
  checkLinearizable,
  kvModel,
  type KvInput,
  type KvOutput,
  type Operation,
} from '../../src/sim/linearizability.js';
import { Raft } from '../../src/core/raft/raft.js';
import { defaultConfig, type UnsafeHooks } from '../../src/core/raft/config.js';
import { KvStore } from '../../src/core/raft/kv.js';
import { KvService, type ClientOp, type ClientReply } from '../../src/core/raft/kv-service.js';
import { isMember } from '../../src/core/raft/conf.js';
import { decodeMessage, encodeMessage } from '../../src/core/raft/codec.js';
import { sendBeforePersist, type Message, type NodeId, type Ready } from '../../src/core/raft/types.js';
import { Invariants, Violation } from './invariants.js';
import { SimDisk } from './disk.js';
import { faultMixes, healed, type Faults } from './faults.js';

export interface SimOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly mix: string;
  readonly faultsUntilMs: number;
  /** Liveness bound: after the faults heal, every request is answered and a leader exists within this. */
  readonly settleMs: number;
  readonly clients: number;
  readonly keys: number;
  readonly tickMs: number;
  readonly unsafe?: UnsafeHooks;
  /** Broken on purpose: answer reads from the local state machine without ReadIndex. */
  readonly staleReads?: boolean;
  /** Prints what happens (crashes, restarts, Readys, deliveries) for debugging one seed (`--trace`). */
  readonly trace?: (line: string) => void;
  /** States the linearizability checker may search per key; a key it cannot finish fails the seed. */
  readonly linStepsMax?: number;
}

/** Default search budget of the checker per key (the CI seeds finish far below it). */
export const linStepsMaxDefault = 2_000_000;
/**
 * Events at one virtual instant before the watchdog fails the seed: time that stops advancing is a livelock
 * (something rescheduling itself at once), not a busy moment (a busy instant runs a few thousand events).
 */
export const sameInstantEventsMax = 200_000;

export const simDefaults: Omit<SimOptions, 'seed'> = {
  nodes: 5,
  mix: 'chaos',
  faultsUntilMs: 12_000,
  settleMs: 12_000,
  clients: 3,
  keys: 3,
  tickMs: 100,
};

export interface SimReport {
  readonly ok: boolean;
  readonly failure: string | null;
  readonly simulatedMs: number;
  readonly events: number;
  readonly operations: number;
  readonly committed: number;
  readonly leaders: number;
  readonly crashes: number;
  readonly snapshotsInstalled: number;
  readonly linearizability: 'ok' | 'unknown' | 'violation' | 'not-checked';
}

const clientIdBase = 1000;
const attemptTimeoutMs = 1000;

class SimNode {
  raft: Raft | null = null;
  kv = new KvStore();
  service: KvService | null = null;
  readonly disk = new SimDisk();
  generation = 0;
  busy = false;
  scheduled = false;
  tickTimer: SimTimer | null = null;
  pendingReady: Ready | null = null;
  ledTerm = 0;

  constructor(
    readonly id: NodeId,
    readonly founding: boolean,
  ) {}
}

interface PendingOp {
  readonly input: KvInput;
  readonly callMs: number;
  readonly seq: number;
  attempt: number;
  timer: SimTimer | null;
}

class SimClient {
  seq = 0;
  /** Request ids are unique per client across operations, so a late or duplicated reply never matches the wrong one. */
  attempts = 0;
  leaderGuess: NodeId = 0;
  pending: PendingOp | null = null;
  constructor(readonly id: number) {}
}

type Packet =
  | { readonly kind: 'raft'; readonly message: Message }
  | { readonly kind: 'request'; readonly client: number; readonly attempt: number; readonly op: ClientOp }
  | { readonly kind: 'reply'; readonly attempt: number; readonly reply: ClientReply };

export class Cluster {
  readonly rng: Rng;
  readonly scheduler = new Scheduler();
  readonly invariants = new Invariants();
  readonly nodes = new Map<NodeId, SimNode>();
  readonly history: Operation<KvInput, KvOutput>[] = [];
  private readonly clients: SimClient[] = [];
  private faults: Faults;
  private blocked = new Set<string>();
  private healedAtMs: number;
  private failure: Violation | Error | null = null;
  crashes = 0;
  private snapshotsInstalled = 0;
  private leadersElected = 0;
  private readonly keys: number;

  constructor(readonly options: SimOptions) {
    const mix = faultMixes[options.mix];
    if (mix === undefined) throw new RangeError(`unknown fault mix '${options.mix}'`);
    this.faults = mix;
    this.rng = new Rng(options.seed);
    this.healedAtMs = options.faultsUntilMs;
    const spares = mix.membershipEveryMs === null ? 0 : 2;
    for (let id = 1; id <= options.nodes + spares; id++) this.nodes.set(id, new SimNode(id, id <= options.nodes));
    for (let i = 0; i < (mix.clients ?? options.clients); i++) this.clients.push(new SimClient(clientIdBase + i + 1));
    this.keys = mix.keys ?? options.keys;
  }

  // ---- running

  run(): SimReport {
    for (const node of this.nodes.values()) this.start(node);
    for (const client of this.clients) this.scheduler.after(this.rng.range(0, 200), () => this.nextOp(client));
    this.scheduleDrivers();
    this.scheduler.at(this.options.faultsUntilMs, () => this.heal());
    const endMs = this.options.faultsUntilMs + this.options.settleMs;
    this.guard(() => {
      let instantMs = -1;
      let atInstant = 0;
      while (this.failure === null && this.scheduler.step()) {
        if (this.scheduler.now > endMs) break;
        if (this.scheduler.now !== instantMs) {
          instantMs = this.scheduler.now;
          atInstant = 0;
        } else if (++atInstant > sameInstantEventsMax) {
          throw new Violation(
            'watchdog',
            `virtual time stopped advancing at ${instantMs} ms (${sameInstantEventsMax} events at that instant)`,
          );
        }
      }
    });
    if (this.failure === null) this.guard(() => this.checkLiveness());
    let linearizability: SimReport['linearizability'] = 'not-checked';
    if (this.failure === null) {
      this.closeHistory();
      const stepsMax = this.options.linStepsMax ?? linStepsMaxDefault;
      const outcome = checkLinearizable(kvModel, this.history, stepsMax);
      linearizability = outcome.result;
      if (outcome.result === 'violation')
        this.failure = new Violation(
          'linearizability',
          `history of key '${outcome.partition}' (${outcome.operations.length} operations) has no linearization`,
        );
      // Not checked is not passed: the seed fails and says how to check it.
      if (outcome.result === 'unknown')
        this.failure = new Violation(
          'linearizability',
          `check did not finish for key(s) ${outcome.partitions.map((k) => `'${k}'`).join(', ')} (${outcome.operations} operations) within ${stepsMax} search steps per key: not a pass; rerun with a larger --lin-steps or fewer --clients`,
        );
    }
    return {
      ok: this.failure === null,
      failure: this.failure === null ? null : this.failure.message,
      simulatedMs: this.scheduler.now,
      events: this.scheduler.eventsRun,
      operations: this.history.length,
      committed: this.invariants.committedIndex,
      leaders: this.leadersElected,
      crashes: this.crashes,
      snapshotsInstalled: this.snapshotsInstalled,
      linearizability,
    };
  }

  private trace(line: string): void {
    this.options.trace?.(`${String(this.scheduler.now).padStart(6)} ${line}`);
  }

  private guard(body: () => void): void {
    try {
      body();
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
    }
  }

  private get faultsOn(): boolean {
    return this.scheduler.now < this.healedAtMs;
  }

  private heal(): void {
    this.faults = healed;
    this.blocked.clear();
    for (const node of this.nodes.values()) if (node.raft === null) this.start(node);
  }

  // ---- nodes

  private start(node: SimNode): void {
    const random = this.rng.fork();
    const bootstrap = node.founding
      ? { voters: [...this.nodes.values()].filter((n) => n.founding).map((n) => n.id), learners: [] }
      : null;
    const config = {
      ...defaultConfig(node.id, () => random.next(), bootstrap),
      ...(this.options.unsafe ? { unsafe: this.options.unsafe } : {}),
      ...(this.faults.appendEntriesMax !== undefined ? { appendEntriesMax: this.faults.appendEntriesMax } : {}),
      ...(this.faults.plainElections === true ? { preVote: false, checkQuorum: false } : {}),
    };
    const stored = node.disk.load();
    this.trace(
      `start ${node.id} stored term ${stored?.hardState.term ?? 0} vote ${stored?.hardState.vote ?? 0} commit ${stored?.hardState.commit ?? 0} entries ${stored?.entries.map((e) => `${e.index}:${e.term}`).join(',') ?? ''}`,
    );
    node.raft = new Raft(config, stored);
    node.kv = new KvStore();
    if (stored?.snapshot) this.restoreKv(node, stored.snapshot.data);
    node.service = new KvService(node.raft, node.kv);
    node.busy = false;
    node.scheduled = false;
    const gen = node.generation;
    const tick = (): void => {
      if (node.generation !== gen || node.raft === null) return;
      const raft = node.raft;
      this.invariants.around(raft, null, () => raft.tick());
      node.service?.tick(2 * 10);
      this.stepped(node);
      node.tickTimer = this.scheduler.after(this.options.tickMs, tick);
    };
    node.tickTimer = this.scheduler.after(this.rng.range(1, this.options.tickMs), tick);
    this.stepped(node);
  }

  private restoreKv(node: SimNode, data: Uint8Array): void {
    const restored = node.kv.restore(data);
    if (!restored.ok)
      throw new Violation('snapshot', `node ${node.id} cannot restore its snapshot: ${restored.reason}`);
  }

  private crash(node: SimNode): void {
    if (node.raft === null) return;
    this.crashes++;
    this.trace(`crash ${node.id}${node.pendingReady ? ' with a write in flight' : ''}`);
    node.generation++;
    node.tickTimer?.cancel();
    // The write in progress (not yet fsynced) is lost, or a prefix of it reached the disk (a torn write).
    if (node.pendingReady !== null && this.rng.chance(0.5))
      node.disk.persistPrefix(node.pendingReady, this.rng.int(node.pendingReady.entries.length + 2));
    node.pendingReady = null;
    node.raft = null;
    node.service = null;
  }

  /** After any input to a node: check invariants, then process its Ready (now, batched per instant). */
  private stepped(node: SimNode): void {
    const raft = node.raft;
    if (raft === null) return;
    this.invariants.afterStep(raft);
    if (raft.role === 'leader' && node.ledTerm !== raft.term) {
      node.ledTerm = raft.term;
      this.leadersElected++;
    }
    if (node.busy || node.scheduled) return;
    node.scheduled = true;
    const gen = node.generation;
    this.scheduler.after(0, () => {
      if (node.generation !== gen) return;
      node.scheduled = false;
      this.processReady(node);
    });
  }

  private processReady(node: SimNode): void {
    const raft = node.raft as Raft;
    if (!raft.hasReady()) return;
    const rd = raft.ready();
    this.trace(
      `ready ${node.id} ${raft.role} t${raft.term} hs ${rd.hardState ? JSON.stringify(rd.hardState) : '-'} entries ${rd.entries.map((e) => `${e.index}:${e.term}`).join(',')} apply ${rd.committedEntries.map((e) => `${e.index}:${e.term}`).join(',')} msgs ${rd.messages.map((m) => `${m.type}>${m.to}${m.type === 'app' ? `(${m.prevIndex}:${m.prevTerm}+${m.entries.length},c${m.commit})` : m.type === 'app-resp' ? `(${m.index}${m.reject ? 'R' : ''})` : ''}`).join(' ')}`,
    );
    this.invariants.entriesAppended(raft, rd.entries);
    for (const m of rd.messages) if (sendBeforePersist(m)) this.send(m.from, m.to, { kind: 'raft', message: m });
    if (this.crashesOnVote(rd)) {
      // What left early is out; the write (and the vote in it) is lost with the crash.
      this.trace(`crash ${node.id} granting a vote, before the fsync`);
      this.crash(node);
      this.scheduler.after(this.rng.range(this.faults.downMs[0], this.faults.downMs[1]), () => {
        if (node.raft === null) this.start(node);
      });
      return;
    }
    node.busy = true;
    node.pendingReady = rd;
    const gen = node.generation;
    const needsSync = rd.entries.length > 0 || rd.hardState !== null || rd.snapshot !== null;
    const delay = needsSync ? this.rng.range(this.faults.diskMs[0], this.faults.diskMs[1]) : 0;
    this.scheduler.after(delay, () => {
      if (node.generation !== gen) return;
      this.completeReady(node, rd);
    });
  }

  private crashesOnVote(rd: Ready): boolean {
    const rate = this.faults.crashOnVoteRate;
    if (rate === undefined || !this.faultsOn || !rd.messages.some((m) => m.type === 'vote-resp' && !m.reject))
      return false;
    return this.rng.chance(rate);
  }

  private completeReady(node: SimNode, rd: Ready): void {
    const raft = node.raft as Raft;
    const service = node.service as KvService;
    node.disk.persist(rd);
    node.pendingReady = null;
    if (
      this.faultsOn &&
      this.faults.crashAfterPersistRate !== undefined &&
      this.rng.chance(this.faults.crashAfterPersistRate)
    ) {
      // Durable, but the votes and acknowledgements that waited for the fsync never leave.
      this.trace(`crash ${node.id} after persist, before send`);
      this.crash(node);
      this.scheduler.after(this.rng.range(this.faults.downMs[0], this.faults.downMs[1]), () => {
        if (node.raft === null) this.start(node);
      });
      return;
    }
    for (const m of rd.messages) if (!sendBeforePersist(m)) this.send(m.from, m.to, { kind: 'raft', message: m });
    if (rd.snapshot !== null) {
      this.invariants.snapshotRestored(node.id, rd.snapshot);
      this.restoreKv(node, rd.snapshot.data);
      service.restored();
      this.snapshotsInstalled++;
    }
    this.invariants.entriesApplied(node.id, rd.committedEntries);
    service.apply(rd.committedEntries);
    service.readStates(rd.readStates);
    if (rd.softState !== null) service.roleChanged();
    raft.advance(rd);
    this.maybeCompact(node);
    node.busy = false;
    this.stepped(node);
  }

  private maybeCompact(node: SimNode): void {
    const raft = node.raft as Raft;
    if (raft.log.applied - raft.log.snapshot.meta.index < this.faults.compactEvery) return;
    const snapshot = raft.compact(raft.log.applied, node.kv.snapshot());
    if (snapshot !== null) node.disk.saveSnapshot(snapshot);
  }

  // ---- network

  private linkKey(from: number, to: number): string {
    return `${from}>${to}`;
  }

  private send(from: number, to: number, packet: Packet): void {
    if (this.blocked.size > 0 && this.blocked.has(this.linkKey(from, to))) return;
    if (this.rng.chance(this.faults.lossRate)) return;
    const copies = this.rng.chance(this.faults.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.scheduler.after(this.rng.range(this.faults.delayMs[0], this.faults.delayMs[1]), () =>
        this.deliver(to, packet),
      );
    }
  }

  private deliver(to: number, packet: Packet): void {
    if (to >= clientIdBase) {
      if (packet.kind === 'reply')
        this.clientReply(this.clients[to - clientIdBase - 1] as SimClient, packet.attempt, packet.reply);
      return;
    }
    const node = this.nodes.get(to) as SimNode;
    const raft = node.raft;
    if (raft === null) return;
    if (packet.kind === 'raft') {
      const m = packet.message;
      if (m.type !== 'heartbeat' && m.type !== 'heartbeat-resp')
        this.trace(
          `deliver ${m.type} ${m.from}>${m.to} t${m.term}${m.type === 'app' ? ` (${m.prevIndex}:${m.prevTerm}+${m.entries.map((e) => `${e.index}:${e.term}`).join(',')},c${m.commit})` : m.type === 'app-resp' ? ` (${m.index}${m.reject ? 'R' : ''})` : ''}`,
        );
      const decoded = this.throughWire(m);
      this.invariants.around(raft, decoded, () => raft.step(decoded));
    } else if (packet.kind === 'request') this.nodeRequest(node, packet);
    this.stepped(node);
  }

  /** Every Raft message goes through the real codec (encode, size-limited decode, validation) on its way. */
  private throughWire(m: Message): Message {
    const decoded = decodeMessage(encodeMessage(m));
    if (!decoded.ok)
      throw new Violation('codec', `a ${m.type} message from ${m.from} does not decode: ${decoded.reason}`);
    return decoded.value;
  }

  private nodeRequest(node: SimNode, packet: Extract<Packet, { kind: 'request' }>): void {
    const reply = (r: ClientReply): void =>
      this.send(node.id, packet.client, { kind: 'reply', attempt: packet.attempt, reply: r });
    const op = packet.op;
    if (this.options.staleReads === true && op.op === 'get') {
      reply({ ok: true, value: node.kv.get(op.key), index: node.kv.appliedIndex });
      return;
    }
    (node.service as KvService).submit(op, (r) => {
      reply(r);
      this.stepped(node);
    });
  }

  // ---- clients

  private nextOp(client: SimClient): void {
    if (!this.faultsOn || this.failure !== null) return;
    const key = `k${this.rng.int(this.keys)}`;
    const roll = this.rng.int(100);
    client.seq++;
    const value = `v${client.id}.${client.seq}`;
    let input: KvInput;
    if (roll < 40) input = { op: 'get', key };
    else if (roll < 75) input = { op: 'put', key, value };
    else if (roll < 90)
      input = {
        op: 'cas',
        key,
        expected: this.rng.chance(0.5)
          ? null
          : `v${clientIdBase + 1 + this.rng.int(this.clients.length)}.${this.rng.range(1, client.seq)}`,
        value,
      };
    else input = { op: 'del', key };
    client.pending = { input, callMs: this.scheduler.now, seq: client.seq, attempt: 0, timer: null };
    this.attempt(client);
  }

  private attempt(client: SimClient): void {
    const pending = client.pending as PendingOp;
    pending.attempt = ++client.attempts;
    const ids = [...this.nodes.keys()];
    const target = client.leaderGuess !== 0 && this.rng.chance(0.9) ? client.leaderGuess : this.rng.pick(ids);
    const input = pending.input;
    const op: ClientOp =
      input.op === 'get'
        ? { op: 'get', key: input.key }
        : { op: 'write', client: client.id, seq: pending.seq, command: input };
    this.send(client.id, target, { kind: 'request', client: client.id, attempt: pending.attempt, op });
    const attempt = pending.attempt;
    pending.timer = this.scheduler.after(attemptTimeoutMs, () => {
      if (client.pending !== pending || pending.attempt !== attempt) return;
      client.leaderGuess = 0;
      this.attempt(client);
    });
  }

  private clientReply(client: SimClient, attempt: number, reply: ClientReply): void {
    const pending = client.pending;
    if (pending === null || pending.attempt !== attempt) return;
    pending.timer?.cancel();
    if (!reply.ok) {
      client.leaderGuess = reply.leader;
      this.scheduler.after(this.rng.range(20, 150), () => {
        if (client.pending === pending && pending.attempt === attempt) this.attempt(client);
      });
      return;
    }
    const output: KvOutput =
      'value' in reply
        ? { value: reply.value }
        : 'write' in reply
          ? { ok: reply.write.ok, prev: reply.write.prev }
          : { value: null };
    if ('write' in reply && reply.write.reason !== undefined && reply.write.reason !== 'kv-cas-mismatch') {
      throw new Violation(
        'kv',
        `client ${client.id} write seq ${pending.seq} refused by the state machine: ${reply.write.reason}`,
      );
    }
    this.history.push({
      client: client.id,
      callMs: pending.callMs,
      returnMs: this.scheduler.now,
      input: pending.input,
      output,
    });
    client.pending = null;
    this.scheduler.after(this.rng.range(0, 60), () => this.nextOp(client));
  }

  /** Writes still pending at the end have an unknown outcome: they may or may not have taken effect. */
  private closeHistory(): void {
    for (const client of this.clients) {
      const pending = client.pending;
      if (pending !== null && pending.input.op !== 'get')
        this.history.push({
          client: client.id,
          callMs: pending.callMs,
          returnMs: Infinity,
          input: pending.input,
          output: null,
        });
    }
  }

  // ---- fault drivers

  private scheduleDrivers(): void {
    const every = (periodMs: number | null, action: () => void): void => {
      if (periodMs === null) return;
      const loop = (): void => {
        if (!this.faultsOn) return;
        action();
        this.scheduler.after(this.rng.range(periodMs / 2, (periodMs * 3) / 2), loop);
      };
      this.scheduler.after(this.rng.range(periodMs / 2, periodMs), loop);
    };
    every(this.faults.partitionEveryMs, () => this.repartition());
    every(this.faults.crashEveryMs, () => this.crashSomeone());
    every(this.faults.membershipEveryMs, () => this.changeMembership());
    every(this.faults.transferEveryMs, () => this.transfer());
  }

  private repartition(): void {
    this.blocked.clear();
    const ids = [...this.nodes.keys()];
    const kind = this.rng.int(3);
    if (kind === 0) return; // healed for a while
    if (kind === 1) {
      // Symmetric: two sides that cannot hear each other.
      const side = new Set(this.rng.shuffle([...ids]).slice(0, this.rng.range(1, Math.floor(ids.length / 2))));
      for (const a of ids) for (const b of ids) if (side.has(a) !== side.has(b)) this.blocked.add(this.linkKey(a, b));
      return;
    }
    // Asymmetric: one node's messages out (or in) are cut, the other direction works.
    const victim = this.rng.pick(ids);
    const outbound = this.rng.chance(0.5);
    for (const other of ids)
      if (other !== victim) this.blocked.add(outbound ? this.linkKey(victim, other) : this.linkKey(other, victim));
  }

  private crashSomeone(): void {
    const writing =
      this.faults.crashTargetsWrites === true ? [...this.nodes.values()].filter((n) => n.pendingReady !== null) : [];
    const node = this.rng.pick(writing.length > 0 ? writing : [...this.nodes.values()]);
    if (node.raft === null) return;
    this.crash(node);
    this.scheduler.after(this.rng.range(this.faults.downMs[0], this.faults.downMs[1]), () => {
      if (node.raft === null) this.start(node);
    });
  }

  leader(): SimNode | null {
    let best: SimNode | null = null;
    for (const node of this.nodes.values()) {
      if (node.raft?.role === 'leader' && (best === null || node.raft.term > (best.raft as Raft).term)) best = node;
    }
    return best;
  }

  private changeMembership(): void {
    const leader = this.leader();
    if (leader === null) return;
    const raft = leader.raft as Raft;
    const conf = raft.conf();
    const outsiders = [...this.nodes.keys()].filter((id) => !isMember(conf, id));
    const choices: (() => void)[] = [];
    if (outsiders.length > 0)
      choices.push(() => raft.proposeConfChange({ op: 'add-learner', node: this.rng.pick(outsiders) }));
    if (conf.learners.length > 0)
      choices.push(() => raft.proposeConfChange({ op: 'add-voter', node: this.rng.pick(conf.learners) }));
    const removable = [...conf.voters.filter((id) => id !== leader.id && conf.voters.length > 3), ...conf.learners];
    if (removable.length > 0)
      choices.push(() => raft.proposeConfChange({ op: 'remove', node: this.rng.pick(removable) }));
    if (choices.length === 0) return;
    this.rng.pick(choices)();
    this.stepped(leader);
  }

  private transfer(): void {
    const leader = this.leader();
    if (leader === null) return;
    const raft = leader.raft as Raft;
    const others = raft.conf().voters.filter((id) => id !== leader.id);
    if (others.length === 0) return;
    raft.transferLeadership(this.rng.pick(others));
    this.stepped(leader);
  }

  // ---- liveness

  private checkLiveness(): void {
    const stuck = this.clients.filter((c) => c.pending !== null);
    if (stuck.length > 0) {
      const c = stuck[0] as SimClient;
      throw new Violation(
        'liveness',
        `${stuck.length} client request(s) still pending ${this.options.settleMs} ms after the faults healed (client ${c.id}: ${JSON.stringify(c.pending?.input)} since ${c.pending?.callMs} ms)`,
      );
    }
    const leader = this.leader();
    if (leader === null)
      throw new Violation('liveness', `no leader ${this.options.settleMs} ms after the faults healed`);
    this.checkConvergence(leader);
  }

  /** Every member that has applied as far as the leader holds the same state machine. */
  private checkConvergence(leader: SimNode): void {
    const conf = (leader.raft as Raft).conf();
    const reference = leader.kv.snapshot();
    for (const node of this.nodes.values()) {
      if (
        node === leader ||
        node.raft === null ||
        !isMember(conf, node.id) ||
        node.kv.appliedIndex !== leader.kv.appliedIndex
      )
        continue;
      const mine = node.kv.snapshot();
      if (mine.length !== reference.length || mine.some((b, i) => b !== reference[i])) {
        throw new Violation(
          'state machine safety',
          `node ${node.id} and leader ${leader.id} differ at applied index ${node.kv.appliedIndex}`,
        );
      }
    }
  }
}

export function runSim(options: SimOptions): SimReport {
  return new Cluster(options).run();
}

export function reproduceCommand(options: SimOptions): string {
  const extra: string[] = [];
  if (options.unsafe?.commitPreviousTerm) extra.push('--unsafe commit-previous-term');
  if (options.unsafe?.skipVoteLogCheck) extra.push('--unsafe skip-vote-log-check');
  if (options.staleReads) extra.push('--unsafe stale-reads');
  if (options.faultsUntilMs !== simDefaults.faultsUntilMs) extra.push(`--faults-ms ${options.faultsUntilMs}`);
  if (options.settleMs !== simDefaults.settleMs) extra.push(`--settle-ms ${options.settleMs}`);
  if (options.clients !== simDefaults.clients) extra.push(`--clients ${options.clients}`);
  if (options.keys !== simDefaults.keys) extra.push(`--keys ${options.keys}`);
  if (options.linStepsMax !== undefined && options.linStepsMax !== linStepsMaxDefault)
    extra.push(`--lin-steps ${options.linStepsMax}`);
  return `npm run sim -- --seed ${options.seed} --nodes ${options.nodes} --mix ${options.mix}${extra.length ? ' ' + extra.join(' ') : ''}`;
}
