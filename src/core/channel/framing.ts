// The channel over a byte stream (TCP): every channel message (M1, M2, M3, data record) travels as one
// frame, a 2-byte big-endian length and the message (src/core/wire/frames.ts). A frame is never longer
// than a datagram would be, so the handshake and the records are the same bytes on UDP and TCP. This
// wrapper adds what a stream needs on top of the frame decoder: a stream that ends inside a frame is a
// named refusal ('frame-truncated'), and after the first error the stream is dead (the caller closes it).
import { encodeFrame, FrameDecoder } from '../wire/frames.js';
import { assert } from '../identity/result.js';
import { channelLimits } from './limits.js';

export type FrameReason = 'frame-too-large' | 'frame-truncated' | 'frame-empty';

export interface FramerOutput {
  readonly messages: Uint8Array[];
  /** Set once: the stream is broken and must be closed; later input is ignored. */
  readonly error: FrameReason | null;
}

/** Frames one outgoing channel message. A message we built ourselves is never empty or oversized. */
export function frameMessage(message: Uint8Array, frameBytesMax: number = channelLimits.datagramBytesMax): Uint8Array {
  assert(message.length > 0, 'frameMessage: message is not empty');
  assert(message.length <= frameBytesMax, 'frameMessage: message fits a frame');
  return encodeFrame(message);
}

export class StreamFramer {
  private readonly decoder: FrameDecoder;
  /** Bytes received but not yet part of a whole frame (header included): bounded by 2 + frameBytesMax. */
  private pendingBytes = 0;
  private broken: FrameReason | null = null;

  constructor(private readonly frameBytesMax: number = channelLimits.datagramBytesMax) {
    assert(frameBytesMax > 0 && frameBytesMax <= 0xffff, 'StreamFramer: frame limit fits the 2-byte length');
    this.decoder = new FrameDecoder(frameBytesMax);
  }

  get error(): FrameReason | null {
    return this.broken;
  }

  push(chunk: Uint8Array): FramerOutput {
    if (this.broken !== null) return { messages: [], error: null };
    const result = this.decoder.push(chunk);
    let consumed = 0;
    for (const frame of result.frames) consumed += 2 + frame.length;
    this.pendingBytes += chunk.length - consumed;
    // A zero-length frame carries no message: a peer speaking something else, or garbage. The stream is
    // broken there; frames after it are not delivered.
    const empty = result.frames.findIndex((f) => f.length === 0);
    if (empty !== -1) return this.fail('frame-empty', result.frames.slice(0, empty));
    if (result.error !== null) return this.fail(result.error, result.frames);
    assert(
      this.pendingBytes >= 0 && this.pendingBytes < 2 + this.frameBytesMax,
      'StreamFramer: pending bytes stay below one frame',
    );
    return { messages: result.frames, error: null };
  }

  /** The stream ended: bytes of an unfinished frame are a truncation, reported once. */
  end(): FrameReason | null {
    if (this.broken !== null || this.pendingBytes === 0) return null;
    this.broken = 'frame-truncated';
    return this.broken;
  }

  private fail(reason: FrameReason, messages: Uint8Array[]): FramerOutput {
    this.broken = reason;
    this.pendingBytes = 0;
    return { messages, error: reason };
  }
}
