// The agent's handle on the XDP data plane: asks the x0-xdp helper (one kept running, `x0-xdp serve`, where the
// platform can spawn and the binding was asked to: session.ts; otherwise a process per command through the
// platform's exec), bounded output and a timeout either way, checks its JSON and returns values or reason codes. A failing, missing or misbehaving helper is
// an operating error: counted by reason, logged, returned; never thrown and never fatal to the agent (the data
// plane keeps running on its own; the agent retries on its next tick).
import { Counters } from '../core/result.js';
import type { ExecResult, Logger, Platform } from '../platform/types.js';
import { HelperSession } from './session.js';
import { normalizeMac, selectorArgs, validIfname, validRate, validReason, validSelector, validTtl } from './input.js';
import {
  blockMacsMax,
  helperOutputBytesMax,
  helperPathDefault,
  helperTimeoutMs,
  messageCharsMax,
  verifierLogCharsMax,
} from './limits.js';
import {
  parseAnswer,
  readAttach,
  readBlock,
  readDetach,
  readError,
  readLimits,
  readProbe,
  readStats,
  readStatus,
  readUnblock,
} from './parse.js';
import type {
  XdpAttachResult,
  XdpBlockResult,
  XdpFailure,
  XdpLimit,
  XdpMode,
  XdpReason,
  XdpRuleSelector,
  XdpStats,
  XdpStatus,
} from './types.js';
import { helperReasons } from './types.js';

export interface XdpBindingOptions {
  /** How to run the helper: its path, or a command prefix ending in it (tests: nsenter ... x0-xdp). */
  readonly helperArgv?: readonly string[];
  /** --pin-dir for every run; the helper's default (/sys/fs/bpf/x0tta6bl4) when absent. */
  readonly pinDir?: string;
  /** Pass --mount: the helper mounts bpffs at /sys/fs/bpf when it is missing instead of failing. */
  readonly mountBpffs?: boolean;
  readonly timeoutMs?: number;
  /**
   * Keep one helper running (`x0-xdp serve`) and ask it each command, where the platform can spawn: no process
   * start per command. An older helper without serve is noticed at its first answer and run per command.
   */
  readonly session?: boolean;
}

export type XdpResult<T> = { readonly ok: true; readonly value: T } | ({ readonly ok: false } & XdpFailure);

type Json = Record<string, unknown>;

const knownReasons = new Set<string>(helperReasons);

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export class XdpBinding {
  /** Failures by reason code. */
  readonly failures = new Counters();
  /** Helper runs by command, and 'ok' for the ones that succeeded. */
  readonly runs = new Counters();
  /** The last failure, with its command, for status pages and logs. */
  lastFailure: (XdpFailure & { readonly command: string }) | null = null;

  private readonly helperArgv: readonly string[];
  private readonly globalArgs: readonly string[];
  private readonly timeoutMs: number;

  private readonly session: HelperSession | null;

  constructor(
    private readonly platform: Pick<Platform, 'exec'> &
      Partial<Pick<Platform, 'spawn' | 'setTimer' | 'clearTimer'>> & { readonly logger?: Logger },
    options: XdpBindingOptions = {},
  ) {
    this.helperArgv = options.helperArgv ?? [helperPathDefault];
    this.globalArgs = [
      ...(options.pinDir === undefined ? [] : ['--pin-dir', options.pinDir]),
      ...(options.mountBpffs === true ? ['--mount'] : []),
    ];
    this.timeoutMs = options.timeoutMs ?? helperTimeoutMs;
    const { spawn, setTimer, clearTimer } = platform;
    this.session =
      options.session === true && spawn !== undefined && setTimer !== undefined && clearTimer !== undefined
        ? new HelperSession({ spawn, setTimer, clearTimer }, [
            ...this.helperArgv,
            '--json',
            ...this.globalArgs,
            'serve',
          ])
        : null;
  }

  /** Helpers started for the session (0 without one): more than one means the helper died or hung meanwhile. */
  get sessionStarts(): number {
    return this.session?.starts ?? 0;
  }

  /** Whether commands go to a running helper (false: a process per command). */
  get serving(): boolean {
    return this.session !== null && !this.session.unsupported;
  }

  /** Ends the running helper, if any (it ends by itself too when the agent's end of its stdin closes). */
  close(): void {
    this.session?.close();
  }

  /** Whether BPF and XDP work here at all: loads the program without pinning and runs it on a test frame. */
  probe(): Promise<XdpResult<{ kernel: string }>> {
    return this.run('probe', [], readProbe);
  }

  status(): Promise<XdpResult<XdpStatus>> {
    return this.run('status', [], readStatus);
  }

  stats(): Promise<XdpResult<XdpStats>> {
    return this.run('stats', [], readStats);
  }

  /** Loads (once) and attaches the program; attaching where it already is succeeds with already: true. */
  attach(ifname: string, mode: XdpMode = 'auto'): Promise<XdpResult<XdpAttachResult>> {
    if (!validIfname(ifname))
      return this.refuse('attach', 'bad-interface', `not an interface name: ${JSON.stringify(ifname)}`);
    if (mode !== 'native' && mode !== 'generic' && mode !== 'auto')
      return this.refuse('attach', 'bad-mode', `mode is native, generic or auto`);
    return this.run('attach', [ifname, '--mode', mode], readAttach);
  }

  detach(ifname: string): Promise<XdpResult<{ ifname: string; detached: boolean }>> {
    if (!validIfname(ifname))
      return this.refuse('detach', 'bad-interface', `not an interface name: ${JSON.stringify(ifname)}`);
    return this.run('detach', [ifname], readDetach);
  }

  /**
   * Drops every frame from each MAC (one, or up to blockMacsMax in one helper run: a run costs a process start and
   * the pin lock); reason is kept with the entries (a-z 0-9 . _ -, ≤ 15); ttlS null = no expiry.
   */
  block(
    macs: string | readonly string[],
    reason: string,
    ttlS: number | null = null,
  ): Promise<XdpResult<XdpBlockResult>> {
    const given = typeof macs === 'string' ? [macs] : macs;
    if (given.length === 0 || given.length > blockMacsMax)
      return this.refuse('block', 'bad-mac', `1..${blockMacsMax} MAC addresses in one block, not ${given.length}`);
    const normal: string[] = [];
    for (const mac of given) {
      const one = normalizeMac(mac);
      if (one === null) return this.refuse('block', 'bad-mac', `not a MAC address: ${JSON.stringify(mac)}`);
      normal.push(one);
    }
    if (!validReason(reason))
      return this.refuse('block', 'bad-reason', `reason must be 1..15 of a-z 0-9 . _ -: ${JSON.stringify(reason)}`);
    if (!validTtl(ttlS))
      return this.refuse('block', 'bad-ttl', `ttl must be whole seconds 1..31536000 or null: ${String(ttlS)}`);
    const ttlArgs = ttlS === null ? [] : ['--ttl', String(ttlS)];
    return this.run('block', [...normal, '--reason', reason, ...ttlArgs], readBlock);
  }

  unblock(mac: string): Promise<XdpResult<{ mac: string; wasBlocked: boolean }>> {
    const normal = normalizeMac(mac);
    if (normal === null) return this.refuse('unblock', 'bad-mac', `not a MAC address: ${JSON.stringify(mac)}`);
    return this.run('unblock', [normal], readUnblock);
  }

  /** Sets (or replaces) the per-source rate limit for frames the selector matches. */
  setLimit(selector: XdpRuleSelector, ratePps: number, burst?: number): Promise<XdpResult<XdpLimit[]>> {
    if (!validSelector(selector) || !validRate(ratePps, burst))
      return this.refuse('limit', 'bad-rule', 'selector, rate or burst out of range');
    const burstArgs = burst === undefined ? [] : ['--burst', String(burst)];
    return this.run('limit', ['set', ...selectorArgs(selector), '--rate', String(ratePps), ...burstArgs], readLimits);
  }

  /** Removes the rule with this selector, or every rule without one. */
  clearLimits(selector?: XdpRuleSelector): Promise<XdpResult<XdpLimit[]>> {
    if (selector !== undefined && !validSelector(selector))
      return this.refuse('limit', 'bad-rule', 'selector out of range');
    return this.run('limit', ['clear', ...(selector === undefined ? [] : selectorArgs(selector))], readLimits);
  }

  limits(): Promise<XdpResult<XdpLimit[]>> {
    return this.run('limit', ['show'], readLimits);
  }

  private async run<T>(command: string, args: readonly string[], read: (root: Json) => T): Promise<XdpResult<T>> {
    this.runs.add(command);
    if (this.session !== null && !this.session.unsupported) {
      // Every argument was validated above: no spaces, no control characters.
      const answer = await this.session.request([command, ...args].join(' '), this.timeoutMs);
      if (answer.ok) {
        const outcome = interpretLine(command, answer.line, read);
        if (!outcome.ok) return this.failure(command, outcome);
        this.runs.add('ok');
        return outcome;
      }
      if (answer.reason !== 'unsupported')
        return this.failure(command, { reason: answer.reason, message: answer.message });
      this.platform.logger?.log('info', 'xdp: x0-xdp does not serve; one process per command', {
        message: answer.message,
      });
    }
    const argv = [...this.helperArgv, '--json', ...this.globalArgs, command, ...args];
    let result: ExecResult;
    try {
      result = await this.platform.exec(argv, { timeoutMs: this.timeoutMs, maxOutputBytes: helperOutputBytesMax });
    } catch (error) {
      return this.failure(command, { reason: 'helper-not-found', message: `exec failed: ${String(error)}` });
    }
    const outcome = interpret(command, result, read);
    if (!outcome.ok) return this.failure(command, outcome);
    this.runs.add('ok');
    return outcome;
  }

  private refuse(command: string, reason: XdpReason, message: string): Promise<XdpResult<never>> {
    return Promise.resolve(this.failure(command, { reason, message }));
  }

  private failure(command: string, failure: XdpFailure): { readonly ok: false } & XdpFailure {
    this.failures.add(failure.reason);
    this.lastFailure = { ...failure, command };
    this.platform.logger?.log('warn', 'xdp: x0-xdp failed', {
      command,
      reason: failure.reason,
      message: failure.message,
    });
    return { ok: false, ...failure };
  }
}

/** What one helper run means: its answer, or the reason it has none. Pure (tests feed recorded runs). */
export function interpret<T>(command: string, result: ExecResult, read: (root: Json) => T): XdpResult<T> {
  const stderr = clip(new TextDecoder().decode(result.stderr).trim(), messageCharsMax);
  if (result.timedOut)
    return { ok: false, reason: 'helper-timeout', message: `x0-xdp ${command} did not finish in time` };
  if (result.code === null) return { ok: false, reason: 'helper-killed', message: `x0-xdp ${command} was killed` };
  if (result.truncated)
    return {
      ok: false,
      reason: 'helper-output-truncated',
      message: `x0-xdp ${command} printed more than the binding keeps`,
    };
  return interpretOutput(command, result.code, new TextDecoder().decode(result.stdout), stderr, read);
}

/** One answer line of `x0-xdp serve`: what it would mean as the output of a run of its own. Pure. */
export function interpretLine<T>(command: string, line: string, read: (root: Json) => T): XdpResult<T> {
  // The emitter starts every answer the same way: {"ok":true,... or {"ok":false,"error":CODE,"exit":N,...
  const code = line.startsWith('{"ok":true')
    ? 0
    : Number(/^\{"ok":false,"error":"[a-z-]+","exit":(\d+)/.exec(line)?.[1] ?? 1);
  return interpretOutput(command, code, line, '', read);
}

function interpretOutput<T>(
  command: string,
  code: number,
  stdout: string,
  stderr: string,
  read: (root: Json) => T,
): XdpResult<T> {
  if (code === 0) {
    const parsed = parseAnswer(stdout, command, read);
    return parsed.ok ? parsed : { ok: false, reason: parsed.reason, message: parsed.message };
  }
  const error = readError(stdout);
  if (error !== null && knownReasons.has(error.error)) {
    const failure = {
      ok: false as const,
      reason: error.error as XdpReason,
      message: clip(error.message, messageCharsMax),
    };
    return error.verifierLog === undefined
      ? failure
      : { ...failure, verifierLog: clip(error.verifierLog, verifierLogCharsMax) };
  }
  if (code === 127 && stdout.trim() === '')
    return { ok: false, reason: 'helper-not-found', message: stderr || 'x0-xdp could not be run' };
  return {
    ok: false,
    reason: helperReasons[code] ?? 'failed',
    message: stderr || `x0-xdp ${command} exited with ${code}`,
  };
}
