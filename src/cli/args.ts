// A small flag parser for every x0 subcommand: `--name value`, `--name=value`, boolean `--flag`, positionals.
import type { Platform } from '../platform/types.js';
export interface FlagSpec {
  readonly [flag: string]: 'string' | 'boolean';
}

export type ParsedArgs =
  | {
      readonly ok: true;
      readonly flags: Readonly<Record<string, string | boolean>>;
      readonly positionals: readonly string[];
    }
  | { readonly ok: false; readonly error: string };

export function parseArgs(args: readonly string[], spec: FlagSpec): ParsedArgs {
  const flags: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '--') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const kind = spec[name];
    if (kind === undefined) return { ok: false, error: `unknown option --${name}` };
    if (kind === 'boolean') {
      if (eq !== -1) return { ok: false, error: `--${name} takes no value` };
      flags[name] = true;
      continue;
    }
    const value = eq !== -1 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) return { ok: false, error: `--${name} needs a value` };
    flags[name] = value;
  }
  return { ok: true, flags, positionals };
}

/** Parses "host:port" / ":port" / "port" (host defaults to 127.0.0.1). */
export function parseHostPort(text: string): { host: string; port: number } | null {
  const colon = text.lastIndexOf(':');
  const host = colon > 0 ? text.slice(0, colon) : '127.0.0.1';
  const port = Number(colon >= 0 ? text.slice(colon + 1) : text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return null;
  return { host, port };
}

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number | null {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (m === null) return null;
  const value = Number(m[1]) * (units[m[2] as string] as number);
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}

export function usage(platform: Platform, message: string, help: string): number {
  platform.stderr(`x0: ${message}\n\n${help}`);
  return 2;
}

export function refused(platform: Platform, what: string, reason: string): number {
  platform.stderr(`x0: ${what}: ${reason}\n`);
  return 1;
}
