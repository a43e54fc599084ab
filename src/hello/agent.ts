// The first job of the agent: prove the runtime end to end. Two agents exchange signed hellos over UDP
// datagrams or TCP streams until each has verified the other's and knows it was heard, print what they
// received, and exit. Bad input is counted by reason, never fatal.
import { maxHelloBytes, openHello, sealHello, type Hello } from '../core/hello/hello.js';
import { FrameDecoder, encodeFrame } from '../core/wire/frames.js';
import { toHex } from '../core/wire/hex.js';
import type { ByteStream, HostPort, Platform, StreamListener, UdpSocket } from '../platform/types.js';

export type HelloTransportName = 'udp' | 'tcp';

interface HelloTransport {
  readonly local: HostPort;
  /** null when handed to the kernel, else an errno name or reason (the next tick tries again). */
  send(data: Uint8Array): string | null;
  close(): void;
}

type OnMessage = (data: Uint8Array, from: HostPort) => void;
type OnReject = (reason: string, from: HostPort) => void;

async function openUdp(
  platform: Platform,
  listen: HostPort,
  peer: HostPort,
  onMessage: OnMessage,
): Promise<HelloTransport> {
  const socket: UdpSocket = await platform.net.udpBind(listen, { onMessage });
  return { local: socket.local, send: (data) => socket.send(data, peer), close: () => socket.close() };
}

// TCP: each agent listens for the peer's stream and writes its own hellos on an outbound stream that it
// (re)connects lazily, so start-up order does not matter.
async function openTcp(
  platform: Platform,
  listen: HostPort,
  peer: HostPort,
  onMessage: OnMessage,
  onReject: OnReject,
): Promise<HelloTransport> {
  const inbound = new Set<ByteStream>();
  const listener: StreamListener = await platform.net.listen(
    { kind: 'tcp', host: listen.host, port: listen.port },
    (stream, from) => {
      inbound.add(stream);
      const decoder = new FrameDecoder(maxHelloBytes);
      return {
        onData(chunk) {
          const result = decoder.push(chunk);
          for (const frame of result.frames) onMessage(frame, from);
          if (result.error !== null) {
            onReject(result.error, from);
            stream.close();
          }
        },
        onClose: () => {
          inbound.delete(stream);
        },
      };
    },
  );
  let outbound: ByteStream | null = null;
  let connecting = false;
  return {
    local: listener.local,
    send(data) {
      if (outbound !== null) {
        outbound.write(encodeFrame(data));
        return null;
      }
      if (!connecting) {
        connecting = true;
        platform.net
          .connect(
            { kind: 'tcp', host: peer.host, port: peer.port },
            {
              onData: () => {},
              onClose: () => {
                outbound = null;
              },
            },
          )
          .then(
            (stream) => {
              outbound = stream;
              connecting = false;
            },
            () => {
              connecting = false;
            },
          );
      }
      return 'not-connected';
    },
    close() {
      outbound?.close();
      for (const stream of inbound) stream.close();
      listener.close();
    },
  };
}

export interface HelloAgentOptions {
  readonly name: string;
  readonly transport: HelloTransportName;
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
    let socket: HelloTransport | null = null;
    let timer: ReturnType<Platform['setTimer']> | null = null;
    const deadline = platform.setTimer(options.timeoutMs, () => finish(false));

    function finish(ok: boolean): void {
      platform.clearTimer(deadline);
      if (timer !== null) platform.clearTimer(timer);
      socket?.close();
      if (!ok)
        say(
          `timed out after ${options.timeoutMs} ms without a verified hello from ${options.peer.host}:${options.peer.port}`,
        );
      resolve({ ok, received, rejected, sent: seq });
    }

    function reject(reason: string, from: HostPort): void {
      rejected[reason] = (rejected[reason] ?? 0) + 1;
      say(`rejected input from ${from.host}:${from.port}: ${reason}`);
    }

    function onMessage(data: Uint8Array, from: HostPort): void {
      const opened = openHello(data, crypto);
      if (!opened.ok) {
        reject(opened.reason, from);
        return;
      }
      const hello = opened.hello;
      if (!heardPeer) {
        say(
          `verified hello from ${hello.node} seq=${hello.seq} "${hello.text}" key=${toHex(hello.publicKey).slice(0, 16)}… (Ed25519, ${crypto.backend} crypto, ${data.length} bytes over ${options.transport})`,
        );
      }
      received.push(hello);
      heardPeer = true;
      if (hello.heard) peerHeardUs = true;
    }

    function tick(): void {
      const hello: Hello = {
        node: options.name,
        publicKey: keys.publicKey,
        sentAtMs: Math.max(0, Math.floor(platform.wallClockMs())),
        seq: seq++,
        heard: heardPeer,
        text: `hello from ${options.name} on ${platform.name}`,
      };
      const error = socket?.send(sealHello(hello, crypto, keys.secretKey)) ?? null;
      if (error !== null && error !== 'not-connected' && error !== 'ECONNREFUSED') say(`send failed: ${error}`);
      if (heardPeer && peerHeardUs && ++lingering >= lingerRounds) {
        finish(true);
        return;
      }
      timer = platform.setTimer(options.intervalMs, tick);
    }

    const opening =
      options.transport === 'udp'
        ? openUdp(platform, options.listen, options.peer, onMessage)
        : openTcp(platform, options.listen, options.peer, onMessage, reject);
    opening.then(
      (bound) => {
        socket = bound;
        say(
          `listening on ${options.transport} ${bound.local.host}:${bound.local.port}, sending to ${options.peer.host}:${options.peer.port}`,
        );
        tick();
      },
      (error: Error) => {
        say(`cannot listen on ${options.transport} ${options.listen.host}:${options.listen.port}: ${error.message}`);
        platform.clearTimer(deadline);
        resolve({ ok: false, received, rejected, sent: 0 });
      },
    );
  });
}
