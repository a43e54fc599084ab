// `x0 uplink`: the agent's telemetry uplink component alone (src/agent/single.ts), from flags or the UCI file.
// Exit 0 after --count messages were all acknowledged, 1 when the broker could not be reached in time or the
// identity cannot be loaded, 2 on bad arguments.
import type { Platform } from '../platform/types.js';
import { fromHex } from '../core/wire/hex.js';
import { operatorKeysMax } from '../core/telemetry/limits.js';
import { loadChain, nodeFiles } from '../identity/store.js';
import { SimulatedMetrics } from '../telemetry/metrics.js';
import type { UplinkResult } from '../telemetry/uplink.js';
import type { UplinkComponent, UplinkExtras } from '../agent/components/uplink.js';
import type { FlagOptions } from '../agent/single.js';
import { exitCodesHelp, parseArgs, repeated, type FlagSpec } from './args.js';
import { loadConfig, start, stopped } from './component.js';

const uplinkHelp = `usage: x0 uplink [--config PATH | --state-dir DIR [--broker HOST:PORT] [--mqtt 3.1.1|5]]
                 [--interval DURATION] [--count N] [--format cbor|json] [--operator-key HEX]...
                 [--simulate SEED] [--persist FILE] [--username U --password P] [--keepalive DURATION]
                 [--run-for DURATION] [--tls-ca FILE [--tls-cert FILE --tls-key FILE] [--tls-server-name NAME]]

Runs the agent's telemetry uplink alone (the same component 'x0 agent' runs): this node's signed telemetry
over MQTT (docs/telemetry.md): retained status online/offline (offline is also the Last Will), respondd-style
telemetry every --interval, events, and operator commands from x0/<mesh>/<node>/cmd/+ signed by an
--operator-key (Ed25519 public key, 64 hex digits). Payloads are COSE_Sign1 (EdDSA) with the node identity
in the state directory (node.key, node.chain, bundle.cbor).
  --config PATH  the agent's UCI file: state_dir, node_name, trust_domain and the uplink section (broker,
                 interval, protocol) come from it
  --state-dir DIR  the node's state directory (old spelling: --dir); node name and trust domain come
                 from its certificate
  --broker       default 127.0.0.1:1883. On x0-runtime a numeric address, localhost or a name in /etc/hosts
                 (it has no DNS resolver); on Node any host name.
  --mqtt         protocol version, default 3.1.1: every broker speaks it (aedes, the embedded broker of
                 'x0 watch', speaks nothing else); 5 where the broker does (a refusal is reported as such)
  --interval D   between telemetry messages (default 10s, or the file's; below the file's 1 s minimum
                 for tests and demos). Old spelling: --interval-ms N
  --count N      stop after N telemetry messages, all acknowledged (default: run until killed)
  --simulate S   report simulated metrics from seed S instead of /proc and batctl (demo, tests)
  --persist FILE keep the offline queue on flash across restarts (written at most once a minute)
  --keepalive D  MQTT keep-alive (default 30s; old spelling --keepalive-s N): the broker publishes this
                 node's Last Will (offline) about 1.5 x D after it stops answering
  --run-for D    stop after D (default: --count, or SIGTERM)
  --tls-ca FILE  MQTT over TLS (the broker's TLS port, usually 8883): its certificate must chain to the CA
                 certificates in FILE (PEM, an absolute path) and name --tls-server-name (default: --broker's
                 host). UCI: uplink.tls, ca_file. A refusal is named: cert-untrusted, cert-expired,
                 cert-not-yet-valid, hostname-mismatch, handshake-failed (x0-runtime: mbedtls; Node: OpenSSL)
  --tls-cert FILE --tls-key FILE  a client certificate and its key (PEM), for a broker that asks for one
  --tls-server-name NAME  the DNS name the broker's certificate holds, also sent as SNI (UCI: server_name)
Each failed connection attempt is logged with what failed (connection refused, name not resolved,
timeout, ...) and retried with jittered exponential backoff from 0.5 s up to 60 s.
${exitCodesHelp('1 also when not all messages were acknowledged, the broker name cannot be resolved or the identity cannot be loaded')}`;

/** How long a stopped uplink may take to say offline and flush its queue. */
const stopWaitMs = 3000;

const uplinkSpec = {
  config: 'string',
  'state-dir': 'string',
  dir: { alias: 'state-dir' },
  broker: 'string',
  interval: 'duration',
  'interval-ms': { alias: 'interval', unit: 'ms' },
  count: 'string',
  format: 'string',
  mqtt: 'string',
  'operator-key': 'string',
  simulate: 'string',
  persist: 'string',
  username: 'string',
  password: 'string',
  keepalive: 'duration',
  'keepalive-s': { alias: 'keepalive', unit: 's' },
  'run-for': 'duration',
  'tls-ca': 'string',
  'tls-cert': 'string',
  'tls-key': 'string',
  'tls-server-name': 'string',
  help: 'boolean',
} as const satisfies FlagSpec;

/** --tls-* flags -> the uplink section's TLS options (validated there, like the file's). */
const tlsFlags = [
  ['tls-ca', 'uplink.ca_file'],
  ['tls-cert', 'uplink.cert_file'],
  ['tls-key', 'uplink.key_file'],
  ['tls-server-name', 'uplink.server_name'],
] as const;

/** Flags -> the agent's options; the node's name and trust domain are the certificate's. */
function uplinkOptions(platform: Platform, f: Readonly<Record<string, string | boolean>>): FlagOptions {
  const dir = String(f['state-dir']);
  const chain = loadChain(platform, nodeFiles(dir).chain);
  const leaf = chain.ok ? chain.value[0] : undefined;
  const mqtt = f.mqtt ?? '3.1.1';
  return [
    { option: 'agent.state_dir', flag: '--state-dir', value: dir },
    ...(leaf === undefined
      ? []
      : [
          { option: 'agent.node_name', flag: '--state-dir', value: leaf.name },
          { option: 'agent.trust_domain', flag: '--state-dir', value: leaf.trustDomain },
        ]),
    { option: 'agent.role', flag: '--state-dir', value: 'node' },
    { option: 'uplink.enabled', flag: '--broker', value: '1' },
    { option: 'uplink.broker', flag: '--broker', value: String(f.broker ?? '127.0.0.1:1883') },
    { option: 'uplink.protocol', flag: '--mqtt', value: mqtt === '5' ? '5' : '3.1.1' },
    ...(typeof f['tls-ca'] === 'string' ? [{ option: 'uplink.tls', flag: '--tls-ca', value: '1' }] : []),
    ...tlsFlags.flatMap(([flag, option]) =>
      typeof f[flag] === 'string' ? [{ option, flag: `--${flag}`, value: f[flag] as string }] : [],
    ),
  ];
}

export async function uplinkCommand(platform: Platform, args: readonly string[]): Promise<number> {
  const keyTexts = repeated(args, uplinkSpec, 'operator-key');
  const parsed = parseArgs(args, uplinkSpec);
  const usage = (message: string) => {
    platform.stderr(`x0 uplink: ${message}\n\n${uplinkHelp}`);
    return 2;
  };
  if (!parsed.ok) return usage(parsed.error);
  const f = parsed.flags;
  if (f.help === true) {
    platform.stdout(uplinkHelp);
    return 0;
  }
  if (parsed.positionals.length > 0) return usage(`unexpected argument '${parsed.positionals[0]}'`);
  if (typeof f.config !== 'string' && typeof f['state-dir'] !== 'string')
    return usage('--state-dir DIR (the node identity: node.key, node.chain, bundle.cbor) or --config PATH is required');
  const count = f.count === undefined ? null : Number(f.count);
  const format = f.format ?? 'cbor';
  if (count !== null && !(Number.isInteger(count) && count > 0)) return usage('--count needs a positive integer');
  if (format !== 'cbor' && format !== 'json') return usage('--format is cbor or json');
  const keepAliveMs = Number(f.keepalive ?? 30_000);
  if (!(keepAliveMs >= 1000 && keepAliveMs <= 65_535_000 && keepAliveMs % 1000 === 0))
    return usage('--keepalive needs whole seconds, 1s to 65535s');
  if (f.mqtt !== undefined && f.mqtt !== '5' && f.mqtt !== '3.1.1') return usage('--mqtt is 5 or 3.1.1');
  const tlsWithoutCa = tlsFlags.find(([flag]) => flag !== 'tls-ca' && f[flag] !== undefined);
  if (tlsWithoutCa !== undefined && f['tls-ca'] === undefined)
    return usage(`--${tlsWithoutCa[0]} needs --tls-ca FILE (the CA the broker's certificate must chain to)`);
  if (keyTexts.length > operatorKeysMax || !keyTexts.every((k) => /^[0-9a-f]{64}$/i.test(k)))
    return usage(`--operator-key needs 64 hex digits (at most ${operatorKeysMax} keys)`);
  const seed = f.simulate === undefined ? null : Number(f.simulate);
  if (seed !== null && !Number.isInteger(seed)) return usage('--simulate needs an integer seed');
  const loaded = loadConfig(
    platform,
    'uplink',
    f,
    ['state-dir', 'broker', 'mqtt', ...tlsFlags.map(([flag]) => flag)],
    () => uplinkOptions(platform, f),
    uplinkHelp,
  );
  if (typeof loaded === 'number') return loaded;
  if (loaded.uplink.broker === null) {
    platform.stderr(
      `x0 uplink: ${loaded.path}: no broker: add option broker 'HOST:PORT' to the uplink section (docs/config.md)\n`,
    );
    return 1;
  }
  const config =
    f.interval === undefined ? loaded : { ...loaded, uplink: { ...loaded.uplink, intervalMs: Number(f.interval) } };
  const extras: UplinkExtras = {
    count,
    format,
    ...(seed === null ? {} : { metrics: new SimulatedMetrics(platform, config.nodeName, config.trustDomain, seed) }),
    operatorKeys: keyTexts.map(fromHex),
    keepAliveS: keepAliveMs / 1000,
    ...(typeof f.persist === 'string' ? { persistPath: f.persist } : {}),
    ...(typeof f.username === 'string' ? { username: f.username } : {}),
    ...(typeof f.password === 'string' ? { password: f.password } : {}),
  };
  const run = await start(platform, 'uplink', config, 'uplink', { uplink: extras });
  if (typeof run === 'number') return run;
  const component = run.component as UplinkComponent;
  const finished = component.finished as Promise<UplinkResult>;
  // With --count the run ends by itself; --run-for stops it in order (offline status, queue flushed) and waits at
  // most stopWaitMs for that; SIGTERM ends the process at once, as it always has.
  let result: UplinkResult | null;
  if (f['run-for'] !== undefined) {
    await Promise.race([stopped(platform, Number(f['run-for'])), finished]);
    run.stop();
    result = await Promise.race([finished, new Promise<null>((r) => platform.setTimer(stopWaitMs, () => r(null)))]);
  } else result = await finished;
  run.stop();
  if (result === null) {
    platform.stdout(
      `uplink ${config.nodeName}: stopped: ${run.ctx.uplink.sent} telemetry messages (queue not flushed)\n`,
    );
    return platform.exit(count === null ? 0 : 1);
  }
  const counters = Object.entries({ ...result.mqtt, ...result.commands })
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const ok = result.ok && (count === null || result.telemetrySent >= count);
  const why =
    ok || result.lastFailure === null ? '' : ` (not all acknowledged; last broker failure: ${result.lastFailure})`;
  platform.stdout(
    `uplink ${config.nodeName}: ${ok ? 'done' : 'FAILED'}: ${result.telemetrySent} telemetry messages${why}${counters ? `; ${counters}` : ''}\n`,
  );
  return ok ? 0 : 1;
}
