// One component of the agent on its own, for `x0 raft serve`, `x0 gossip run`, `x0 uplink` and `x0 channel --config`: the same
// configuration (a UCI file, or command-line flags turned into the same typed AgentConfig by the same validate())
// and the same component classes the agent builds, started in the agent's order with what the component needs
// (identity; the sealed link for gossip and Raft). No supervisor: a command that cannot start says why and exits.
import type { Platform } from '../platform/types.js';
import type { UciEntry, UciSection } from '../core/uci/parse.js';
import { nodeFiles } from '../identity/store.js';
import type { Component } from './component.js';
import { GossipComponent } from './components/gossip.js';
import { IdentityComponent } from './components/identity.js';
import { LinkComponent } from './components/link.js';
import { RaftComponent } from './components/raft.js';
import { UplinkComponent, type UplinkExtras } from './components/uplink.js';
import { validateConfig, type AgentConfig, type ConfigError, type SectionType } from './config.js';
import type { AgentContext } from './context.js';
import { Journal } from './events.js';

/** The context the components share, as the agent makes it (journal lines on stderr). */
export function newContext(platform: Platform, config: AgentConfig): AgentContext {
  return {
    platform,
    config,
    journal: new Journal(
      (line) => platform.stderr(line),
      () => platform.wallClockMs(),
      config.logLevel,
    ),
    startedAtMs: platform.monotonicMs(),
    identity: null,
    gossip: null,
    raft: null,
    link: null,
    mesh: null,
    discovered: [],
    inbound: new Map(),
    revokedMacs: new Map(),
    uplink: { sent: 0, lastSentMs: null, connected: false },
  };
}

/** UCI options given on the command line: `section.option` -> value(s), with the flag each came from. */
export type FlagOptions = ReadonlyArray<{ readonly option: string; readonly flag: string; readonly value: string }>;

/**
 * Flags -> the typed AgentConfig, through the same validate() as the UCI file, so a flag accepts exactly what its
 * option does. Each error names the flag (and the option it sets), the bad value and what is allowed.
 */
export function configFromFlags(
  options: FlagOptions,
  hostname: string,
): { ok: true; value: AgentConfig } | { ok: false; errors: string[] } {
  const sections = new Map<SectionType, UciEntry[]>([
    ['agent', []],
    ['uplink', []],
  ]);
  const flagOfLine = new Map<number, string>();
  options.forEach((o, i) => {
    const [type, name] = o.option.split('.') as [SectionType, string];
    const line = i + 2;
    flagOfLine.set(line, o.flag);
    const list = name === 'anchor' || name === 'static_peer' || name === 'interface';
    sections.get(type)?.push({ kind: list ? 'list' : 'option', name, value: o.value, line });
  });
  const uciSections: UciSection[] = [...sections].map(([type, entries]) => ({ type, name: type, line: 1, entries }));
  const result = validateConfig(
    { packageName: null, sections: uciSections, errors: [] },
    {
      path: 'command line',
      hostname,
    },
  );
  if (result.ok) return result;
  return { ok: false, errors: result.errors.map((e) => flagError(e, flagOfLine)) };
}

function flagError(e: ConfigError, flagOfLine: ReadonlyMap<number, string>): string {
  const flag = flagOfLine.get(e.line);
  const text = e.message.replace(/^command line:\d+: (section '[^']*' )?/, '');
  return flag === undefined ? text : `${flag} (${text})`;
}

export type SingleName = 'raft' | 'gossip' | 'uplink' | 'link';

export interface SingleRun {
  readonly ctx: AgentContext;
  readonly component: Component;
  stop(): void;
}

/** Starts `name` with what it needs, in the agent's order; the first part that cannot start ends it with why. */
export async function startSingle(
  platform: Platform,
  config: AgentConfig,
  name: SingleName,
  extras: { readonly uplink?: UplinkExtras } = {},
): Promise<{ ok: true; value: SingleRun } | { ok: false; reason: string; next: string }> {
  const ctx = newContext(platform, config);
  const parts: Component[] = [new IdentityComponent(ctx)];
  const link = new LinkComponent(ctx);
  if (name !== 'uplink') parts.push(link);
  const component: Component =
    name === 'link'
      ? link
      : name === 'raft'
        ? new RaftComponent(ctx)
        : name === 'gossip'
          ? new GossipComponent(ctx, { listAdopted: (list) => link.revoke(list), macsRevoked: () => {} })
          : new UplinkComponent(ctx, null, extras.uplink);
  if (component !== link) parts.push(component);
  const started: Component[] = [];
  const stopAll = () => {
    for (const part of [...started].reverse()) part.stop();
  };
  for (const part of parts) {
    started.push(part);
    let health: Awaited<ReturnType<Component['start']>>;
    try {
      health = await part.start();
    } catch (error) {
      health = { state: 'down', reason: error instanceof Error ? error.message : String(error) };
    }
    const usable =
      part.name === 'identity' ? health.state === 'up' || health.reason === 'cert-expiring' : health.state !== 'down';
    if (!usable) {
      stopAll();
      const reason = `${part.name}: ${health.reason ?? health.state}`;
      return { ok: false, reason, next: nextStep(config, part.name, health.reason ?? '', name) };
    }
  }
  return { ok: true, value: { ctx, component, stop: stopAll } };
}

/** What to do about a part that did not start, in words an operator can act on. */
function nextStep(config: AgentConfig, part: string, reason: string, name: SingleName): string {
  const dir = config.stateDir;
  if (part === 'identity') {
    const why = name === 'uplink' ? 'telemetry is signed with it' : `${name} runs over the sealed link, which needs it`;
    if (reason === 'not-enrolled')
      return `this node has no certificate (${nodeFiles(dir).chain} is missing; ${why}): enrol it with 'x0 cert request --token TOKEN --state-dir ${dir}' and 'x0 ca sign' on the CA, or start 'x0 agent' with option join_token`;
    if (reason === 'identity-mismatch')
      return `the certificate in ${dir} is not for node '${config.nodeName}' in '${config.trustDomain}': give the name and trust domain it was issued for (x0 cert show ${nodeFiles(dir).chain})`;
    return `the identity in ${dir} is unusable (${reason}; ${why}): check it with 'x0 cert show ${nodeFiles(dir).chain}', renew or enrol again`;
  }
  if (reason.startsWith('revocations'))
    return `${nodeFiles(dir).revocations} is not a revocation list of this mesh's CA: replace it with one from 'x0 ca revoke' or remove it`;
  if (reason.includes('EADDRINUSE') || reason.includes('bind'))
    return `another process listens on ${config.listen.host}:${config.listen.port}: stop it or choose another address`;
  return `see the log lines above; ${name} keeps its state in ${dir}`;
}
