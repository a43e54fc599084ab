// Enrolment over the network on a Platform: the anchor's listener (one request frame in, one answer frame out,
// then the connection closes) and the new node's request. TCP with 2-byte length-prefixed frames
// (core/wire/frames.ts); everything bounded: frame size, connections at once, time per connection.
import { enrolMessageBytesMax } from '../core/identity/enrol.js';
import { Counters, fail, ok, type Result } from '../core/result.js';
import { encodeFrame, FrameDecoder } from '../core/wire/frames.js';
import type { ByteStream, HostPort, Platform, StreamListener } from '../platform/types.js';

/** Enrolment connections served at once; past it, the oldest that has sent nothing yet is closed (counted). */
export const enrolConnectionsMax = 8;
/** A connection that has not sent its request (or a request not answered) within this is closed. */
export const enrolTimeoutMs = 5_000;

export type EnrolHandler = (request: Uint8Array, peer: HostPort) => Promise<Uint8Array>;

export interface EnrolService {
  readonly local: HostPort;
  readonly counters: Counters;
  close(): void;
}

export async function serveEnrolment(
  platform: Platform,
  listen: HostPort,
  handle: EnrolHandler,
): Promise<EnrolService> {
  const counters = new Counters();
  // Open connections in the order they came; each can be closed by the listener to make room.
  const conns = new Map<number, { requested: boolean; finish: (reason: string | null) => void }>();
  let nextId = 0;
  const listener: StreamListener = await platform.net.listen(
    { kind: 'tcp', host: listen.host, port: listen.port },
    (stream, peer) => {
      // Full: the oldest connection that has not sent its request makes room. Refusing the new one instead
      // would let a trickle of idle connections (enrolConnectionsMax per enrolTimeoutMs) keep new nodes out.
      if (conns.size >= enrolConnectionsMax) {
        for (const conn of conns.values()) {
          if (conn.requested) continue;
          conn.finish('enrol-evicted');
          break;
        }
      }
      if (conns.size >= enrolConnectionsMax) {
        counters.add('enrol-busy');
        stream.close();
        return { onData: () => {}, onClose: () => {} };
      }
      const id = nextId++;
      let closed = false;
      const decoder = new FrameDecoder(enrolMessageBytesMax);
      const finish = (reason: string | null) => {
        if (closed) return;
        closed = true;
        conns.delete(id);
        platform.clearTimer(timer);
        if (reason !== null) counters.add(reason);
        stream.close();
      };
      const conn = { requested: false, finish };
      conns.set(id, conn);
      const timer = platform.setTimer(enrolTimeoutMs, () => finish('enrol-timeout'));
      return {
        onData(chunk) {
          if (closed || conn.requested) return; // one request per connection: later bytes are ignored
          const frames = decoder.push(chunk);
          if (frames.error !== null) return finish(frames.error);
          const request = frames.frames[0];
          if (request === undefined) return;
          conn.requested = true;
          handle(request, peer).then(
            (answer) => {
              if (closed) return;
              stream.write(encodeFrame(answer));
              finish(null);
            },
            () => finish('enrol-handler-failed'),
          );
        },
        onClose() {
          finish(null);
        },
      };
    },
  );
  return { local: listener.local, counters, close: () => listener.close() };
}

/** Sends one enrolment request to an anchor and waits for its answer frame. */
export async function requestEnrolment(
  platform: Platform,
  anchor: HostPort,
  request: Uint8Array,
  timeoutMs = enrolTimeoutMs,
): Promise<Result<Uint8Array, string>> {
  return new Promise((resolve) => {
    let settled = false;
    let stream: ByteStream | null = null;
    const decoder = new FrameDecoder(enrolMessageBytesMax);
    const settle = (result: Result<Uint8Array, string>) => {
      if (settled) return;
      settled = true;
      platform.clearTimer(timer);
      stream?.close();
      resolve(result);
    };
    const timer = platform.setTimer(timeoutMs, () => settle(fail('enrol-timeout')));
    platform.net
      .connect(
        { kind: 'tcp', host: anchor.host, port: anchor.port },
        {
          onData(chunk) {
            const frames = decoder.push(chunk);
            if (frames.error !== null) return settle(fail(frames.error));
            const answer = frames.frames[0];
            if (answer !== undefined) settle(ok(answer));
          },
          onClose(reason) {
            settle(fail(reason ?? 'enrol-closed'));
          },
        },
      )
      .then(
        (s) => {
          stream = s;
          if (settled) return s.close();
          s.write(encodeFrame(request));
        },
        (error: unknown) => settle(fail((error as Error).message || 'connect-failed')),
      );
  });
}
