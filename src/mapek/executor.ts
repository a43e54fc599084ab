// The Execute step of MAPE-K: each action the core decides (src/core/mapek/types.ts) carried out through the part
// that owns the thing, then checked: a result is ok only when a read-back shows the change took effect.
//   link-down / link-up   batman-adv: `batctl meshif M interface del -M IF` / `add IF` (why this and not a
//                         hop penalty: docs/mapek.md, "Actions"); the primary interface is refused.
//   retune / restore      batman-adv settings: per hard interface (hop_penalty, elp_interval, throughput_override)
//                         or mesh-wide (orig_interval); the values before are kept and put back by restore-tuning.
//   rate-limit / isolate / lift   XDP through x0-xdp (src/xdp/binding.ts).
//   transfer-leadership   the Raft server (src/raft/server.ts transferLeadershipAway).
//   restart-component     the agent's supervisor (the same path as ubus `restart`).
//   bounce-interface      netifd over ubus (network.device set_state), else `ip link set down/up`.
import type { Action } from '../core/mapek/types.js';
import { fromUtf8 } from '../core/wire/hex.js';
import type { ExecResult, Platform } from '../platform/types.js';
import type { XdpBinding } from '../xdp/binding.js';

export interface ActionResult {
  readonly ok: boolean;
  /** Stable reason code when !ok ('batctl-failed', 'primary-interface', ...). */
  readonly reason: string | null;
  /** What was done and what the read-back showed, for the journal (one line). */
  readonly detail: string;
}

export interface ExecutorDeps {
  /** exec for batctl, x0-xdp, ubus, ip; files for sysfs (which interfaces batman-adv runs on: no process). */
  readonly platform: Pick<Platform, 'exec' | 'files'>;
  /** batman-adv's primary interface, from the agent's batctl reader (null: not known, then batctl is asked). */
  readonly primaryInterface: () => string | null;
  readonly batctl: string;
  readonly meshif: string;
  /** x0-xdp, when the xdp section is enabled. */
  readonly xdp: () => XdpBinding | null;
  /** The Raft server on an anchor. */
  readonly raft: () => { transferLeadershipAway(): { ok: boolean; reason: string | null; to: number | null } } | null;
  readonly restart: (name: string) => { ok: boolean; reason: string | null };
  readonly ubus: string;
  readonly ip: string;
}

/** batman-adv settings retune may change: per hard interface, or of the whole mesh interface. */
const hardifSettings = new Set(['hop_penalty', 'elp_interval', 'throughput_override']);
const meshifSettings = new Set(['orig_interval']);
/** batman-adv's own defaults, put back when the value before a retune is unknown (the agent restarted meanwhile). */
const batmanDefaults: Record<string, number> = { hop_penalty: 0, elp_interval: 500, orig_interval: 1000 };
const execTimeoutMs = 5_000;
const outputBytesMax = 64 * 1024;
const ifnamePattern = /^[A-Za-z0-9._-]{1,15}$/;
/** The XDP rate limit of rate-limit: per source, on batman-adv frames (ethertype 0x4305). */
const batmanEthertype = 0x4305;

export class Executor {
  /** Settings before each retune, by interface, to restore. */
  private readonly saved = new Map<string, Record<string, number>>();
  /** Interfaces whose restore waits until they are under the mesh interface again (link-up applies it). */
  private readonly restoreOnAdd = new Set<string>();
  /**
   * Interfaces this executor took out (or is taking out) of the mesh interface. A link-down that took longer than
   * the core's outcomeTimeoutMs (batctl on a starved CPU: 13 s seen in the lab) is retried while the first one is
   * still finishing; the retry then finds the interface out, which is what it wanted: ok, so the core records the
   * link as ours and its link-up puts it back (a failure here left the link out for good and opened the breaker).
   */
  private readonly outByUs = new Set<string>();

  constructor(private readonly deps: ExecutorDeps) {}

  async execute(action: Action): Promise<ActionResult> {
    try {
      switch (action.kind) {
        case 'link-down':
          return await this.linkDown(action.iface);
        case 'link-up':
          return await this.linkUp(action.iface);
        case 'retune':
          return await this.retune(action.iface, action.settings);
        case 'restore-tuning':
          return await this.restoreTuning(action.iface);
        case 'rate-limit':
          return await this.rateLimit(action.mac, action.pps);
        case 'isolate':
          return await this.isolate(action.mac);
        case 'lift':
          return await this.lift(action.mac);
        case 'transfer-leadership':
          return this.transfer();
        case 'restart-component':
          return this.restartComponent(action.name);
        case 'bounce-interface':
          return await this.bounce(action.iface);
      }
    } catch (error) {
      return fail('exec-error', error instanceof Error ? error.message : String(error));
    }
  }

  /** Is iface under the mesh interface? sysfs links each lower device: /sys/class/net/bat0/lower_eth1. */
  inMesh(iface: string): boolean {
    return this.deps.platform.files.exists(`/sys/class/net/${this.deps.meshif}/lower_${iface}`);
  }

  private async primary(): Promise<string | null> {
    const known = this.deps.primaryInterface();
    if (known !== null) return known;
    const o = await this.run([this.deps.batctl, 'meshif', this.deps.meshif, 'originators']);
    return o === null ? null : (/MainIF\/MAC:\s*([A-Za-z0-9._-]{1,15})\//.exec(o.out)?.[1] ?? null);
  }

  // One process (batctl) on the way: on a slow router every exec costs, and the outage lasts until it is done.
  private async linkDown(iface: string): Promise<ActionResult> {
    if (!ifnamePattern.test(iface)) return fail('bad-interface', iface);
    if (!this.inMesh(iface))
      return this.outByUs.has(iface)
        ? done(`${iface} already out of ${this.deps.meshif} (taken out by an earlier link-down)`)
        : fail('not-in-mesh', `${iface} is not under ${this.deps.meshif}`);
    // Taking the primary interface out changes this node's originator address: every node then has to learn it
    // anew (measured: 6.2 s of outage, worse than the reroute gains). A dummy primary interface avoids it.
    if ((await this.primary()) === iface)
      return fail(
        'primary-interface',
        `${iface} is batman-adv's primary interface; give ${this.deps.meshif} a dummy primary (docs/mapek.md)`,
      );
    this.outByUs.add(iface);
    const del = await this.run([this.deps.batctl, 'meshif', this.deps.meshif, 'interface', '-M', 'del', iface]);
    if (this.inMesh(iface)) {
      this.outByUs.delete(iface);
      return fail('batctl-failed', `${iface} still under ${this.deps.meshif}: ${del?.out.trim() || 'no answer'}`);
    }
    return done(`batctl meshif ${this.deps.meshif} interface -M del ${iface}: removed`);
  }

  private async linkUp(iface: string): Promise<ActionResult> {
    if (!ifnamePattern.test(iface)) return fail('bad-interface', iface);
    if (this.inMesh(iface)) return done(`${iface} already under ${this.deps.meshif}`);
    const add = await this.run([this.deps.batctl, 'meshif', this.deps.meshif, 'interface', 'add', iface]);
    if (!this.inMesh(iface))
      return fail('batctl-failed', `${iface} not back under ${this.deps.meshif}: ${add?.out.trim() || 'no answer'}`);
    this.outByUs.delete(iface);
    if (!this.restoreOnAdd.has(iface)) return done(`batctl meshif ${this.deps.meshif} interface add ${iface}: added`);
    this.restoreOnAdd.delete(iface);
    const restored = await this.restoreTuning(iface);
    return restored.ok
      ? done(`batctl meshif ${this.deps.meshif} interface add ${iface}: added; ${restored.detail}`)
      : fail(restored.reason ?? 'batctl-failed', `${iface} added, its settings not restored: ${restored.detail}`);
  }

  private settingArgv(iface: string, name: string): string[] | null {
    if (hardifSettings.has(name)) return [this.deps.batctl, 'hardif', iface, name];
    if (meshifSettings.has(name)) return [this.deps.batctl, 'meshif', this.deps.meshif, name];
    return null;
  }

  private async readSetting(iface: string, name: string): Promise<number | null> {
    const argv = this.settingArgv(iface, name);
    const r = argv === null ? null : await this.run(argv);
    const value = r === null || r.code !== 0 ? Number.NaN : Number.parseInt(r.out.trim(), 10);
    return Number.isSafeInteger(value) ? value : null;
  }

  private async writeSetting(iface: string, name: string, value: number): Promise<string | null> {
    const argv = this.settingArgv(iface, name);
    if (argv === null) return `unknown-setting:${name}`;
    await this.run([...argv, String(value)]);
    const now = await this.readSetting(iface, name);
    return now === value ? null : `${name} reads ${now} after setting ${value}`;
  }

  private async retune(iface: string, settings: Readonly<Record<string, number>>): Promise<ActionResult> {
    if (!ifnamePattern.test(iface)) return fail('bad-interface', iface);
    if (Object.keys(settings).some((name) => hardifSettings.has(name)) && !this.inMesh(iface))
      return fail('not-in-mesh', `${iface} is not under ${this.deps.meshif}: batctl cannot set its settings`);
    const saved = this.saved.get(iface) ?? {};
    const applied: string[] = [];
    for (const [name, value] of Object.entries(settings).slice(0, 8)) {
      if (this.settingArgv(iface, name) === null) return fail('unknown-setting', name);
      if (!(name in saved)) saved[name] = (await this.readSetting(iface, name)) ?? batmanDefaults[name] ?? 0;
      this.saved.set(iface, saved);
      const error = await this.writeSetting(iface, name, value);
      if (error !== null) return fail('batctl-failed', error);
      applied.push(`${name} ${saved[name]} -> ${value}`);
    }
    return done(`${iface}: ${applied.join(', ')}`);
  }

  private async restoreTuning(iface: string): Promise<ActionResult> {
    if (!ifnamePattern.test(iface)) return fail('bad-interface', iface);
    const saved = this.saved.get(iface);
    if (saved === undefined) return done(`${iface}: nothing retuned`);
    const restored: string[] = [];
    const perInterface = Object.keys(saved).some((name) => hardifSettings.has(name));
    if (perInterface && !this.inMesh(iface)) {
      // batctl reads and writes a hard interface's settings only while it is under the mesh interface; the
      // kernel keeps them while it is out. Put back by link-up, right after the interface is added again.
      this.restoreOnAdd.add(iface);
      return done(`${iface} is out of ${this.deps.meshif}: its settings are put back when it is added again`);
    }
    for (const [name, value] of Object.entries(saved)) {
      const error = await this.writeSetting(iface, name, value);
      if (error !== null) return fail('batctl-failed', error);
      restored.push(`${name} ${value}`);
    }
    this.saved.delete(iface);
    return done(`${iface}: restored ${restored.join(', ')}`);
  }

  private async rateLimit(mac: string, pps: number): Promise<ActionResult> {
    const xdp = this.deps.xdp();
    if (xdp === null) return fail('xdp-disabled', 'the xdp section is disabled: no rate limit possible');
    const rate = Math.max(1, Math.round(pps));
    const set = await xdp.setLimit({ match: 'ethertype', ethertype: batmanEthertype }, rate);
    if (!set.ok) return fail(`xdp-${set.reason}`, set.message);
    const rule = set.value.find((l) => l.match === 'ethertype' && l.ethertype === batmanEthertype);
    if (rule === undefined || rule.ratePps !== rate) return fail('xdp-not-applied', 'x0-xdp limit show lacks the rule');
    return done(`x0-xdp limit set ethertype 0x4305 --rate ${rate} (per source; ${mac} is the one over it)`);
  }

  private async isolate(mac: string): Promise<ActionResult> {
    const xdp = this.deps.xdp();
    if (xdp === null) return fail('xdp-disabled', 'the xdp section is disabled: cannot isolate');
    const r = await xdp.block(mac, 'mapek');
    if (!r.ok) return fail(`xdp-${r.reason}`, r.message);
    return done(`x0-xdp block ${mac} --reason mapek`);
  }

  private async lift(mac: string): Promise<ActionResult> {
    const xdp = this.deps.xdp();
    if (xdp === null) return fail('xdp-disabled', 'the xdp section is disabled: nothing to lift');
    const unblock = await xdp.unblock(mac);
    if (!unblock.ok) return fail(`xdp-${unblock.reason}`, unblock.message);
    const clear = await xdp.clearLimits({ match: 'ethertype', ethertype: batmanEthertype });
    if (!clear.ok) return fail(`xdp-${clear.reason}`, clear.message);
    return done(`x0-xdp unblock ${mac} (was blocked: ${unblock.value.wasBlocked}); limit on 0x4305 cleared`);
  }

  private transfer(): ActionResult {
    const raft = this.deps.raft();
    if (raft === null) return fail('not-an-anchor', 'no Raft server on this node');
    const r = raft.transferLeadershipAway();
    return r.ok ? done(`Raft leadership transfer to voter ${r.to} started`) : fail(r.reason ?? 'transfer-failed', '');
  }

  private restartComponent(name: string): ActionResult {
    const r = this.deps.restart(name);
    return r.ok ? done(`component ${name} restarted`) : fail(r.reason ?? 'restart-failed', name);
  }

  private async bounce(iface: string): Promise<ActionResult> {
    if (!ifnamePattern.test(iface)) return fail('bad-interface', iface);
    // netifd owns interfaces on OpenWrt: set_state defer true/false takes the device down and up again.
    const viaNetifd = async (defer: boolean): Promise<boolean> =>
      (await this.run([this.deps.ubus, 'call', 'network.device', 'set_state', JSON.stringify({ name: iface, defer })]))
        ?.code === 0;
    if ((await viaNetifd(true)) && (await viaNetifd(false)))
      return this.checkUp(iface, 'netifd network.device set_state');
    const down = await this.run([this.deps.ip, 'link', 'set', 'dev', iface, 'down']);
    const upAgain = await this.run([this.deps.ip, 'link', 'set', 'dev', iface, 'up']);
    if (down?.code !== 0 || upAgain?.code !== 0)
      return fail('ip-link-failed', `${down?.out.trim() ?? ''} ${upAgain?.out.trim() ?? ''}`.trim());
    return this.checkUp(iface, 'ip link set down/up (no netifd)');
  }

  private async checkUp(iface: string, how: string): Promise<ActionResult> {
    const r = await this.run([this.deps.ip, 'link', 'show', 'dev', iface]);
    return r !== null && r.code === 0 && /[<,]UP[,>]/.test(r.out)
      ? done(`${iface} bounced (${how}), up again`)
      : fail('not-up-after-bounce', `${iface} after ${how}: ${r?.out.trim() ?? 'no answer'}`);
  }

  private async run(argv: readonly string[]): Promise<{ code: number; out: string } | null> {
    let r: ExecResult;
    try {
      r = await this.deps.platform.exec(argv, { timeoutMs: execTimeoutMs, maxOutputBytes: outputBytesMax });
    } catch {
      return null;
    }
    return { code: r.code ?? -1, out: `${fromUtf8(r.stdout)}${fromUtf8(r.stderr)}` };
  }
}

const done = (detail: string): ActionResult => ({ ok: true, reason: null, detail });
const fail = (reason: string, detail: string): ActionResult => ({ ok: false, reason, detail });
