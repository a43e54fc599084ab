// The XDP data plane through its helper (x0-xdp): attached to the configured interfaces at start (the program
// stays pinned and attached when the agent stops: it outlives the agent by design), counters read periodically
// for telemetry. A kernel without XDP or a missing helper is a degraded agent with the reason, never a crash.
// Revocation in the data plane: every MAC of a revoked node (ctx.revokedMacs, kept by the gossip component from
// what the node announced) is blocked without expiry the moment the gossip component learns it (blockNow, called
// by the composition root), and at start from what this node persisted (src/agent/revoked-macs.ts: the pinned
// blocklist outlives the agent, but not a reboot or a purge); blocks outlive the agent (pinned).
import { XdpBinding } from '../../xdp/binding.js';
import { blockMacsMax } from '../../xdp/limits.js';
import type { XdpTotals } from '../../xdp/types.js';
import { degraded, down, up, type Component } from '../component.js';
import type { AgentContext } from '../context.js';
import type { Health } from '../supervisor.js';
import { restoreRevokedMacs, revokedMacsMax } from '../revoked-macs.js';

export const statsEveryMs = 10_000;
/** A block the helper refused is tried again after this long. */
export const blockRetryMs = 10_000;

export class XdpComponent implements Component {
  readonly name = 'xdp';
  readonly binding: XdpBinding;
  private state: Health = down('not-started');
  private totals: XdpTotals | null = null;
  private timer: ReturnType<AgentContext['platform']['setTimer']> | null = null;
  private stopped = false;
  private retryTimer: ReturnType<AgentContext['platform']['setTimer']> | null = null;
  /** A round of blocks is running (helper runs under way); `blockAgain`: a change came meanwhile, run another. */
  private blocking = false;
  private blockAgain = false;
  /** Attached and not stopped: blocks can be made. */
  private running = false;
  /** MACs blocked by this component (revoked nodes'), with the node each belongs to. */
  private readonly blocked = new Map<string, string>();
  private blockFailures = 0;
  /** A block the helper refused is tried again after blockRetryMs, not at every check (monotonic ms). */
  private readonly retryAtMs = new Map<string, number>();

  constructor(
    private readonly ctx: AgentContext,
    helperArgv?: readonly string[],
  ) {
    // --mount: where nothing mounted bpffs yet (OpenWrt's procd does at boot), the helper mounts it. One x0-xdp
    // kept running (x0-xdp serve): a revocation's block is a request to it, not a process start on a busy router.
    this.binding = new XdpBinding(ctx.platform, {
      mountBpffs: true,
      session: true,
      ...(helperArgv === undefined ? {} : { helperArgv }),
    });
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
    if (this.stopped) return this.state;
    // Every wanted block again at each start: a purge or a reboot may have emptied the pinned blocklist meanwhile.
    this.blocked.clear();
    const restored = restoreRevokedMacs(this.ctx);
    if (!restored.ok) journal.record('warn', this.name, 'revoked-macs-not-restored', { reason: restored.reason });
    this.running = true;
    this.blockNow();
    return this.state;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.ctx.platform.clearTimer(this.timer);
    this.timer = null;
    if (this.retryTimer !== null) this.ctx.platform.clearTimer(this.retryTimer);
    this.retryTimer = null;
    this.running = false;
    this.binding.close();
  }

  health(): Health {
    return this.state;
  }

  metrics(): Record<string, number> {
    const t = this.totals;
    // helper_starts: x0-xdp serve started (1 while it lives; more: it died or hung and was started again).
    const blocks = {
      blocked_macs: this.blocked.size,
      block_failures: this.blockFailures,
      helper_starts: this.binding.sessionStarts,
    };
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

  /**
   * Blocks the revoked nodes' MACs not blocked yet, now: the composition root calls it when the gossip component
   * learned some (a newer revocation list, or a revoked node's MACs). A call during a round runs one more after it.
   */
  blockNow(): void {
    if (!this.running) return; // start() blocks everything wanted once attached
    if (this.blocking) {
      this.blockAgain = true;
      return;
    }
    this.blocking = true;
    void this.blockRounds().finally(() => {
      this.blocking = false;
    });
  }

  /** Rounds of at most blocksPerCheckMax blocks until nothing wanted is left undone (or only refused ones). */
  private async blockRounds(): Promise<void> {
    // Bounded: each round either blocks a MAC or defers it by blockRetryMs, and ctx.revokedMacs is bounded.
    for (let round = 0; round <= revokedMacsMax; round++) {
      this.blockAgain = false;
      const left = await this.blockWanted();
      if (this.stopped || (!this.blockAgain && left === 0)) return;
    }
  }

  /** One round: the wanted MACs not blocked yet, in one run of the helper (each run costs a process start and the
   * pin lock: seconds on a starved router), each logged with the node it belongs to; how many more are wanted now.
   * A refused run is tried again after blockRetryMs. */
  private async blockWanted(): Promise<number> {
    const now = this.ctx.platform.monotonicMs();
    const due = [...this.ctx.revokedMacs].filter(
      ([mac]) => !this.blocked.has(mac) && (this.retryAtMs.get(mac) ?? 0) <= now,
    );
    const wanted = due.slice(0, blockMacsMax);
    if (wanted.length === 0) return 0;
    const r = await this.binding.block(
      wanted.map(([mac]) => mac),
      'revoked',
      null,
    );
    const tookMs = Math.round(this.ctx.platform.monotonicMs() - now);
    if (this.stopped) return 0;
    for (const [mac, node] of wanted) {
      if (r.ok) {
        this.blocked.set(mac, node);
        this.retryAtMs.delete(mac);
        this.ctx.journal.record('warn', this.name, 'blocked', { node, mac, reason: 'revoked', took_ms: tookMs });
      } else {
        this.blockFailures++;
        this.retryAtMs.set(mac, now + blockRetryMs);
        this.ctx.journal.record('warn', this.name, 'block-failed', { node, mac, reason: r.reason });
      }
    }
    if (!r.ok) this.retryLater();
    return due.length - wanted.length;
  }

  private retryLater(): void {
    if (this.retryTimer !== null || this.stopped) return;
    this.retryTimer = this.ctx.platform.setTimer(blockRetryMs, () => {
      this.retryTimer = null;
      this.blockNow();
    });
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
