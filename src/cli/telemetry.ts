// `x0 uplink`: the node's signed MQTT telemetry (runs on the router and on Node). Exit 0 after --count
// messages were all acknowledged, 1 when the broker could not be reached in time, 2 on bad arguments.
import type { Platform } from '../platform/types.js';
import { fromHex } from '../core/wire/hex.js';
import { operatorKeysMax } from '../core/telemetry/limits.js';
import { loadNodeIdentity } from '../identity/store.js';
import { ProcMetrics, SimulatedMetrics } from '../telemetry/metrics.js';
import { resolveBrokerHost } from '../telemetry/broker.js';
import { runUplink } from '../telemetry/uplink.js';
import { parseArgs, parseHostPort } from './args.js';

const uplinkHelp = `usage: x0 uplink --dir DIR [--broker HOST:PORT] [--interval-ms N] [--count N] [--format cbor|json]
                 [--mqtt 3.1.1|5] [--operator-key HEX]... [--simulate SEED] [--persist FILE]
                 [--username U --password P] [--keepalive-s N]

Publishes this node's signed telemetry over MQTT (docs/telemetry.md): retained status online/offline
(offline is also the Last Will), respondd-style telemetry every --interval-ms (default 10000), events,
and runs operator commands from x0/<mesh>/<node>/cmd/+ signed by an --operator-key (Ed25519 public key,
64 hex digits). Payloads are COSE_Sign1 (EdDSA) with the node identity in DIR (node.key, node.chain).
  --broker       default 127.0.0.1:1883. On x0-runtime a numeric address, localhost or a name in /etc/hosts
                 (it has no DNS resolver); on Node any host name.
  --mqtt         protocol version, default 3.1.1: every broker speaks it (aedes, the embedded broker of
                 'x0 watch', speaks nothing else); 5 where the broker does (a refusal is reported as such)
  --count N      stop after N telemetry messages, all acknowledged (default: run until killed)
  --simulate S   report simulated metrics from seed S instead of /proc and batctl (demo, tests)
  --persist FILE keep the offline queue on flash across restarts (written at most once a minute)
  --keepalive-s N  MQTT keep-alive (default 30): the broker publishes this node's Last Will (offline)
                 about 1.5 N s after it stops answering, so consumers see a dead node that soon
Each failed connection attempt is logged with what failed (connection refused, name not resolved,
timeout, ...) and retried with jittered exponential backoff from 0.5 s up to 60 s.
Exit 0 ok, 1 not all messages acknowledged (or the broker's name cannot be resolved), 2 bad arguments.
`;

export async function uplinkCommand(platform: Platform, args: readonly string[]): Promise<number> {
  const keyTexts = args.flatMap((a, i) =>
    a === '--operator-key' && args[i + 1] !== undefined ? [args[i + 1] as string] : [],
  );
  const parsed = parseArgs(args, {
    dir: 'string',
    broker: 'string',
    'interval-ms': 'string',
    count: 'string',
    format: 'string',
    mqtt: 'string',
    'operator-key': 'string',
    simulate: 'string',
    persist: 'string',
    username: 'string',
    password: 'string',
    'keepalive-s': 'string',
    help: 'boolean',
  });
  const usage = (message: string) => {
    platform.stderr(`x0: ${message}\n\n${uplinkHelp}`);
    return 2;
  };
  if (!parsed.ok) return usage(parsed.error);
  const f = parsed.flags;
  if (f.help === true) {
    platform.stdout(uplinkHelp);
    return 0;
  }
  if (typeof f.dir !== 'string')
    return usage('--dir is required (the node identity: node.key, node.chain, bundle.cbor)');
  const broker = parseHostPort(String(f.broker ?? '127.0.0.1:1883'));
  const intervalMs = Number(f['interval-ms'] ?? 10_000);
  const count = f.count === undefined ? null : Number(f.count);
  const format = f.format ?? 'cbor';
  // 3.1.1 by default: every broker speaks it; the uplink needs nothing only v5 has (docs/telemetry.md).
  const mqtt = f.mqtt ?? '3.1.1';
  if (broker === null || broker.port === 0) return usage('--broker needs HOST:PORT');
  if (!(intervalMs >= 1) || (count !== null && !(Number.isInteger(count) && count > 0)))
    return usage('--interval-ms needs a number >= 1 and --count a positive integer');
  if (format !== 'cbor' && format !== 'json') return usage('--format is cbor or json');
  const keepAliveS = Number(f['keepalive-s'] ?? 30);
  if (!(Number.isInteger(keepAliveS) && keepAliveS >= 1 && keepAliveS <= 65_535))
    return usage('--keepalive-s needs whole seconds, 1 to 65535');
  if (mqtt !== '5' && mqtt !== '3.1.1') return usage('--mqtt is 5 or 3.1.1');
  if (keyTexts.length > operatorKeysMax || !keyTexts.every((k) => /^[0-9a-f]{64}$/i.test(k)))
    return usage(`--operator-key needs 64 hex digits (at most ${operatorKeysMax} keys)`);
  const host = resolveBrokerHost(platform, broker.host);
  if (!host.ok) {
    platform.stderr(`x0: uplink: ${host.reason}\n`);
    return 1;
  }
  const identity = loadNodeIdentity(platform, f.dir);
  if (!identity.ok) {
    platform.stderr(`x0: uplink: cannot load the identity in ${f.dir}: ${identity.reason} (see 'x0 cert request')\n`);
    return 1;
  }
  const leaf = identity.value.chain[0]!;
  const seed = f.simulate === undefined ? null : Number(f.simulate);
  if (seed !== null && !Number.isInteger(seed)) return usage('--simulate needs an integer seed');
  const metrics =
    seed === null
      ? new ProcMetrics(platform, leaf.name, leaf.trustDomain)
      : new SimulatedMetrics(platform, leaf.name, leaf.trustDomain, seed);
  const result = await runUplink(platform, {
    host: host.value,
    port: broker.port,
    signSecretKey: identity.value.keys.sign.secretKey,
    chain: identity.value.chain,
    metrics,
    intervalMs,
    count,
    format,
    version: mqtt === '5' ? 5 : 4,
    operatorKeys: keyTexts.map(fromHex),
    keepAliveS,
    ...(typeof f.persist === 'string' ? { persistPath: f.persist } : {}),
    ...(typeof f.username === 'string' ? { username: f.username } : {}),
    ...(typeof f.password === 'string' ? { password: f.password } : {}),
  });
  const counters = Object.entries({ ...result.mqtt, ...result.commands })
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const why =
    result.ok || result.lastFailure === null
      ? ''
      : ` (not all acknowledged; last broker failure: ${result.lastFailure})`;
  platform.stdout(
    `uplink ${leaf.name}: ${result.ok ? 'done' : 'FAILED'}: ${result.telemetrySent} telemetry messages${why}${counters ? `; ${counters}` : ''}\n`,
  );
  return result.ok ? 0 : 1;
}
