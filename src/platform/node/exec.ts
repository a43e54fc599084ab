import { spawn } from 'node:child_process';
import type { ExecOptions, ExecResult } from '../types.js';
import { BoundedSink } from '../bounded-sink.js';

const defaultMaxOutputBytes = 1 << 20;

// Runs argv[0] directly (no shell), with stdin fed, output captured up to a cap, and a kill on timeout.
export function createNodeExec() {
  return (argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> =>
    new Promise((resolve) => {
      const maxBytes = options.maxOutputBytes ?? defaultMaxOutputBytes;
      const stdout = new BoundedSink(maxBytes);
      const stderr = new BoundedSink(maxBytes);
      let timedOut = false;
      const child = spawn(argv[0] ?? '', argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              child.kill('SIGKILL');
            }, options.timeoutMs);
      child.stdout.on('data', (chunk: Buffer) =>
        stdout.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)),
      );
      child.stderr.on('data', (chunk: Buffer) =>
        stderr.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)),
      );
      child.stdin.on('error', () => {
        /* the child may exit without reading its stdin */
      });
      const finish = (code: number | null, spawnError?: Error) => {
        if (timer !== undefined) clearTimeout(timer);
        if (spawnError !== undefined) stderr.push(new TextEncoder().encode(`${spawnError.message}\n`));
        resolve({
          code: timedOut ? null : code,
          stdout: stdout.bytes(),
          stderr: stderr.bytes(),
          timedOut,
          truncated: stdout.truncated || stderr.truncated,
        });
      };
      child.on('error', (error) => finish(127, error));
      child.on('close', (code) => finish(code));
      if (options.stdin !== undefined) child.stdin.end(options.stdin);
      else child.stdin.end();
    });
}
