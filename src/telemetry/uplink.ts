// The node's telemetry uplink (behind `x0 uplink`): one MQTT connection to the broker, a signed retained
// status (online now; offline as the Last Will and on an orderly stop), signed telemetry every interval,
// events, and operator commands on .../cmd/+ accepted only with a valid operator signature. Runs the same
// on x0-runtime and on Node.
import { toHex } from '../core/wire/hex.js';
import { chainEveryMessages } from '../core/telemetry/limits.js';
import { CommandGuard, TelemetrySigner, topicFor, type Format } from '../core/telemetry/messages.js';
import type { TraceBatch } from '../core/telemetry/traces.js';
import type { Certificate } from '../core/identity/cert.js';
import { createMqttConnection } from '../mqtt/connection.js';
import type { Version } from '../mqtt/codec.js';
import type { Platform, TlsOptions } from '../platform/types.js';
import { agentVersion } from '../version.js';
import { describeBrokerFailure } from './broker.js';
import type { MetricsSource } from './metrics.js';

export interface UplinkOptions {
  readonly host: string;
  readonly port: number;
  /** TLS to the broker (CA file, optional client certificate and key, server name). */
  readonly tls?: TlsOptions;
  readonly signSecretKey: Uint8Array;
  readonly chain: readonly Certificate[];
  readonly metrics: MetricsSource;
  readonly intervalMs: number;
  /** Stop (orderly: offline status, queue flushed) after this many telemetry messages; null: run on. */
  readonly count: number | null;
  readonly format: Format;
  readonly version: Version;
  readonly operatorKeys: readonly Uint8Array[];
  readonly username?: string;
  readonly password?: string;
  readonly persistPath?: string;
  readonly keepAliveS?: number;
  /** Checked before each telemetry message: true ends the run (orderly, as when count is reached). The agent's stop. */
  readonly shouldStop?: () => boolean;
  /** The trace events since the last telemetry message (the agent's journal, traceBatch); null: none. */
  readonly traces?: () => TraceBatch | null;
  /** Told after each telemetry message is queued, and on each connection change. */
  readonly onProgress?: (progress: { readonly sent: number; readonly connected: boolean }) => void;
}

export interface UplinkResult {
  readonly ok: boolean;
  readonly telemetrySent: number;
  readonly commands: Record<string, number>;
  readonly mqtt: Record<string, number>;
  /** Why the last connection attempt failed or the last connection was lost (null: never). */
  readonly lastFailure: string | null;
}

/** The operator commands a node runs (the handler below); `x0 cmd send` refuses any other name. */
export const operatorCommandNames: readonly string[] = ['ping', 'publish-now'];

export async function runUplink(platform: Platform, options: UplinkOptions): Promise<UplinkResult> {
  const signer = new TelemetrySigner(
    platform.crypto,
    { signSecretKey: options.signSecretKey, chain: options.chain },
    toHex(platform.randomBytes(8)),
    options.format,
  );
  const guard = new CommandGuard(platform.crypto, options.operatorKeys, signer.mesh, signer.node);
  const startMs = platform.monotonicMs();
  const status = (state: 'online' | 'offline') =>
    signer.sign(
      'status',
      { state, version: agentVersion, uptimeS: Math.round((platform.monotonicMs() - startMs) / 1000) },
      platform.wallClockMs(),
      true,
    );
  const connection = createMqttConnection(platform, {
    host: options.host,
    port: options.port,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    clientId: `x0-${signer.mesh}-${signer.node}`.slice(0, 64),
    version: options.version,
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: new TextEncoder().encode(options.password) }),
    ...(options.persistPath === undefined ? {} : { persistPath: options.persistPath }),
    keepAliveS: options.keepAliveS ?? 30,
  });
  // Online is numbered before its Will, so a Will that fires later is never older than the online it follows.
  let online = status('online');
  const arm = () => {
    connection.client.will = { ...status('offline'), qos: 1, retain: true };
  };
  arm();
  // The first online goes out ahead of everything queued; after a lost connection, again on reconnecting.
  let reconnected = false;
  let lastFailure: string | null = null;
  const broker = `${options.tls === undefined ? '' : 'tls://'}${options.host}:${options.port}`;
  connection.onEvent((event) => {
    if (event.kind === 'connected')
      platform.logger.log('info', `uplink: connected to the broker ${broker}`, {
        mqtt: options.version === 5 ? '5' : '3.1.1',
      });
    if (event.kind === 'connected' && reconnected) connection.publish(online.topic, online.payload, 1, true);
    // Every failed attempt is logged (the backoff bounds them: at most one a backoffMaxMs once it is reached).
    if (event.kind === 'retry') {
      const failure = describeBrokerFailure(event.reason, options.host, options.version);
      lastFailure = `${failure.what} (${event.reason})`;
      platform.logger.log(
        'warn',
        `uplink: broker ${broker}: ${lastFailure}; retrying in ${(event.delayMs / 1000).toFixed(1)} s`,
        { attempt: event.attempt, hint: failure.hint },
      );
    }
    if (event.kind === 'disconnected') {
      online = status('online');
      arm();
      reconnected = true;
    }
  });
  let sent = 0;
  const publishTelemetry = async () => {
    const metrics = await options.metrics.collect();
    // The uplink's own health rides along: what waits in the offline queue and what it had to drop.
    const uplink = {
      queued: connection.client.queuedMessages,
      dropped: connection.client.counters.snapshot()['queue-dropped'] ?? 0,
    };
    const traces = options.traces?.() ?? null;
    const message = signer.sign(
      'telemetry',
      { ...metrics, uplink, ...(traces === null ? {} : { traces }) },
      platform.wallClockMs(),
      sent % chainEveryMessages === 0,
    );
    connection.publish(message.topic, message.payload, 1, false);
    sent++;
    options.onProgress?.({ sent, connected: connection.client.state === 'connected' });
  };
  const event = (data: Record<string, unknown>) => {
    const message = signer.sign('events', data, platform.wallClockMs(), false);
    connection.publish(message.topic, message.payload, 1, false);
  };
  connection.onMessage((topic, payload) => {
    const command = guard.check(topic, payload, platform.wallClockMs());
    if (!command.ok) return event({ type: 'cmd-rejected', reason: command.reason, topic });
    if (command.value.name === 'ping')
      return event({ type: 'cmd-result', id: command.value.id, name: 'ping', result: 'pong' });
    if (command.value.name === 'publish-now') {
      void publishTelemetry();
      return event({ type: 'cmd-result', id: command.value.id, name: 'publish-now', result: 'ok' });
    }
    event({ type: 'cmd-rejected', reason: 'cmd-unknown', id: command.value.id, name: command.value.name });
  });
  connection.subscribe(topicFor(signer.mesh, signer.node, 'cmd', '+'), 1);
  connection.start();
  connection.publish(online.topic, online.payload, 1, true);
  platform.stdout(
    `uplink ${signer.node}@${signer.mesh}: ${options.host}:${options.port} mqtt v${options.version === 5 ? '5' : '3.1.1'}, ${options.format}, every ${options.intervalMs} ms\n`,
  );

  await new Promise<void>((resolve) => {
    const step = () => {
      if ((options.count !== null && sent >= options.count) || options.shouldStop?.() === true) return resolve();
      void publishTelemetry().then(() => platform.setTimer(options.intervalMs, step));
    };
    step();
  });
  // Orderly end: everything acknowledged, then the offline status, then DISCONNECT (the Will is discarded).
  let flushed = await connection.flush(10_000);
  const offline = status('offline');
  connection.publish(offline.topic, offline.payload, 1, true);
  flushed = (await connection.flush(5_000)) && flushed;
  connection.stop();
  return {
    ok: flushed,
    telemetrySent: sent,
    commands: guard.counters.snapshot(),
    mqtt: connection.client.counters.snapshot(),
    lastFailure,
  };
}
