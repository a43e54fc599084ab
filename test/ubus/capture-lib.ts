// Engine-neutral helpers over the captured bytes: hex, framing each direction of a scenario into messages.
import { MessageReader, type UbusMessage } from '../../src/ubus/message.js';
import { captures, type CaptureLine } from './captures.js';

export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

export interface FramedMessage {
  readonly line: number;
  readonly label: string;
  readonly dir: CaptureLine['dir'];
  readonly bytes: Uint8Array;
  readonly message: UbusMessage;
}

/** Every message of every capture line, framed per (label, conn, dir) stream; a chunk may hold several. */
export function framedMessages(): FramedMessage[] {
  const readers = new Map<string, { reader: MessageReader; pending: Uint8Array }>();
  const out: FramedMessage[] = [];
  captures.forEach((line, index) => {
    const key = `${line.label}/${line.conn}/${line.dir}`;
    const entry = readers.get(key) ?? { reader: new MessageReader(), pending: new Uint8Array(0) };
    readers.set(key, entry);
    const chunk = fromHex(line.hex);
    entry.pending = concat([entry.pending, chunk]);
    const { messages, error } = entry.reader.push(chunk);
    if (error !== null) throw new Error(`capture line ${index}: ${error}`);
    let offset = 0;
    for (const message of messages) {
      const length =
        12 +
        ((entry.pending[offset + 9]! << 16) | (entry.pending[offset + 10]! << 8) | entry.pending[offset + 11]!) -
        4;
      out.push({
        line: index,
        label: line.label,
        dir: line.dir,
        bytes: entry.pending.slice(offset, offset + length),
        message,
      });
      offset += length;
    }
    entry.pending = entry.pending.slice(offset);
  });
  return out;
}

export { captures };
