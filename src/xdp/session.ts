// One x0-xdp kept running (`x0-xdp --json serve`), asked one command per line: the binding's way to the helper
// where the platform can spawn. A process per command cost the agent seconds on a starved router (the lab's
// guests: 0.7-2.2 s per run against ~0.1 s idle), which made floods late and revocations slow (docs/xdp.md).
// One request is in flight at a time (the helper answers in order); others wait in a bounded queue. The helper
// is started on the first request and again after it died; a helper that does not say it serves (an older
// one: its first line is a usage error) makes the session `unsupported` and the binding runs a process per
// command as before. Pure of the helper's JSON: an answer line is handed back as text.
import type { Child, Platform } from '../platform/types.js';
import { helperOutputBytesMax, sessionLineBytesMax, sessionQueueMax } from './limits.js';
import type { XdpReason } from './types.js';

/** A line, or why none: an XdpReason, or 'unsupported' (the helper does not serve: run the command the old way). */
export type SessionAnswer =
  | { readonly ok: true; readonly line: string }
  | { readonly ok: false; readonly reason: XdpReason | 'unsupported'; readonly message: string };

interface Request {
  readonly line: string;
  readonly timeoutMs: number;
  readonly resolve: (answer: SessionAnswer) => void;
}

type State = 'idle' | 'starting' | 'ready';

export class HelperSession {
  /** Helpers started (the first, and one after each death). */
  starts = 0;
  /** The helper did not answer `serve` with its first line: requests answer 'unsupported' from now on. */
  unsupported = false;

  private state: State = 'idle';
  private child: Child | null = null;
  private readonly queue: Request[] = [];
  private inFlight: Request | null = null;
  private timer: ReturnType<Platform['setTimer']> | null = null;
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly platform: Pick<Platform, 'spawn' | 'setTimer' | 'clearTimer'>,
    private readonly argv: readonly string[],
  ) {}

  /** Asks one command line (no newline; bounded by the caller's validation and sessionLineBytesMax). */
  request(line: string, timeoutMs: number): Promise<SessionAnswer> {
    if (this.unsupported || this.platform.spawn === undefined)
      return Promise.resolve({ ok: false, reason: 'unsupported', message: 'x0-xdp serve is not available' });
    if (line.length > sessionLineBytesMax || /[\n\r\0]/.test(line))
      return Promise.resolve({ ok: false, reason: 'usage', message: 'a command line for x0-xdp serve is one line' });
    if (this.queue.length >= sessionQueueMax)
      return Promise.resolve({
        ok: false,
        reason: 'helper-busy',
        message: `${sessionQueueMax} x0-xdp requests already wait; this one was not sent`,
      });
    return new Promise((resolve) => {
      this.queue.push({ line, timeoutMs, resolve });
      this.next();
    });
  }

  /** Ends the helper (it would end by itself when our end of its stdin closes); waiting requests fail. */
  close(): void {
    this.end('helper-killed', 'the x0-xdp session was closed', true);
  }

  private next(): void {
    if (this.inFlight !== null || this.queue.length === 0) return;
    if (this.state === 'idle') return this.start();
    if (this.state === 'starting') return;
    const request = this.queue.shift()!;
    this.inFlight = request;
    this.timer = this.platform.setTimer(request.timeoutMs, () =>
      this.end('helper-timeout', `x0-xdp serve did not answer '${request.line.split(' ')[0]}' in time`),
    );
    if (!this.child!.write(`${request.line}\n`)) this.end('helper-killed', 'x0-xdp serve stopped reading');
  }

  private start(): void {
    const spawn = this.platform.spawn!;
    this.state = 'starting';
    this.starts++;
    const child = spawn(this.argv, {
      onStdout: (chunk) => {
        if (this.child === child) this.take(chunk);
      },
      onExit: (code) => {
        if (this.child !== child) return;
        if (this.state === 'starting') return this.refuse(`x0-xdp exited (${String(code)}) before it served`);
        this.end('helper-killed', `x0-xdp serve exited (${String(code)})`);
      },
    });
    this.child = child;
    // The first line must come in time too: the timer of the request that started it.
    const first = this.queue[0]!;
    this.timer = this.platform.setTimer(first.timeoutMs, () =>
      this.end('helper-timeout', 'x0-xdp serve did not start in time'),
    );
  }

  private take(chunk: Uint8Array): void {
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== 0x0a) continue;
      this.chunks.push(chunk.subarray(from, i));
      from = i + 1;
      const line = this.joined();
      this.answer(line);
      if (this.child === null) return; // the answer ended the session
    }
    if (from < chunk.length) {
      this.chunks.push(chunk.slice(from));
      this.buffered += chunk.length - from;
      if (this.buffered > helperOutputBytesMax)
        this.end('helper-output-truncated', `x0-xdp serve wrote more than ${helperOutputBytesMax} bytes in one line`);
    }
  }

  private joined(): string {
    const parts = this.chunks;
    this.chunks = [];
    this.buffered = 0;
    if (parts.length === 1) return this.decoder.decode(parts[0]);
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return this.decoder.decode(all);
  }

  private answer(line: string): void {
    this.stopTimer();
    if (this.state === 'starting') {
      if (!line.startsWith('{"ok":true,"command":"serve"')) return this.refuse(`x0-xdp does not serve: ${line}`);
      this.state = 'ready';
      return this.next();
    }
    const request = this.inFlight;
    this.inFlight = null;
    if (request === null) return this.end('helper-killed', 'x0-xdp serve answered what was not asked');
    request.resolve({ ok: true, line });
    this.next();
  }

  /** The helper is older than serve: every request now (and this one) goes the old way. */
  private refuse(message: string): void {
    this.unsupported = true;
    this.end('unsupported', message);
  }

  /**
   * Ends the helper: the request it was answering fails with the reason (while starting: the request that started
   * it); the others wait for the next helper, except when it cannot serve at all or the session was closed.
   */
  private end(reason: XdpReason | 'unsupported', message: string, all = false): void {
    this.stopTimer();
    const child = this.child;
    const starting = this.state === 'starting';
    this.child = null;
    this.state = 'idle';
    this.chunks = [];
    this.buffered = 0;
    child?.kill();
    const victim = this.inFlight ?? (starting ? (this.queue.shift() ?? null) : null);
    this.inFlight = null;
    const failed = [...(victim === null ? [] : [victim]), ...(all || this.unsupported ? this.queue.splice(0) : [])];
    for (const r of failed) r.resolve({ ok: false, reason, message });
    this.next();
  }

  private stopTimer(): void {
    if (this.timer !== null) this.platform.clearTimer(this.timer);
    this.timer = null;
  }
}
