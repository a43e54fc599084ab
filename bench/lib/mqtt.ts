// Engine-neutral MQTT publish benchmark (Node and x0-runtime): our client over platform.net to a broker,
// each message a fresh telemetry envelope signed as COSE_Sign1 (Ed25519 with the platform's crypto); and
// where one message's time goes, stage by stage, measured the same way on both engines.
import { createRoot, issueNodeCert } from '../../src/core/identity/ca.js';
import { TelemetrySigner, type SignerIdentity } from '../../src/core/telemetry/messages.js';
import { createMqttClient } from '../../src/mqtt/client.js';
import { CONNACK } from '../../src/mqtt/codec.js';
import { encodeAnyPacket } from '../../src/mqtt/codec-broker.js';
import { createMqttConnection } from '../../src/mqtt/connection.js';
import type { Crypto, Platform } from '../../src/platform/types.js';

export interface Breakdown {
  /** µs per message, best of three rounds. */
  readonly signUs: number;
  readonly signJsUs: number;
  readonly ed25519Us: number;
  readonly publishUs: number;
  /** Socket writes per 1,000 QoS 0 messages in the rate run (1,000: one write each; fewer: coalesced). */
  readonly writesPer1000: number;
}

export interface MqttFigures {
  readonly qos0PerSec: number;
  readonly qos1PerSec: number;
  readonly qos1LatencyMsMedian: number;
  readonly queuedBytes1000: number;
  readonly signedBytes: number;
  readonly breakdown: Breakdown;
}

function benchIdentity(platform: Platform): SignerIdentity {
  const nowMs = platform.wallClockMs();
  const root = createRoot(platform.crypto, { trustDomain: 'bench.test', nowMs });
  const sign = platform.crypto.signKeyPair();
  const cert = issueNodeCert(platform.crypto, root.issuer, {
    name: 'bench',
    signPublicKey: sign.publicKey,
    boxPublicKey: platform.crypto.boxKeyPair().publicKey,
    nowMs,
  });
  return { signSecretKey: sign.secretKey, chain: [cert] };
}

export function benchSigner(platform: Platform): TelemetrySigner {
  return new TelemetrySigner(platform.crypto, benchIdentity(platform), 'b0', 'cbor');
}

const data = (i: number) => ({ statistics: { uptime: i, loadavg: 0.25, memory: { free: 30000 + i, total: 60000 } } });

/** µs per call of f, best of three rounds of n calls (the machine is shared: the best round is the least disturbed). */
function perCallUs(platform: Platform, n: number, f: (i: number) => unknown): number {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const start = platform.monotonicMs();
    for (let i = 0; i < n; i++) f(i);
    best = Math.min(best, ((platform.monotonicMs() - start) * 1000) / n);
  }
  return best;
}

/** The stages of one signed QoS 0 publish, without the network: signing (and its JS part), Ed25519 alone, the client. */
function stages(platform: Platform): Omit<Breakdown, 'writesPer1000'> {
  const identity = benchIdentity(platform);
  const signer = new TelemetrySigner(platform.crypto, identity, 'b0', 'cbor');
  // The same signer with a signature that costs nothing: what is left is CBOR and COSE in JavaScript.
  const signature = new Uint8Array(64);
  const noSignature: Crypto = { ...platform.crypto, sign: () => signature };
  const jsOnly = new TelemetrySigner(noSignature, identity, 'b0', 'cbor');
  const sample = signer.sign('telemetry', data(0), platform.wallClockMs(), false);
  const toBeSigned = new Uint8Array(sample.payload.length);
  const client = createMqttClient({ clientId: 'stages', nowMs: () => platform.monotonicMs(), random: () => 0.5 });
  client.start();
  client.takeEvents();
  client.transportUp();
  client.receive(encodeAnyPacket({ type: CONNACK, sessionPresent: false, reasonCode: 0 }, 5));
  client.takeOutput();
  const n = 2000;
  return {
    signUs: perCallUs(platform, n, (i) => signer.sign('telemetry', data(i), platform.wallClockMs(), false)),
    signJsUs: perCallUs(platform, n, (i) => jsOnly.sign('telemetry', data(i), platform.wallClockMs(), false)),
    ed25519Us: perCallUs(platform, n, () => platform.crypto.sign(toBeSigned, identity.signSecretKey)),
    publishUs: perCallUs(platform, n, (i) => {
      client.publish(sample.topic, sample.payload, 0);
      if (i % 200 === 199) client.takeOutput();
    }),
  };
}

/** The platform with its TCP streams' writes counted. */
function countingWrites(platform: Platform): { platform: Platform; writes: () => number } {
  let writes = 0;
  const net = {
    ...platform.net,
    connect: (target: Parameters<Platform['net']['connect']>[0], handlers: Parameters<Platform['net']['connect']>[1]) =>
      platform.net.connect(target, handlers).then((stream) => ({
        write: (bytes: Uint8Array) => {
          writes++;
          stream.write(bytes);
        },
        close: () => stream.close(),
        get queuedBytes() {
          return stream.queuedBytes;
        },
      })),
  };
  return { platform: { ...platform, net }, writes: () => writes };
}

export async function mqttSuite(platform: Platform, port: number, messages: number): Promise<MqttFigures> {
  const signer = benchSigner(platform);
  const counted = countingWrites(platform);
  const c = createMqttConnection(counted.platform, {
    host: '127.0.0.1',
    port,
    clientId: `bench-${platform.name}`,
    cleanStart: true,
    inflightMax: 64,
    queueMessagesMax: messages + 10,
    queueBytesMax: 64 * 1024 * 1024,
  });
  c.start();
  if (!(await c.waitConnected(5000))) throw new Error('bench: cannot connect');
  let writesQos0 = 0;
  const run = async (qos: 0 | 1): Promise<number> => {
    const start = platform.monotonicMs();
    const writesBefore = counted.writes();
    for (let i = 0; i < messages; i++) {
      const m = signer.sign('telemetry', data(i), platform.wallClockMs(), false);
      c.publish(m.topic, m.payload, qos);
      // Let the event loop write and read now and then, as a real agent would between ticks.
      if (i % 200 === 199) await new Promise<void>((resolve) => platform.setTimer(0, resolve));
    }
    if (qos === 0) writesQos0 = counted.writes() - writesBefore;
    // A QoS 1 barrier: once it is acknowledged, the broker has taken everything before it.
    const barrier = signer.sign('telemetry', data(0), platform.wallClockMs(), false);
    c.publish(barrier.topic, barrier.payload, 1);
    if (!(await c.flush(60_000))) throw new Error('bench: not acknowledged');
    return (messages * 1000) / (platform.monotonicMs() - start);
  };
  const qos0PerSec = await run(0);
  const qos1PerSec = await run(1);
  const latencies: number[] = [];
  for (let i = 0; i < 200; i++) {
    const start = platform.monotonicMs();
    const m = signer.sign('telemetry', data(i), platform.wallClockMs(), false);
    c.publish(m.topic, m.payload, 1);
    await c.flush(5000);
    latencies.push(platform.monotonicMs() - start);
  }
  latencies.sort((a, b) => a - b);
  c.stop();
  // 1,000 messages queued while the broker is unreachable: the payload bytes the client holds.
  const offline = createMqttConnection(platform, {
    host: '127.0.0.1',
    port: 1,
    clientId: 'offline',
    backoffMinMs: 60_000,
  });
  offline.start();
  let signedBytes = 0;
  for (let i = 0; i < 1000; i++) {
    const m = signer.sign('telemetry', data(i), platform.wallClockMs(), false);
    signedBytes = m.payload.length;
    offline.publish(m.topic, m.payload, 1);
  }
  const queuedBytes1000 = offline.client.queuedBytes;
  offline.stop();
  const breakdown = { ...stages(platform), writesPer1000: (writesQos0 * 1000) / messages };
  return {
    qos0PerSec,
    qos1PerSec,
    qos1LatencyMsMedian: latencies[100] as number,
    queuedBytes1000,
    signedBytes,
    breakdown,
  };
}
