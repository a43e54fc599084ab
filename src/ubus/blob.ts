// libubox's blob format: a 32-bit big-endian word (bit 31 "extended", bits 24..30 the id, bits 0..23 the raw
// length including the 4-byte header), the payload, then zero padding to 4 bytes. A nested attribute's length
// covers its children with their padding (blob_nest_end), a leaf's length does not cover its own padding.
import { blobmsgNodesMax } from './limits.js';
import { assert, fail, ok, type Result } from './result.js';

export const blobHeaderBytes = 4;
export const blobLengthMax = 0xff_ffff;
const extendedBit = 0x8000_0000;

export interface BlobAttr {
  readonly id: number;
  /** Set on blobmsg attributes: the payload starts with a blobmsg name header. */
  readonly extended: boolean;
  /** blob_data: blob_len bytes, padding excluded. */
  readonly payload: Uint8Array;
}

export type BlobReason = 'truncated' | 'bad-length' | 'nonzero-padding' | 'too-many-attributes';

export const paddedLength = (length: number): number => (length + 3) & ~3;

/** Reads one attribute header at offset; the caller has checked nothing. */
export function readAttrAt(bytes: Uint8Array, offset: number): Result<{ attr: BlobAttr; next: number }, BlobReason> {
  if (bytes.length - offset < blobHeaderBytes) return fail('truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, blobHeaderBytes);
  const word = view.getUint32(0);
  const rawLength = word & blobLengthMax;
  if (rawLength < blobHeaderBytes) return fail('bad-length');
  const padded = paddedLength(rawLength);
  if (offset + padded > bytes.length) return fail('truncated');
  for (let i = offset + rawLength; i < offset + padded; i++) if (bytes[i] !== 0) return fail('nonzero-padding');
  const attr = {
    id: (word >>> 24) & 0x7f,
    extended: (word & extendedBit) !== 0,
    payload: bytes.subarray(offset + blobHeaderBytes, offset + rawLength),
  };
  return ok({ attr, next: offset + padded });
}

/** blob_for_each_attr over untrusted bytes: every attribute must fit, padding included. */
export function parseAttrs(bytes: Uint8Array, attributesMax = blobmsgNodesMax): Result<BlobAttr[], BlobReason> {
  const attrs: BlobAttr[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (attrs.length >= attributesMax) return fail('too-many-attributes');
    const read = readAttrAt(bytes, offset);
    if (!read.ok) return read;
    attrs.push(read.value.attr);
    offset = read.value.next;
  }
  return ok(attrs);
}

/** A growable big-endian buffer that nests attributes the way libubox's blob_buf does. */
export class ByteWriter {
  private buffer = new Uint8Array(256);
  private view = new DataView(this.buffer.buffer);
  length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }

  u8(value: number): void {
    this.ensure(1);
    this.view.setUint8(this.length, value);
    this.length += 1;
  }

  u16(value: number): void {
    this.ensure(2);
    this.view.setUint16(this.length, value);
    this.length += 2;
  }

  u32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, value >>> 0);
    this.length += 4;
  }

  u64(value: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.length, BigInt.asUintN(64, value));
    this.length += 8;
  }

  f64(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.length, value);
    this.length += 8;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Zero bytes up to the next multiple of 4 (blob_fill_pad). */
  pad(): void {
    const target = paddedLength(this.length);
    this.ensure(target - this.length);
    this.buffer.fill(0, this.length, target);
    this.length = target;
  }

  /** Writes a header with length 0 and returns its offset for end(). */
  start(id: number, extended: boolean): number {
    assert(id >= 0 && id <= 0x7f, `blob id ${id} out of range`);
    assert(this.length % 4 === 0, 'attributes start aligned');
    const offset = this.length;
    this.u32((extended ? extendedBit : 0) | (id << 24));
    return offset;
  }

  /** Patches the raw length (header + payload, no padding) and pads after it. */
  end(offset: number): void {
    const rawLength = this.length - offset;
    assert(rawLength >= blobHeaderBytes, 'an attribute ends after its header');
    assert(rawLength <= blobLengthMax, 'attribute longer than 24 bits');
    const word = this.view.getUint32(offset);
    this.view.setUint32(offset, ((word & ~blobLengthMax) | rawLength) >>> 0);
    this.pad();
  }

  bytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}
