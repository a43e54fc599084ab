// What `x0 raft serve`, `x0 gossip run` and `x0 uplink` share: flags or a UCI file (--config) -> the agent's typed
// configuration -> one component started through the agent's own code (src/agent/single.ts). Nothing here builds
// a component.
import { readConfig } from '../agent/agent.js';
import type { AgentConfig } from '../agent/config.js';
import { configFromFlags, startSingle, type FlagOptions, type SingleName, type SingleRun } from '../agent/single.js';
import type { UplinkExtras } from '../agent/components/uplink.js';
import type { Platform } from '../platform/types.js';

export function hostname(platform: Platform): string {
  return platform.files.readText('/proc/sys/kernel/hostname')?.trim() || 'x0';
}

/**
 * The configuration from --config PATH (then none of `configFlags` may be given too) or from the flags. On error
 * the lines are printed (a file's errors one per line, as `x0 agent --check`; a flag's with the usage) and the
 * exit code (2) returned.
 */
export function loadConfig(
  platform: Platform,
  command: string,
  flags: Readonly<Record<string, string | boolean>>,
  configFlags: readonly string[],
  fromFlags: () => FlagOptions,
  help: string,
): AgentConfig | number {
  const path = flags.config;
  if (typeof path === 'string') {
    const both = configFlags.find((f) => flags[f] !== undefined);
    if (both !== undefined) {
      platform.stderr(
        `x0 ${command}: --${both} and --config: give the setting in ${path} or as flags, not both\n\n${help}`,
      );
      return 2;
    }
    const loaded = readConfig(platform, path, hostname(platform));
    if (loaded.ok) return loaded.value;
    for (const e of loaded.errors) platform.stderr(`x0 ${command}: ${e.message}\n`);
    return 2;
  }
  const built = configFromFlags(fromFlags(), hostname(platform));
  if (built.ok) return built.value;
  platform.stderr(`${built.errors.map((e) => `x0 ${command}: ${e}\n`).join('')}\n${help}`);
  return 2;
}

/** Starts the component; on failure prints what is missing and what to do, and gives exit code 1. */
export async function start(
  platform: Platform,
  command: string,
  config: AgentConfig,
  name: SingleName,
  extras: { readonly uplink?: UplinkExtras } = {},
  hint = '',
): Promise<SingleRun | number> {
  const started = await startSingle(platform, config, name, extras);
  if (started.ok) return started.value;
  platform.stderr(`x0 ${command}: cannot start (${started.reason}): ${started.next}${hint}\n`);
  return 1;
}

/** Resolves after runForMs (null: never), or on SIGTERM / SIGINT. */
export function stopped(platform: Platform, runForMs: number | null): Promise<void> {
  return new Promise((resolve) => {
    if (runForMs !== null) platform.setTimer(runForMs, resolve);
    platform.onSignal?.('SIGTERM', resolve);
    platform.onSignal?.('SIGINT', resolve);
  });
}
