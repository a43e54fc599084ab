// One MQTT-over-TLS attempt through a Platform (Node or x0-runtime; engine-neutral, used by tls.node.test.ts
// in-process on Node and bundled in fixtures/tls-probe.ts for x0-runtime): connect with the given TLS options,
// subscribe, publish QoS 1 and wait for the message back through the broker. The outcome is one line:
// 'round-trip ok' or 'refused REASON' (the client's retry reason: connect-cert-expired, ...).
import { createMqttConnection } from '../../src/mqtt/connection.js';
import type { Platform, TlsOptions } from '../../src/platform/types.js';

export async function tlsProbe(platform: Platform, port: number, tls: TlsOptions, timeoutMs = 5000): Promise<string> {
  const connection = createMqttConnection(platform, {
    host: '127.0.0.1',
    port,
    tls,
    clientId: `tls-probe-${platform.name}`,
    backoffMinMs: 5000,
    backoffMaxMs: 5000,
  });
  return new Promise((resolve) => {
    const done = (outcome: string) => {
      platform.clearTimer(timer);
      connection.stop();
      resolve(outcome);
    };
    const timer = platform.setTimer(timeoutMs, () => done('timeout'));
    connection.onEvent((event) => {
      if (event.kind === 'retry') done(`refused ${event.reason}`);
      if (event.kind === 'connected')
        connection.publish('x0-tls/probe', new TextEncoder().encode(`over tls from ${platform.name}`), 1);
    });
    connection.onMessage((topic, payload) => {
      if (topic === 'x0-tls/probe' && new TextDecoder().decode(payload) === `over tls from ${platform.name}`)
        done('round-trip ok');
    });
    connection.subscribe('x0-tls/#', 1);
    connection.start();
  });
}
