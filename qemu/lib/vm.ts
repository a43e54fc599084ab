// One virtual router: a QEMU process (TCG), its control channel (virtio-serial port "x0.ctl", see
// qemu/guest/x0-lab-control), its QMP monitor (to cut and restore links) and its serial console (logged to a
// file, attachable through a Unix socket).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { limits } from './limits.js';

export interface MeshNic {
  readonly netdevId: string; // QEMU netdev id, e.g. "l3" for edge 3
  readonly mac: string;
  readonly localPort: number;
  readonly remotePort: number;
  readonly peer: number; // node number at the other end
}

export interface VmConfig {
  readonly node: number;
  readonly dir: string; // per-VM folder: sockets, console.log
  readonly kernel: string;
  readonly initrd: string;
  readonly memMb: number;
  readonly nics: readonly MeshNic[];
  readonly uplinkPort: number | null; // host loopback port the guest reaches at 10.0.2.100:1883
  /** The guest's CPU: x86_64 (the default: -M pc, qemu-system-x86_64) or aarch64 (-M virt -cpu cortex-a53). */
  readonly arch?: Arch;
}

export type Arch = 'x86_64' | 'aarch64';

export interface ExecResult {
  readonly rc: number;
  readonly out: string;
  readonly ms: number;
}

const markerPrefix = '\x1eX0 ';

export function uplinkMac(node: number): string {
  return `52:54:00:ff:00:${hex2(node)}`;
}

export function meshMac(node: number, edge: number): string {
  return `52:54:00:${hex2(node)}:${hex2(edge)}:01`;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

export class Vm {
  readonly node: number;
  readonly config: VmConfig;
  process: ChildProcess | null = null;
  bootMs = -1;
  guestUptimeAtReadyS = -1;
  private server: net.Server | null = null;
  private control: net.Socket | null = null;
  private buffer = '';
  private output = '';
  private nextId = 1;
  private pending: { id: number; resolve: (r: { rc: number; out: string }) => void } | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readyResolve: ((uptime: number) => void) | null = null;
  private exitReason: string | null = null;
  private qmp: net.Socket | null = null;
  private qmpBuffer = '';
  private qmpWaiters: Array<(msg: Record<string, unknown>) => void> = [];

  constructor(config: VmConfig) {
    this.node = config.node;
    this.config = config;
  }

  get consoleSocket(): string {
    return path.join(this.config.dir, 'console.sock');
  }
  get consoleLog(): string {
    return path.join(this.config.dir, 'console.log');
  }
  private get controlSocket(): string {
    return path.join(this.config.dir, 'ctl.sock');
  }
  private get qmpSocket(): string {
    return path.join(this.config.dir, 'qmp.sock');
  }

  qemuArgs(): string[] {
    const c = this.config;
    const aarch64 = c.arch === 'aarch64';
    // AArch64 (qemu/build-image-arm64.sh): QEMU's virt board (PCIe host bridge for the same virtio-pci devices, a
    // PL011 serial port: ttyAMA0) with a Cortex-A53, the CPU of OpenWrt's aarch64_cortex-a53 routers. Its generic
    // timer follows the host's clock, so the x86 guest's timer workarounds below do not apply.
    const append = aarch64
      ? `console=ttyAMA0 quiet panic=-1 x0.node=${c.node} x0.nics=${c.nics.length + 1}`
      : `console=ttyS0 quiet panic=-1 no_timer_check clocksource=hpet x0.node=${c.node} x0.nics=${c.nics.length + 1}`;
    const args = [
      '-accel',
      `tcg,tb-size=${limits.tcgTranslationCacheMb}`,
      '-M',
      aarch64 ? 'virt' : 'pc',
      '-cpu',
      aarch64 ? 'cortex-a53' : 'qemu64',
      '-m',
      String(c.memMb),
      '-smp',
      '1',
      '-display',
      'none',
      '-nodefaults',
      '-no-user-config',
      '-no-reboot',
      '-kernel',
      c.kernel,
      '-initrd',
      c.initrd,
      // On a loaded host a TCG guest's boot-time checks go wrong: the timer-IRQ check can fail and panic the kernel
      // ("IO-APIC + timer doesn't work": no_timer_check), and the TSC calibration can be off by 20x ("Detected
      // 57980 MHz"), making the guest's clock run that much slow (batman-adv's OGM interval, the agent's timers and
      // its wall clock with it). clocksource=hpet keeps time by QEMU's HPET, which follows the host's clock.
      '-append',
      append,
      '-chardev',
      `socket,id=con,path=${this.consoleSocket},server=on,wait=off,logfile=${this.consoleLog}`,
      '-serial',
      'chardev:con',
      '-chardev',
      `socket,id=ctl,path=${this.controlSocket}`,
      '-device',
      'virtio-serial-pci',
      '-device',
      'virtserialport,chardev=ctl,name=x0.ctl',
      '-qmp',
      `unix:${this.qmpSocket},server=on,wait=off`,
    ];
    // The uplink: user-mode networking that reaches nothing (restrict=on) but one forward to the host's loopback.
    let user = 'user,id=up,restrict=on,net=10.0.2.0/24';
    if (c.uplinkPort !== null) {
      user += `,guestfwd=tcp:10.0.2.100:1883-cmd:${uplinkRelayCommand(c.uplinkPort)}`;
    }
    args.push('-netdev', user, '-device', `virtio-net-pci,netdev=up,mac=${uplinkMac(c.node)},romfile=`);
    for (const nic of c.nics) {
      args.push(
        '-netdev',
        `socket,id=${nic.netdevId},udp=127.0.0.1:${nic.remotePort},localaddr=127.0.0.1:${nic.localPort}`,
      );
      args.push('-device', `virtio-net-pci,netdev=${nic.netdevId},mac=${nic.mac},romfile=`);
    }
    return args;
  }

  /** Starts QEMU; resolves when the guest's control loop said "ready" (the network is configured). */
  async boot(qemuBinary: string): Promise<void> {
    rmSync(this.config.dir, { recursive: true, force: true });
    mkdirSync(this.config.dir, { recursive: true });
    const ready = new Promise<number>((resolve) => {
      this.readyResolve = resolve;
    });
    await this.listenControl();
    const startMs = Date.now();
    const child = spawn(qemuBinary, this.qemuArgs(), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    // For teardown scripts (test/qemu/run.sh): the pid, checked against the command line before a kill.
    if (child.pid !== undefined) writeFileSync(path.join(this.config.dir, 'qemu.pid'), `${child.pid}\n`);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.stdout?.on('data', () => {});
    const exited = new Promise<never>((_, reject) => {
      child.on('exit', (code, signal) => {
        this.exitReason = `qemu exited (code ${code}, signal ${signal})${stderr ? `: ${stderr.trim()}` : ''}`;
        this.failPending();
        reject(new Error(`node ${this.node}: ${this.exitReason}`));
      });
      child.on('error', (err) => reject(new Error(`node ${this.node}: cannot start ${qemuBinary}: ${err.message}`)));
    });
    exited.catch(() => {});
    const timeout = delay(limits.bootTimeoutMs).then(() => {
      throw new Error(
        `node ${this.node}: no "ready" from the guest within ${limits.bootTimeoutMs} ms (see ${this.consoleLog})`,
      );
    });
    const uptime = await Promise.race([ready, exited, timeout]);
    this.bootMs = Date.now() - startMs;
    this.guestUptimeAtReadyS = uptime;
  }

  private listenControl(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => {
        if (this.control !== null) {
          socket.destroy();
          return;
        }
        this.control = socket;
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => this.onControlData(chunk));
        socket.on('close', () => {
          this.control = null;
          this.failPending();
        });
        socket.on('error', () => {});
      });
      server.on('error', reject);
      server.listen(this.controlSocket, () => resolve());
      this.server = server;
    });
  }

  private onControlData(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const nl = this.buffer.indexOf('\n');
      if (nl < 0) break;
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      this.onLine(line);
    }
    if (this.buffer.length > limits.execOutputBytesMax) this.buffer = this.buffer.slice(-limits.execOutputBytesMax);
  }

  private onLine(line: string): void {
    const at = line.indexOf(markerPrefix);
    if (at < 0) {
      if (this.output.length < limits.execOutputBytesMax) this.output += line + '\n';
      return;
    }
    if (at > 0 && this.output.length < limits.execOutputBytesMax) this.output += line.slice(0, at); // no newline before the marker
    const [id, value] = line.slice(at + markerPrefix.length).split(' ');
    if (id === 'ready') {
      this.output = '';
      this.readyResolve?.(Number(value));
      return;
    }
    if (this.pending !== null && Number(id) === this.pending.id) {
      const pending = this.pending;
      this.pending = null;
      const out = this.output;
      this.output = '';
      pending.resolve({ rc: Number(value), out });
    }
  }

  private failPending(): void {
    if (this.pending === null) return;
    const pending = this.pending;
    this.pending = null;
    pending.resolve({ rc: 255, out: `control channel closed: ${this.exitReason ?? 'guest went away'}` });
  }

  /** Runs one shell command in the guest (one at a time per VM); output is stdout and stderr together. */
  exec(command: string, timeoutMs: number = limits.execTimeoutMs): Promise<ExecResult> {
    if (command.includes('\n')) throw new Error('exec: the command must be one line');
    const run = async (): Promise<ExecResult> => {
      if (this.control === null)
        return { rc: 255, out: `node ${this.node}: no control channel (${this.exitReason ?? 'not booted'})`, ms: 0 };
      const id = this.nextId++;
      const startMs = Date.now();
      this.output = '';
      const done = new Promise<{ rc: number; out: string }>((resolve) => {
        this.pending = { id, resolve };
      });
      // The guest kills the command after its own timeout; the host waits a little longer for the answer.
      this.control.write(`${id} ${Math.max(1, Math.ceil(timeoutMs / 1000))} ${command}\n`);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<{ rc: number; out: string }>((resolve) => {
        timer = setTimeout(
          () => resolve({ rc: 124, out: `node ${this.node}: no answer to '${command}' within ${timeoutMs} ms` }),
          timeoutMs + limits.execAnswerGraceMs,
        );
      });
      const result = await Promise.race([done, timeout]);
      clearTimeout(timer);
      if (result.rc === 124 && this.pending?.id === id) {
        // The guest still runs it; the answer would be taken for the next command's: drop the channel's state.
        this.pending = null;
      }
      return { ...result, ms: Date.now() - startMs };
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => {});
    return next;
  }

  /**
   * Writes a file in the guest through the control channel (base64 in chunks: the channel carries one line per
   * command); the folder is created. Bounded by limits.putFileBytesMax.
   */
  async putFile(guestPath: string, data: Uint8Array | string, mode = '644'): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    if (bytes.length > limits.putFileBytesMax)
      throw new Error(`putFile ${guestPath}: ${bytes.length} bytes, more than ${limits.putFileBytesMax}`);
    if (!/^\/[\w./-]+$/.test(guestPath) || !/^[0-7]{3,4}$/.test(mode))
      throw new Error(`putFile: bad path '${guestPath}' or mode '${mode}'`);
    const tmp = `${guestPath}.part`;
    const dir = guestPath.slice(0, guestPath.lastIndexOf('/')) || '/';
    const begin = await this.exec(`mkdir -p ${dir} && : > ${tmp}`);
    if (begin.rc !== 0)
      throw new Error(`node ${this.node}: putFile ${guestPath}: ${begin.out.trim() || `rc ${begin.rc}`}`);
    const chunk = limits.putFileChunkBytes;
    for (let at = 0; at < bytes.length; at += chunk) {
      const r = await this.exec(`echo ${bytes.subarray(at, at + chunk).toString('base64')} | base64 -d >> ${tmp}`);
      if (r.rc !== 0) throw new Error(`node ${this.node}: putFile ${guestPath}: ${r.out.trim() || `rc ${r.rc}`}`);
    }
    const done = await this.exec(
      `[ "$(wc -c < ${tmp})" -eq ${bytes.length} ] && chmod ${mode} ${tmp} && mv ${tmp} ${guestPath}`,
    );
    if (done.rc !== 0)
      throw new Error(
        `node ${this.node}: putFile ${guestPath}: size or rename check failed (${done.out.trim() || `rc ${done.rc}`})`,
      );
  }

  /** Sends a QMP command and waits for its answer. */
  async qmpCommand(execute: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    if (this.qmp === null) await this.connectQmp();
    const answer = this.nextQmpAnswer();
    this.qmp!.write(JSON.stringify({ execute, arguments: args }) + '\n');
    const msg = await withTimeout(answer, limits.qmpTimeoutMs, `node ${this.node}: QMP ${execute} timed out`);
    if ('error' in msg) throw new Error(`node ${this.node}: QMP ${execute}: ${JSON.stringify(msg.error)}`);
    return msg;
  }

  /** set_link NETDEV up|down: QEMU drops every frame on that link, both ways, while it is down. */
  async setLink(netdevId: string, up: boolean): Promise<void> {
    await this.qmpCommand('set_link', { name: netdevId, up });
  }

  private nextQmpAnswer(): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.qmpWaiters.push(resolve));
  }

  private async connectQmp(): Promise<void> {
    const socket = net.createConnection(this.qmpSocket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    socket.on('data', (chunk: string) => {
      this.qmpBuffer += chunk;
      for (;;) {
        const nl = this.qmpBuffer.indexOf('\n');
        if (nl < 0) break;
        const msg = JSON.parse(this.qmpBuffer.slice(0, nl)) as Record<string, unknown>;
        this.qmpBuffer = this.qmpBuffer.slice(nl + 1);
        if ('return' in msg || 'error' in msg) this.qmpWaiters.shift()?.(msg);
      }
    });
    this.qmp = socket;
    await new Promise<void>((resolve) => {
      socket.once('data', () => resolve());
    }); // the greeting
    const answer = this.nextQmpAnswer();
    socket.write('{"execute":"qmp_capabilities"}\n');
    await withTimeout(answer, limits.qmpTimeoutMs, `node ${this.node}: QMP handshake timed out`);
  }

  /** QEMU's resident memory on the host, in KiB (from /proc). */
  hostRssKb(): number {
    const pid = this.process?.pid;
    if (pid === undefined) return -1;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Number(m[1]) : -1;
    } catch {
      return -1;
    }
  }

  /** Ends QEMU: SIGTERM, then SIGKILL after a grace period. Safe to call twice. */
  async stop(): Promise<void> {
    this.qmp?.destroy();
    this.control?.destroy();
    this.server?.close();
    const child = this.process;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(timer);
  }

  killNow(): void {
    const child = this.process;
    if (child !== null && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/**
 * The guest's 10.0.2.100:1883 is forwarded, one process per connection, to the host's 127.0.0.1:PORT. bash's
 * /dev/tcp needs no extra package. QEMU splits options at commas, so the command has none.
 */
function uplinkRelayCommand(port: number): string {
  return `bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port} && { cat <&3 & cat >&3; }'`;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
