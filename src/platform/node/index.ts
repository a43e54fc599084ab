// The Node twin of the router's platform: same interface, Node's event loop and sockets underneath.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createNodeCrypto } from '../../crypto/node.js';
import type { Crypto, Platform, TimerHandle } from '../types.js';
import { createNodeExec } from './exec.js';
import { createNodeNet } from './net.js';
import { nodeSpawn } from './spawn.js';
import { createConsoleLogger } from '../logger.js';

export interface NodePlatformOptions {
  /** Override the crypto backend (e.g. tweetnacl for a comparison). */
  readonly crypto?: Crypto;
  readonly argv?: readonly string[];
}

export function createNodePlatform(options: NodePlatformOptions = {}): Platform {
  const timers = new Map<number, NodeJS.Timeout>();
  let nextTimerId = 1;
  const crypto = options.crypto ?? createNodeCrypto();
  const stderr = (text: string) => {
    process.stderr.write(text);
  };
  return {
    name: 'node',
    monotonicMs: () => performance.now(),
    wallClockMs: () => Date.now(),
    setTimer(delayMs: number, callback: () => void): TimerHandle {
      const id = nextTimerId++;
      timers.set(
        id,
        setTimeout(
          () => {
            timers.delete(id);
            callback();
          },
          Math.max(0, delayMs),
        ),
      );
      return { id };
    },
    clearTimer(handle: TimerHandle): void {
      const timer = timers.get(handle.id);
      if (timer !== undefined) clearTimeout(timer);
      timers.delete(handle.id);
    },
    randomBytes: (length) => crypto.randomBytes(length),
    crypto,
    net: createNodeNet(),
    files: nodeFiles,
    exec: createNodeExec(),
    spawn: nodeSpawn,
    logger: createConsoleLogger(stderr, () => Date.now()),
    argv: options.argv ?? process.argv.slice(2),
    env: (name) => process.env[name],
    stdout: (text) => {
      process.stdout.write(text);
    },
    stderr,
    exit: (code) => process.exit(code),
    onSignal: (signal, handler) => {
      process.on(signal, handler);
    },
  };
}

const toBytes = (buffer: Buffer) => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);

function readOrNull<T>(read: () => T): T | null {
  try {
    return read();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

let tempCounter = 0;

export const nodeFiles: Platform['files'] = {
  read: (file) => readOrNull(() => toBytes(fs.readFileSync(file))),
  readText: (file) => readOrNull(() => fs.readFileSync(file, 'utf8')),
  writeAtomic: (file, data, mode = 0o644) => errnoOf(() => writeAtomic(file, data, mode)),
  append: (file, data) =>
    errnoOf(() => {
      const fd = fs.openSync(file, 'a');
      try {
        fs.writeSync(fd, data);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }),
  list: (dir) => readOrNull(() => fs.readdirSync(dir).sort()) ?? [],
  remove: (file) => errnoOf(() => fs.rmSync(file, { force: true })),
  mkdirp: (dir) => errnoOf(() => fs.mkdirSync(dir, { recursive: true })),
  exists: (file) => fs.existsSync(file),
};

/** Runs a write; null when it worked, the errno name when the system refused it (a bug still throws). */
function errnoOf(write: () => unknown): string | null {
  try {
    write();
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
    throw error;
  }
}

function writeAtomic(file: string, data: Uint8Array | string, mode: number): void {
  const temp = `${file}.tmp-${process.pid}-${tempCounter++}`;
  const fd = fs.openSync(temp, 'w', mode);
  try {
    if (typeof data === 'string') fs.writeSync(fd, data);
    else fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.chmodSync(temp, mode); // openSync's mode is filtered by the umask; keys must end up exactly 0600
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  syncDirectory(path.dirname(file));
}

// The rename is durable only once the directory entry is on disk.
function syncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
