// The offline queue: messages waiting for the broker, bounded in count and bytes, oldest dropped first
// (and counted). It can be written to flash and read back; what is read back is validated like input.
import { fail, ok, type Result } from '../core/result.js';
import { isValidTopic } from './codec.js';

export interface Message {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: 0 | 1;
  readonly retain: boolean;
}

export const messageBytes = (m: Message): number => m.topic.length + m.payload.length;

export class OfflineQueue {
  #items: Message[] = [];
  #head = 0;
  #bytesValue = 0;
  /** Messages dropped (oldest first) to stay within the bounds, since creation. */
  dropped = 0;

  constructor(readonly messagesMax: number, readonly bytesMax: number) {}

  get length(): number {
    return this.#items.length - this.#head;
  }

  get bytes(): number {
    return this.#bytesValue;
  }

  /** Adds at the tail; returns how many old messages were dropped to make room. */
  push(message: Message): number {
    this.#items.push(message);
    this.#bytesValue += messageBytes(message);
    let dropped = 0;
    while (this.length > 1 && (this.length > this.messagesMax || this.#bytesValue > this.bytesMax)) {
      this.shift();
      dropped++;
    }
    this.dropped += dropped;
    return dropped;
  }

  peek(): Message | undefined {
    return this.#items[this.#head];
  }

  shift(): Message | undefined {
    const message = this.#items[this.#head];
    if (message === undefined) return undefined;
    this.#items[this.#head++] = undefined as unknown as Message;
    this.#bytesValue -= messageBytes(message);
    // Compact now and then, so the array does not grow with the total ever queued.
    if (this.#head > 64 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return message;
  }

  toArray(): Message[] {
    return this.#items.slice(this.#head);
  }
}

// ---- on flash: "x0q1" || count u32 || messages || FNV-1a-32 of everything before it ----
// message = flags u8 (bit 0 qos, bit 1 retain) || topic length u16 || topic || payload length u32 || payload

const magic = [0x78, 0x30, 0x71, 0x31];
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

function fnv1a(bytes: Uint8Array, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < end; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193) >>> 0;
  return hash;
}

function putU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

const getU32 = (b: Uint8Array, at: number): number => (((b[at] as number) << 24) | ((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number)) >>> 0;

export function encodeQueue(messages: readonly Message[]): Uint8Array {
  const topics = messages.map((m) => textEncoder.encode(m.topic));
  let size = 12;
  messages.forEach((m, i) => { size += 7 + (topics[i] as Uint8Array).length + m.payload.length; });
  const out = new Uint8Array(size);
  out.set(magic);
  putU32(out, 4, messages.length);
  let at = 8;
  messages.forEach((m, i) => {
    const topic = topics[i] as Uint8Array;
    out[at] = m.qos | (m.retain ? 2 : 0);
    out[at + 1] = topic.length >> 8;
    out[at + 2] = topic.length & 0xff;
    out.set(topic, at + 3);
    at += 3 + topic.length;
    putU32(out, at, m.payload.length);
    out.set(m.payload, at + 4);
    at += 4 + m.payload.length;
  });
  putU32(out, at, fnv1a(out, at));
  return out;
}

export type QueueFileReason = 'queue-file-too-large' | 'queue-file-malformed' | 'queue-file-checksum';

/** Reads a persisted queue back; anything but exactly what encodeQueue writes is refused by reason. */
export function decodeQueue(bytes: Uint8Array, bytesMax: number, messagesMax: number): Result<Message[], QueueFileReason> {
  if (bytes.length > bytesMax) return fail('queue-file-too-large');
  if (bytes.length < 12 || magic.some((b, i) => bytes[i] !== b)) return fail('queue-file-malformed');
  if (getU32(bytes, bytes.length - 4) !== fnv1a(bytes, bytes.length - 4)) return fail('queue-file-checksum');
  const count = getU32(bytes, 4);
  if (count > messagesMax) return fail('queue-file-malformed');
  const end = bytes.length - 4;
  const out: Message[] = [];
  let at = 8;
  for (let i = 0; i < count; i++) {
    if (at + 3 > end) return fail('queue-file-malformed');
    const flags = bytes[at] as number;
    const topicLength = ((bytes[at + 1] as number) << 8) | (bytes[at + 2] as number);
    if (flags > 3 || at + 3 + topicLength + 4 > end) return fail('queue-file-malformed');
    let topic: string;
    try {
      topic = textDecoder.decode(bytes.subarray(at + 3, at + 3 + topicLength));
    } catch {
      return fail('queue-file-malformed');
    }
    at += 3 + topicLength;
    const payloadLength = getU32(bytes, at);
    if (!isValidTopic(topic) || at + 4 + payloadLength > end) return fail('queue-file-malformed');
    out.push({ topic, payload: bytes.slice(at + 4, at + 4 + payloadLength), qos: (flags & 1) as 0 | 1, retain: (flags & 2) !== 0 });
    at += 4 + payloadLength;
  }
  return at === end ? ok(out) : fail('queue-file-malformed');
}

/** When to write the queue to flash: only when it changed, and at most once per interval. */
export class PersistPolicy {
  #lastWriteMs = Number.NEGATIVE_INFINITY;
  #writtenVersion = 0;
  writes = 0;

  constructor(readonly intervalMs: number) {}

  due(version: number, nowMs: number): boolean {
    return version !== this.#writtenVersion && nowMs - this.#lastWriteMs >= this.intervalMs;
  }

  /** The earliest time a write may happen for a changed queue, or null when nothing changed. */
  nextDueMs(version: number): number | null {
    return version === this.#writtenVersion ? null : this.#lastWriteMs + this.intervalMs;
  }

  written(version: number, nowMs: number): void {
    this.#writtenVersion = version;
    this.#lastWriteMs = nowMs;
    this.writes++;
  }
}
