import { spawn } from 'node:child_process';
import type { ExecOptions, ExecResult } from '../types.js';

const defaultMaxOutputBytes = 1 << 20;

class BoundedSink {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    const room = this.maxBytes - this.size;
    if (chunk.length > room) this.truncated = true;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  bytes(): Uint8Array {
    const all = Buffer.concat(this.chunks);
    return new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
  }
}

// Runs argv[0] directly (no shell), with stdin fed, output captured up to a cap, and a kill on timeout.
export function createNodeExec() {
  return (argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> =>
    new Promise((resolve) => {
      const maxBytes = options.maxOutputBytes ?? defaultMaxOutputBytes;
      const stdout = new BoundedSink(maxBytes);
      const stderr = new BoundedSink(maxBytes);
      let timedOut = false;
      const child = spawn(argv[0] ?? '', argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, options.timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.stdin.on('error', () => { /* the child may exit without reading its stdin */ });
      const finish = (code: number | null, spawnError?: Error) => {
        if (timer !== undefined) clearTimeout(timer);
        if (spawnError !== undefined) stderr.push(Buffer.from(`${spawnError.message}\n`));
        resolve({ code: timedOut ? null : code, stdout: stdout.bytes(), stderr: stderr.bytes(), timedOut, truncated: stdout.truncated || stderr.truncated });
      };
      child.on('error', (error) => finish(127, error));
      child.on('close', (code) => finish(code));
      if (options.stdin !== undefined) child.stdin.end(options.stdin);
      else child.stdin.end();
    });
}
