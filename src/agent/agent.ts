// The agent: one process per router that runs the whole node from its UCI file (what procd starts). This is the
// composition root, the only place that knows every component: it reads and validates the configuration, builds
// the components in order (identity, batman-adv, gossip, Raft on anchors, XDP, uplink, ubus), and runs them under
// the supervisor: a component that fails is restarted with backoff and reported, never taking the agent down; an
// optional part that is missing is reported as degraded with its reason. SIGHUP and ubus `reload` re-read the file
// and apply what changed (restarting only the components concerned); SIGTERM stops it.
import type { Platform } from '../platform/types.js';
import type { JsTable } from '../ubus/values.js';
import type { Component } from './component.js';
import { reasonOf } from './component.js';
import { BatmanComponent } from './components/batman.js';
import { GossipComponent, type RevocationEvents } from './components/gossip.js';
import { IdentityComponent } from './components/identity.js';
import { LinkComponent } from './components/link.js';
import { RaftComponent } from './components/raft.js';
import { issuerDir, RegistrarComponent } from './components/registrar.js';
import { UbusComponent } from './components/ubus.js';
import { UplinkComponent } from './components/uplink.js';
import { XdpComponent } from './components/xdp.js';
import { MapekComponent } from './components/mapek.js';
import { describeChanges, loadConfigText, type AgentConfig, type ConfigResult } from './config.js';
import { effectiveAnchors, type AgentContext } from './context.js';
import { agentProvider } from './provider.js';
import { newContext } from './single.js';
import { Supervisor, type Transition } from './supervisor.js';

export const defaultConfigPath = '/etc/config/x0tta6bl4';
/** How often the supervisor looks at due starts and component health. */
export const superviseEveryMs = 250;

export interface AgentOptions {
  readonly configPath: string;
  readonly hostname: string;
  /** Stop after this long (tests, demos); null runs until SIGTERM. */
  readonly runForMs: number | null;
  /** How to run x0-xdp (tests: a prefix such as nsenter ... x0-xdp). */
  readonly xdpHelper?: readonly string[];
}

/** Reads and validates the configuration file; a file that cannot be read is one error line. */
export function readConfig(platform: Platform, path: string, hostname: string): ConfigResult {
  const text = platform.files.readText(path);
  if (text === null) {
    const message = `${path}: cannot read the configuration file; create it (every option: docs/config.md) or pass --config PATH`;
    return {
      ok: false,
      errors: [
        { reason: 'missing-section', path, line: 0, section: null, option: null, value: null, allowed: null, message },
      ],
    };
  }
  return loadConfigText(text, path, hostname);
}

export class Agent {
  readonly ctx: AgentContext;
  readonly supervisor = new Supervisor();
  private readonly components = new Map<string, Component>();
  private timer: ReturnType<Platform['setTimer']> | null = null;
  private stopped = false;
  private readyLogged = false;

  constructor(
    platform: Platform,
    config: AgentConfig,
    private readonly options: AgentOptions,
  ) {
    this.ctx = newContext(platform, config);
  }

  /** Builds every component (or records why it does not run here) and starts supervising. */
  start(): void {
    const { config, journal } = this.ctx;
    journal.record('info', 'agent', 'starting', {
      node: config.nodeName,
      role: config.role,
      config: config.path,
      state_dir: config.stateDir,
    });
    const now = this.ctx.platform.monotonicMs();
    for (const [name, build, disabledReason] of this.plan()) {
      if (disabledReason !== null) {
        this.supervisor.disable(name, disabledReason, now);
        journal.record('info', name, 'disabled', { reason: disabledReason });
        continue;
      }
      this.components.set(name, build());
      this.supervisor.add(name, now);
    }
    this.supervise();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== null) this.ctx.platform.clearTimer(this.timer);
    // Reverse order: ubus goes first (no more answers about parts being torn down), identity last.
    for (const component of [...this.components.values()].reverse()) component.stop();
    this.ctx.journal.record('info', 'agent', 'stopped', {});
  }

  /** Re-reads the configuration and applies what changed; what needs a restart of the agent is only reported. */
  reload(): JsTable {
    const { platform, journal } = this.ctx;
    const loaded = readConfig(platform, this.options.configPath, this.options.hostname);
    if (!loaded.ok) {
      for (const e of loaded.errors)
        journal.record('error', 'agent', 'reload-refused', { reason: e.reason, error: e.message });
      return { ok: false, errors: loaded.errors.map((e) => e.message) };
    }
    const changes = describeChanges(this.ctx.config, loaded.value);
    const before = this.ctx.config;
    this.ctx.config = { ...loaded.value, ...this.keptForRestart(before, loaded.value) };
    this.ctx.journal.level = this.ctx.config.logLevel;
    const restart = new Set<string>(['identity']);
    if (changes.applied.some((c) => c.startsWith('uplink.'))) restart.add('uplink');
    if (changes.applied.some((c) => c.startsWith('xdp.'))) restart.add('xdp');
    if (changes.applied.some((c) => c.startsWith('mapek.') || c.startsWith('xdp.'))) restart.add('mapek');
    if (changes.applied.includes('agent.static_peer')) restart.add('link');
    for (const name of restart) if (this.components.has(name)) this.restart(name, 'reload');
    journal.record('info', 'agent', 'reloaded', {
      applied: changes.applied.join(',') || 'none',
      needs_restart: changes.needsRestart.join(',') || 'none',
    });
    return { ok: true, applied: changes.applied, needs_restart: changes.needsRestart };
  }

  /** Stops one component and lets the supervisor start it again at once (ubus `restart`, reload, tests). */
  restart(name: string, why = 'requested'): JsTable {
    const component = this.components.get(name);
    if (component === undefined)
      return {
        ok: false,
        reason: this.supervisor.health(name) === undefined ? 'unknown-component' : 'component-disabled',
      };
    // A start under way is left alone: it is about to run with what a restart would give it.
    if (this.supervisor.isStarting(name)) return { ok: true, reason: 'already-starting' };
    component.stop();
    this.log(this.supervisor.restart(name, `restart-${why}`, this.ctx.platform.monotonicMs()));
    return { ok: true, reason: null };
  }

  provider() {
    return agentProvider(this.ctx, this.supervisor, {
      reload: () => this.reload(),
      restart: (name) => this.restart(name),
      token: (node, ttlS) => {
        const registrar = this.components.get('registrar') as RegistrarComponent | undefined;
        return registrar === undefined ? { ok: false, reason: 'not-an-enrolling-anchor' } : registrar.token(node, ttlS);
      },
    });
  }

  /** Each component in start order, with the reason it does not run in this configuration (null: it runs). */
  private plan(): Array<readonly [string, () => Component, string | null]> {
    const { config } = this.ctx;
    const isAnchor = config.role === 'anchor' && effectiveAnchors(config).some((a) => a.name === config.nodeName);
    const agentMetrics = () => this.metrics();
    return [
      ['identity', () => new IdentityComponent(this.ctx, () => this.enrolled()), null],
      [
        'batman',
        () => new BatmanComponent(this.ctx),
        config.meshInterface === null ? 'no mesh_interface configured (peers come from static_peer)' : null,
      ],
      ['link', () => new LinkComponent(this.ctx), null],
      ['gossip', () => new GossipComponent(this.ctx, this.revocationEvents()), null],
      ['raft', () => new RaftComponent(this.ctx), isAnchor ? null : 'role node: follows the anchors through gossip'],
      [
        'xdp',
        () => new XdpComponent(this.ctx, this.options.xdpHelper),
        config.xdp.enabled ? null : 'xdp disabled in the configuration',
      ],
      [
        'uplink',
        () => new UplinkComponent(this.ctx, agentMetrics),
        !config.uplink.enabled
          ? 'uplink disabled in the configuration'
          : config.uplink.broker === null
            ? 'no broker configured'
            : null,
      ],
      [
        'registrar',
        () => new RegistrarComponent(this.ctx),
        !isAnchor
          ? 'role node: anchors enrol new nodes'
          : !this.ctx.platform.files.exists(`${issuerDir(config.stateDir)}/ca.key`)
            ? `no issuing key in ${issuerDir(config.stateDir)} (x0 ca intermediate --name NAME --out DIR): this anchor does not enrol nodes`
            : null,
      ],
      [
        'mapek',
        () =>
          new MapekComponent(this.ctx, {
            restart: (name) => {
              const r = this.restart(name, 'mapek');
              return { ok: r.ok === true, reason: typeof r.reason === 'string' ? r.reason : null };
            },
            components: () => this.supervisor.snapshot(),
            // One x0-xdp serve per agent: the XDP component's, once it found BPF and XDP working (a failed probe
            // would only fail every sample again, a warning each time).
            xdp: () => {
              const xdp = this.components.get('xdp') as XdpComponent | undefined;
              const h = xdp?.health();
              const usable = h?.state === 'up' || (h?.state === 'degraded' && /^attach-failed/.test(h.reason ?? ''));
              return usable ? (xdp?.binding ?? null) : null;
            },
          }),
        config.mapek.enabled ? null : 'mapek disabled in the configuration',
      ],
      ['ubus', () => new UbusComponent(this.ctx, this.provider()), null],
    ];
  }

  /**
   * Revocation acted on the moment gossip adopts it: the link ends the revoked nodes' sessions and refuses new ones,
   * XDP blocks their MACs (the components do not know each other; only this root does).
   */
  private revocationEvents(): RevocationEvents {
    return {
      listAdopted: (list) => (this.components.get('link') as LinkComponent | undefined)?.revoke(list),
      macsRevoked: () => (this.components.get('xdp') as XdpComponent | undefined)?.blockNow(),
    };
  }

  /** A certificate obtained over the network: the link, the uplink and the liveness probe (mapek), waiting for one,
   * start now rather than at their next backoff (gossip and Raft follow the link). */
  private enrolled(): void {
    for (const name of ['link', 'uplink', 'mapek']) {
      const state = this.supervisor.health(name)?.state;
      if (this.components.has(name) && state !== undefined && state !== 'starting' && state !== 'disabled')
        this.restart(name, 'enrolled');
    }
  }

  /** Per-component health and metrics for telemetry (`statistics.x0`). */
  metrics(): Record<string, unknown> {
    const out: Record<string, unknown> = { state: this.supervisor.overall() };
    for (const [name, h] of Object.entries(this.supervisor.snapshot())) {
      out[name] = { state: h.state, restarts: h.restarts, ...(this.components.get(name)?.metrics?.() ?? {}) };
    }
    return out;
  }

  private supervise(): void {
    if (this.stopped) return;
    const now = this.ctx.platform.monotonicMs();
    for (const name of this.supervisor.running())
      this.log(this.supervisor.observed(name, (this.components.get(name) as Component).health(), now));
    // Due components start one after the other in plan order: gossip and Raft find the link already up.
    const due = this.supervisor.due(now);
    if (due.length > 0)
      void (async () => {
        for (const name of due) await this.startOne(name);
      })();
    if (!this.readyLogged && this.supervisor.overall() !== 'starting') {
      this.readyLogged = true;
      this.ctx.journal.record('info', 'agent', 'ready', {
        state: this.supervisor.overall(),
        ready_ms: Math.round(now - this.ctx.startedAtMs),
      });
    }
    this.timer = this.ctx.platform.setTimer(superviseEveryMs, () => this.supervise());
  }

  private async startOne(name: string): Promise<void> {
    const component = this.components.get(name) as Component;
    let transition: Transition | null;
    try {
      const health = await component.start();
      transition = this.supervisor.started(name, health, this.ctx.platform.monotonicMs());
      if (health.state === 'down') component.stop();
    } catch (error) {
      component.stop();
      transition = this.supervisor.failed(name, reasonOf(error), this.ctx.platform.monotonicMs());
    }
    this.log(transition);
  }

  private log(t: Transition | null): void {
    if (t === null) return;
    // Gossip and Raft wait for the link: once it is up, the ones waiting start now, not at their next backoff.
    if (t.component === 'link' && t.to === 'up') {
      for (const name of ['gossip', 'raft']) {
        if (this.components.has(name) && this.supervisor.health(name)?.state === 'down')
          this.supervisor.restart(name, 'link-up', this.ctx.platform.monotonicMs());
      }
    }
    const level = t.to === 'down' || t.to === 'degraded' ? 'warn' : 'info';
    const fields: Record<string, unknown> = { from: t.from, to: t.to };
    if (t.reason !== null) fields.reason = t.reason;
    if (t.retryInMs !== undefined) fields.retry_in_ms = t.retryInMs;
    this.ctx.journal.record(level, t.component, t.to === 'down' ? 'failed' : t.to, fields);
  }

  // Options a running agent cannot change (they name its sockets and state): kept until the agent restarts.
  private keptForRestart(before: AgentConfig, _after: AgentConfig): Partial<AgentConfig> {
    return {
      nodeName: before.nodeName,
      role: before.role,
      stateDir: before.stateDir,
      trustDomain: before.trustDomain,
      listen: before.listen,
      anchors: before.anchors,
      ubusSocket: before.ubusSocket,
      meshInterface: before.meshInterface,
      batctl: before.batctl,
    };
  }
}

/** `x0 agent`: validate the file (exit 2 with one line per error), run until SIGTERM (exit 0) or --run-for-ms. */
export async function runAgent(platform: Platform, options: AgentOptions): Promise<number> {
  const loaded = readConfig(platform, options.configPath, options.hostname);
  if (!loaded.ok) {
    for (const e of loaded.errors) platform.stderr(`x0 agent: ${e.message}\n`);
    platform.stderr(
      `x0 agent: ${loaded.errors.length} error${loaded.errors.length === 1 ? '' : 's'} in ${options.configPath}; not starting (every option: docs/config.md)\n`,
    );
    return 2;
  }
  if (!loaded.value.enabled) {
    platform.stderr(`x0 agent: disabled in ${options.configPath} (option enabled '0'); not starting\n`);
    return 0;
  }
  // $X0_XDP_HELPER names another x0-xdp (as for `x0 xdp`): tests run one that enters a network namespace.
  const helper = platform.env('X0_XDP_HELPER');
  const agent = new Agent(
    platform,
    loaded.value,
    options.xdpHelper === undefined && helper !== undefined && helper !== ''
      ? { ...options, xdpHelper: [helper] }
      : options,
  );
  return new Promise<number>((resolve) => {
    const finish = (code: number) => {
      agent.stop();
      resolve(code);
    };
    platform.onSignal?.('SIGHUP', () => void agent.reload());
    platform.onSignal?.('SIGTERM', () => finish(0));
    platform.onSignal?.('SIGINT', () => finish(0));
    agent.start();
    if (options.runForMs !== null) platform.setTimer(options.runForMs, () => finish(0));
  });
}
