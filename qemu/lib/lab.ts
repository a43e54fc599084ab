// A lab: N virtual routers, the mesh links of a topology (one QEMU UDP socket netdev pair per link on
// 127.0.0.1), boot, control, link cuts, log collection and teardown.
import dgram from 'node:dgram';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bestRoute, parseOriginators, parsePrimaryMac, type Originator } from '../../src/batman/tables.js';
import { limits } from './limits.js';
import { edgeName, type Edge } from './topology.js';
import { delay, meshMac, Vm, type ExecResult, type MeshNic } from './vm.js';

export interface LabOptions {
  readonly name: string; // folder under build/lab/
  readonly edges: readonly Edge[];
  readonly nodes: number;
  readonly memMb: number;
  readonly image: { kernel: string; initrd: string };
  readonly qemu: string;
  readonly uplinkPort: number | null;
  readonly log: (line: string) => void;
  /** Nodes booted as AArch64 routers from their own image and emulator (qemu/build-image-arm64.sh); the rest are x86-64. */
  readonly aarch64?: AArch64Nodes;
}

export interface AArch64Nodes {
  readonly nodes: readonly number[];
  readonly image: { kernel: string; initrd: string };
  readonly qemu: string; // qemu-system-aarch64
}

export interface Link {
  readonly index: number;
  readonly edge: Edge;
  readonly name: string; // "1-2"
  readonly nicA: MeshNic; // on node edge[0]
  readonly nicB: MeshNic; // on node edge[1]
  up: boolean;
}

export interface Impairment {
  readonly delayMs: number;
  readonly lossPercent: number;
}

function assertImpairment(i: Impairment): void {
  if (!Number.isFinite(i.delayMs) || i.delayMs < 0 || i.delayMs > limits.impairDelayMsMax)
    throw new Error(`delay must be 0..${limits.impairDelayMsMax} ms`);
  if (!Number.isFinite(i.lossPercent) || i.lossPercent < 0 || i.lossPercent > 100)
    throw new Error('loss must be 0..100 %');
}

/** A guest shell snippet printing the name of the interface with this MAC. */
/** Shell that prints the name of the guest interface with this MAC. */
export function nicByMac(mac: string): string {
  return `grep -l ${mac} /sys/class/net/*/address | cut -d/ -f5`;
}

const live = new Set<Lab>();
let exitHooked = false;

/** Every lab still running when the process ends is killed: no VM outlives the runner. */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const lab of live) lab.killNow();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      for (const lab of live) lab.killNow();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

export class Lab {
  readonly options: LabOptions;
  readonly dir: string;
  readonly vms: Vm[] = [];
  readonly links: Link[] = [];
  private readonly primary = new Map<number, string>();
  private readonly t0 = Date.now();

  constructor(options: LabOptions, rootDir: string) {
    this.options = options;
    this.dir = path.join(rootDir, options.name);
  }

  log(line: string): void {
    this.options.log(`[${((Date.now() - this.t0) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  }

  vm(node: number): Vm {
    const vm = this.vms[node - 1];
    if (vm === undefined) throw new Error(`no node ${node} (the lab has ${this.vms.length})`);
    return vm;
  }

  link(a: number, b: number): Link {
    const [x, y] = a < b ? [a, b] : [b, a];
    const link = this.links.find((l) => l.edge[0] === x && l.edge[1] === y);
    if (link === undefined) throw new Error(`no link ${x}-${y} in this topology`);
    return link;
  }

  /** MAC of node's NIC on the link to peer. */
  macOn(node: number, peer: number): string {
    const link = this.link(node, peer);
    return link.edge[0] === node ? link.nicA.mac : link.nicB.mac;
  }

  /** The node that owns a mesh NIC's MAC, or null. */
  macOwner(mac: string): number | null {
    for (const l of this.links) {
      if (l.nicA.mac === mac) return l.edge[0];
      if (l.nicB.mac === mac) return l.edge[1];
    }
    return null;
  }

  /** Boots every VM in parallel; resolves when all said "ready". */
  async start(): Promise<void> {
    hookExit();
    live.add(this);
    mkdirSync(this.dir, { recursive: true });
    const ports = await freeUdpPorts(this.options.edges.length * 2);
    const nicsOf = new Map<number, MeshNic[]>();
    this.options.edges.forEach((edge, index) => {
      const [a, b] = edge;
      const portA = ports[index * 2]!;
      const portB = ports[index * 2 + 1]!;
      const id = `l${index}`;
      const nicA: MeshNic = { netdevId: id, mac: meshMac(a, index), localPort: portA, remotePort: portB, peer: b };
      const nicB: MeshNic = { netdevId: id, mac: meshMac(b, index), localPort: portB, remotePort: portA, peer: a };
      this.links.push({ index, edge, name: edgeName(edge), nicA, nicB, up: true });
      nicsOf.set(a, [...(nicsOf.get(a) ?? []), nicA]);
      nicsOf.set(b, [...(nicsOf.get(b) ?? []), nicB]);
    });
    const arm = this.options.aarch64;
    for (let node = 1; node <= this.options.nodes; node++) {
      const aarch64 = arm?.nodes.includes(node) === true;
      const image = aarch64 && arm !== undefined ? arm.image : this.options.image;
      this.vms.push(
        new Vm({
          node,
          arch: aarch64 ? 'aarch64' : 'x86_64',
          dir: path.join(this.dir, `node-${node}`),
          kernel: image.kernel,
          initrd: image.initrd,
          memMb: this.options.memMb,
          nics: nicsOf.get(node) ?? [],
          uplinkPort: this.options.uplinkPort,
        }),
      );
    }
    this.log(
      `booting ${this.options.nodes} VMs (${this.options.memMb} MB, 1 vCPU, TCG${arm === undefined ? '' : `; aarch64: node ${arm.nodes.join(', ')}`}), links ${this.links.map((l) => l.name).join(' ') || '(none)'}`,
    );
    await Promise.all(
      this.vms.map(async (vm) => {
        await vm.boot(vm.config.arch === 'aarch64' && arm !== undefined ? arm.qemu : this.options.qemu);
        this.log(
          `node ${vm.node}${vm.config.arch === 'aarch64' ? ' (aarch64)' : ''} ready: boot ${vm.bootMs} ms (guest uptime ${vm.guestUptimeAtReadyS.toFixed(2)} s), qemu RSS ${Math.round(vm.hostRssKb() / 1024)} MB`,
        );
      }),
    );
    for (const vm of this.vms) {
      const r = await vm.exec('batctl meshif bat0 originators');
      const mac = parsePrimaryMac(r.out);
      if (mac !== null) this.primary.set(vm.node, mac);
    }
  }

  /** The node's originator address (its primary hard interface's MAC). */
  primaryMac(node: number): string {
    const mac = this.primary.get(node);
    if (mac === undefined) throw new Error(`node ${node}: batman-adv has no primary interface (no mesh link?)`);
    return mac;
  }

  async exec(node: number, command: string, timeoutMs?: number): Promise<ExecResult> {
    return this.vm(node).exec(command, timeoutMs);
  }

  async originators(node: number): Promise<Originator[]> {
    const r = await this.exec(node, 'batctl meshif bat0 originators -H');
    return r.rc === 0 ? parseOriginators(r.out) : [];
  }

  async route(from: number, to: number): Promise<Originator | null> {
    return bestRoute(await this.originators(from), this.primaryMac(to));
  }

  /** Nodes each node lacks as an originator with a route (empty when everyone sees everyone). */
  async missingOriginators(): Promise<Map<number, number[]>> {
    const missing = new Map<number, number[]>();
    for (const vm of this.vms) {
      const seen = new Set((await this.originators(vm.node)).filter((o) => o.best).map((o) => o.originator));
      const lack = this.vms.filter((o) => o.node !== vm.node && !seen.has(this.primaryMac(o.node))).map((o) => o.node);
      if (lack.length > 0) missing.set(vm.node, lack);
    }
    return missing;
  }

  /** Cuts a link while the VMs run: QEMU drops every frame on it, both ways (set_link off on node A's end). */
  async cut(a: number, b: number): Promise<void> {
    const link = this.link(a, b);
    await this.vm(link.edge[0]).setLink(link.nicA.netdevId, false);
    link.up = false;
    this.log(`link ${link.name} cut`);
  }

  async restore(a: number, b: number): Promise<void> {
    const link = this.link(a, b);
    await this.vm(link.edge[0]).setLink(link.nicA.netdevId, true);
    link.up = true;
    this.log(`link ${link.name} restored`);
  }

  /**
   * Delay and loss on a link, each direction: netem on both ends' mesh NICs, inside the guests (QEMU's socket
   * netdevs have no such knob). Replaces any earlier impairment of the link.
   */
  async impair(a: number, b: number, impairment: Impairment): Promise<void> {
    await this.impairLinks([[a, b]], impairment);
  }

  /**
   * The same impairment on several links at once: one command per guest, all guests in parallel, so the links
   * degrade within one command's round trip of each other (one after another, a TCG guest's 0.3-1 s per command
   * left a leader's second link clean for a second or more). `ms`: how long it took on the host; `outputs`: what
   * each guest printed, `before` (one command, e.g. a clock read) run just before its tc commands.
   */
  async impairLinks(
    edges: ReadonlyArray<readonly [number, number]>,
    impairment: Impairment,
    before?: string,
  ): Promise<{ ms: number; outputs: Map<number, string> }> {
    assertImpairment(impairment);
    const netem = `delay ${impairment.delayMs}ms loss ${impairment.lossPercent}%`;
    const startMs = Date.now();
    const outputs = await this.onLinkEnds(
      edges,
      (dev) => `/sbin/tc qdisc replace dev ${dev} root netem ${netem}`,
      true,
      before,
    );
    for (const [a, b] of edges) this.log(`link ${this.link(a, b).name} impaired: ${netem} (each direction)`);
    return { ms: Date.now() - startMs, outputs };
  }

  async clearImpairment(a: number, b: number): Promise<void> {
    await this.clearImpairments([[a, b]]);
  }

  async clearImpairments(edges: ReadonlyArray<readonly [number, number]>): Promise<void> {
    await this.onLinkEnds(edges, (dev) => `{ /sbin/tc qdisc del dev ${dev} root 2>/dev/null; true; }`, false);
    for (const [a, b] of edges) this.log(`link ${this.link(a, b).name} impairment cleared`);
  }

  /** Runs `before`, then `command(dev)` on both ends' NICs of every link: one exec per guest, the guests in parallel. */
  private async onLinkEnds(
    edges: ReadonlyArray<readonly [number, number]>,
    command: (dev: string) => string,
    check: boolean,
    before?: string,
  ): Promise<Map<number, string>> {
    // Each guest first finds its NICs by MAC (a process or two each on a TCG guest), then runs `before` and the
    // commands back to back.
    const byNode = new Map<number, { find: string[]; run: string[] }>();
    for (const [a, b] of edges) {
      const link = this.link(a, b);
      for (const [node, nic] of [
        [link.edge[0], link.nicA],
        [link.edge[1], link.nicB],
      ] as const) {
        const mine = byNode.get(node) ?? { find: [], run: [] };
        const dev = `n${mine.find.length}`;
        mine.find.push(`${dev}=$(${nicByMac(nic.mac)})`);
        mine.run.push(command(`"$${dev}"`));
        byNode.set(node, mine);
      }
    }
    const outputs = new Map<number, string>();
    await Promise.all(
      [...byNode].map(async ([node, { find, run }]) => {
        const r = await this.exec(node, [...find, ...(before === undefined ? [] : [before]), ...run].join(' && '));
        if (check && r.rc !== 0)
          throw new Error(
            `node ${node}: tc netem on ${edges.map((e) => e.join('-')).join(', ')} failed: ${r.out.trim()}`,
          );
        outputs.set(node, r.out);
      }),
    );
    return outputs;
  }

  /** Polls check() until it returns a value that is not null/false; returns it and the time it took. */
  async waitFor<T>(
    what: string,
    check: () => Promise<T | null | false>,
    timeoutMs: number,
  ): Promise<{ value: T; ms: number }> {
    const start = Date.now();
    for (;;) {
      const value = await check();
      if (value !== null && value !== false) return { value, ms: Date.now() - start };
      if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await delay(limits.pollIntervalMs);
    }
  }

  /** Copies each VM's console log and its /var/log/x0/*.log and dmesg into build/lab/NAME/node-N/. */
  async collectLogs(): Promise<void> {
    for (const vm of this.vms) {
      const dir = vm.config.dir;
      const logs = await vm.exec(
        'for f in /var/log/x0/*.log; do [ -f "$f" ] && { echo "==> $f"; cat "$f"; }; done; true',
        10_000,
      );
      if (logs.rc === 0) writeFileSync(path.join(dir, 'agent.log'), logs.out);
      const dmesg = await vm.exec('dmesg', 10_000);
      if (dmesg.rc === 0) writeFileSync(path.join(dir, 'dmesg.txt'), dmesg.out);
      if (existsSync(vm.consoleLog)) copyFileSync(vm.consoleLog, path.join(dir, 'console.txt'));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.vms.map((vm) => vm.stop()));
    live.delete(this);
  }

  killNow(): void {
    for (const vm of this.vms) vm.killNow();
  }
}

/** Asks the kernel for free UDP ports on 127.0.0.1 (bound all at once, so they are distinct), then frees them. */
async function freeUdpPorts(count: number): Promise<number[]> {
  const sockets = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<dgram.Socket>((resolve, reject) => {
          const s = dgram.createSocket('udp4');
          s.once('error', reject);
          s.bind(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = sockets.map((s) => s.address().port);
  await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}
