// `x0 xdp ARGS...`: the XDP helper x0-xdp through the agent's own command, output and exit code passed through,
// so an operator on the router needs one command name. The agent itself uses src/xdp/binding.ts.
import type { Platform } from '../platform/types.js';
import { helperOutputBytesMax, helperPathDefault, helperTimeoutMs } from '../xdp/limits.js';

export const xdpHelp = `usage: x0 xdp [--helper PATH] ARGS...

Runs the XDP helper (default ${helperPathDefault}, or $X0_XDP_HELPER) with ARGS and passes its output and
exit code through. Examples:
  x0 xdp attach wlan0              x0 xdp block 02:00:5e:10:00:01 --ttl 600 --reason revoked
  x0 xdp stats --json              x0 xdp limit set --ethertype 0x4305 --rate 500
The helper's own help follows when it can be run (x0 xdp --help).
Exit codes: the helper's own (bpf/x0-xdp.c lists them); 1 when it cannot be run or times out; 2 bad arguments.
`;

function helperArgs(platform: Platform, args: readonly string[]): { helper: string; rest: readonly string[] } | string {
  const first = args[0] ?? '';
  if (first === '--helper') {
    const helper = args[1];
    return helper === undefined || helper === '' ? '--helper needs a path' : { helper, rest: args.slice(2) };
  }
  if (first.startsWith('--helper=')) return { helper: first.slice('--helper='.length), rest: args.slice(1) };
  return { helper: platform.env('X0_XDP_HELPER') ?? helperPathDefault, rest: args };
}

export async function xdpCommand(platform: Platform, args: readonly string[]): Promise<number> {
  const parsed = helperArgs(platform, args);
  if (typeof parsed === 'string') {
    platform.stderr(`x0 xdp: ${parsed}\n\n${xdpHelp}`);
    return 2;
  }
  const { helper, rest } = parsed;
  const help = rest.length === 0 || (rest.length === 1 && (rest[0] === '--help' || rest[0] === '-h'));
  if (help) platform.stdout(`${xdpHelp}\n`);
  const result = await platform.exec([helper, ...(help ? ['--help'] : rest)], {
    timeoutMs: helperTimeoutMs,
    maxOutputBytes: helperOutputBytesMax,
  });
  const stdout = new TextDecoder().decode(result.stdout);
  platform.stdout(stdout);
  platform.stderr(new TextDecoder().decode(result.stderr));
  if (result.timedOut) {
    platform.stderr(`x0 xdp: ${helper} did not finish within ${helperTimeoutMs / 1000} s and was killed\n`);
    return 1;
  }
  if (result.code === 127 && stdout === '') {
    platform.stderr(`x0 xdp: cannot run ${helper}; build it with 'make -C bpf' or point --helper PATH at it\n`);
    return help ? 0 : 127;
  }
  if (help) return 0;
  return result.code ?? 1;
}
