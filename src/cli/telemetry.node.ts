// Node-only consumers of the telemetry uplink, over the `mqtt` npm package: `x0 watch` (verify and show; with
// an embedded aedes broker when none is configured), `x0 exporter` (Prometheus text on HTTP) and `x0 cmd`
// (signed operator commands). Registered by the Node entry only (src/entry/node.ts), so the router bundle never
// pulls in mqtt.js, aedes or node:http.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer as createTcpServer, isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Platform } from '../platform/types.js';
import { fromHex, toHex } from '../core/wire/hex.js';
import { signCommand, topicFor, type Verified } from '../core/telemetry/messages.js';
import { operatorCommandNames } from '../telemetry/uplink.js';
import { loadBundle, nodeFiles } from '../identity/store.js';
import type { TrustBundle } from '../core/identity/chain.js';
import { Watcher } from '../telemetry/watcher.js';
import { RevocationFollower } from '../telemetry/revocations.js';
import { renderMetrics } from '../telemetry/prometheus.js';
import { OtlpExporter, otlpRequestTimeoutMs, otlpTracesUrl, type OtlpAnswer } from '../telemetry/otlp.js';
import { formatTraceEvent } from '../core/telemetry/traces.js';
import { Republisher, republishDefaults, validPrefix, type Publication } from '../telemetry/republish.js';
import { parseArgs, parseHostPort } from './args.js';
import { tlsReason } from '../platform/node/net.js';

const common = `  --broker HOST:PORT   the MQTT broker (default 127.0.0.1:1883)
  --trust FILE         the mesh CA trust bundle (or --ca-dir DIR: DIR/bundle.cbor; old spellings --bundle, --dir)
  --mesh NAME          only this mesh (default: the bundle's trust domain; '+' for every mesh)
  --mqtt 3.1.1|5       protocol version (default 3.1.1, which every broker speaks)
  --revocations FILE   the mesh's signed revocation list (the CA's revocations.cbor, or a copy), read again
                       every second: telemetry from a revoked node is rejected as cert-revoked and the node
                       is shown as revoked. A missing file is an empty list until it appears.
  --tls-ca FILE        MQTT over TLS (mqtts, the broker's TLS port, usually 8883): the broker's certificate
                       must chain to the CA certificates in FILE (PEM) and name --tls-server-name (default:
                       --broker's host); refusals are named (cert-untrusted, cert-expired, hostname-mismatch, ...)
  --tls-cert FILE --tls-key FILE   a client certificate and its key (PEM), for a broker that asks for one
  --tls-server-name NAME           the DNS name the broker's certificate holds (also sent as SNI)
Operator commands (x0 cmd) on x0/<mesh>/<node>/cmd/+ are counted as seen, never as rejected.`;

const watchHelp = `usage: x0 watch (--trust FILE | --ca-dir DIR) [--broker HOST:PORT] [--mesh NAME] [--json] [--revocations FILE]
                [--duration D] [--expect-nodes N [--until-offline]] [--once] [--embedded-broker]
                [--republish [--republish-prefix P] [--discovery-prefix D]] [--otlp URL]

Subscribes to x0/<mesh>/#, verifies every payload (COSE_Sign1 signature, certificate chain against the
trust bundle, topic binding, sequence) and shows a table of nodes with freshness; unsigned, forged,
replayed or foreign messages are shown as REJECTED with a counter. Without a terminal (or with --json,
one JSON object per message) it prints a line per message and the table at the end.
${common}
  --duration D         stop after D, e.g. 30s (default: run until interrupted; old spelling --duration-ms N)
  --expect-nodes N     stop, exit 0, once N nodes have sent verified telemetry; exit 1 if the duration ends first
  --until-offline      with --expect-nodes: wait until those N nodes have also ended in order (a verified
                       'offline' status after their telemetry)
  --once               print the table once the retained messages are in (2 s), then exit
  --embedded-broker    no broker to use: start one (aedes, MQTT 3.1.1) inside this process on --broker's
                       address, for a local demo; it stops with the watch
  --republish          publish each node's verified state as plain JSON (retained) on
                       PREFIX/<mesh>/<node>/state and PREFIX/<mesh>/<node>/availability (online | offline), with
                       Home Assistant MQTT discovery (one device per node, sensors state, uptime, load, clients,
                       memory) under DISCOVERY/sensor/... and the bridge's availability on PREFIX/bridge/availability
                       (its Will: offline). Only verified messages are republished; a revoked node is withdrawn.
  --republish-prefix P the plain tree (default x0-verified; not under x0/)
  --discovery-prefix D Home Assistant's discovery prefix (default homeassistant)
  --otlp URL           export the self-healing traces (the trace events in verified telemetry, shown as
                       'trace' lines) as OpenTelemetry spans, OTLP/HTTP JSON, to URL (http://HOST:4318 gets
                       /v1/traces); a collector that is down costs queued, then dropped spans (counted), never
                       the watch (docs/mapek.md, Traces)
Exit 0 ok (interrupted, duration over, or --expect-nodes met), 1 the broker cannot be reached or the
expected nodes did not show up in time, 2 bad arguments (a missing or unreadable trust bundle included).
`;

const exporterHelp = `usage: x0 exporter (--trust FILE | --ca-dir DIR) [--broker HOST:PORT] [--listen HOST:PORT] [--duration D]
                   [--revocations FILE]

Serves the verified telemetry as Prometheus text on http://HOST:PORT/metrics (default 127.0.0.1:9108):
x0_node_up, x0_node_revoked, x0_node_last_seen_seconds, uptime, load, memory, clients, traffic,
x0_node_neighbour_tq, x0_messages_verified_total / x0_messages_rejected_total{reason},
x0_operator_commands_seen_total, x0_revocation_list_version, x0_revocation_list_refused_total{reason}.
Only verified messages become metrics (docs/telemetry.md lists every family).
${common}
Exit 0 after SIGINT/SIGTERM or --duration, 1 the broker cannot be reached or --listen is taken,
2 bad arguments (a missing or unreadable trust bundle included).
`;

const cmdHelp = `usage: x0 cmd keygen --out FILE
       x0 cmd send --key FILE --mesh MESH --node NODE --name NAME [--args JSON] [--broker HOST:PORT]

'keygen' writes an operator Ed25519 key (64 hex digits of seed, mode 0600) to FILE and prints its public
key: give that to 'x0 uplink --operator-key'. 'send' publishes a command signed with the key to
x0/<mesh>/<node>/cmd/<name> (QoS 1), once the broker holds a status of that node (an unknown node is an
error, and nothing is sent). Nodes answer on .../events. Commands: ping, publish-now (any other is refused).
Exit 0 sent, 1 the key file is not an operator key, the node is unknown or the broker cannot be reached,
2 bad arguments.
`;

type Flags = Readonly<Record<string, string | boolean>>;

function usage(platform: Platform, message: string, help: string): number {
  platform.stderr(`x0: ${message}\n\n${help}`);
  return 2;
}

function brokerUrl(flags: Flags): string | null {
  const broker = parseHostPort(String(flags.broker ?? '127.0.0.1:1883'));
  const scheme = typeof flags['tls-ca'] === 'string' ? 'mqtts' : 'mqtt';
  return broker === null || broker.port === 0 ? null : `${scheme}://${broker.host}:${broker.port}`;
}

const tlsFlagSpec = {
  'tls-ca': 'string',
  'tls-cert': 'string',
  'tls-key': 'string',
  'tls-server-name': 'string',
} as const;

/** The --tls-* flags as mqtt.js (node:tls) options, or what is wrong with them. */
// mqtt.js hands its options to tls.connect, checkServerIdentity included (its type does not list it).
function tlsClientOptions(
  flags: Flags,
): (Partial<IClientOptions> & Pick<ConnectionOptions, 'checkServerIdentity'>) | string {
  const ca = flags['tls-ca'];
  const { 'tls-cert': cert, 'tls-key': key, 'tls-server-name': name } = flags;
  if (typeof ca !== 'string') {
    const stray = ['tls-cert', 'tls-key', 'tls-server-name'].find((f) => flags[f] !== undefined);
    return stray === undefined ? {} : `--${stray} needs --tls-ca FILE`;
  }
  if ((typeof cert === 'string') !== (typeof key === 'string')) return '--tls-cert and --tls-key go together';
  const read = (flag: string, path: string): Buffer | string => {
    try {
      return readFileSync(path);
    } catch (error) {
      return `${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
    }
  };
  const files = [read('--tls-ca', ca), ...(typeof cert === 'string' ? [read('--tls-cert', cert)] : [])];
  const keyBytes = typeof key === 'string' ? read('--tls-key', key) : undefined;
  const bad = [...files, keyBytes].find((b) => typeof b === 'string');
  if (typeof bad === 'string') return bad;
  const host = parseHostPort(String(flags.broker ?? '127.0.0.1:1883'))?.host ?? '127.0.0.1';
  const serverName = typeof name === 'string' ? name : host;
  return {
    ca: files[0] as Buffer,
    ...(files[1] === undefined ? {} : { cert: files[1] as Buffer, key: keyBytes as Buffer }),
    ...(isIP(serverName) === 0 ? { servername: serverName } : {}),
    checkServerIdentity: (_host: string, certificate: PeerCertificate) => checkServerIdentity(serverName, certificate),
    rejectUnauthorized: true,
  };
}

function bundleFrom(platform: Platform, flags: Flags): TrustBundle | string {
  const path =
    typeof flags.trust === 'string'
      ? flags.trust
      : typeof flags['ca-dir'] === 'string'
        ? nodeFiles(flags['ca-dir']).bundle
        : null;
  if (path === null) return 'give --trust FILE (the mesh trust bundle) or --ca-dir DIR (DIR/bundle.cbor)';
  const bundle = loadBundle(platform, path);
  return bundle.ok ? bundle.value : `cannot load the trust bundle ${path}: ${bundle.reason}`;
}

/** A Watcher for the bundle, following --revocations FILE if given (stop the follower when done). */
function watcherFor(
  platform: Platform,
  flags: Flags,
  bundle: TrustBundle,
): { watcher: Watcher; follower: RevocationFollower | null } {
  const watcher = new Watcher(platform.crypto, bundle, () => platform.wallClockMs());
  if (typeof flags.revocations !== 'string') return { watcher, follower: null };
  const follower = new RevocationFollower(
    platform,
    flags.revocations,
    bundle,
    watcher.revocations,
    watcher.revocationRefusals,
  );
  follower.start();
  return { watcher, follower };
}

/** Subscribes a Watcher to the broker; resolves with the client once subscribed. */
function subscribeWatcher(
  platform: Platform,
  flags: Flags,
  bundle: TrustBundle,
  watcher: Watcher,
  onMessage: (topic: string, outcome: ReturnType<Watcher['offer']>) => void,
  will?: IClientOptions['will'],
): Promise<MqttClient> {
  const url = brokerUrl(flags) as string;
  const mesh = typeof flags.mesh === 'string' ? flags.mesh : bundle.trustDomain;
  const tls = tlsClientOptions(flags);
  if (typeof tls === 'string') return Promise.reject(new Error(tls));
  const options: IClientOptions = {
    ...tls,
    protocolVersion: flags.mqtt === '5' ? 5 : 4,
    clientId: `x0-watch-${toHex(platform.randomBytes(4))}`,
    reconnectPeriod: 1000,
    connectTimeout: 5000,
    ...(will === undefined ? {} : { will }),
  };
  const client = connect(url, options);
  client.on('message', (topic, payload) =>
    onMessage(topic, watcher.offer(topic, new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength))),
  );
  return new Promise((resolve, reject) => {
    client.once('connect', () =>
      client.subscribe(`x0/${mesh}/#`, { qos: 1 }, (error) => {
        if (error) return reject(error);
        // On stderr, so that --json output stays one JSON object per line; tests wait for it.
        platform.stderr(`subscribed to x0/${mesh}/# at ${url}\n`);
        resolve(client);
      }),
    );
    // Without this the client would keep reconnecting, and the process would not end.
    client.once('error', (error) => {
      client.end(true);
      // A TLS refusal by its reason code (the uplink's words), then OpenSSL's.
      const reason = url.startsWith('mqtts:') ? tlsReason(error) : null;
      reject(reason === null ? error : new Error(`${reason}: ${error.message}`));
    });
  });
}

/** An MQTT broker (aedes, in memory) inside this process: the local demo needs nothing else installed. */
interface EmbeddedBroker {
  /** Clients connected now (the watch's own included). */
  readonly clients: () => number;
  close(): Promise<void>;
}

async function startEmbeddedBroker(host: string, port: number): Promise<EmbeddedBroker | string> {
  let Aedes: typeof import('aedes').Aedes;
  try {
    ({ Aedes } = await import('aedes'));
  } catch (error) {
    return `the embedded broker needs the aedes package (a devDependency: run 'npm install'): ${(error as Error).message}`;
  }
  const broker = await Aedes.createBroker();
  const server = createTcpServer(broker.handle as (socket: import('node:net').Socket) => void);
  const failed = await new Promise<string | null>((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'EIO'));
    server.listen(port, host, () => resolve(null));
  });
  const close = () =>
    new Promise<void>((resolve) => {
      server.close();
      broker.close(() => resolve());
    });
  if (failed !== null) {
    await close();
    return `the embedded broker cannot listen on ${host}:${port}: ${failed} (another broker there? use --broker HOST:PORT without --embedded-broker, or another port)`;
  }
  return { clients: () => broker.connectedClients, close };
}

export async function watchCommand(platform: Platform, args: readonly string[]): Promise<number> {
  const parsed = parseArgs(args, {
    broker: 'string',
    trust: 'string',
    bundle: { alias: 'trust' },
    'ca-dir': 'string',
    dir: { alias: 'ca-dir' },
    mesh: 'string',
    mqtt: 'string',
    json: 'boolean',
    duration: 'duration',
    'duration-ms': { alias: 'duration', unit: 'ms' },
    'expect-nodes': 'string',
    'until-offline': 'boolean',
    once: 'boolean',
    'embedded-broker': 'boolean',
    revocations: 'string',
    republish: 'boolean',
    'republish-prefix': 'string',
    'discovery-prefix': 'string',
    otlp: 'string',
    ...tlsFlagSpec,
    help: 'boolean',
  });
  if (!parsed.ok) return usage(platform, parsed.error, watchHelp);
  const f = parsed.flags;
  if (f.help === true) {
    platform.stdout(watchHelp);
    return 0;
  }
  const durationMs = f.duration === undefined ? (f.once === true ? 2000 : null) : Number(f.duration);
  const expectNodes = f['expect-nodes'] === undefined ? null : Number(f['expect-nodes']);
  const address = parseHostPort(String(f.broker ?? '127.0.0.1:1883'));
  if (brokerUrl(f) === null || address === null) return usage(platform, '--broker needs HOST:PORT', watchHelp);
  if (
    (durationMs !== null && !(durationMs > 0)) ||
    (expectNodes !== null && !(Number.isInteger(expectNodes) && expectNodes > 0))
  )
    return usage(platform, '--expect-nodes needs a positive number', watchHelp);
  if (f['until-offline'] === true && expectNodes === null)
    return usage(platform, '--until-offline needs --expect-nodes N', watchHelp);
  if (f.otlp !== undefined && otlpTracesUrl(String(f.otlp)) === null)
    return usage(
      platform,
      `--otlp ${f.otlp}: give the collector's OTLP/HTTP URL, e.g. http://127.0.0.1:4318`,
      watchHelp,
    );
  for (const flag of ['republish-prefix', 'discovery-prefix'] as const) {
    const value = f[flag];
    if (value !== undefined && f.republish !== true) return usage(platform, `--${flag} needs --republish`, watchHelp);
    if (typeof value === 'string' && !validPrefix(value))
      return usage(
        platform,
        `--${flag} '${value}' is not MQTT topic levels (letters, digits, . _ -, separated by /; not under x0/)`,
        watchHelp,
      );
  }
  // aedes speaks MQTT 3.1.1 only.
  if (f['embedded-broker'] === true && f.mqtt === '5')
    return usage(platform, '--embedded-broker speaks MQTT 3.1.1: drop --mqtt 5', watchHelp);
  const flags = f['embedded-broker'] === true ? { ...f, mqtt: '3.1.1' } : f;
  const bundle = bundleFrom(platform, f);
  if (typeof bundle === 'string') return usage(platform, bundle, watchHelp);
  let embedded: EmbeddedBroker | null = null;
  if (f['embedded-broker'] === true) {
    const started = await startEmbeddedBroker(address.host, address.port);
    if (typeof started === 'string') {
      platform.stderr(`x0: watch: ${started}\n`);
      return 1;
    }
    embedded = started;
    platform.stderr(`embedded MQTT broker (aedes, MQTT 3.1.1) on ${address.host}:${address.port}\n`);
  }
  try {
    return await watchWith(platform, flags, bundle, durationMs, expectNodes, embedded);
  } finally {
    await embedded?.close();
  }
}

async function watchWith(
  platform: Platform,
  f: Flags,
  bundle: TrustBundle,
  durationMs: number | null,
  expectNodes: number | null,
  embedded: EmbeddedBroker | null,
): Promise<number> {
  const { watcher, follower } = watcherFor(platform, f, bundle);
  try {
    return await watchLoop(platform, f, watcher, bundle, durationMs, expectNodes, embedded);
  } finally {
    follower?.stop();
  }
}

async function watchLoop(
  platform: Platform,
  f: Flags,
  watcher: Watcher,
  bundle: TrustBundle,
  durationMs: number | null,
  expectNodes: number | null,
  embedded: EmbeddedBroker | null,
): Promise<number> {
  const live = process.stdout.isTTY === true && f.json !== true && f.once !== true;
  const otlp = typeof f.otlp === 'string' ? otlpExporter(otlpTracesUrl(f.otlp) as string) : null;
  const withTelemetry = () => [...watcher.nodes.values()].filter((n) => n.telemetry !== null).length;
  // --until-offline: nodes whose verified 'offline' status came after their telemetry (their uplink ended).
  const ended = new Set<string>();
  const noteEnded = (m: Verified): void => {
    const key = `${m.mesh}/${m.node}`;
    if (m.kind === 'status' && m.data.state === 'offline' && watcher.nodes.get(key)?.telemetry != null) ended.add(key);
  };
  const expected = () => (f['until-offline'] === true ? ended.size : withTelemetry()) >= (expectNodes as number);
  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });
  const line = (topic: string, outcome: ReturnType<Watcher['offer']>): string => {
    if (f.json === true) {
      return JSON.stringify(
        outcome.ok
          ? {
              topic,
              ok: true,
              node: outcome.message.node,
              mesh: outcome.message.mesh,
              kind: outcome.message.kind,
              seq: outcome.message.seq,
              at: outcome.message.at,
              data: outcome.message.data,
            }
          : { topic, ok: false, reason: outcome.reason, benign: outcome.benign },
      );
    }
    return outcome.ok
      ? `verified ${outcome.message.kind} from ${outcome.message.node}@${outcome.message.mesh} seq ${outcome.message.seq}`
      : `${outcome.benign ? 'ignored' : 'REJECTED'} ${topic}: ${outcome.reason}`;
  };
  const republisher =
    f.republish === true
      ? new Republisher({
          prefix: typeof f['republish-prefix'] === 'string' ? f['republish-prefix'] : republishDefaults.prefix,
          discoveryPrefix:
            typeof f['discovery-prefix'] === 'string' ? f['discovery-prefix'] : republishDefaults.discoveryPrefix,
        })
      : null;
  let client: MqttClient | null = null;
  const publish = (list: readonly Publication[]): void => {
    for (const p of list) client?.publish(p.topic, p.payload, { qos: 1, retain: p.retain });
  };
  // Only what the Watcher verified is republished; a node the revocation list names (now or later) is withdrawn.
  const sweep = (): void => {
    if (republisher === null) return;
    for (const n of republisher.shown())
      if (watcher.nodeRevoked({ ...n, serialHex: watcher.nodes.get(`${n.mesh}/${n.node}`)?.serialHex ?? null }))
        publish(republisher.revoked(n.mesh, n.node));
  };
  try {
    client = await subscribeWatcher(
      platform,
      f,
      bundle,
      watcher,
      (topic, outcome) => {
        if (!live && f.once !== true) platform.stdout(`${line(topic, outcome)}\n`);
        // --json passes the traces through (data.traces); a human gets a line per trace event.
        if (outcome.ok && !live && f.once !== true && f.json !== true)
          for (const t of outcome.traces) platform.stdout(`${formatTraceEvent(t.node, t)}\n`);
        if (outcome.ok) otlp?.offer(outcome.traces);
        if (outcome.ok) noteEnded(outcome.message);
        if (outcome.ok && republisher !== null) {
          sweep();
          publish(republisher.verified(outcome.message));
        }
        if (expectNodes !== null && expected()) finish(0);
      },
      republisher === null
        ? undefined
        : { topic: republisher.bridgeTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    );
  } catch (error) {
    platform.stderr(`x0: watch: cannot subscribe at ${brokerUrl(f)}: ${(error as Error).message}\n`);
    return 1;
  }
  if (republisher !== null) {
    publish([{ topic: republisher.bridgeTopic, payload: 'online', retain: true }]);
    platform.stderr(
      `republishing verified state under ${f['republish-prefix'] ?? republishDefaults.prefix}/ with Home Assistant discovery under ${f['discovery-prefix'] ?? republishDefaults.discoveryPrefix}/\n`,
    );
  }
  const sweeper = republisher === null ? null : setInterval(sweep, 1000);
  const redraw = live ? setInterval(() => platform.stdout(`\x1b[H\x1b[2J${watcher.table()}`), 1000) : null;
  const timer = durationMs === null ? null : setTimeout(() => finish(expectNodes === null ? 0 : 1), durationMs);
  process.once('SIGINT', () => finish(0));
  const code = await done;
  if (redraw !== null) clearInterval(redraw);
  if (sweeper !== null) clearInterval(sweeper);
  if (timer !== null) clearTimeout(timer);
  // A clean stop says so itself (the Will covers the rest), and waits for the broker to take it.
  if (republisher !== null)
    await client.publishAsync(republisher.bridgeTopic, 'offline', { qos: 1, retain: true }).catch(() => undefined);
  // An embedded broker goes down with us: after --until-offline, first let the ended nodes' clients take their
  // last acknowledgements and disconnect (at most 5 s), or an uplink would miss the PUBACK of its offline status.
  const lingering = () => embedded !== null && f['until-offline'] === true && code === 0 && embedded.clients() > 1;
  for (let i = 0; lingering() && i < 100; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  await client.endAsync();
  // What is still queued for the collector gets a last chance (at most 3 s); the rest is counted as not sent.
  // (The exporter's timers do not hold the process: this interval does, while it drains.)
  const holdOpen = setInterval(() => {}, 1000);
  await otlp?.drain(3000);
  clearInterval(holdOpen);
  const traces = {
    ...watcher.traceCounters.snapshot(),
    ...(otlp === null ? {} : { otlp: { ...otlp.counters.snapshot(), queued: otlp.queued } }),
  };
  if (f.json === true)
    platform.stdout(
      `${JSON.stringify({
        summary: true,
        verified: watcher.verified,
        rejected: watcher.rejected.snapshot(),
        traces,
        commands: watcher.commands,
        revocationListVersion: watcher.revocations.version,
        nodes: [...watcher.nodes.values()]
          .map((n) => ({
            node: n.node,
            mesh: n.mesh,
            state: watcher.nodeRevoked(n) ? 'revoked' : n.state,
            messages: n.messages,
          }))
          .concat(watcher.revokedUnseen().map((n) => ({ ...n, state: 'revoked', messages: 0 }))),
      })}\n`,
    );
  else platform.stdout(watcher.table());
  if (f.json !== true && Object.keys(traces).length > 0) platform.stdout(`traces: ${JSON.stringify(traces)}\n`);
  if (code !== 0)
    platform.stderr(
      `x0: watch: expected ${expectNodes} nodes with verified telemetry${f['until-offline'] === true ? ' that then ended' : ''}, saw ${withTelemetry()}${f['until-offline'] === true ? ` (${ended.size} ended)` : ''}\n`,
    );
  return code;
}

/** The --otlp exporter over Node's fetch; its timers unref'd, so a collector that is down never holds the exit. */
function otlpExporter(url: string): OtlpExporter {
  const post = async (body: string): Promise<OtlpAnswer> => {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(otlpRequestTimeoutMs),
      });
      await response.arrayBuffer();
      const retryAfterS = Number(response.headers.get('retry-after'));
      return { status: response.status, retryAfterMs: retryAfterS > 0 ? retryAfterS * 1000 : null };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { error: cause ?? (error as Error).name };
    }
  };
  return new OtlpExporter({
    post,
    setTimer: (ms, fn) => {
      setTimeout(fn, ms).unref();
    },
    randomBytes: (n) => new Uint8Array(randomBytes(n)),
  });
}

export async function exporterCommand(platform: Platform, args: readonly string[]): Promise<number> {
  const parsed = parseArgs(args, {
    broker: 'string',
    trust: 'string',
    bundle: { alias: 'trust' },
    'ca-dir': 'string',
    dir: { alias: 'ca-dir' },
    mesh: 'string',
    mqtt: 'string',
    listen: 'string',
    duration: 'duration',
    'duration-ms': { alias: 'duration', unit: 'ms' },
    revocations: 'string',
    help: 'boolean',
  });
  if (!parsed.ok) return usage(platform, parsed.error, exporterHelp);
  const f = parsed.flags;
  if (f.help === true) {
    platform.stdout(exporterHelp);
    return 0;
  }
  const listen = parseHostPort(String(f.listen ?? '127.0.0.1:9108'));
  const durationMs = f.duration === undefined ? null : Number(f.duration);
  if (listen === null || brokerUrl(f) === null)
    return usage(platform, '--listen and --broker need HOST:PORT', exporterHelp);
  if (durationMs !== null && !(durationMs > 0))
    return usage(platform, '--duration needs a duration with a unit (30s)', exporterHelp);
  const bundle = bundleFrom(platform, f);
  if (typeof bundle === 'string') return usage(platform, bundle, exporterHelp);
  const { watcher, follower } = watcherFor(platform, f, bundle);
  try {
    return await exportWith(platform, f, watcher, bundle, listen, durationMs);
  } finally {
    follower?.stop();
  }
}

async function exportWith(
  platform: Platform,
  f: Flags,
  watcher: Watcher,
  bundle: TrustBundle,
  listen: { host: string; port: number },
  durationMs: number | null,
): Promise<number> {
  let client: MqttClient;
  try {
    client = await subscribeWatcher(platform, f, bundle, watcher, () => {});
  } catch (error) {
    platform.stderr(`x0: exporter: cannot subscribe at ${brokerUrl(f)}: ${(error as Error).message}\n`);
    return 1;
  }
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || (request.url !== '/metrics' && request.url !== '/')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    if (request.url === '/')
      return void response.writeHead(200, { 'content-type': 'text/plain' }).end('x0 exporter: metrics at /metrics\n');
    response
      .writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
      .end(renderMetrics(watcher, platform.wallClockMs()));
  });
  const bound = await new Promise<string | null>((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'EIO'));
    server.listen(listen.port, listen.host, () => resolve(null));
  });
  if (bound !== null) {
    await client.endAsync();
    platform.stderr(`x0: exporter: cannot listen on ${listen.host}:${listen.port}: ${bound}\n`);
    return 1;
  }
  const address = server.address();
  platform.stdout(
    `exporter: http://${listen.host}:${typeof address === 'object' && address !== null ? address.port : listen.port}/metrics\n`,
  );
  let durationTimer: ReturnType<typeof setTimeout> | undefined;
  await new Promise<void>((resolve) => {
    if (durationMs !== null) durationTimer = setTimeout(resolve, durationMs);
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  // A pending --duration timer would keep the process alive after SIGTERM until it fired.
  clearTimeout(durationTimer);
  // Scrapers keep connections alive: close them, or close() would wait for them.
  server.closeAllConnections();
  server.close();
  client.end(true);
  return 0;
}

/** How long `cmd send` waits for the node's retained status (a broker sends retained messages at once). */
const statusWaitMs = 3000;

function hasRetainedStatus(client: MqttClient, topic: string): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(false), statusWaitMs);
    const onMessage = (t: string) => {
      if (t === topic) finish(true);
    };
    const finish = (found: boolean) => {
      clearTimeout(timer);
      client.removeListener('message', onMessage);
      client.unsubscribe(topic);
      resolve(found);
    };
    client.on('message', onMessage);
    client.subscribe(topic, { qos: 1 }, (error) => {
      if (error) finish(false);
    });
  });
}

export async function cmdCommand(platform: Platform, args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  const parsed = parseArgs(rest, {
    out: 'string',
    key: 'string',
    mesh: 'string',
    node: 'string',
    name: 'string',
    args: 'string',
    broker: 'string',
    mqtt: 'string',
    help: 'boolean',
  });
  if (sub === undefined) return usage(platform, 'a cmd command is needed (keygen, send)', cmdHelp);
  if (sub === '--help' || sub === '-h' || (parsed.ok && parsed.flags.help === true)) {
    platform.stdout(cmdHelp);
    return 0;
  }
  if (!parsed.ok) return usage(platform, parsed.error, cmdHelp);
  const f = parsed.flags;
  if (sub === 'keygen') {
    if (typeof f.out !== 'string') return usage(platform, '--out FILE is required', cmdHelp);
    const seed = platform.randomBytes(32);
    const errno = platform.files.writeAtomic(f.out, `${toHex(seed)}\n`, 0o600);
    if (errno !== null) {
      platform.stderr(`x0 cmd keygen: cannot write ${f.out}: ${errno}\n`);
      return 1;
    }
    platform.stdout(`${toHex(platform.crypto.signKeyPairFromSeed(seed).publicKey)}\n`);
    return 0;
  }
  if (sub !== 'send') return usage(platform, `unknown cmd command '${sub}'`, cmdHelp);
  if (
    typeof f.key !== 'string' ||
    typeof f.mesh !== 'string' ||
    typeof f.node !== 'string' ||
    typeof f.name !== 'string'
  )
    return usage(platform, '--key, --mesh, --node and --name are required', cmdHelp);
  if (!operatorCommandNames.includes(f.name))
    return usage(
      platform,
      `--name '${f.name}' is not a command nodes run (${operatorCommandNames.join(', ')})`,
      cmdHelp,
    );
  const seedText = platform.files.readText(f.key)?.trim() ?? '';
  if (!/^[0-9a-f]{64}$/i.test(seedText)) {
    platform.stderr(`x0: cmd: ${f.key} does not hold an operator key (64 hex digits; see 'x0 cmd keygen')\n`);
    return 1;
  }
  let commandArgs: Record<string, unknown> = {};
  try {
    commandArgs = f.args === undefined ? {} : (JSON.parse(String(f.args)) as Record<string, unknown>);
  } catch {
    return usage(platform, '--args needs a JSON object', cmdHelp);
  }
  const url = brokerUrl(f);
  if (url === null) return usage(platform, '--broker needs HOST:PORT', cmdHelp);
  const keys = platform.crypto.signKeyPairFromSeed(fromHex(seedText));
  const signed = signCommand(platform.crypto, keys.secretKey, {
    mesh: f.mesh,
    node: f.node,
    name: f.name,
    id: toHex(platform.randomBytes(16)),
    at: platform.wallClockMs(),
    args: commandArgs,
  });
  const client = connect(url, { protocolVersion: f.mqtt === '5' ? 5 : 4, reconnectPeriod: 0, connectTimeout: 5000 });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    // A node that ever ran its uplink has a retained status (online, or its Will: offline). None: the name (or
    // the mesh) is wrong, and a command published there would reach nobody without a word.
    if (!(await hasRetainedStatus(client, topicFor(f.mesh, f.node, 'status')))) {
      client.end(true);
      platform.stderr(
        `x0 cmd send: no node '${f.node}' in mesh '${f.mesh}' at ${url} (no retained status on ${topicFor(f.mesh, f.node, 'status')}); check --node and --mesh ('x0 watch --once' lists the nodes); nothing was sent\n`,
      );
      return 1;
    }
    await client.publishAsync(signed.topic, Buffer.from(signed.payload), { qos: 1 });
  } catch (error) {
    client.end(true);
    platform.stderr(`x0: cmd: cannot publish at ${url}: ${(error as Error).message}\n`);
    return 1;
  }
  await client.endAsync();
  platform.stdout(`sent ${f.name} to ${signed.topic}\n`);
  return 0;
}
