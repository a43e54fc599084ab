// Length-prefixed frames for byte streams (TCP, Unix): a 2-byte big-endian length, then the frame.
// The decoder is a bounded state machine: bytes in, whole frames out; an oversized length is an error
// value (the caller closes the stream), never an unbounded buffer.

export function encodeFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > 0xffff) throw new RangeError(`frame of ${payload.length} bytes exceeds 65535`);
  const out = new Uint8Array(2 + payload.length);
  out[0] = payload.length >> 8;
  out[1] = payload.length & 0xff;
  out.set(payload, 2);
  return out;
}

export type FrameResult =
  | { readonly frames: Uint8Array[]; readonly error: null }
  | { readonly frames: Uint8Array[]; readonly error: 'frame-too-large' };

export class FrameDecoder {
  private buffer = new Uint8Array(0);

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Uint8Array): FrameResult {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    const frames: Uint8Array[] = [];
    let offset = 0;
    while (joined.length - offset >= 2) {
      const length = ((joined[offset] as number) << 8) | (joined[offset + 1] as number);
      if (length > this.maxFrameBytes) {
        this.buffer = new Uint8Array(0);
        return { frames, error: 'frame-too-large' };
      }
      if (joined.length - offset - 2 < length) break;
      frames.push(joined.slice(offset + 2, offset + 2 + length));
      offset += 2 + length;
    }
    this.buffer = joined.slice(offset);
    return { frames, error: null };
  }
}
