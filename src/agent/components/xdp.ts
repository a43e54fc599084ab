// The XDP data plane through its helper (x0-xdp): attached to the configured interfaces at start (the program
// stays pinned and attached when the agent stops: it outlives the agent by design), counters read periodically
// for telemetry. A kernel without XDP or a missing helper is a degraded agent with the reason, never a crash.
// Revocation in the data plane: every MAC of a revoked node (ctx.revokedMacs, kept by the gossip component from
// what the node announced) is blocked without expiry, checked every blockEveryMs; blocks outlive the agent (pinned).
import { XdpBinding } from '../../xdp/binding.js';
import type { XdpTotals } from '../../xdp/types.js';
import { degraded, down, up, type Component } from '../component.js';
import type { AgentContext } from '../context.js';
import type { Health } from '../supervisor.js';

export const statsEveryMs = 10_000;
/** How often the wanted blocks (revoked nodes' MACs) are compared with those made. */
export const blockEveryMs = 250;
/** Blocks tried per check (each is one run of the helper); the rest wait for the next check. */
export const blocksPerCheckMax = 8;
export const blockRetryMs = 10_000;

export class XdpComponent implements Component {
  readonly name = 'xdp';
  readonly binding: XdpBinding;
  private state: Health = down('not-started');
  private totals: XdpTotals | null = null;
  private timer: ReturnType<AgentContext['platform']['setTimer']> | null = null;
  private stopped = false;
  private blockTimer: ReturnType<AgentContext['platform']['setTimer']> | null = null;
  /** MACs blocked by this component (revoked nodes'), with the node each belongs to. */
  private readonly blocked = new Map<string, string>();
  private blockFailures = 0;
  /** A block the helper refused is tried again after blockRetryMs, not at every check (monotonic ms). */
  private readonly retryAtMs = new Map<string, number>();

  constructor(
    private readonly ctx: AgentContext,
    helperArgv?: readonly string[],
  ) {
    // --mount: where nothing mounted bpffs yet (OpenWrt's procd does at boot), the helper mounts it.
    this.binding = new XdpBinding(
      ctx.platform,
      helperArgv === undefined ? { mountBpffs: true } : { helperArgv, mountBpffs: true },
    );
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
    this.blockLoop();
    return this.state;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.ctx.platform.clearTimer(this.timer);
    this.timer = null;
    if (this.blockTimer !== null) this.ctx.platform.clearTimer(this.blockTimer);
    this.blockTimer = null;
  }

  health(): Health {
    return this.state;
  }

  metrics(): Record<string, number> {
    const t = this.totals;
    const blocks = { blocked_macs: this.blocked.size, block_failures: this.blockFailures };
    return t === null
      ? blocks
      : {
          ...blocks,
          packets: t.packets,
          passed: t.passed,
          dropped_blocked: t.droppedBlocked,
          dropped_rate: t.droppedRate,
          batman_packets: t.batmanPackets,
          malformed: t.malformed,
        };
  }

  /** Blocks the wanted MACs not blocked yet (a few per check, each logged with the node it belongs to). */
  private blockLoop(): void {
    this.blockTimer = this.ctx.platform.setTimer(blockEveryMs, () => {
      void this.blockWanted().then(() => {
        if (!this.stopped) this.blockLoop();
      });
    });
  }

  private async blockWanted(): Promise<void> {
    const now = this.ctx.platform.monotonicMs();
    const wanted = [...this.ctx.revokedMacs]
      .filter(([mac]) => !this.blocked.has(mac) && (this.retryAtMs.get(mac) ?? 0) <= now)
      .slice(0, blocksPerCheckMax);
    // All at once: each block is one run of the helper, and on a busy router each run takes a while.
    await Promise.all(
      wanted.map(async ([mac, node]) => {
        const r = await this.binding.block(mac, 'revoked', null);
        if (this.stopped) return;
        if (r.ok) {
          this.blocked.set(mac, node);
          this.retryAtMs.delete(mac);
          this.ctx.journal.record('warn', this.name, 'blocked', { node, mac, reason: 'revoked' });
        } else {
          this.blockFailures++;
          this.retryAtMs.set(mac, now + blockRetryMs);
          this.ctx.journal.record('warn', this.name, 'block-failed', { node, mac, reason: r.reason });
        }
      }),
    );
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
