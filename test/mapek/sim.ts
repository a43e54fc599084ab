// A seeded, deterministic model of a small mesh in virtual time, with one MAPE-K core per node, for the
// golden traces and the simulation tests. The model stands in for what the edge does on a router: a BFD-like
// probe per direct neighbour (loss, detect multiplier), XDP counters per source MAC, this node's Raft role,
// component health, and an executor that carries out actions with a latency and can be told to fail.
// Engine-neutral: it runs on Node and inside x0-runtime.
//
// A scenario is a list of commands, one per line ('#' starts a comment):
//   mesh ring N | mesh line N           nodes n1..nN (N 2..8), point-to-point links between neighbours
//   seed S                              the Rng seed (trace ids, noise, latencies)
//   noise on|off                        probe loss, rate jitter, short component/raft blips, rare auth failures
//   config key=value ...                MapekConfig overrides (numbers)
//   at T cut A-B                        the link stops carrying anything (both ways); 'at T heal A-B' undoes it
//   at T wedge A-B                      the link is dead until an end bounces its interface (bounce-interface)
//   at T flap A-B every P until U       the link is down for P/2, then up for P/2, again and again
//   at T flood A PPS until U            node A's MAC sends PPS packets/s to each neighbour
//   at T auth-attack A RATE until U     node A fails authentication RATE times/s at each neighbour
//   at T degrade A until U              node A reports itself degraded (it matters when it is the leader)
//   at T crash A COMPONENT              a component of A goes down (until restarted)
//   at T fail A ACTION N                A's executor fails the next N actions of that kind ('batctl-failed')
//   trace mesh-view                     also trace each node's knowledge as it goes out through the mesh document
//   run T                               run until virtual time T
// Times are '10s', '1500ms' or '2m'.
import { Rng } from '../../src/core/rng.js';
import { Mapek } from '../../src/core/mapek/mapek.js';
import { formatAction, formatDecision, fmtAt, fmtMs } from '../../src/core/mapek/trace.js';
import {
  type Action,
  type Decision,
  defaultMapekConfig,
  type MapekConfig,
  type Observation,
  validateMapekConfig,
} from '../../src/core/mapek/types.js';

export const tickMs = 100;
export const probeMs = 100;
export const detectMult = 3;
export const xdpSampleMs = 1000;
export const raftSampleMs = 250;
export const componentSampleMs = 1000;
/** What batman-adv alone takes to route around a dead link in the QEMU lab (issue 17: median 8.5 s). */
export const batmanAloneMs = 8500;
const components = ['gossip', 'raft', 'xdp'];

export interface TraceLine {
  readonly atMs: number;
  readonly who: string;
  readonly text: string;
}

interface Fault {
  readonly atMs: number;
  readonly verb: string;
  readonly args: readonly string[];
}

export interface Scenario {
  nodes: string[];
  links: [string, string][];
  seed: number;
  noise: boolean;
  config: Partial<Record<Exclude<keyof MapekConfig, 'retuneSettings'>, number>>;
  faults: Fault[];
  untilMs: number;
  traceMeshView: boolean;
}

export function parseTime(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(s);
  if (m === null) throw new Error(`scenario: bad time '${s}' (use 10s, 1500ms or 2m)`);
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000);
}

export function parseScenario(text: string): Scenario {
  const s: Scenario = {
    nodes: [],
    links: [],
    seed: 1,
    noise: true,
    config: {},
    faults: [],
    untilMs: 0,
    traceMeshView: false,
  };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const [verb, ...args] = line.split(/\s+/) as [string, ...string[]];
    if (verb === 'mesh') meshCommand(s, args);
    else if (verb === 'seed') s.seed = Number(args[0]);
    else if (verb === 'noise') s.noise = args[0] === 'on';
    else if (verb === 'config') configCommand(s, args);
    else if (verb === 'run') s.untilMs = parseTime(args[0] ?? '');
    else if (verb === 'trace' && args[0] === 'mesh-view') s.traceMeshView = true;
    else if (verb === 'at') s.faults.push({ atMs: parseTime(args[0] ?? ''), verb: args[1] ?? '', args: args.slice(2) });
    else throw new Error(`scenario: unknown command '${line}'`);
  }
  if (s.nodes.length === 0) throw new Error("scenario: no 'mesh' command");
  if (s.untilMs <= 0) throw new Error("scenario: no 'run' command");
  s.faults.sort((a, b) => a.atMs - b.atMs);
  return s;
}

function meshCommand(s: Scenario, args: string[]): void {
  const n = Number(args[1]);
  if (!(Number.isInteger(n) && n >= 2 && n <= 8)) throw new Error(`scenario: mesh needs 2..8 nodes, got '${args[1]}'`);
  s.nodes = Array.from({ length: n }, (_, i) => `n${i + 1}`);
  for (let i = 0; i + 1 < n; i++) s.links.push([s.nodes[i] as string, s.nodes[i + 1] as string]);
  if (args[0] === 'ring' && n > 2) s.links.push([s.nodes[n - 1] as string, s.nodes[0] as string]);
  else if (args[0] !== 'ring' && args[0] !== 'line') throw new Error(`scenario: mesh ring|line, got '${args[0]}'`);
}

function configCommand(s: Scenario, args: string[]): void {
  const known = defaultMapekConfig() as unknown as Record<string, unknown>;
  for (const kv of args) {
    const [k, v] = kv.split('=');
    if (k === undefined || typeof known[k] !== 'number')
      throw new Error(`scenario: config '${kv}': not a numeric MapekConfig field`);
    (s.config as Record<string, number>)[k] = Number(v);
  }
}

export const macOf = (node: string): string => `02:00:00:00:00:${Number(node.slice(1)).toString(16).padStart(2, '0')}`;
export const ifaceTo = (peer: string): string => `eth-${peer}`;
const linkKey = (a: string, b: string): string => (a < b ? `${a}-${b}` : `${b}-${a}`);

interface Probe {
  misses: number;
  alive: boolean;
}

interface NodeModel {
  readonly name: string;
  readonly mapek: Mapek;
  readonly peers: string[];
  readonly probes: Map<string, Probe>;
  /** Cumulative XDP counters per source MAC. */
  readonly xdp: Map<string, { packets: number; dropped: number; ogms: number }>;
  /** Per source MAC: rate limit (pps) or isolate (Infinity = drop all). */
  readonly xdpRules: Map<string, number>;
  readonly outOfBatman: Set<string>;
  readonly retuned: Set<string>;
  readonly components: Map<string, 'up' | 'down' | 'degraded'>;
  readonly failNext: Map<string, number>;
  readonly inFlight: Map<string, Decision>;
  /** MACs whose rate is above 1,000 pps here (only for the trace's observation summaries). */
  readonly highRate: Set<string>;
  degraded: boolean;
  blipUntilMs: number;
}

interface Exec {
  readonly atMs: number;
  readonly node: string;
  readonly decision: Decision;
}

export interface SimResult {
  readonly trace: TraceLine[];
  readonly decisions: { node: string; decision: Decision }[];
  readonly violations: string[];
  readonly sim: MeshModel;
}

/** The mesh model and its MAPE-K cores. */
export class MeshModel {
  readonly rng: Rng;
  readonly nodes = new Map<string, NodeModel>();
  readonly config: MapekConfig;
  readonly trace: TraceLine[] = [];
  readonly decisions: { node: string; decision: Decision }[] = [];
  readonly violations: string[] = [];
  nowMs = 0;
  leader: string;
  term = 1;
  private readonly cut = new Set<string>();
  private readonly wedged = new Set<string>();
  private readonly flaps = new Map<string, { periodMs: number; untilMs: number; nextMs: number; down: boolean }>();
  private readonly floods = new Map<string, { pps: number; untilMs: number }>();
  private readonly authAttacks = new Map<string, { rate: number; untilMs: number }>();
  private readonly degradeUntil = new Map<string, number>();
  private readonly execs: Exec[] = [];
  private readonly cutAtMs = new Map<string, number>();
  private readonly breakerOpenUntil = new Map<string, number>();
  /** What each node last put in the mesh document (trace mesh-view). */
  private readonly meshViewSent = new Map<string, string>();
  /** What the noise did, for the summary line: it must have happened for "zero actions" to mean something. */
  readonly noise = { probesLost: 0, rateBursts: 0, componentBlips: 0, raftBlips: 0, authFailures: 0 };

  constructor(readonly scenario: Scenario) {
    this.rng = new Rng(scenario.seed);
    this.config = { ...defaultMapekConfig(), ...scenario.config };
    const errors = validateMapekConfig(this.config);
    if (errors.length > 0) throw new Error(`scenario config: ${errors.join('; ')}`);
    this.leader = scenario.nodes[0] as string;
    const randomHex = (): string => {
      let s = '';
      for (let i = 0; i < 4; i++) s += this.rng.nextUint32().toString(16).padStart(8, '0');
      return /^0+$/.test(s) ? '00000000000000000000000000000001' : s;
    };
    for (const name of scenario.nodes) {
      const peers = scenario.links.filter((l) => l.includes(name)).map((l) => (l[0] === name ? l[1] : l[0]));
      this.nodes.set(name, {
        name,
        mapek: new Mapek(this.config, randomHex),
        peers,
        probes: new Map(peers.map((p) => [p, { misses: 0, alive: true }])),
        xdp: new Map(peers.map((p) => [macOf(p), { packets: 0, dropped: 0, ogms: 0 }])),
        xdpRules: new Map(),
        outOfBatman: new Set(),
        retuned: new Set(),
        components: new Map(components.map((c) => [c, 'up'])),
        failNext: new Map(),
        inFlight: new Map(),
        highRate: new Set(),
        degraded: false,
        blipUntilMs: 0,
      });
    }
  }

  private log(who: string, text: string): void {
    this.trace.push({ atMs: this.nowMs, who, text });
  }

  linkUp(a: string, b: string): boolean {
    const k = linkKey(a, b);
    return !this.cut.has(k) && !this.wedged.has(k) && this.flaps.get(k)?.down !== true;
  }

  /** Run the scenario to its end. */
  run(): SimResult {
    const faults = [...this.scenario.faults];
    for (this.nowMs = 0; this.nowMs <= this.scenario.untilMs; this.nowMs += tickMs) {
      while (faults.length > 0 && (faults[0] as Fault).atMs <= this.nowMs) this.fault(faults.shift() as Fault);
      this.step();
    }
    this.nowMs = this.scenario.untilMs;
    if (this.scenario.noise) {
      const z = this.noise;
      this.log(
        'model',
        `noise: ${z.probesLost} probes lost, ${z.rateBursts} rate bursts (x4), ${z.componentBlips} component blips, ${z.raftBlips} leader blips (300 ms), ${z.authFailures} stray auth failures`,
      );
    }
    for (const n of this.nodes.values()) this.summary(n);
    return { trace: this.trace, decisions: this.decisions, violations: this.violations, sim: this };
  }

  private fault(f: Fault): void {
    const [a = '', b = '', c = '', d = ''] = f.args;
    const until = (word: string, t: string): number => {
      if (word !== 'until') throw new Error(`scenario: '${f.verb} ${f.args.join(' ')}' needs 'until T'`);
      return parseTime(t);
    };
    switch (f.verb) {
      case 'cut':
        this.cut.add(a);
        this.cutAtMs.set(a, this.nowMs);
        return this.log('model', `cut ${a}`);
      case 'heal':
        this.cut.delete(a);
        return this.log('model', `heal ${a}`);
      case 'wedge':
        this.wedged.add(a);
        this.cutAtMs.set(a, this.nowMs);
        return this.log('model', `wedge ${a} (dead until an end bounces its interface)`);
      case 'flap': {
        const periodMs = parseTime(c);
        if (b !== 'every') throw new Error("scenario: 'flap A-B every P until U'");
        this.flaps.set(a, { periodMs, untilMs: until(d, f.args[4] ?? ''), nextMs: this.nowMs, down: false });
        return this.log(
          'model',
          `flap ${a}: down and up every ${fmtMs(periodMs)} until ${fmtAt(until(d, f.args[4] ?? ''))}`,
        );
      }
      case 'flood':
        this.floods.set(a, { pps: Number(b), untilMs: until(c, d) });
        return this.log('model', `${a} (${macOf(a)}) floods its neighbours at ${b} pps until ${fmtAt(until(c, d))}`);
      case 'auth-attack':
        this.authAttacks.set(a, { rate: Number(b), untilMs: until(c, d) });
        return this.log(
          'model',
          `${a} (${macOf(a)}) fails authentication ${b} times/s at each neighbour until ${fmtAt(until(c, d))}`,
        );
      case 'degrade':
        this.degradeUntil.set(a, until(b, c));
        return this.log(
          'model',
          `${a} degraded until ${fmtAt(until(b, c))}${this.leader === a ? ' (it leads Raft)' : ''}`,
        );
      case 'crash':
        this.node(a).components.set(b, 'down');
        return this.log('model', `${a}: component ${b} crashes`);
      case 'fail':
        this.node(a).failNext.set(b, Number(c));
        return this.log('model', `${a}: the executor will fail the next ${c} ${b} action(s)`);
      default:
        throw new Error(`scenario: unknown fault '${f.verb}'`);
    }
  }

  node(name: string): NodeModel {
    const n = this.nodes.get(name);
    if (n === undefined) throw new Error(`scenario: no node '${name}'`);
    return n;
  }

  private step(): void {
    this.advanceFaults();
    this.deliverOutcomes();
    const t = this.nowMs;
    for (const n of this.nodes.values()) {
      if (t % probeMs === 0) this.probe(n);
      if (t % xdpSampleMs === 0) this.sampleXdp(n);
      if (t % raftSampleMs === 0) this.sampleRaft(n);
      if (t % componentSampleMs === 0) this.sampleComponents(n);
      this.authFailures(n);
    }
    if (t % 10_000 === 0) this.gossipKnowledge();
    for (const n of this.nodes.values()) this.tickNode(n);
    this.checkReroute();
  }

  private advanceFaults(): void {
    for (const [k, f] of this.flaps) {
      if (this.nowMs >= f.untilMs) {
        if (f.down) this.log('model', `flap ${k} ends (link up)`);
        this.flaps.delete(k);
      } else if (this.nowMs >= f.nextMs) {
        f.down = !f.down;
        f.nextMs = this.nowMs + f.periodMs / 2;
      }
    }
    for (const [a, f] of this.floods)
      if (this.nowMs >= f.untilMs) {
        this.floods.delete(a);
        this.log('model', `${a} stops flooding`);
      }
    for (const [a, f] of this.authAttacks)
      if (this.nowMs >= f.untilMs) {
        this.authAttacks.delete(a);
        this.log('model', `${a} stops failing authentication`);
      }
    for (const n of this.nodes.values()) {
      const until = this.degradeUntil.get(n.name);
      const degraded = until !== undefined && this.nowMs < until;
      if (n.degraded && !degraded) this.log('model', `${n.name} no longer degraded`);
      n.degraded = degraded;
      if (!degraded) this.degradeUntil.delete(n.name);
    }
  }

  private probe(n: NodeModel): void {
    const lossP = this.scenario.noise ? 0.002 : 0;
    for (const peer of n.peers) {
      const p = n.probes.get(peer) as Probe;
      const lost = this.rng.chance(lossP);
      if (lost) this.noise.probesLost++;
      const got = this.linkUp(n.name, peer) && !lost;
      p.misses = got ? 0 : p.misses + 1;
      const alive = p.misses < detectMult;
      if (alive !== p.alive)
        this.log(n.name, `probe: ${peer} (${macOf(peer)}) on ${ifaceTo(peer)} ${alive ? 'alive' : 'DEAD'}`);
      p.alive = alive;
      const rttMs = alive ? 1 + this.rng.int(4) : null;
      const tq = alive ? 250 - this.rng.int(6) : null;
      this.observe(n, {
        kind: 'neighbour',
        atMs: this.nowMs,
        neighbour: macOf(peer),
        iface: ifaceTo(peer),
        alive,
        rttMs,
        tq,
      });
    }
  }

  private sampleXdp(n: NodeModel): void {
    for (const peer of n.peers) {
      const mac = macOf(peer);
      const c = n.xdp.get(mac) as { packets: number; dropped: number; ogms: number };
      if (this.linkUp(n.name, peer)) {
        const jitter = this.scenario.noise ? this.rng.range(70, 130) / 100 : 1;
        const burst = this.scenario.noise && this.rng.chance(0.02) ? 4 : 1;
        if (burst > 1) this.noise.rateBursts++;
        const arrivals = Math.round(100 * jitter * burst) + (this.floods.get(peer)?.pps ?? 0);
        const limit = n.xdpRules.get(mac);
        const dropped = limit === undefined ? 0 : Math.max(0, arrivals - limit);
        c.packets += arrivals;
        c.dropped += dropped;
        // Observation summary for the trace: a MAC's rate crossing 1,000 pps (either way) at this node.
        const high = arrivals >= 1000;
        if (high !== n.highRate.has(mac)) {
          if (high) n.highRate.add(mac);
          else n.highRate.delete(mac);
          this.log(n.name, `xdp: ${mac} at ${arrivals} pps, ${arrivals - dropped} passed`);
        }
        c.ogms += 1;
      }
      this.observe(n, { kind: 'xdp', atMs: this.nowMs, mac, packets: c.packets, dropped: c.dropped, ogms: c.ogms });
    }
  }

  private sampleRaft(n: NodeModel): void {
    if (this.scenario.noise && !n.degraded && this.rng.chance(0.002)) {
      n.blipUntilMs = this.nowMs + 300;
      if (this.leader === n.name) this.noise.raftBlips++;
    }
    const selfDegraded = n.degraded || this.nowMs < n.blipUntilMs;
    const role = this.leader === n.name ? 'leader' : 'follower';
    this.observe(n, {
      kind: 'raft',
      atMs: this.nowMs,
      self: n.name,
      role,
      leader: this.leader,
      term: this.term,
      selfDegraded,
    });
  }

  private sampleComponents(n: NodeModel): void {
    for (const [name, state] of n.components) {
      // Noise: a component the supervisor restarts within a second or two (below componentDownMs).
      const blip = this.scenario.noise && state === 'up' && this.rng.chance(0.001);
      if (blip) this.noise.componentBlips++;
      this.observe(n, { kind: 'component', atMs: this.nowMs, name, state: blip ? 'down' : state });
    }
  }

  private authFailures(n: NodeModel): void {
    for (const peer of n.peers) {
      const attack = this.authAttacks.get(peer);
      const rate = attack?.rate ?? (this.scenario.noise ? 0.001 : 0); // noise: a rare stale-key failure
      if (rate > 0 && this.rng.chance((rate * tickMs) / 1000) && this.linkUp(n.name, peer)) {
        if (attack === undefined) this.noise.authFailures++;
        this.observe(n, { kind: 'auth-failure', atMs: this.nowMs, mac: macOf(peer), peer, reason: 'bad-signature' });
      }
    }
  }

  private observe(n: NodeModel, o: Observation): void {
    n.mapek.observe(o);
  }

  /** What the agent does through the mesh document: each node's statistics as gossip text, read by every other. */
  private gossipKnowledge(): void {
    const values = new Map([...this.nodes.values()].map((n) => [n.name, n.mapek.meshValues()] as const));
    for (const [name, v] of values) {
      const text = v.join(' | ');
      if (!this.scenario.traceMeshView || text === (this.meshViewSent.get(name) ?? '')) continue;
      this.meshViewSent.set(name, text);
      this.log(name, `mesh view out: ${text}`);
    }
    for (const n of this.nodes.values()) {
      for (const other of this.nodes.values()) {
        if (other === n) continue;
        const adopted = n.mapek.adoptPeerValues(other.name, values.get(other.name) ?? []);
        if (!adopted.ok) throw new Error(`${n.name} refused ${other.name}'s mesh view: ${adopted.reason}`);
      }
    }
  }

  private tickNode(n: NodeModel): void {
    const decisions = n.mapek.tick(this.nowMs);
    for (const d of decisions) {
      this.checkDecision(n, d);
      this.decisions.push({ node: n.name, decision: d });
      n.inFlight.set(d.traceId, d);
      this.log(n.name, `decide ${formatDecision(d)}`);
      this.execs.push({ atMs: this.nowMs + 20 + this.rng.int(60), node: n.name, decision: d });
    }
    for (const e of n.mapek.drainEvents()) {
      if (e.kind === 'decided' || e.kind === 'executed') continue;
      if (e.kind === 'breaker-opened')
        this.breakerOpenUntil.set(`${n.name} ${e.text.split(' failed')[0]}`, e.atMs + this.config.breakerCooldownMs);
      this.log(n.name, `${e.kind}: ${e.text}`);
    }
  }

  private deliverOutcomes(): void {
    const due = this.execs.filter((e) => e.atMs <= this.nowMs);
    if (due.length === 0) return;
    this.execs.splice(0, this.execs.length, ...this.execs.filter((e) => e.atMs > this.nowMs));
    for (const e of due) {
      const n = this.node(e.node);
      n.inFlight.delete(e.decision.traceId);
      const fails = n.failNext.get(e.decision.action.kind) ?? 0;
      if (fails > 0) {
        n.failNext.set(e.decision.action.kind, fails - 1);
        this.log(n.name, `exec FAILED ${formatAction(e.decision.action)}: batctl-failed`);
        n.mapek.outcome({ traceId: e.decision.traceId, ok: false, reason: 'batctl-failed', atMs: this.nowMs });
        continue;
      }
      this.execute(n, e.decision.action);
      this.log(n.name, `exec ok ${formatAction(e.decision.action)}`);
      n.mapek.outcome({ traceId: e.decision.traceId, ok: true, reason: null, atMs: this.nowMs });
    }
  }

  /** The effect of an action on the model (what batctl, x0-xdp, Raft, the supervisor, netifd would do). */
  private execute(n: NodeModel, a: Action): void {
    switch (a.kind) {
      case 'link-down':
        n.outOfBatman.add(a.iface);
        return;
      case 'link-up':
        n.outOfBatman.delete(a.iface);
        return;
      case 'retune':
        n.retuned.add(a.iface);
        return;
      case 'restore-tuning':
        n.retuned.delete(a.iface);
        return;
      case 'rate-limit':
        n.xdpRules.set(a.mac, a.pps);
        return;
      case 'isolate':
        n.xdpRules.set(a.mac, 0);
        return;
      case 'lift':
        n.xdpRules.delete(a.mac);
        return;
      case 'transfer-leadership': {
        const next = [...this.nodes.values()].find((x) => x.name !== a.from && !x.degraded);
        if (this.leader === a.from && next !== undefined) {
          this.leader = next.name;
          this.term++;
          this.log('model', `Raft leadership moves ${a.from} -> ${next.name} (term ${this.term})`);
        }
        return;
      }
      case 'restart-component':
        n.components.set(a.name, 'up');
        return;
      case 'bounce-interface': {
        const peer = a.iface.slice('eth-'.length);
        const k = linkKey(n.name, peer);
        if (this.wedged.delete(k)) this.log('model', `${k} unwedged by ${n.name}'s bounce`);
        return;
      }
    }
  }

  /** A cut link is rerouted when both ends took it out of batman-adv (or it came back). */
  private checkReroute(): void {
    for (const [k, atMs] of this.cutAtMs) {
      const [a, b] = k.split('-') as [string, string];
      const outA = this.node(a).outOfBatman.has(ifaceTo(b));
      const outB = this.node(b).outOfBatman.has(ifaceTo(a));
      if (outA && outB) {
        this.log(
          'model',
          `${k} rerouted ${fmtMs(this.nowMs - atMs)} after it died (both ends took it out of batman-adv; batman-adv alone: ~${fmtMs(batmanAloneMs)})`,
        );
        this.cutAtMs.delete(k);
      } else if (this.linkUp(a, b)) {
        this.cutAtMs.delete(k);
      }
    }
  }

  /** Invariants checked on every decision. */
  private checkDecision(n: NodeModel, d: Decision): void {
    const v = (what: string): void => {
      this.violations.push(`${fmtAt(this.nowMs)} ${n.name}: ${what}: ${formatDecision(d)}`);
    };
    if (!/^[0-9a-f]{32}$/.test(d.traceId)) v('trace id is not 32 lowercase hex');
    if (!/=/.test(d.why)) v('why names no threshold');
    for (const other of n.inFlight.values()) if (other.target === d.target) v('two actions in flight on one target');
    const undo = ['link-up', 'restore-tuning', 'lift'].includes(d.action.kind);
    if (!undo) {
      const recent = this.decisions.filter(
        (x) =>
          x.node === n.name &&
          x.decision.target === d.target &&
          !['link-up', 'restore-tuning', 'lift'].includes(x.decision.action.kind) &&
          this.nowMs - x.decision.atMs < this.config.dampingWindowMs,
      );
      if (recent.length >= this.config.dampingActionsMax)
        v(`damping: ${recent.length} actions on ${d.target} in the window already`);
    }
    const openUntil = this.breakerOpenUntil.get(`${n.name} ${d.action.kind} ${d.target}`);
    if (openUntil !== undefined && this.nowMs < openUntil) v('acted while its circuit breaker is open');
  }

  private summary(n: NodeModel): void {
    const c = n.mapek.counters();
    const f = n.mapek.inForceNow();
    const inForce = [
      ...f.linkDown.map((i) => `link-down ${i}`),
      ...f.retuned.map((i) => `retuned ${i}`),
      ...f.macs.map((m) => `xdp rule ${m}`),
    ];
    const incidents = n.mapek.incidents().map((i) => `${i.symptom}@${i.target}:${i.state}`);
    const observed = ['neighbour', 'xdp', 'raft', 'component', 'auth-failure']
      .map((k) => c[`observed-${k}`] ?? 0)
      .join('/');
    this.log(
      n.name,
      `end: ${observed} observations (neighbour/xdp/raft/component/auth), ${c.decisions ?? 0} decisions, ${c['action-failed'] ?? 0} failed, incidents [${incidents.join(' ')}], in force [${inForce.join(' ')}]`,
    );
  }
}

export function runScenario(text: string): SimResult {
  return new MeshModel(parseScenario(text)).run();
}

export function formatTrace(lines: readonly TraceLine[]): string {
  return lines.map((l) => `${fmtAt(l.atMs).padStart(9)}  ${l.who.padEnd(5)} ${l.text}`).join('\n');
}
