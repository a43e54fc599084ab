// A small flag parser for every x0 subcommand: `--name value`, `--name=value`, boolean `--flag`, positionals.
// The vocabulary is the same everywhere (docs/cli.md): a duration flag takes a number with its unit (500ms, 10s,
// 5m, 1h, 7d) and is stored as milliseconds; an old spelling is an alias that still works and is warned about once.
import type { Platform } from '../platform/types.js';

/**
 * 'duration': parsed with parseDuration, stored as the number of milliseconds (decimal text).
 * { alias, unit? }: a deprecated spelling of flag `alias`; with a unit, its bare number is read in that unit.
 */
export type FlagKind = 'string' | 'boolean' | 'duration' | { readonly alias: string; readonly unit?: 'ms' | 's' };

export interface FlagSpec {
  readonly [flag: string]: FlagKind;
}

export type ParsedArgs =
  | {
      readonly ok: true;
      readonly flags: Readonly<Record<string, string | boolean>>;
      readonly positionals: readonly string[];
    }
  | { readonly ok: false; readonly error: string };

let warnSink: (line: string) => void = () => {};
const warned = new Set<string>();

/** Where deprecation warnings go (the CLI's stderr); each old spelling is warned about once per command run. */
export function setWarningSink(sink: (line: string) => void): void {
  warnSink = sink;
  warned.clear();
}

function warnOnce(old: string, replacement: string): void {
  if (warned.has(old)) return;
  warned.add(old);
  warnSink(`x0: warning: --${old} is deprecated; use ${replacement} (docs/cli.md)\n`);
}

const durationHelp = 'a number with a unit: 500ms, 10s, 5m, 1h, 7d';

/** One flag's value as stored, or the usage error. */
function flagValue(spec: FlagSpec, name: string, value: string): { key: string; value: string } | string {
  const kind = spec[name];
  if (typeof kind === 'object') {
    const target = spec[kind.alias];
    if (target === 'duration') {
      const text = kind.unit !== undefined && /^\d+$/.test(value) ? `${value}${kind.unit}` : value;
      warnOnce(name, `--${kind.alias} ${text}`);
      return flagValue(spec, kind.alias, text);
    }
    warnOnce(name, `--${kind.alias}`);
    return { key: kind.alias, value };
  }
  if (kind === 'duration') {
    const ms = parseDuration(value);
    return ms === null ? `--${name} '${value}' is not a duration (${durationHelp})` : { key: name, value: String(ms) };
  }
  return { key: name, value };
}

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
    const stored = flagValue(spec, name, value);
    if (typeof stored === 'string') return { ok: false, error: stored };
    flags[stored.key] = stored.value;
  }
  return { ok: true, flags, positionals };
}

/** Every value of a repeatable flag (`--peer A --peer B`), its aliases' too, in order; the parser keeps the last. */
export function repeated(args: readonly string[], spec: FlagSpec, flag: string): string[] {
  const names = new Set([
    flag,
    ...Object.entries(spec).flatMap(([n, k]) => (typeof k === 'object' && k.alias === flag ? [n] : [])),
  ]);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') break;
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (!names.has(name)) continue;
    const value = eq !== -1 ? arg.slice(eq + 1) : args[++i];
    if (value !== undefined) out.push(value);
  }
  return out;
}

/** The exit codes every command shares, for the end of each --help (others are listed by the command). */
export const exitCodesHelp = (others = ''): string =>
  `Exit codes: 0 success, 1 failure (the message names the file or option and what to do), 2 bad usage.\n${others === '' ? '' : `Exit ${others}.\n`}`;

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
