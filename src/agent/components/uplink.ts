// Signed telemetry to the MQTT broker: the node's status, /proc and batman-adv metrics, and every component's
// health and counters (`statistics.x0`). Needs the node's certificate to sign with: before enrolment it is down
// with reason not-enrolled and the supervisor retries it with backoff.
import { fail, ok } from '../../core/result.js';
import { ProcMetrics, type Metrics, type MetricsSource } from '../../telemetry/metrics.js';
import { runUplink } from '../../telemetry/uplink.js';
import { degraded, down, up, type Component } from '../component.js';
import type { AgentContext } from '../context.js';
import type { Health } from '../supervisor.js';

/** The agent's own metrics, added to each telemetry message by the composition root. */
export type AgentMetrics = () => Record<string, unknown>;

class WithAgentMetrics implements MetricsSource {
  constructor(
    private readonly inner: ProcMetrics,
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

  constructor(
    private readonly ctx: AgentContext,
    private readonly agentMetrics: AgentMetrics,
  ) {}

  async start(): Promise<Health> {
    const { platform, config, journal } = this.ctx;
    const identity = this.ctx.identity;
    const broker = config.uplink.broker;
    if (broker === null) return down('no-broker');
    if (identity === null) return down('not-enrolled');
    this.stopping = false;
    this.running = true;
    const metrics = new WithAgentMetrics(
      new ProcMetrics(platform, config.nodeName, config.trustDomain, config.meshInterface ?? 'bat0', async () =>
        // The batman-adv reader's view, not a second batctl run per telemetry message.
        this.ctx.mesh === null ? fail('meshif-absent') : ok(this.ctx.mesh),
      ),
      this.agentMetrics,
    );
    journal.record('info', this.name, 'started', {
      broker: `${broker.host}:${broker.port}`,
      mqtt: config.uplink.protocol === 5 ? '5' : '3.1.1',
      interval_ms: config.uplink.intervalMs,
    });
    void runUplink(platform, {
      host: broker.host,
      port: broker.port,
      signSecretKey: identity.keys.sign.secretKey,
      chain: identity.chain,
      metrics,
      intervalMs: config.uplink.intervalMs,
      count: null,
      format: 'cbor',
      version: config.uplink.protocol,
      operatorKeys: [],
      // No queue on flash: telemetry is a periodic snapshot, and a queue kept across a crash would replay the last
      // life's retained 'online' status after its Will (consumers rightly refuse it as replayed).
      shouldStop: () => this.stopping,
      onProgress: (p) => {
        this.ctx.uplink = {
          sent: this.ctx.uplink.sent + 1,
          lastSentMs: platform.wallClockMs(),
          connected: p.connected,
        };
      },
    }).then(
      (result) => {
        this.running = false;
        this.lastFailure = result.lastFailure ?? (result.ok ? null : 'flush-failed');
        if (!this.stopping)
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
