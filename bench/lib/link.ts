// Sealed link vs plain UDP on one platform (engine-neutral: run on Node and, bundled, inside x0-runtime): two
// nodes on loopback, one sending to the other as fast as the receiver keeps up (a window of messages in flight,
// each acknowledged), for a Raft-sized (200 B), a gossip-sized (1,100 B) and a fragmented (8 KB) message.
// Figures: messages/s each way of sending, the ratio sealed/plain, and the bytes a message costs on the wire.
import { SealedLink } from '../../src/channel/link.js';
import { createRoot, issueNodeCert } from '../../src/core/identity/ca.js';
import { createTrustBundle, noRevocations } from '../../src/core/identity/chain.js';
import type { HostPort, Platform, UdpHandlers, UdpSocket } from '../../src/platform/types.js';

export interface LinkFigure {
  readonly bytes: number;
  readonly plainPerSec: number;
  readonly sealedPerSec: number;
  readonly ratio: number;
  readonly wireBytesPlain: number;
  readonly wireBytesSealed: number;
}

type Bind = (local: HostPort, handlers: UdpHandlers) => Promise<UdpSocket>;

async function pump(
  platform: Platform,
  bindA: Bind,
  bindB: Bind,
  portA: number,
  portB: number,
  size: number,
  count: number,
): Promise<number> {
  const window = 32;
  let received = 0;
  let acked = 0;
  let sent = 0;
  let warm = false;
  let timing = false;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const a: UdpSocket = await bindA(
    { host: '127.0.0.1', port: portA },
    {
      onMessage: () => {
        warm = true;
        if (!timing) return;
        acked++;
        if (acked >= count) return done();
        while (sent < count && sent - acked < window) {
          a.send(payload, { host: '127.0.0.1', port: portB });
          sent++;
        }
      },
    },
  );
  const b: UdpSocket = await bindB(
    { host: '127.0.0.1', port: portB },
    {
      onMessage: (_data, from) => {
        received++;
        b.send(ack, from);
      },
    },
  );
  const payload = new Uint8Array(size).fill(7);
  const ack = new Uint8Array([1]);
  // Warm-up (not timed): the first message waits for the handshake on the sealed link.
  while (!warm) {
    a.send(payload, { host: '127.0.0.1', port: portB });
    await new Promise<void>((r) => {
      platform.setTimer(100, r);
    });
  }
  await new Promise<void>((r) => {
    platform.setTimer(100, r);
  }); // late warm-up answers drain, uncounted
  timing = true;
  const start = platform.monotonicMs();
  const fill = () => {
    while (sent < count && sent - acked < window) {
      a.send(payload, { host: '127.0.0.1', port: portB });
      sent++;
    }
  };
  fill();
  // Datagrams lost (a full queue, a full socket buffer) are counted as lost after 200 ms without progress, and
  // the window is sent again: the run measures what gets through, and never stalls.
  let last = -1;
  const watchdog = () => {
    if (acked >= count) return;
    if (acked === last) {
      sent = acked;
      fill();
    }
    last = acked;
    platform.setTimer(200, watchdog);
  };
  platform.setTimer(200, watchdog);
  await finished;
  const ms = platform.monotonicMs() - start;
  a.close();
  b.close();
  void received;
  return (count / ms) * 1000;
}

export async function linkSuite(platform: Platform, basePort: number, count: number): Promise<LinkFigure[]> {
  const crypto = platform.crypto;
  const now = platform.wallClockMs();
  const root = createRoot(crypto, { trustDomain: 'bench.x0', nowMs: now });
  const bundle = createTrustBundle(crypto, 'bench.x0', [root.issuer.cert]);
  if (!bundle.ok) throw new Error(bundle.reason);
  const node = (name: string) => {
    const sign = crypto.signKeyPair();
    const box = crypto.boxKeyPair();
    return {
      sign,
      chain: [
        issueNodeCert(crypto, root.issuer, {
          name,
          signPublicKey: sign.publicKey,
          boxPublicKey: box.publicKey,
          nowMs: now,
        }),
      ],
    };
  };
  const [na, nb] = [node('a'), node('b')];
  const figures: LinkFigure[] = [];
  let port = basePort;
  for (const size of [200, 1100, 8000]) {
    const plain = await pump(
      platform,
      (l, h) => platform.net.udpBind(l, h),
      (l, h) => platform.net.udpBind(l, h),
      port,
      port + 1,
      size,
      count,
    );
    port += 2;
    const [la, lb] = [port, port + 1];
    const peer = (name: string, p: number) => ({
      name,
      link: { host: '127.0.0.1', port: p },
      services: { gossip: { host: '127.0.0.1', port: p + 100 }, raft: { host: '127.0.0.1', port: p + 200 } },
    });
    const linkA = await SealedLink.open(platform, {
      listen: { host: '127.0.0.1', port: la },
      chain: na.chain,
      signSecretKey: na.sign.secretKey,
      bundle: bundle.value,
      revocations: noRevocations,
      peers: [peer('b', lb)],
      allow: () => true,
    });
    const linkB = await SealedLink.open(platform, {
      listen: { host: '127.0.0.1', port: lb },
      chain: nb.chain,
      signSecretKey: nb.sign.secretKey,
      bundle: bundle.value,
      revocations: noRevocations,
      peers: [peer('a', la)],
      allow: () => true,
    });
    // a sends on 'raft' to b's raft address; b answers on 'raft' to the sender it is told (a's raft address).
    const sealed = await pump(
      platform,
      async (_l, h) => linkA.socket('raft', h, { host: '127.0.0.1', port: la + 200 }),
      async (_l, h) => linkB.socket('raft', h, { host: '127.0.0.1', port: lb + 200 }),
      la + 200,
      lb + 200,
      size,
      count,
    );
    linkA.close();
    linkB.close();
    port += 2;
    const fragments = Math.ceil(size / (1440 - 5));
    // Per datagram: data header 15 + kind 1 + tag 16 (the channel) + fragment header 5 (the link).
    figures.push({
      bytes: size,
      plainPerSec: plain,
      sealedPerSec: sealed,
      ratio: sealed / plain,
      wireBytesPlain: size,
      wireBytesSealed: size + fragments * (15 + 1 + 16 + 5),
    });
  }
  return figures;
}
