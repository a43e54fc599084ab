// `x0 channel`: this node's sealed channel over UDP or TCP (the loop lives in src/channel/node.ts).
import type { Platform } from '../platform/types.js';
import { runChannelNode } from '../channel/node.js';
import { parseArgs, parseHostPort, refused, usage } from './args.js';

const channelHelp = `usage: x0 channel --dir DIR --listen [HOST:]PORT [--transport udp|tcp] [--peer HOST:PORT]...
                  [--send TEXT] [--expect N] [--timeout-ms N] [--linger-ms N]
                  [--renew-from HOST:PORT] [--registrar CA_DIR]

Runs this node's sealed channel over UDP datagrams (default) or TCP streams (one length-prefixed frame
per message) with the identity in DIR (node.key, node.chain, bundle.cbor, optional revocations.cbor):
connects to each --peer, sends TEXT to each once the channel is up, and prints events, received
messages, refusal counters and the half-open state left. Exit 0 when every peer is connected and N
messages arrived (or, with no peer and no --expect, after --timeout-ms); 1 on timeout or when the identity
cannot be loaded (the message names the file); 2 bad arguments.
  --renew-from HOST:PORT  renew this node's certificate automatically at half its lifetime from the
                          registrar at that peer (over the sealed channel); the new key (0600) and
                          chain replace DIR/node.key and DIR/node.chain, and every session re-handshakes
  --registrar CA_DIR      serve renewals to authenticated peers with the CA in CA_DIR (ca.key, ca.cert,
                          bundle.cbor, optional revocations.cbor)
`;

export async function channelCommand(platform: Platform, args: readonly string[]): Promise<number> {
  // --peer may repeat: collect its values before the generic parser (which keeps the last).
  const peerTexts = args.flatMap((a, i) =>
    a === '--peer' && args[i + 1] !== undefined ? [args[i + 1] as string] : [],
  );
  const parsed = parseArgs(args, {
    dir: 'string',
    listen: 'string',
    transport: 'string',
    peer: 'string',
    send: 'string',
    expect: 'string',
    'timeout-ms': 'string',
    'linger-ms': 'string',
    'renew-from': 'string',
    registrar: 'string',
    help: 'boolean',
  });
  if (!parsed.ok) return usage(platform, parsed.error, channelHelp);
  if (parsed.flags.help === true) {
    platform.stdout(channelHelp);
    return 0;
  }
  const listen = parseHostPort(String(parsed.flags.listen ?? ''));
  const peers = peerTexts.map(parseHostPort);
  const expect = Number(parsed.flags.expect ?? 0);
  const timeoutMs = Number(parsed.flags['timeout-ms'] ?? 10_000);
  const lingerMs = Number(parsed.flags['linger-ms'] ?? 300);
  if (typeof parsed.flags.dir !== 'string' || listen === null || peers.some((p) => p === null))
    return usage(platform, '--dir and --listen are required; --peer needs HOST:PORT', channelHelp);
  if (!Number.isInteger(expect) || expect < 0 || !(timeoutMs > 0) || !(lingerMs >= 0))
    return usage(platform, '--expect, --timeout-ms, --linger-ms need numbers', channelHelp);
  const transport = parsed.flags.transport ?? 'udp';
  if (transport !== 'udp' && transport !== 'tcp') return usage(platform, '--transport is udp or tcp', channelHelp);
  const renewFrom = typeof parsed.flags['renew-from'] === 'string' ? parseHostPort(parsed.flags['renew-from']) : null;
  if (parsed.flags['renew-from'] !== undefined && renewFrom === null)
    return usage(platform, '--renew-from needs HOST:PORT', channelHelp);
  const registrarDir = typeof parsed.flags.registrar === 'string' ? parsed.flags.registrar : null;
  const result = await runChannelNode(platform, {
    dir: parsed.flags.dir,
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
