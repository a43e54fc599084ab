// The offline queue's messages (the queue itself, bounded, lives in the client) and its flash format, written
// with the packet codec's own Writer and read back with its Reader.
import { fail, ok, type Result } from '../core/result.js';
import { Reader, Writer, isValidTopic, readGuarded } from './codec.js';

export interface Message {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: 0 | 1;
  readonly retain: boolean;
}

// ---- on flash: "x0q1" || count u32 || messages || FNV-1a-32 of everything before it ----
// message = flags u8 (bit 0 qos, bit 1 retain) || topic length u16 || topic || payload length u32 || payload

const magic = [0x78, 0x30, 0x71, 0x31];

function fnv1a(bytes: Uint8Array, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < end; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193) >>> 0;
  return hash;
}

export function encodeQueue(messages: readonly Message[]): Uint8Array {
  const w = new Writer();
  w.raw(Uint8Array.from(magic));
  w.u32(messages.length);
  for (const m of messages) {
    w.u8(m.qos | (m.retain ? 2 : 0));
    w.str(m.topic);
    w.u32(m.payload.length);
    w.raw(m.payload);
  }
  w.u32(fnv1a(w.buf, w.n));
  return w.take();
}

export type QueueFileReason = 'queue-file-too-large' | 'queue-file-malformed' | 'queue-file-checksum';

/** Reads a persisted queue back; anything but exactly what encodeQueue writes is refused by reason. */
export function decodeQueue(
  bytes: Uint8Array,
  bytesMax: number,
  messagesMax: number,
): Result<Message[], QueueFileReason> {
  const end = bytes.length - 4;
  if (bytes.length > bytesMax) return fail('queue-file-too-large');
  if (end < 8 || magic.some((b, i) => bytes[i] !== b)) return fail('queue-file-malformed');
  if (new Reader(bytes, end, end + 4).u32() !== fnv1a(bytes, end)) return fail('queue-file-checksum');
  const read = readGuarded(() => {
    const r = new Reader(bytes, 4, end);
    const count = r.u32();
    const out: Message[] = [];
    for (let i = 0; i < count && i <= messagesMax; i++) {
      const flags = r.u8();
      const topic = r.str();
      out.push({ topic, payload: r.raw(r.u32()).slice(), qos: (flags & 1) as 0 | 1, retain: flags > 1 });
      if (flags > 3 || !isValidTopic(topic)) return null;
    }
    return out.length === count && r.left === 0 ? out : null;
  });
  return read.ok && read.value !== null ? ok(read.value) : fail('queue-file-malformed');
}
