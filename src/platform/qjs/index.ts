// The router's platform: QuickJS-ng on x0-runtime. Clocks and timers from qjs:os, crypto from x0:crypto,
// sockets from x0:net, files from qjs:os + x0:fs, processes from os.exec (run once, or kept running). Same interface as the Node twin.
import * as os from 'qjs:os';
import * as std from 'qjs:std';
import { createNativeCrypto } from '../../crypto/native.js';
import { createConsoleLogger } from '../logger.js';
import type { Crypto, Platform, TimerHandle } from '../types.js';
import { qjsExec } from './exec.js';
import { qjsFiles } from './files.js';
import { qjsSpawn } from './spawn.js';
import { createQjsNet } from './net.js';

export interface QjsPlatformOptions {
  /** Override the crypto backend (e.g. tweetnacl for a comparison). */
  readonly crypto?: Crypto;
  readonly argv?: readonly string[];
}

function writer(file: std.FILE): (text: string) => void {
  // Flushed at once: stdout is a pipe under procd and in tests, and a log line must not wait in a buffer.
  return (text) => {
    file.puts(text);
    file.flush();
  };
}

export function createQjsPlatform(options: QjsPlatformOptions = {}): Platform {
  const crypto = options.crypto ?? createNativeCrypto();
  const stdout = writer(std.out);
  const stderr = writer(std.err);
  return {
    name: 'qjs',
    // os.now() is CLOCK_MONOTONIC in microseconds in QuickJS-ng 0.17.
    monotonicMs: () => os.now() / 1000,
    wallClockMs: () => Date.now(),
    setTimer(delayMs: number, callback: () => void): TimerHandle {
      return { id: os.setTimeout(callback, Math.max(0, delayMs)) };
    },
    clearTimer(handle: TimerHandle): void {
      os.clearTimeout(handle.id);
    },
    randomBytes: (length) => crypto.randomBytes(length),
    crypto,
    net: createQjsNet(),
    files: qjsFiles,
    exec: qjsExec,
    spawn: qjsSpawn,
    logger: createConsoleLogger(stderr, () => Date.now()),
    // scriptArgs[0] is the bundle itself, as process.argv[1] is on Node.
    argv: options.argv ?? (globalThis.scriptArgs ?? []).slice(1),
    env: (name) => std.getenv(name) ?? undefined,
    stdout,
    stderr,
    onSignal(signal, handler) {
      // qjs:os has no SIGHUP constant; it is 1 on every Linux architecture (MIPS included).
      const number = signal === 'SIGHUP' ? 1 : signal === 'SIGTERM' ? os.SIGTERM : os.SIGINT;
      os.signal(number, handler);
    },
    exit(code: number): never {
      std.out.flush();
      std.err.flush();
      return std.exit(code);
    },
  };
}
