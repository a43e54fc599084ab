// Self-healing (MAPE-K, docs/mapek.md). Monitor: a BFD-like liveness probe of every direct batman-adv neighbour
// over its own hard interface (src/mapek/probe.ts, src/core/mapek/liveness.ts), batman-adv's TQ, XDP's per-source
// counters, the supervisor's component states and Raft's role. Analyse + Plan: the pure core (src/core/mapek).
// Execute: src/mapek/executor.ts, each outcome checked and handed back to the core. Knowledge: state_dir/mapek.json,
// written at most once per the core's knowledgePersistMs; a one-line incident summary in this node's gossip
// section. Every step is an agent event with the decision's trace id (ubus `events`).
import { loadRevocations, nodeFiles } from '../../identity/store.js';
import { parseSubject } from '../../core/identity/spiffe.js';
import { Liveness, type LivenessConfig, linksDegraded, livenessDefaults } from '../../core/mapek/liveness.js';
import { Mapek } from '../../core/mapek/mapek.js';
import { loadKnowledge } from '../../core/mapek/knowledge.js';
import { mapekLimits } from '../../core/mapek/limits.js';
import { defaultMapekConfig, type Decision, type KnowledgeSnapshot } from '../../core/mapek/types.js';
import { fail, ok, type Result } from '../../core/result.js';
import { fromUtf8, toHex } from '../../core/wire/hex.js';
import { parseNeighbours } from '../../batman/tables.js';
import { Executor } from '../../mapek/executor.js';
import { ProbeLink, probeWireBytes } from '../../mapek/probe.js';
import { isTempFileName } from '../../platform/temp-files.js';
import type { Files, HostPort, TimerHandle } from '../../platform/types.js';
import type { XdpBinding } from '../../xdp/binding.js';
import type { NodeStatus as RaftStatus } from '../../raft/protocol.js';
import { degraded, down, up, type Component } from '../component.js';
import { allPeers, effectiveAnchors, type AgentContext } from '../context.js';
import type { ComponentHealth, Health } from '../supervisor.js';

/** The probe listens on the sealed link's port + 3 (link: +0, Raft's name: +1, enrolment: +2). */
export const probePort = (linkPort: number): number => linkPort + 3;
export const knowledgeFile = (stateDir: string): string => `${stateDir}/mapek.json`;
/** The gossip keys of this node's knowledge (mesh-view.ts): mapek.k1, mapek.k2. */
export const knowledgeKey = (i: number): string => `mapek.k${i + 1}`;

/**
 * The knowledge file as the component loads it at start: a write a kill cut short (`mapek.json.tmp-*`, never
 * the acknowledged state: the rename is the commit) is removed first; no file is no knowledge (ok, null).
 */
export function readKnowledgeFile(files: Files, stateDir: string): Result<KnowledgeSnapshot | null, string> {
  for (const name of files.list(stateDir))
    if (name.startsWith('mapek.json.') && isTempFileName(name)) files.remove(`${stateDir}/${name}`);
  const text = files.readText(knowledgeFile(stateDir));
  if (text === null) return ok(null);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail('not-json');
  }
  return loadKnowledge(parsed);
}

export const mapekEdgeLimits = {
  /** Neighbours probed at once (a router has a handful of direct links). */
  targetsMax: 32,
  /** Actions being executed at once. */
  inFlightMax: 4,
  /** Slow observations (components) and the gossip summary, at most this often. */
  slowEveryMs: 2_000,
  /**
   * XDP's per-source counters (a `stats` request to the running x0-xdp serve), at most this often and one at a
   * time: a flood is two anomalous samples, so it is contained about 1 s after it starts (lab `heal-more`,
   * docs/mapek.md "Lab figures"). A process per sample cost seconds on a starved router; a request costs little.
   */
  xdpEveryMs: 500,
  /** A neighbour gone from batman-adv's table is probed this long more (unless its link is out by our action). */
  targetKeepMs: 30_000,
  /** The gossip summary is a version string of the mesh document (at most 64 characters). */
  summaryCharsMax: 64,
  /** Other nodes' sections read for their knowledge per round (the core keeps at most mapekLimits.peersMax). */
  peerSectionsMax: 64,
  /**
   * The second opinion: a probe verdict counts only once batman-adv has also heard nothing from the neighbour for
   * this long (its OGMs come every second, with jitter). An agent that stalls (a busy CPU) stops echoing, the
   * kernel's OGMs do not: a stall is not a dead link. Costs up to this long minus the probe's detection time.
   */
  ogmSilenceMs: 1_200,
  /** batman-adv's neighbour table is read at most this often for the second opinion. */
  confirmEveryMs: 200,
} as const;

export interface MapekHooks {
  readonly restart: (name: string) => { ok: boolean; reason: string | null };
  readonly components: () => Record<string, ComponentHealth>;
  /**
   * The XDP component's binding, null while XDP is off or not working: samples and rate limits go to the one
   * `x0-xdp serve` it keeps running (the composition root knows both components).
   */
  readonly xdp: () => XdpBinding | null;
}

interface Target {
  readonly iface: string;
  readonly neighbour: string;
  /**
   * A configured peer probed without batman-adv (`probe_peers`): its liveness is logged and counts for the anchor's
   * degraded judgement, but it is no neighbour observation for the core (there is no hard interface to act on).
   */
  readonly peer: boolean;
  readonly address: HostPort;
  readonly live: Liveness;
  seenMs: number;
  /** batman-adv agrees the neighbour is silent (its last OGM is older than ogmSilenceMs, or it is gone). */
  confirmed: boolean;
  nextConfirmMs: number;
}

export class MapekComponent implements Component {
  readonly name = 'mapek';
  private core: Mapek | null = null;
  private probe: ProbeLink | null = null;
  private executor: Executor | null = null;
  private timer: TimerHandle | null = null;
  private readonly targets = new Map<string, Target>();
  private inFlight = 0;
  private lastSlowMs = -Infinity;
  private lastXdpMs = -Infinity;
  private xdpBusy = false;
  private probeReason: string | null = null;
  private confirming = false;
  private readonly stats = {
    decisions: 0,
    actions_ok: 0,
    actions_failed: 0,
    persisted: 0,
    transitions: 0,
    confirm_failed: 0,
    /** Peers' knowledge adopted / refused (malformed or out of bounds: the core's counters say why). */
    peers_adopted: 0,
    peers_refused: 0,
    publish_refused: 0,
    /** XDP counter samples taken (one `stats` request each), and how long the last took: a flood is seen in
     * these, two anomalous samples in a row, so a slow helper (a starved CPU) means a late or missed flood. */
    xdp_samples: 0,
    xdp_sample_ms: 0,
  };
  /** What this node last wrote in its gossip section, per key, and through which gossip node. */
  private readonly published = new Map<string, string>();
  private publishedTo: AgentContext['gossip'] = null;
  /** Each peer's knowledge text as last adopted (or refused): read again only when it changes. */
  private readonly adopted = new Map<string, string>();

  constructor(
    private readonly ctx: AgentContext,
    private readonly hooks: MapekHooks,
  ) {}

  async start(): Promise<Health> {
    const { platform, config, journal } = this.ctx;
    const knowledge = this.loadKnowledge();
    this.core = new Mapek(
      { ...defaultMapekConfig(), floodPpsMin: config.mapek.floodPpsMin },
      () => toHex(platform.randomBytes(16)),
      knowledge ?? undefined,
    );
    this.executor = new Executor({
      platform,
      primaryInterface: () => {
        const mesh = this.ctx.mesh;
        return mesh?.interfaces.find((i) => i.mac === mesh.primaryMac)?.name ?? null;
      },
      batctl: config.batctl,
      meshif: config.meshInterface ?? 'bat0',
      xdp: () => this.hooks.xdp(),
      raft: () => this.ctx.raft,
      restart: (name) => this.hooks.restart(name),
      ubus: 'ubus',
      ip: 'ip',
    });
    this.probeReason = await this.openProbe();
    journal.record('info', this.name, 'started', {
      probe_interval_ms: config.mapek.probeIntervalMs,
      detect_multiplier: config.mapek.detectMultiplier,
      probe: this.probeReason ?? `[::]:${probePort(config.listen.port)}`,
      probe_bytes_per_s_per_neighbour: this.overheadBytesPerS(),
      knowledge: knowledge === null ? 'none' : 'loaded',
    });
    this.schedule();
    return this.health();
  }

  stop(): void {
    if (this.timer !== null) this.ctx.platform.clearTimer(this.timer);
    this.timer = null;
    this.persist(true);
    this.probe?.close();
    this.probe = null;
    this.core = null;
    this.targets.clear();
    this.published.clear();
    this.adopted.clear();
  }

  health(): Health {
    if (this.core === null) return down('not-running');
    return this.probeReason === null || this.probeReason === 'no-mesh-interface' ? up : degraded(this.probeReason);
  }

  metrics(): Record<string, number> {
    const c = this.probe?.counters.snapshot() ?? {};
    return {
      neighbours: this.targets.size,
      neighbours_up: [...this.targets.values()].filter((t) => t.live.state === 'up').length,
      probe_sessions: this.probe?.sessions() ?? 0,
      probe_replies: c.replies ?? 0,
      probe_bytes_per_s_per_neighbour: this.overheadBytesPerS(),
      // Circuit breakers open now: an action that kept failing on a target and is held (X0SelfHealingBreakerOpen).
      breakers_open: this.core?.knowledge().breakers.filter((b) => b.state === 'open').length ?? 0,
      incidents_open: this.core?.incidents().filter((i) => i.state === 'open').length ?? 0,
      ...this.stats,
    };
  }

  /** Open incidents and what our actions keep in force (ubus status, tests). */
  view(): Record<string, unknown> {
    const now = this.ctx.platform.monotonicMs();
    return {
      incidents: this.core?.incidents() ?? [],
      in_force: this.core?.inForceNow() ?? null,
      neighbours: [...this.targets.values()].map((t) => ({
        iface: t.iface,
        neighbour: t.neighbour,
        state: t.live.state,
        rtt_ms: t.live.rttMs,
        loss: t.live.loss(now),
        peer: this.probe?.peer(t.address) ?? null,
      })),
    };
  }

  private overheadBytesPerS(): number {
    return Math.round((2 * probeWireBytes * 1000) / this.livenessConfig().intervalMs);
  }

  private livenessConfig(): LivenessConfig {
    const m = this.ctx.config.mapek;
    return {
      intervalMs: m.probeIntervalMs,
      detectMultiplier: m.detectMultiplier,
      upAfterReplies: livenessDefaults.upAfterReplies,
    };
  }

  /** null when the probe runs, else why not (no batman-adv, not enrolled, socket error). */
  private async openProbe(): Promise<string | null> {
    const { platform, config } = this.ctx;
    if (config.meshInterface === null && !config.mapek.probePeers) return 'no-mesh-interface';
    const identity = this.ctx.identity;
    if (identity === null) return 'not-enrolled';
    const revocations = loadRevocations(platform, nodeFiles(config.stateDir).revocations, identity.bundle);
    if (typeof revocations === 'string') return `revocations-${revocations}`;
    try {
      this.probe = await ProbeLink.open(platform, {
        port: probePort(config.listen.port),
        chain: identity.chain,
        signSecretKey: identity.keys.sign.secretKey,
        bundle: identity.bundle,
        revocations,
        onReply: (address, seq) => this.onReply(address, seq),
      });
      return null;
    } catch (error) {
      return `probe-${error instanceof Error ? error.message : String(error)}`.slice(0, 60);
    }
  }

  private onReply(address: string, seq: number): void {
    const now = this.ctx.platform.monotonicMs();
    for (const t of this.targets.values())
      if (`${t.address.host}:${t.address.port}` === address) return t.live.reply(seq, now);
  }

  private loadKnowledge(): ReturnType<Mapek['knowledge']> | null {
    const { platform, config, journal } = this.ctx;
    const read = readKnowledgeFile(platform.files, config.stateDir);
    if (read.ok) return read.value;
    journal.record('warn', this.name, 'knowledge-refused', {
      reason: read.reason,
      file: knowledgeFile(config.stateDir),
    });
    return null;
  }

  private schedule(): void {
    this.timer = this.ctx.platform.setTimer(this.livenessConfig().intervalMs, () => {
      if (this.core === null) return;
      this.step(this.ctx.platform.monotonicMs());
      this.schedule();
    });
  }

  private step(now: number): void {
    const core = this.core as Mapek;
    this.refreshTargets(now);
    // Raft's role is read in-process: every tick, so a degraded anchor hands over within anchorDegradedMs.
    const raft = this.ctx.raft?.status();
    this.probeAll(now, core, raft);
    this.observeRaft(now, core, raft);
    if (now - this.lastXdpMs >= mapekEdgeLimits.xdpEveryMs && !this.xdpBusy) {
      this.lastXdpMs = now;
      this.observeXdp();
    }
    if (now - this.lastSlowMs >= mapekEdgeLimits.slowEveryMs) {
      this.lastSlowMs = now;
      this.observeSlow(now, core);
      this.publishSummary(core);
    }
    for (const d of core.tick(now)) this.decide(d);
    for (const e of core.drainEvents())
      this.ctx.journal.record(e.kind === 'failed' || e.kind === 'breaker-opened' ? 'warn' : 'info', this.name, e.kind, {
        trace_id: e.traceId,
        what: e.text,
      });
    this.persist(false);
  }

  /** Targets: every neighbour in batman-adv's table; kept while their link is out by our action, or for a while. */
  private refreshTargets(now: number): void {
    if (this.ctx.config.meshInterface === null) return this.refreshPeerTargets(now);
    const mesh = this.ctx.mesh;
    const port = probePort(this.ctx.config.listen.port);
    for (const n of mesh?.neighbours ?? []) {
      const key = `${n.iface} ${n.neighbour}`;
      const known = this.targets.get(key);
      if (known !== undefined) {
        known.seenMs = now;
        continue;
      }
      const address = ProbeLink.addressOf(n.neighbour, n.iface, port);
      if (address === null || this.targets.size >= mapekEdgeLimits.targetsMax) continue;
      this.targets.set(key, {
        iface: n.iface,
        neighbour: n.neighbour,
        peer: false,
        address,
        live: new Liveness(this.livenessConfig(), now),
        confirmed: false,
        nextConfirmMs: 0,
        seenMs: now,
      });
    }
    const out = new Set(this.core?.inForceNow().linkDown ?? []);
    for (const [key, t] of this.targets) {
      if (out.has(t.iface) || now - t.seenMs < mapekEdgeLimits.targetKeepMs) continue;
      this.targets.delete(key);
      this.probe?.forget(t.address);
    }
  }

  /**
   * Without batman-adv (`probe_peers`): the configured anchors and static peers, each at its sealed link's host and
   * port + 3 (an IPv4 host as ::ffff:a.b.c.d, since the probe's socket is IPv6 and dual-stack).
   */
  private refreshPeerTargets(now: number): void {
    if (this.probe === null) return;
    for (const p of allPeers(this.ctx)) {
      if (p.source !== 'config' || this.targets.has(`peer ${p.name}`)) continue;
      if (this.targets.size >= mapekEdgeLimits.targetsMax) break;
      const host = /^\d{1,3}(\.\d{1,3}){3}$/.test(p.address.host) ? `::ffff:${p.address.host}` : p.address.host;
      this.targets.set(`peer ${p.name}`, {
        iface: 'udp',
        neighbour: p.name,
        peer: true,
        address: { host, port: probePort(p.address.port) },
        live: new Liveness(this.livenessConfig(), now),
        confirmed: true,
        nextConfirmMs: 0,
        seenMs: now,
      });
    }
  }

  private probeAll(now: number, core: Mapek, raft: RaftStatus | undefined): void {
    const tqOf = new Map((this.ctx.mesh?.neighbours ?? []).map((n) => [`${n.iface} ${n.neighbour}`, n.tq]));
    const leader = this.otherRaftLeader(raft);
    for (const [key, t] of this.targets) {
      const seq = t.live.due(now);
      if (seq !== null) this.probe?.request(t.address, seq);
      const tr = t.live.tick(now);
      if (tr !== null) {
        this.stats.transitions++;
        this.ctx.journal.record(tr.to === 'down' ? 'warn' : 'info', this.name, `neighbour-${tr.to}`, {
          iface: t.iface,
          neighbour: t.neighbour,
          since_reply_ms: tr.sinceReplyMs === null ? null : Math.round(tr.sinceReplyMs),
          rtt_ms: tr.rttMs,
          detect_ms: t.live.detectMs,
        });
      }
      // A neighbour that never answered (no agent there) is no evidence either way: not observed.
      if (t.live.state === 'init' || t.peer) continue;
      if (t.live.state === 'up') t.confirmed = false;
      else if (!t.confirmed && now >= t.nextConfirmMs && !this.confirming) this.confirm(t, now);
      core.observe({
        kind: 'neighbour',
        atMs: now,
        neighbour: t.neighbour,
        iface: t.iface,
        alive: t.live.state === 'up' || !t.confirmed,
        rttMs: t.live.rttMs,
        tq: tqOf.get(key) ?? null,
        leadsRaft: leader !== null && this.peerName(t) === leader,
      });
    }
  }

  /** The Raft leader's node name when another node leads a cluster this node votes in; null otherwise. */
  private otherRaftLeader(raft: RaftStatus | undefined): string | null {
    if (raft === undefined || raft.role === 'leader' || raft.lead === 0 || raft.voters.length < 2) return null;
    return effectiveAnchors(this.ctx.config)[raft.lead - 1]?.name ?? null;
  }

  /** The neighbour's node name, from the identity its probe channel authenticated (null before it did). */
  private peerName(t: Target): string | null {
    const id = this.probe?.peer(t.address) ?? null;
    const subject = id === null ? null : parseSubject(id);
    return subject?.ok && subject.value.kind === 'node' ? subject.value.name : null;
  }

  /** Reads batman-adv's neighbour table once: is the neighbour silent there too? */
  private confirm(t: Target, now: number): void {
    this.confirming = true;
    t.nextConfirmMs = now + mapekEdgeLimits.confirmEveryMs;
    const { platform, config } = this.ctx;
    const argv = [config.batctl, 'meshif', config.meshInterface ?? 'bat0', 'neighbors', '-H'];
    void platform
      .exec(argv, { timeoutMs: 2_000, maxOutputBytes: 64 * 1024 })
      .then((r) => {
        if (r.code !== 0) return void this.stats.confirm_failed++;
        const row = parseNeighbours(fromUtf8(r.stdout)).find((n) => n.iface === t.iface && n.neighbour === t.neighbour);
        if (t.live.state !== 'down' || (row !== undefined && row.lastSeenMs < mapekEdgeLimits.ogmSilenceMs)) return;
        t.confirmed = true;
        this.ctx.journal.record('warn', this.name, 'neighbour-silent', {
          iface: t.iface,
          neighbour: t.neighbour,
          ogm_last_seen_ms: row?.lastSeenMs ?? null,
        });
      })
      .catch(() => void this.stats.confirm_failed++)
      .finally(() => {
        this.confirming = false;
      });
  }

  private observeSlow(now: number, core: Mapek): void {
    for (const [name, h] of Object.entries(this.hooks.components())) {
      if (name === this.name || h.state === 'starting') continue;
      core.observe({ kind: 'component', atMs: now, name, state: h.state as 'up' | 'degraded' | 'down' | 'disabled' });
    }
  }

  private observeRaft(now: number, core: Mapek, raft: RaftStatus | undefined): void {
    if (raft === undefined) return;
    const links = linksDegraded(
      [...this.targets.values()].map((t) => ({ state: t.live.state, loss: t.live.loss(now) })),
    );
    core.observe({
      kind: 'raft',
      atMs: now,
      self: String(raft.id),
      role: raft.role,
      leader: raft.lead === 0 ? null : String(raft.lead),
      term: raft.term,
      // Degraded: most of this anchor's direct links are dead or lossy (its followers hear it late or not at all);
      // only worth saying when another voter could lead.
      selfDegraded: raft.voters.length > 1 && links.degraded,
      degradedWhy: `${links.dead} of ${links.probed} probed links dead, ${links.lossy} losing >= ${links.lossMin * 100} % of probes`,
      voters: raft.voters.length,
    });
  }

  private observeXdp(): void {
    const xdp = this.hooks.xdp();
    if (xdp === null) return;
    this.xdpBusy = true;
    const startedMs = this.ctx.platform.monotonicMs();
    void xdp
      .stats()
      .then((r) => {
        if (!r.ok || this.core === null) return;
        this.stats.xdp_samples++;
        this.stats.xdp_sample_ms = Math.round(this.ctx.platform.monotonicMs() - startedMs);
        for (const s of r.value.sources)
          this.core.observe({
            kind: 'xdp',
            atMs: this.ctx.platform.monotonicMs(),
            mac: s.mac,
            packets: s.packets,
            dropped: s.drops,
            ogms: s.batmanPackets,
          });
      })
      .catch(() => undefined)
      .finally(() => {
        this.xdpBusy = false;
      });
  }

  private decide(d: Decision): void {
    this.stats.decisions++;
    this.ctx.journal.record('warn', this.name, 'decided', {
      trace_id: d.traceId,
      symptom: d.symptom,
      rule: d.rule,
      action: d.action.kind,
      target: d.target,
      why: d.why,
    });
    if (this.inFlight >= mapekEdgeLimits.inFlightMax) {
      this.core?.outcome({
        traceId: d.traceId,
        ok: false,
        reason: 'executor-busy',
        atMs: this.ctx.platform.monotonicMs(),
      });
      return;
    }
    this.inFlight++;
    const started = this.ctx.platform.monotonicMs();
    void (this.executor as Executor).execute(d.action).then((r) => {
      this.inFlight--;
      const now = this.ctx.platform.monotonicMs();
      if (r.ok) this.stats.actions_ok++;
      else this.stats.actions_failed++;
      this.ctx.journal.record(r.ok ? 'info' : 'warn', this.name, 'executed', {
        trace_id: d.traceId,
        action: d.action.kind,
        target: d.target,
        ok: r.ok,
        reason: r.reason,
        detail: r.detail,
        took_ms: Math.round(now - started),
      });
      this.core?.outcome({ traceId: d.traceId, ok: r.ok, reason: r.reason, atMs: now });
    });
  }

  /** Knowledge to flash at most once per knowledgePersistMs, and only after a change (the core says when). */
  private persist(force: boolean): void {
    const core = this.core;
    if (core === null) return;
    const now = this.ctx.platform.monotonicMs();
    if (!core.knowledgeDue(now) && !(force && this.stats.decisions > 0)) return;
    const { platform, config, journal } = this.ctx;
    const error = platform.files.writeAtomic(knowledgeFile(config.stateDir), JSON.stringify(core.knowledge()));
    if (error !== null) {
      journal.record('warn', this.name, 'knowledge-not-written', {
        reason: error,
        file: knowledgeFile(config.stateDir),
      });
      return;
    }
    core.knowledgePersisted(now);
    this.stats.persisted++;
  }

  /**
   * This node's gossip section: one line on its incidents (open ones, the last one's symptom, action and state:
   * the mesh-wide view, in ubus `mesh` as `healing`), and its knowledge (what each action did for each symptom,
   * mesh-view.ts) as mapek.k1..k2, for the other nodes' planners. Written only when it changed (a gossip write is
   * a flash write and a delta to send): a healthy mesh writes the incident line once and nothing else.
   */
  private publishSummary(core: Mapek): void {
    const gossip = this.ctx.gossip;
    if (gossip === null) return;
    if (gossip !== this.publishedTo) this.published.clear(); // the gossip component restarted
    this.publishedTo = gossip;
    const incidents = core.incidents();
    const open = incidents.filter((i) => i.state === 'open').length;
    const last = incidents.at(-1);
    const text = (
      last === undefined
        ? `open=0 total=0`
        : `open=${open} total=${incidents.length} last=${last.symptom}/${last.lastAction ?? '-'}/${last.state}`
    ).slice(0, mapekEdgeLimits.summaryCharsMax);
    const values = core.meshValues();
    const out: [string, string][] = [['mapek', text]];
    for (let i = 0; i < mapekLimits.meshValuesMax; i++) out.push([knowledgeKey(i), values[i] ?? '']);
    for (const [key, value] of out) {
      if ((this.published.get(key) ?? '') === value && (key !== 'mapek' || this.published.has(key))) continue;
      const written = gossip.setVersion(key, value);
      if (written.ok) this.published.set(key, value);
      else this.stats.publish_refused++;
    }
    this.adoptPeers(core);
  }

  /** Every other node's knowledge from its section (outside input: the core decodes, bounds and counts it). */
  private adoptPeers(core: Mapek): void {
    const doc = this.ctx.gossip?.doc;
    if (doc === undefined) return;
    const seen = new Set<string>();
    for (const id of doc.sections.keys()) {
      if (id === this.ctx.config.nodeName || seen.size >= mapekEdgeLimits.peerSectionsMax) continue;
      seen.add(id);
      const values = Array.from({ length: mapekLimits.meshValuesMax }, (_, i) => doc.version(id, knowledgeKey(i)));
      const text = values.join('\n');
      if (values.every((v) => v === undefined) || this.adopted.get(id) === text) continue;
      this.adopted.set(id, text);
      if (core.adoptPeerValues(id, values).ok) this.stats.peers_adopted++;
      else this.stats.peers_refused++;
    }
    for (const id of [...this.adopted.keys()]) if (!seen.has(id)) this.adopted.delete(id);
  }
}
