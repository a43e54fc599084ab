// `x0 channel`: this node's sealed channel over UDP or TCP (the loop lives in src/channel/node.ts).
import type { Platform } from '../platform/types.js';
import { runChannelNode } from '../channel/node.js';
import { configuredPeers } from '../agent/context.js';
import { loadConfig, start } from './component.js';
import { exitCodesHelp, parseArgs, parseHostPort, refused, repeated, usage, type FlagSpec } from './args.js';

const channelHelp = `usage: x0 channel --state-dir DIR --listen [HOST:]PORT [--transport udp|tcp] [--peer HOST:PORT]...
                  [--send TEXT] [--expect N] [--timeout DURATION] [--linger DURATION]
                  [--renew-from HOST:PORT] [--registrar CA_DIR]
       x0 channel --config PATH [--timeout DURATION]

With --config: the agent's sealed link alone (the same component 'x0 agent' runs, from its UCI file): it
connects to every anchor and static peer of the file and prints the sessions that come up; exit 0 once there
is a session with each of them, 1 when --timeout (default 10s) ends first (it names the peers missing).
Without: a channel node of its own (the protocol's demo and test tool), as follows.

Runs this node's sealed channel over UDP datagrams (default) or TCP streams (one length-prefixed frame
per message) with the identity in the state directory DIR (node.key, node.chain, bundle.cbor, optional
revocations.cbor; old spelling --dir):
connects to each --peer, sends TEXT to each once the channel is up, and prints events, received
messages, refusal counters and the half-open state left. Exit 0 when every peer is connected and N
messages arrived (or, with no peer and no --expect, after --timeout, default 10s); --linger (default 300ms)
after that for the peers' last messages. The old --timeout-ms and --linger-ms N still work.
${exitCodesHelp('1 also on timeout or when the identity cannot be loaded (the message names the file)')}
  --renew-from HOST:PORT  renew this node's certificate automatically at half its lifetime from the
                          registrar at that peer (over the sealed channel); the new key (0600) and
                          chain replace DIR/node.key and DIR/node.chain, and every session re-handshakes
  --registrar CA_DIR      serve renewals to authenticated peers with the CA in CA_DIR (ca.key, ca.cert,
                          bundle.cbor, optional revocations.cbor)
`;

const channelSpec = {
  'state-dir': 'string',
  dir: { alias: 'state-dir' },
  listen: 'string',
  transport: 'string',
  peer: 'string',
  send: 'string',
  expect: 'string',
  timeout: 'duration',
  'timeout-ms': { alias: 'timeout', unit: 'ms' },
  linger: 'duration',
  'linger-ms': { alias: 'linger', unit: 'ms' },
  'renew-from': 'string',
  registrar: 'string',
  config: 'string',
  help: 'boolean',
} as const satisfies FlagSpec;

/** `--config`: the agent's sealed link alone; done once every configured peer has a session. */
async function linkAlone(platform: Platform, flags: Readonly<Record<string, string | boolean>>): Promise<number> {
  const own = Object.keys(flags).find((f) => f !== 'config' && f !== 'timeout');
  if (own !== undefined) return usage(platform, `--${own} is for a channel node of its own, not --config`, channelHelp);
  const config = loadConfig(platform, 'channel', flags, [], () => [], channelHelp);
  if (typeof config === 'number') return config;
  const run = await start(platform, 'channel', config, 'link');
  if (typeof run === 'number') return run;
  const link = run.ctx.link;
  link?.dialAll();
  const peers = configuredPeers(config).map((p) => p.name);
  const timeoutMs = Number(flags.timeout ?? 10_000);
  const startedMs = platform.monotonicMs();
  const seen = new Set<string>();
  while (link !== null && seen.size < peers.length && platform.monotonicMs() - startedMs < timeoutMs) {
    for (const name of link.established())
      if (!seen.has(name)) {
        seen.add(name);
        platform.stdout(`link ${config.nodeName}: session with ${name}\n`);
      }
    await new Promise<void>((resolve) => platform.setTimer(50, resolve));
  }
  run.stop();
  const missing = peers.filter((p) => !seen.has(p));
  platform.stdout(`link ${config.nodeName}: ${seen.size} of ${peers.length} peers\n`);
  if (missing.length === 0) return 0;
  platform.stderr(
    `x0 channel: no session with ${missing.join(', ')} within ${timeoutMs} ms (are they running, reachable at the addresses in ${config.path}, and enrolled in this mesh?)\n`,
  );
  return 1;
}

export async function channelCommand(platform: Platform, args: readonly string[]): Promise<number> {
  // --peer may repeat: collect its values before the generic parser (which keeps the last).
  const peerTexts = repeated(args, channelSpec, 'peer');
  const parsed = parseArgs(args, channelSpec);
  if (!parsed.ok) return usage(platform, parsed.error, channelHelp);
  if (parsed.flags.help === true) {
    platform.stdout(channelHelp);
    return 0;
  }
  if (typeof parsed.flags.config === 'string') return linkAlone(platform, parsed.flags);
  const listen = parseHostPort(String(parsed.flags.listen ?? ''));
  const peers = peerTexts.map(parseHostPort);
  const expect = Number(parsed.flags.expect ?? 0);
  const timeoutMs = Number(parsed.flags.timeout ?? 10_000);
  const lingerMs = Number(parsed.flags.linger ?? 300);
  const dir = parsed.flags['state-dir'];
  if (typeof dir !== 'string' || listen === null || peers.some((p) => p === null))
    return usage(platform, '--state-dir and --listen are required; --peer needs HOST:PORT', channelHelp);
  if (!Number.isInteger(expect) || expect < 0) return usage(platform, '--expect needs a whole number', channelHelp);
  const transport = parsed.flags.transport ?? 'udp';
  if (transport !== 'udp' && transport !== 'tcp') return usage(platform, '--transport is udp or tcp', channelHelp);
  const renewFrom = typeof parsed.flags['renew-from'] === 'string' ? parseHostPort(parsed.flags['renew-from']) : null;
  if (parsed.flags['renew-from'] !== undefined && renewFrom === null)
    return usage(platform, '--renew-from needs HOST:PORT', channelHelp);
  const registrarDir = typeof parsed.flags.registrar === 'string' ? parsed.flags.registrar : null;
  const result = await runChannelNode(platform, {
    dir,
    transport,
    listen,
    peers: peers as { host: string; port: number }[],
    messages: typeof parsed.flags.send === 'string' ? [parsed.flags.send] : [],
    expect,
    timeoutMs,
    tickMs: 20,
    lingerMs,
    renewFrom,
    registrarDir,
  });
  if (typeof result === 'string') return refused(platform, 'channel', result);
  const counters = Object.entries(result.counters)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const { initiators, responders, sessions } = result.pending;
  platform.stdout(
    `done ok=${result.ok} established=${result.established.length} received=${result.received.length} pending initiators=${initiators} responders=${responders} sessions=${sessions}${counters ? ` refused ${counters}` : ''}\n`,
  );
  return result.ok ? 0 : 1;
}
