// Shape checks for decoded (untrusted) values. Each returns a boolean; callers turn false into a reason code.
import { limits } from './limits.js';

export const isNat = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
export const isPositive = (x: unknown): x is number => isNat(x) && x > 0;
/** A 32-bit unsigned value (hashes, digest roots, fingerprints). */
export const isU32 = (x: unknown): x is number => isNat(x) && x <= 0xffff_ffff;
/** A stream's sequence number: 1..seqMax. */
export const isSeq = (x: unknown): x is number => isPositive(x) && x <= limits.seqMax;
export const isId = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length <= limits.idCharsMax;
export const isKey = (x: unknown): x is string =>
  typeof x === 'string' && x.length > 0 && x.length <= limits.keyCharsMax;
export const isText = (x: unknown): x is string => typeof x === 'string' && x.length <= limits.stringCharsMax;
export const isBytes = (x: unknown): x is Uint8Array => x instanceof Uint8Array;
export const isArray = (x: unknown, maxLength: number): x is unknown[] => Array.isArray(x) && x.length <= maxLength;
export const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);

export { compareBytes } from '../wire/hex.js';

export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
