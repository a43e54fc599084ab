// `x0` / `x0tta6bl4`: one binary, subcommands. Each subcommand has --help and returns an exit code.
import { defaultConfigPath, readConfig, runAgent } from '../agent/agent.js';
import { runHelloAgent } from '../hello/agent.js';
import { agentVersion } from '../version.js';
import type { Platform } from '../platform/types.js';
import { exitCodesHelp, parseArgs, parseHostPort, setWarningSink } from './args.js';
import { neighboursCommand } from './batman.js';
import { gossipCommand } from './gossip.js';
import { channelCommand } from './channel.js';
import { caCommand, certCommand } from './identity.js';
import { ubusCommand } from './ubus.js';
import { uplinkCommand } from './telemetry.js';
import { raftCommand } from './raft.js';
import { xdpCommand } from './xdp.js';
import { hostname } from './component.js';

export type Command = (platform: Platform, args: readonly string[]) => Promise<number>;

interface CommandEntry {
  readonly summary: string;
  readonly run: Command;
}

const helloHelp = `usage: x0 hello --name NAME --listen [HOST:]PORT --peer [HOST:]PORT [--transport udp|tcp]
                [--interval DURATION] [--timeout DURATION]

Sends signed hellos (CBOR, Ed25519) over UDP datagrams (default) or TCP frames to a peer agent until each side has verified the
other's hello; prints what it received. --interval (default 200ms, at least 10ms) between hellos, --timeout
(default 10s) for the exchange; the old --interval-ms and --timeout-ms N still work.
${exitCodesHelp('1 also on timeout')}`;

async function helloCommand(platform: Platform, args: readonly string[]): Promise<number> {
  const parsed = parseArgs(args, {
    name: 'string',
    listen: 'string',
    peer: 'string',
    transport: 'string',
    interval: 'duration',
    'interval-ms': { alias: 'interval', unit: 'ms' },
    timeout: 'duration',
    'timeout-ms': { alias: 'timeout', unit: 'ms' },
    help: 'boolean',
  });
  if (!parsed.ok) return usageError(platform, parsed.error, helloHelp);
  if (parsed.flags.help === true) return printHelp(platform, helloHelp);
  const listen = parseHostPort(String(parsed.flags.listen ?? ''));
  const peer = parseHostPort(String(parsed.flags.peer ?? ''));
  const name = parsed.flags.name;
  const intervalMs = Number(parsed.flags.interval ?? 200);
  const timeoutMs = Number(parsed.flags.timeout ?? 10_000);
  if (typeof name !== 'string' || name.length === 0) return usageError(platform, '--name is required', helloHelp);
  const transport = parsed.flags.transport ?? 'udp';
  if (transport !== 'udp' && transport !== 'tcp') return usageError(platform, '--transport is udp or tcp', helloHelp);
  if (listen === null || peer === null) return usageError(platform, '--listen and --peer need [HOST:]PORT', helloHelp);
  if (!(intervalMs >= 10) || !(timeoutMs >= intervalMs))
    return usageError(platform, '--interval must be at least 10ms and --timeout at least --interval', helloHelp);
  const result = await runHelloAgent(platform, { name, transport, listen, peer, intervalMs, timeoutMs });
  const rejected = Object.entries(result.rejected)
    .map(([reason, count]) => `${reason}=${count}`)
    .join(' ');
  platform.stdout(
    `[${name}] ${result.ok ? 'done' : 'failed'}: sent ${result.sent}, verified ${result.received.length}${rejected ? `, rejected ${rejected}` : ''}\n`,
  );
  return result.ok ? 0 : 1;
}

const agentHelp = `usage: x0 agent [--config PATH] [--check] [--run-for DURATION]

Runs this router's mesh node from its UCI file: identity, batman-adv reader, gossip (mesh document), Raft on
anchors, XDP, the MQTT uplink and the x0tta6bl4 ubus object, each supervised (a failed part is restarted with
backoff; a missing optional part is reported as degraded). Logs one line per event on stderr (procd -> logd).
SIGHUP or 'ubus call x0tta6bl4 reload' re-reads the file; SIGTERM stops. Every option: docs/config.md.
  --config PATH     the UCI file (default ${defaultConfigPath})
  --check           validate the file, print what is wrong (one line per error) and exit
  --run-for D       stop after D, e.g. 30s (tests, demos; the old --run-for-ms N still works)
Exit codes: 0 stopped (or --check passed, or disabled in the file), 1 failure, 2 bad usage or an invalid file.
`;

async function agentCommand(platform: Platform, args: readonly string[]): Promise<number> {
  const parsed = parseArgs(args, {
    config: 'string',
    check: 'boolean',
    'run-for': 'duration',
    'run-for-ms': { alias: 'run-for', unit: 'ms' },
    help: 'boolean',
  });
  if (!parsed.ok) return usageError(platform, parsed.error, agentHelp);
  if (parsed.flags.help === true) return printHelp(platform, agentHelp);
  if (parsed.positionals.length > 0)
    return usageError(platform, `unexpected argument '${parsed.positionals[0]}'`, agentHelp);
  const runFor = parsed.flags['run-for'];
  const runForMs = runFor === undefined ? null : Number(runFor);
  const configPath = typeof parsed.flags.config === 'string' ? parsed.flags.config : defaultConfigPath;
  if (parsed.flags.check === true) {
    const loaded = readConfig(platform, configPath, hostname(platform));
    if (loaded.ok) {
      platform.stdout(`${configPath}: valid (node ${loaded.value.nodeName}, role ${loaded.value.role})\n`);
      return 0;
    }
    for (const e of loaded.errors) platform.stderr(`${e.message}\n`);
    return 2;
  }
  const code = await runAgent(platform, { configPath, hostname: hostname(platform), runForMs });
  // Timers of stopped parts (an uplink's last flush) must not keep the process: the agent has stopped.
  return platform.exit(code);
}

const versionHelp = `usage: x0 version   (or x0 --version)

Prints the agent version, the engine and the crypto backend.
${exitCodesHelp()}`;

async function versionCommand(platform: Platform, args: readonly string[]): Promise<number> {
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) return printHelp(platform, versionHelp);
  if (args.length > 0) return usageError(platform, `x0 version takes no arguments (got '${args[0]}')`, versionHelp);
  platform.stdout(`x0tta6bl4 ${agentVersion} (${platform.name}, ${platform.crypto.backend} crypto)\n`);
  return 0;
}

const commands = new Map<string, CommandEntry>([
  ['agent', { summary: "run this router's mesh node from its UCI file (the daemon procd starts)", run: agentCommand }],
  ['ca', { summary: 'mesh CA: init, issue-token, sign, revoke (operator side)', run: caCommand }],
  ['cert', { summary: 'show a certificate (--json), request one with a join token', run: certCommand }],
  [
    'channel',
    { summary: 'sealed node-to-node channel over UDP or TCP (mutual certificates, renewal)', run: channelCommand },
  ],
  [
    'gossip',
    { summary: 'mesh-wide state: delta CRDTs gossiped over UDP (run a node, show its document)', run: gossipCommand },
  ],
  ['hello', { summary: 'exchange signed hellos with a peer agent over UDP or TCP', run: helloCommand }],
  ['neighbours', { summary: "this node's batman-adv neighbours with TQ (via batctl)", run: neighboursCommand }],
  [
    'raft',
    { summary: 'replicated key-value store on Raft: serve a node, put/get/cas/list, status, bench', run: raftCommand },
  ],
  [
    'ubus',
    {
      summary: 'call ubus objects and list them (like the ubus CLI)',
      run: (platform, args) => ubusCommand(platform, [...args]),
    },
  ],
  [
    'uplink',
    {
      summary: 'publish signed telemetry over MQTT (status, telemetry, events; operator commands)',
      run: uplinkCommand,
    },
  ],
  ['xdp', { summary: 'the XDP data plane helper x0-xdp: attach, block, limit, stats, status', run: xdpCommand }],
  ['version', { summary: 'print the agent version (also x0 --version)', run: versionCommand }],
]);

/** Later components add their subcommands (ubus, ca, cert, ...) here, in the composition root. */
export function registerCommand(name: string, summary: string, run: Command): void {
  commands.set(name, { summary, run });
}

function mainHelp(): string {
  const lines = [...commands].map(([name, entry]) => `  ${name.padEnd(10)} ${entry.summary}`);
  return `usage: x0 COMMAND [ARGS...]   (x0 COMMAND --help for each; x0 --version)\n\nx0tta6bl4 ${agentVersion}: self-healing, zero-trust mesh agent.\n\ncommands:\n${lines.join('\n')}\n\nExit codes (every command): 0 success, 1 failure (the message says why and what to do), 2 bad arguments;\nothers are listed in the command's --help. 70: an internal error (a bug: please report it).\nThe same flag means the same thing in every command (docs/cli.md): --state-dir, --ca-dir, --trust, --config,\ndurations with a unit (500ms, 10s, 5m, 1h, 7d).\n`;
}

function printHelp(platform: Platform, text: string): number {
  platform.stdout(text);
  return 0;
}

export function usageError(platform: Platform, message: string, help: string): number {
  platform.stderr(`x0: ${message}\n\n${help}`);
  return 2;
}

export async function runCli(platform: Platform, argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  setWarningSink((line) => platform.stderr(line));
  // Alone, x0 is a usage error (exit 2), as git and ip do; asked for help, it is not.
  if (name === undefined) return usageError(platform, 'a command is needed', mainHelp());
  if (name === '--help' || name === '-h' || name === 'help') return printHelp(platform, mainHelp());
  if (name === '--version') return commands.get('version')!.run(platform, []);
  const entry = commands.get(name);
  if (entry === undefined) return usageError(platform, `unknown command '${name}'`, mainHelp());
  try {
    return await entry.run(platform, rest);
  } catch (error) {
    // A bug, not bad input: report it with the stack so it can be fixed, and fail.
    platform.stderr(`x0 ${name}: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
    return 70;
  }
}
