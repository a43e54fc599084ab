// UTF-8 encode/decode as the WHATWG Encoding Standard specifies them (lone surrogates encode as U+FFFD;
// each maximal invalid subpart decodes to one U+FFFD, or throws when fatal). Pure: the polyfill's core,
// tested on Node against Buffer/TextDecoder.

const replacement = 0xfffd;
// String.fromCharCode takes its code units as arguments; flush in chunks well under engines' argument caps.
const chunkUnits = 4096;

export function encodeUtf8(text: string): Uint8Array {
  // At most 3 bytes per UTF-16 code unit (a surrogate pair is 2 units -> 4 bytes).
  const out = new Uint8Array(text.length * 3);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        c = replacement;
      }
    }
    if (c < 0x80) {
      out[n++] = c;
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else if (c < 0x10000) {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    } else {
      out[n++] = 0xf0 | (c >> 18);
      out[n++] = 0x80 | ((c >> 12) & 0x3f);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    }
  }
  return out.slice(0, n);
}

/** Length of the sequence a lead byte starts and the allowed range of its second byte; 0 for an invalid lead. */
function sequence(lead: number): { length: number; low: number; high: number } {
  if (lead >= 0xc2 && lead <= 0xdf) return { length: 2, low: 0x80, high: 0xbf };
  if (lead === 0xe0) return { length: 3, low: 0xa0, high: 0xbf };
  if (lead === 0xed) return { length: 3, low: 0x80, high: 0x9f }; // no surrogates
  if (lead >= 0xe1 && lead <= 0xef) return { length: 3, low: 0x80, high: 0xbf };
  if (lead === 0xf0) return { length: 4, low: 0x90, high: 0xbf };
  if (lead >= 0xf1 && lead <= 0xf3) return { length: 4, low: 0x80, high: 0xbf };
  if (lead === 0xf4) return { length: 4, low: 0x80, high: 0x8f }; // nothing past U+10FFFF
  return { length: 0, low: 0, high: 0 };
}

export function decodeUtf8(bytes: Uint8Array, fatal: boolean): string {
  let result = '';
  let units: number[] = [];
  const push = (unit: number) => {
    units.push(unit);
    if (units.length >= chunkUnits) {
      result += String.fromCharCode(...units);
      units = [];
    }
  };
  const invalid = () => {
    if (fatal) throw new TypeError('The encoded data was not valid utf-8');
    push(replacement);
  };
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    if (lead < 0x80) {
      push(lead);
      i++;
      continue;
    }
    const { length, low, high } = sequence(lead);
    if (length === 0) {
      invalid();
      i++;
      continue;
    }
    let c = lead & (0xff >> (length + 1));
    let used = 1;
    for (; used < length && i + used < bytes.length; used++) {
      const b = bytes[i + used] as number;
      const min = used === 1 ? low : 0x80;
      const max = used === 1 ? high : 0xbf;
      if (b < min || b > max) break;
      c = (c << 6) | (b & 0x3f);
    }
    if (used < length) {
      invalid(); // the maximal subpart consumed so far becomes one U+FFFD
      i += used;
      continue;
    }
    if (c >= 0x10000) {
      push(0xd800 + ((c - 0x10000) >> 10));
      push(0xdc00 + ((c - 0x10000) & 0x3ff));
    } else {
      push(c);
    }
    i += length;
  }
  return result + String.fromCharCode(...units);
}
