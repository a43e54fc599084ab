import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Child, ChildHandlers } from '../types.js';

/** PIPE_BUF: a write up to this size is atomic (the same bound as the router's platform). */
const writeBytesMax = 4096;

// A long-running child: stdin and stdout piped, stderr discarded (Platform.spawn).
export function nodeSpawn(argv: readonly string[], handlers: ChildHandlers): Child {
  let exited = false;
  const exit = (code: number | null) => {
    if (exited) return;
    exited = true;
    handlers.onExit(code);
  };
  const child = spawn(argv[0] ?? '', argv.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
  child.stdout.on('data', (chunk: Buffer) =>
    handlers.onStdout(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)),
  );
  child.stdin.on('error', () => {
    /* the child is gone: its exit comes by 'close' */
  });
  child.on('error', () => exit(127));
  child.on('close', (code) => exit(code));
  // A child kept running does not keep Node running by itself (a request waiting for it has a timer that does);
  // when Node exits the child reads the end of its stdin and exits too.
  child.unref();
  // Piped stdio are sockets (net.Socket), though typed as plain streams.
  (child.stdin as unknown as Socket).unref();
  (child.stdout as unknown as Socket).unref();
  return {
    write(text: string): boolean {
      if (exited || !child.stdin.writable || Buffer.byteLength(text) > writeBytesMax) return false;
      child.stdin.write(text);
      return true;
    },
    kill(): void {
      if (exited) return;
      child.kill('SIGKILL'); // the signal first, as on qjs: stdin's end could let the child exit by itself
      child.stdin.destroy();
    },
  };
}
