// The first job of the agent: prove the runtime end to end. Two agents bind UDP sockets, exchange
// signed hellos until each has verified the other's and knows it was heard, print what they received,
// and exit. Bad datagrams are counted by reason, never fatal.
import { openHello, sealHello, type Hello } from '../core/hello/hello.js';
import { toHex } from '../core/wire/hex.js';
import type { HostPort, Platform, UdpSocket } from '../platform/types.js';

export interface HelloAgentOptions {
  readonly name: string;
  readonly listen: HostPort;
  readonly peer: HostPort;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export interface HelloAgentResult {
  readonly ok: boolean;
  readonly received: readonly Hello[];
  readonly rejected: Readonly<Record<string, number>>;
  readonly sent: number;
}

// After both sides know they were heard, keep sending a little longer so the peer learns it too.
const lingerRounds = 3;

export function runHelloAgent(platform: Platform, options: HelloAgentOptions): Promise<HelloAgentResult> {
  const { crypto } = platform;
  const keys = crypto.signKeyPair();
  const received: Hello[] = [];
  const rejected: Record<string, number> = {};
  let heardPeer = false;
  let peerHeardUs = false;
  let seq = 0;
  let lingering = 0;
  const say = (text: string) => platform.stdout(`[${options.name}] ${text}\n`);

  return new Promise((resolve) => {
    let socket: UdpSocket | null = null;
    let timer: ReturnType<Platform['setTimer']> | null = null;
    const deadline = platform.setTimer(options.timeoutMs, () => finish(false));

    function finish(ok: boolean): void {
      platform.clearTimer(deadline);
      if (timer !== null) platform.clearTimer(timer);
      socket?.close();
      if (!ok) say(`timed out after ${options.timeoutMs} ms without a verified hello from ${options.peer.host}:${options.peer.port}`);
      resolve({ ok, received, rejected, sent: seq });
    }

    function onMessage(data: Uint8Array, from: HostPort): void {
      const opened = openHello(data, crypto);
      if (!opened.ok) {
        rejected[opened.reason] = (rejected[opened.reason] ?? 0) + 1;
        say(`rejected ${data.length} bytes from ${from.host}:${from.port}: ${opened.reason}`);
        return;
      }
      const hello = opened.hello;
      if (!heardPeer) {
        say(`verified hello from ${hello.node} seq=${hello.seq} "${hello.text}" key=${toHex(hello.publicKey).slice(0, 16)}… (Ed25519, ${crypto.backend} crypto, ${data.length} bytes)`);
      }
      received.push(hello);
      heardPeer = true;
      if (hello.heard) peerHeardUs = true;
    }

    function tick(): void {
      const hello: Hello = { node: options.name, publicKey: keys.publicKey, sentAtMs: Math.max(0, Math.floor(platform.wallClockMs())), seq: seq++, heard: heardPeer, text: `hello from ${options.name} on ${platform.name}` };
      const error = socket?.send(sealHello(hello, crypto, keys.secretKey), options.peer) ?? null;
      if (error !== null && error !== 'ECONNREFUSED') say(`send failed: ${error}`);
      if (heardPeer && peerHeardUs && ++lingering >= lingerRounds) {
        finish(true);
        return;
      }
      timer = platform.setTimer(options.intervalMs, tick);
    }

    platform.net.udpBind(options.listen, { onMessage }).then(
      (bound) => {
        socket = bound;
        say(`listening on udp ${bound.local.host}:${bound.local.port}, sending to ${options.peer.host}:${options.peer.port}`);
        tick();
      },
      (error: Error) => {
        say(`cannot bind udp ${options.listen.host}:${options.listen.port}: ${error.message}`);
        platform.clearTimer(deadline);
        resolve({ ok: false, received, rejected, sent: 0 });
      },
    );
  });
}
