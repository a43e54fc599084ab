// A small deterministic CBOR writer (RFC 8949 §4.2.1 shortest heads, definite lengths) for the values we
// sign: COSE structures and telemetry bodies. Faster than cbor-x on QuickJS-ng for these small values, and
// its output is one exact byte string, as a signature needs. Decoding stays with cbor-x (with size limits).
import { assertThat } from '../result.js';
import { payloadDepthMax } from './limits.js';

const textEncoder = new TextEncoder();

export class CborWriter {
  private buf = new Uint8Array(512);
  private n = 0;

  private need(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }

  head(major: number, value: number): void {
    this.need(9);
    const b = this.buf;
    const m = major << 5;
    if (value < 24) b[this.n++] = m | value;
    else if (value < 0x100) { b[this.n++] = m | 24; b[this.n++] = value; }
    else if (value < 0x10000) { b[this.n++] = m | 25; b[this.n++] = value >> 8; b[this.n++] = value & 0xff; }
    else if (value < 0x1_0000_0000) { b[this.n++] = m | 26; this.u32(value); }
    else { b[this.n++] = m | 27; this.u32(Math.floor(value / 0x1_0000_0000)); this.u32(value >>> 0); }
  }

  private u32(v: number): void {
    this.buf[this.n++] = v >>> 24;
    this.buf[this.n++] = (v >>> 16) & 0xff;
    this.buf[this.n++] = (v >>> 8) & 0xff;
    this.buf[this.n++] = v & 0xff;
  }

  bytes(data: Uint8Array): void {
    this.head(2, data.length);
    this.need(data.length);
    this.buf.set(data, this.n);
    this.n += data.length;
  }

  text(value: string): void {
    const data = textEncoder.encode(value);
    this.head(3, data.length);
    this.need(data.length);
    this.buf.set(data, this.n);
    this.n += data.length;
  }

  number(value: number): void {
    if (Number.isSafeInteger(value)) return value >= 0 ? this.head(0, value) : this.head(1, -1 - value);
    // Not an integer: float64 (major 7, 27) — always 8 bytes, so the same value always has the same bytes.
    this.need(9);
    this.buf[this.n++] = 0xfb;
    new DataView(this.buf.buffer, this.buf.byteOffset + this.n, 8).setFloat64(0, value);
    this.n += 8;
  }

  /** Any of our own values: numbers, strings, bytes, booleans, null, arrays, Maps and plain objects. */
  value(value: unknown, depth = 0): void {
    assertThat(depth <= payloadDepthMax, 'cbor: nesting within payloadDepthMax');
    if (typeof value === 'number') return this.number(value);
    if (typeof value === 'string') return this.text(value);
    if (typeof value === 'boolean') return this.head(7, value ? 21 : 20);
    if (value === null || value === undefined) return this.head(7, 22);
    if (value instanceof Uint8Array) return this.bytes(value);
    if (Array.isArray(value)) {
      this.head(4, value.length);
      for (const item of value) this.value(item, depth + 1);
      return;
    }
    const entries = value instanceof Map ? [...value] : Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    this.head(5, entries.length);
    for (const [k, v] of entries) {
      this.value(k, depth + 1);
      this.value(v, depth + 1);
    }
  }

  tag(tag: number): void {
    this.head(6, tag);
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.n);
  }
}

export function encodeValue(value: unknown): Uint8Array {
  const w = new CborWriter();
  w.value(value);
  return w.result();
}
