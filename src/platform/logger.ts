// One log line format for both engines: `2026-11-22T23:59:59.000Z info message key=value ...`.
// Engine-neutral (no I/O of its own): the adapter passes its stderr writer and wall clock.
import type { Logger, LogLevel } from './types.js';

const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function formatLogLine(
  timeMs: number,
  level: LogLevel,
  message: string,
  fields?: Record<string, unknown>,
): string {
  let line = `${new Date(timeMs).toISOString()} ${level} ${message}`;
  if (fields !== undefined) {
    for (const [key, value] of Object.entries(fields)) line += ` ${key}=${formatValue(value)}`;
  }
  return `${line}\n`;
}

export function createConsoleLogger(
  write: (text: string) => void,
  wallClockMs: () => number,
  minLevel: LogLevel = 'info',
): Logger {
  return {
    log(level, message, fields) {
      if (levelRank[level] < levelRank[minLevel]) return;
      write(formatLogLine(wallClockMs(), level, message, fields));
    },
  };
}
