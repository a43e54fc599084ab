// Web globals QuickJS-ng 0.17 lacks and our code or bundled libraries use: TextEncoder/TextDecoder (UTF-8),
// console.error/warn/info/debug (to stderr), setTimeout & co. (over qjs:os), crypto.getRandomValues (over
// x0:crypto). Importable on its own, first, so that every later module sees them; a global the engine
// already has is left alone. Nothing outside src/platform/qjs may polyfill.
import * as std from 'qjs:std';
import * as os from 'qjs:os';
import * as x0crypto from 'x0:crypto';
import { decodeUtf8, encodeUtf8 } from './utf8.js';

const g = globalThis as Record<string, unknown>;

class QjsTextEncoder {
  readonly encoding = 'utf-8';
  encode(input = ''): Uint8Array {
    return encodeUtf8(String(input));
  }
  encodeInto(input: string, destination: Uint8Array): { read: number; written: number } {
    const bytes = encodeUtf8(input);
    // Only whole characters fit: back off to the last sequence start that ends within the destination.
    let written = Math.min(bytes.length, destination.length);
    while (written < bytes.length && written > 0 && ((bytes[written] as number) & 0xc0) === 0x80) written--;
    destination.set(bytes.subarray(0, written));
    const read = decodeUtf8(bytes.subarray(0, written), false).length;
    return { read, written };
  }
}

class QjsTextDecoder {
  readonly encoding = 'utf-8';
  readonly fatal: boolean;
  readonly ignoreBOM: boolean;
  constructor(label = 'utf-8', options: { fatal?: boolean; ignoreBOM?: boolean } = {}) {
    const name = String(label).trim().toLowerCase();
    if (name !== 'utf-8' && name !== 'utf8' && name !== 'unicode-1-1-utf-8')
      throw new RangeError(`TextDecoder: unsupported encoding '${label}' (only utf-8)`);
    this.fatal = options.fatal === true;
    this.ignoreBOM = options.ignoreBOM === true;
  }
  decode(input?: ArrayBuffer | ArrayBufferView): string {
    if (input === undefined) return '';
    const bytes =
      input instanceof Uint8Array
        ? input
        : ArrayBuffer.isView(input)
          ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
          : new Uint8Array(input);
    const skipBom = !this.ignoreBOM && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
    return decodeUtf8(skipBom ? bytes.subarray(3) : bytes, this.fatal);
  }
}

function format(args: unknown[]): string {
  return args
    .map((arg) => {
      if (typeof arg === 'string') return arg;
      if (arg instanceof Error) return arg.stack ? `${arg.name}: ${arg.message}\n${arg.stack}` : String(arg);
      try {
        return JSON.stringify(arg) ?? String(arg);
      } catch {
        return String(arg);
      }
    })
    .join(' ');
}

function toStderr(...args: unknown[]): void {
  std.err.puts(`${format(args)}\n`);
  std.err.flush();
}

function installTimers(): void {
  // os.setTimeout has no extra-arguments form; the wrapper adds it, as the web API has.
  const setTimeoutGlobal = (callback: (...args: unknown[]) => void, delayMs = 0, ...args: unknown[]) =>
    os.setTimeout(() => callback(...args), Math.max(0, Number(delayMs) || 0));
  const setIntervalGlobal = (callback: (...args: unknown[]) => void, delayMs = 0, ...args: unknown[]) =>
    os.setInterval(() => callback(...args), Math.max(1, Number(delayMs) || 0));
  const clear = (id: unknown) => {
    if (typeof id === 'number') os.clearTimeout(id);
  };
  g.setTimeout ??= setTimeoutGlobal;
  g.clearTimeout ??= clear;
  g.setInterval ??= setIntervalGlobal;
  g.clearInterval ??= (id: unknown) => {
    if (typeof id === 'number') os.clearInterval(id);
  };
}

function installConsole(): void {
  const console = g.console as Record<string, unknown> | undefined;
  if (console === undefined) return;
  for (const level of ['error', 'warn']) console[level] ??= toStderr;
  for (const level of ['info', 'debug', 'trace']) console[level] ??= console.log;
}

function installCrypto(): void {
  const webCrypto = (g.crypto ?? {}) as Record<string, unknown>;
  webCrypto.getRandomValues ??= <T extends ArrayBufferView>(array: T): T => {
    if (array.byteLength > 65536) throw new RangeError('getRandomValues: more than 65536 bytes asked');
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(x0crypto.randomBytes(array.byteLength));
    return array;
  };
  g.crypto ??= webCrypto;
}

g.TextEncoder ??= QjsTextEncoder;
g.TextDecoder ??= QjsTextDecoder;
installConsole();
installTimers();
installCrypto();
