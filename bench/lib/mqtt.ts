// Engine-neutral MQTT publish benchmark (Node and x0-runtime): our client over platform.net to a broker,
// each message a fresh telemetry envelope signed as COSE_Sign1 (Ed25519 with the platform's crypto).
import { createRoot, issueNodeCert } from '../../src/core/identity/ca.js';
import { TelemetrySigner } from '../../src/core/telemetry/messages.js';
import { MqttConnection } from '../../src/mqtt/connection.js';
import type { Platform } from '../../src/platform/types.js';

export interface MqttFigures {
  readonly qos0PerSec: number;
  readonly qos1PerSec: number;
  readonly qos1LatencyMsMedian: number;
  readonly queuedBytes1000: number;
  readonly signedBytes: number;
}

export function benchSigner(platform: Platform): TelemetrySigner {
  const nowMs = platform.wallClockMs();
  const root = createRoot(platform.crypto, { trustDomain: 'bench.test', nowMs });
  const sign = platform.crypto.signKeyPair();
  const cert = issueNodeCert(platform.crypto, root.issuer, { name: 'bench', signPublicKey: sign.publicKey, boxPublicKey: platform.crypto.boxKeyPair().publicKey, nowMs });
  return new TelemetrySigner(platform.crypto, { signSecretKey: sign.secretKey, chain: [cert] }, 'b0', 'cbor');
}

const data = (i: number) => ({ statistics: { uptime: i, loadavg: 0.25, memory: { free: 30000 + i, total: 60000 } } });

export async function mqttSuite(platform: Platform, port: number, messages: number): Promise<MqttFigures> {
  const signer = benchSigner(platform);
  const c = new MqttConnection(platform, { host: '127.0.0.1', port, clientId: `bench-${platform.name}`, cleanStart: true, inflightMax: 64, queueMessagesMax: messages + 10, queueBytesMax: 64 * 1024 * 1024 });
  c.start();
  if (!(await c.waitConnected(5000))) throw new Error('bench: cannot connect');
  const run = async (qos: 0 | 1): Promise<number> => {
    const start = platform.monotonicMs();
    for (let i = 0; i < messages; i++) {
      const m = signer.sign('telemetry', data(i), platform.wallClockMs(), false);
      c.publish(m.topic, m.payload, qos);
      // Let the event loop write and read now and then, as a real agent would between ticks.
      if (i % 200 === 199) await new Promise<void>((resolve) => platform.setTimer(0, resolve));
    }
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
  const offline = new MqttConnection(platform, { host: '127.0.0.1', port: 1, clientId: 'offline', backoffMinMs: 60_000 });
  offline.start();
  let signedBytes = 0;
  for (let i = 0; i < 1000; i++) {
    const m = signer.sign('telemetry', data(i), platform.wallClockMs(), false);
    signedBytes = m.payload.length;
    offline.publish(m.topic, m.payload, 1);
  }
  const queuedBytes1000 = offline.client.queuedBytes;
  offline.stop();
  return { qos0PerSec, qos1PerSec, qos1LatencyMsMedian: latencies[100] as number, queuedBytes1000, signedBytes };
}
