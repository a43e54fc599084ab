// The XDP data plane through its helper (x0-xdp): attached to the configured interfaces at start (the program
// stays pinned and attached when the agent stops: it outlives the agent by design), counters read periodically
// for telemetry. A kernel without XDP or a missing helper is a degraded agent with the reason, never a crash.
import { XdpBinding } from '../../xdp/binding.js';
import type { XdpTotals } from '../../xdp/types.js';
import { degraded, down, up, type Component } from '../component.js';
import type { AgentContext } from '../context.js';
import type { Health } from '../supervisor.js';

export const statsEveryMs = 10_000;

export class XdpComponent implements Component {
  readonly name = 'xdp';
  readonly binding: XdpBinding;
  private state: Health = down('not-started');
  private totals: XdpTotals | null = null;
  private timer: ReturnType<AgentContext['platform']['setTimer']> | null = null;
  private stopped = false;

  constructor(
    private readonly ctx: AgentContext,
    helperArgv?: readonly string[],
  ) {
    this.binding = new XdpBinding(ctx.platform, helperArgv === undefined ? {} : { helperArgv });
  }

  async start(): Promise<Health> {
    this.stopped = false;
    const { journal, config } = this.ctx;
    const probe = await this.binding.probe();
    if (!probe.ok) {
      journal.record('warn', this.name, 'unavailable', { reason: probe.reason, message: probe.message });
      this.state = degraded(probe.reason);
      return this.state;
    }
    const failed: string[] = [];
    for (const ifname of config.xdp.interfaces) {
      const attached = await this.binding.attach(ifname);
      if (attached.ok) journal.record('info', this.name, 'attached', { ifname, mode: attached.value.mode });
      else {
        failed.push(ifname);
        journal.record('warn', this.name, 'attach-failed', {
          ifname,
          reason: attached.reason,
          message: attached.message,
        });
      }
    }
    this.state = failed.length === 0 ? up : degraded(`attach-failed:${failed.join(',')}`);
    this.poll();
    return this.state;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.ctx.platform.clearTimer(this.timer);
    this.timer = null;
  }

  health(): Health {
    return this.state;
  }

  metrics(): Record<string, number> {
    const t = this.totals;
    return t === null
      ? {}
      : {
          packets: t.packets,
          passed: t.passed,
          dropped_blocked: t.droppedBlocked,
          dropped_rate: t.droppedRate,
          batman_packets: t.batmanPackets,
          malformed: t.malformed,
        };
  }

  private poll(): void {
    this.timer = this.ctx.platform.setTimer(statsEveryMs, () => {
      void this.binding.stats().then((stats) => {
        if (this.stopped) return;
        if (stats.ok) this.totals = stats.value.totals;
        this.poll();
      });
    });
  }
}
