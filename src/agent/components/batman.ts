// batman-adv's view of the mesh (direct neighbours with TQ, originators), read through batctl every few seconds
// and shared with gossip (this node's neighbours), ubus `peers` and telemetry. No batman-adv here (a machine
// without the module, a wrong interface) is a degraded agent, reported once with the reason.
import { BatctlReader } from '../../batman/batctl.js';
import { degraded, down, up, type Component } from '../component.js';
import type { AgentContext } from '../context.js';
import type { Health } from '../supervisor.js';

export const readEveryMs = 2_000;
/**
 * A slow batctl or a lost answer (a loaded router) does not wipe the mesh view at once: the last good one stands
 * this many reads.
 */
export const failedReadsTolerated = 3;

export class BatmanComponent implements Component {
  readonly name = 'batman';
  private reader: BatctlReader | null = null;
  private timer: ReturnType<AgentContext['platform']['setTimer']> | null = null;
  private state: Health = down('not-started');
  private stopped = false;
  private failedReads = 0;

  constructor(private readonly ctx: AgentContext) {}

  async start(): Promise<Health> {
    this.stopped = false;
    this.reader = new BatctlReader(this.ctx.platform, this.ctx.config.batctl);
    await this.read();
    return this.state;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.ctx.platform.clearTimer(this.timer);
    this.timer = null;
    this.ctx.mesh = null;
  }

  health(): Health {
    return this.state;
  }

  metrics(): Record<string, number> {
    const view = this.ctx.mesh;
    return { neighbours: view?.neighbours.length ?? 0, originators: view?.originators.length ?? 0 };
  }

  private async read(): Promise<void> {
    const meshif = this.ctx.config.meshInterface ?? 'bat0';
    const view = await (this.reader as BatctlReader).meshView(meshif);
    if (this.stopped) return;
    const before = this.state;
    if (view.ok) {
      this.ctx.mesh = view.value;
      this.state = up;
      this.failedReads = 0;
    } else if (
      (view.reason === 'batctl-timeout' || view.reason === 'batctl-incomplete') &&
      this.ctx.mesh !== null &&
      ++this.failedReads < failedReadsTolerated
    ) {
      this.ctx.journal.record('debug', this.name, 'read-slow', { reason: view.reason, kept: 'the last view' });
    } else {
      this.ctx.mesh = null;
      this.state = degraded(view.reason);
      if (before.reason !== view.reason)
        this.ctx.journal.record('warn', this.name, 'unavailable', {
          reason: view.reason,
          meshif,
          batctl: this.ctx.config.batctl,
        });
    }
    this.timer = this.ctx.platform.setTimer(readEveryMs, () => void this.read());
  }
}
