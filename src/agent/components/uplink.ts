// Signed telemetry to the MQTT broker: the node's status, /proc and batman-adv metrics, and every component's
// health and counters (`statistics.x0`). Needs the node's certificate to sign with: before enrolment it is down
// with reason not-enrolled and the supervisor retries it with backoff.
import { fail, ok } from '../../core/result.js';
import { traceBatch } from '../../core/telemetry/traces.js';
import { resolveBrokerHost } from '../../telemetry/broker.js';
import { ProcMetrics, type Metrics, type MetricsSource } from '../../telemetry/metrics.js';
import { runUplink, type UplinkOptions, type UplinkResult } from '../../telemetry/uplink.js';
import { degraded, down, up, type Component } from '../component.js';
import type { AgentContext } from '../context.js';
import type { UplinkTlsConfig } from '../config.js';
import type { TlsOptions } from '../../platform/types.js';
import type { Health } from '../supervisor.js';

/** The agent's own metrics, added to each telemetry message by the composition root. */
export type AgentMetrics = () => Record<string, unknown>;

/**
 * What `x0 uplink` adds when it runs this component alone (src/agent/single.ts): a message count, another format or
 * metrics source, operator keys, a flash queue, broker credentials. The agent gives none of these.
 */
export interface UplinkExtras {
  readonly count?: number | null;
  readonly format?: UplinkOptions['format'];
  readonly metrics?: MetricsSource;
  readonly operatorKeys?: readonly Uint8Array[];
  readonly persistPath?: string;
  readonly username?: string;
  readonly password?: string;
  readonly keepAliveS?: number;
}

function tlsOptions(tls: UplinkTlsConfig, brokerHost: string): TlsOptions {
  return {
    caFile: tls.caFile,
    serverName: tls.serverName ?? brokerHost,
    ...(tls.certFile !== null && tls.keyFile !== null ? { certFile: tls.certFile, keyFile: tls.keyFile } : {}),
  };
}

class WithAgentMetrics implements MetricsSource {
  constructor(
    private readonly inner: MetricsSource,
    private readonly agent: AgentMetrics,
  ) {}
  get counters() {
    return this.inner.counters;
  }
  async collect(): Promise<Metrics> {
    const m = await this.inner.collect();
    return { ...m, statistics: { ...m.statistics, x0: this.agent() } };
  }
}

export class UplinkComponent implements Component {
  readonly name = 'uplink';
  private stopping = false;
  private running = false;
  private lastFailure: string | null = null;
  /** The journal's cursor: each telemetry message carries the trace events recorded since the previous one. */
  private journalCursor = 0;
  /** The current run's outcome, once it ends (a --count reached, stopped, or failed). */
  finished: Promise<UplinkResult> | null = null;

  constructor(
    private readonly ctx: AgentContext,
    /** null: this component runs alone (x0 uplink), there is no agent to report on. */
    private readonly agentMetrics: AgentMetrics | null,
    private readonly extras: UplinkExtras = {},
  ) {}

  async start(): Promise<Health> {
    const { platform, config, journal } = this.ctx;
    const identity = this.ctx.identity;
    const broker = config.uplink.broker;
    if (broker === null) return down('no-broker');
    if (identity === null) return down('not-enrolled');
    // x0-runtime has no DNS resolver: a name it cannot look up is said once, not retried as "unreachable".
    const host = resolveBrokerHost(platform, broker.host);
    if (!host.ok) {
      journal.record('error', this.name, 'broker-unresolved', { reason: 'broker-unresolved', detail: host.reason });
      return down(`broker-unresolved: ${host.reason}`);
    }
    this.stopping = false;
    this.running = true;
    const { extras } = this;
    const source =
      extras.metrics ??
      new ProcMetrics(platform, config.nodeName, config.trustDomain, config.meshInterface ?? 'bat0', async () =>
        // The batman-adv reader's view, not a second batctl run per telemetry message.
        this.ctx.mesh === null ? fail('meshif-absent') : ok(this.ctx.mesh),
      );
    const metrics = this.agentMetrics === null ? source : new WithAgentMetrics(source, this.agentMetrics);
    journal.record('info', this.name, 'started', {
      broker: `${broker.host}:${broker.port}`,
      tls: config.uplink.tls === null ? 'off' : (config.uplink.tls.serverName ?? broker.host),
      mqtt: config.uplink.protocol === 5 ? '5' : '3.1.1',
      interval_ms: config.uplink.intervalMs,
    });
    this.finished = runUplink(platform, {
      host: host.value,
      port: broker.port,
      // The certificate names the broker as configured (a DNS name), not the address /etc/hosts gave for it.
      ...(config.uplink.tls === null ? {} : { tls: tlsOptions(config.uplink.tls, broker.host) }),
      signSecretKey: identity.keys.sign.secretKey,
      chain: identity.chain,
      metrics,
      intervalMs: config.uplink.intervalMs,
      count: extras.count ?? null,
      format: extras.format ?? 'cbor',
      version: config.uplink.protocol,
      operatorKeys: extras.operatorKeys ?? [],
      // The agent keeps no queue on flash: telemetry is a periodic snapshot, and a queue kept across a crash would
      // replay the last life's retained 'online' status after its Will (consumers rightly refuse it as replayed).
      ...(extras.persistPath === undefined ? {} : { persistPath: extras.persistPath }),
      ...(extras.username === undefined ? {} : { username: extras.username }),
      ...(extras.password === undefined ? {} : { password: extras.password }),
      ...(extras.keepAliveS === undefined ? {} : { keepAliveS: extras.keepAliveS }),
      shouldStop: () => this.stopping,
      traces: () => {
        const fresh = journal.since(this.journalCursor);
        this.journalCursor = fresh.next;
        return traceBatch(fresh.events, fresh.missed);
      },
      onProgress: (p) => {
        this.ctx.uplink = {
          sent: this.ctx.uplink.sent + 1,
          lastSentMs: platform.wallClockMs(),
          connected: p.connected,
        };
      },
    });
    this.finished.then(
      (result) => {
        this.running = false;
        this.lastFailure = result.lastFailure ?? (result.ok ? null : 'flush-failed');
        if (!this.stopping && extras.count == null)
          journal.record('warn', this.name, 'ended', {
            reason: this.lastFailure ?? 'ended',
            sent: result.telemetrySent,
          });
      },
      (error: unknown) => {
        this.running = false;
        this.lastFailure = String(error);
        journal.record('error', this.name, 'failed', { reason: this.lastFailure });
      },
    );
    return this.health();
  }

  stop(): void {
    this.stopping = true;
  }

  health(): Health {
    if (!this.running) return down(this.lastFailure ?? 'not-running');
    return this.ctx.uplink.connected || this.ctx.uplink.sent === 0 ? up : degraded('broker-unreachable');
  }

  metrics(): Record<string, number> {
    return { sent: this.ctx.uplink.sent, connected: this.ctx.uplink.connected ? 1 : 0 };
  }
}
