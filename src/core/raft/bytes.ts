// Fixed binary layouts for the hot path of a replicated write (KV commands, client write requests and replies).
// cbor-x costs 50-120 µs per small message on QuickJS-ng; these take a few. Big-endian, lengths prefixed; a
// reader never throws: any overrun or bad UTF-8 makes the whole read fail (ok = false).

const maxU32 = 0xffff_ffff;

/** The code point at i; a surrogate pair counts as one (its low half is then skipped), a lone one is U+FFFD. */
function codePointAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0xd800 || c > 0xdfff) return c;
  const low = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
  if (c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) return 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
  return 0xfffd;
}

export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      n += 1;
      continue;
    }
    const cp = codePointAt(s, i);
    if (cp >= 0x10000) i++;
    n += cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

export class ByteWriter {
  readonly bytes: Uint8Array;
  private at = 0;

  constructor(length: number) {
    this.bytes = new Uint8Array(length);
  }

  u8(n: number): this {
    this.bytes[this.at++] = n;
    return this;
  }

  u32(n: number): this {
    const b = this.bytes;
    b[this.at] = n >>> 24;
    b[this.at + 1] = n >>> 16;
    b[this.at + 2] = n >>> 8;
    b[this.at + 3] = n;
    this.at += 4;
    return this;
  }

  u64(n: number): this {
    return this.u32(Math.floor(n / 0x1_0000_0000)).u32(n >>> 0);
  }

  raw(data: Uint8Array): this {
    this.bytes.set(data, this.at);
    this.at += data.length;
    return this;
  }

  /** A UTF-8 string with a u32 length in front (its byte length must have been counted with utf8Length). */
  str(s: string): this {
    this.u32(utf8Length(s));
    const b = this.bytes;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        b[this.at++] = c; // ASCII: the common case for keys and values
        continue;
      }
      const cp = codePointAt(s, i);
      if (cp >= 0x10000) i++;
      this.codePoint(cp);
    }
    return this;
  }

  /** A nullable string: 0 for null, 1 and the string otherwise. */
  optStr(s: string | null): this {
    return s === null ? this.u8(0) : this.u8(1).str(s);
  }

  private codePoint(c: number): void {
    const b = this.bytes;
    if (c < 0x80) b[this.at++] = c;
    else if (c < 0x800) {
      b[this.at++] = 0xc0 | (c >> 6);
      b[this.at++] = 0x80 | (c & 0x3f);
    } else if (c < 0x10000) {
      b[this.at++] = 0xe0 | (c >> 12);
      b[this.at++] = 0x80 | ((c >> 6) & 0x3f);
      b[this.at++] = 0x80 | (c & 0x3f);
    } else {
      b[this.at++] = 0xf0 | (c >> 18);
      b[this.at++] = 0x80 | ((c >> 12) & 0x3f);
      b[this.at++] = 0x80 | ((c >> 6) & 0x3f);
      b[this.at++] = 0x80 | (c & 0x3f);
    }
  }
}

/** Bytes a string takes with ByteWriter.str / optStr. */
export const strBytes = (s: string): number => 4 + utf8Length(s);
export const optStrBytes = (s: string | null): number => (s === null ? 1 : 1 + strBytes(s));

export class ByteReader {
  ok = true;
  private at = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly maxString: number,
  ) {}

  get done(): boolean {
    return this.at === this.bytes.length;
  }

  private need(n: number): boolean {
    if (this.ok && this.at + n <= this.bytes.length) return true;
    this.ok = false;
    return false;
  }

  u8(): number {
    return this.need(1) ? (this.bytes[this.at++] as number) : 0;
  }

  u32(): number {
    if (!this.need(4)) return 0;
    const b = this.bytes;
    const n =
      (b[this.at] as number) * 0x1000000 +
      (((b[this.at + 1] as number) << 16) | ((b[this.at + 2] as number) << 8) | (b[this.at + 3] as number));
    this.at += 4;
    return n;
  }

  u64(): number {
    const n = this.u32() * 0x1_0000_0000 + this.u32();
    if (!Number.isSafeInteger(n)) this.ok = false;
    return n;
  }

  rest(): Uint8Array {
    const out = this.bytes.subarray(this.at);
    this.at = this.bytes.length;
    return out;
  }

  str(): string {
    const length = this.u32();
    if (length > this.maxString || length > maxU32 || !this.need(length)) {
      this.ok = false;
      return '';
    }
    const end = this.at + length;
    let out = '';
    while (this.at < end) {
      const first = this.bytes[this.at] as number;
      if (first < 0x80) {
        out += String.fromCharCode(first);
        this.at++;
        continue;
      }
      const c = this.codePoint(end);
      if (c < 0) {
        this.ok = false;
        return '';
      }
      out +=
        c < 0x10000
          ? String.fromCharCode(c)
          : String.fromCharCode(0xd800 + ((c - 0x10000) >> 10), 0xdc00 + ((c - 0x10000) & 0x3ff));
    }
    return out;
  }

  optStr(): string | null {
    const tag = this.u8();
    if (tag === 0) return null;
    if (tag !== 1) this.ok = false;
    return this.str();
  }

  /** One UTF-8 code point (strict: no overlong forms, no surrogates), or -1. */
  private codePoint(end: number): number {
    const b = this.bytes;
    const first = b[this.at++] as number;
    if (first < 0x80) return first;
    const extra = first >= 0xf5 ? -1 : first >= 0xf0 ? 3 : first >= 0xe0 ? 2 : first >= 0xc2 ? 1 : -1;
    if (extra < 0 || this.at + extra > end) return -1;
    let c = first & (0x3f >> extra);
    for (let i = 0; i < extra; i++) {
      const next = b[this.at++] as number;
      if ((next & 0xc0) !== 0x80) return -1;
      c = (c << 6) | (next & 0x3f);
    }
    const min = extra === 1 ? 0x80 : extra === 2 ? 0x800 : 0x10000;
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return -1;
    return c;
  }
}
