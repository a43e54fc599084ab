// Fuzzing helpers shared by the identity and channel fuzz tests (engine-neutral): inputs are random bytes,
// byte-level mutations of valid seeds (flip, cut, extend, insert, delete, overwrite) and structural ones
// (decode the CBOR, replace one leaf, also inside a nested byte string that is itself CBOR, re-encode),
// so that mutations reach past the outer decoder into field checks. Each target runs for a bounded time;
// a failure names the seed and the command that reproduces it.
import * as fc from 'fast-check';
import { decodeLimited, encodeCbor } from '../../src/core/wire/cbor.js';

/** Per target, wall-clock: the whole fuzz run stays within a few seconds per file on each engine. */
export const fuzzTimeMsPerTarget = 1200;
export const fuzzRunsMax = 2000;

type Path = number[];

function leafPaths(value: unknown, prefix: Path, depth: number, out: Path[]): void {
  if (out.length >= 64 || depth > 4) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => leafPaths(item, [...prefix, i], depth + 1, out));
    return;
  }
  out.push(prefix);
  if (value instanceof Uint8Array && value.length > 0 && value.length < 4096) {
    const inner = decodeLimited(value, 4096);
    if (inner.ok && Array.isArray(inner.value)) leafPaths(inner.value, [...prefix, -1], depth + 1, out); // -1: step into nested CBOR
  }
}

function replaceAt(value: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [step, ...rest] = path as [number, ...number[]];
  if (step === -1) {
    const inner = decodeLimited(value as Uint8Array, 4096);
    return inner.ok ? encodeCbor(replaceAt(inner.value, rest, replacement)) : value;
  }
  const copy = [...(value as unknown[])];
  copy[step] = replaceAt(copy[step], rest, replacement);
  return copy;
}

/** Decodes `bytes`, swaps one leaf (chosen by `pick`) for `replacement`, re-encodes; null if not CBOR. */
export function mutateStructure(bytes: Uint8Array, pick: number, replacement: unknown): Uint8Array | null {
  const decoded = decodeLimited(bytes, 1 << 16);
  if (!decoded.ok) return null;
  const paths: Path[] = [];
  leafPaths(decoded.value, [], 0, paths);
  const path = paths[pick % Math.max(1, paths.length)];
  if (path === undefined) return null;
  try {
    return encodeCbor(replaceAt(decoded.value, path, replacement));
  } catch {
    return null; // a replacement cbor-x cannot encode: not an input worth sending
  }
}

const leafValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.maxSafeNat(),
  fc.constant(-1),
  fc.constant(2 ** 53),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('spiffe://mesh.example/node/a', 'spiffe://x/ca/root', 'member', 'fd00::1', ''),
  fc.uint8Array({ maxLength: 80 }),
  fc.constantFrom(8, 16, 32, 64).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
  fc.array(fc.nat(), { maxLength: 4 }),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }),
);

function byteMutation(bytes: Uint8Array, op: number, at: number, value: number, extra: Uint8Array): Uint8Array {
  const i = bytes.length === 0 ? 0 : at % bytes.length;
  switch (op % 6) {
    case 0: {
      const c = new Uint8Array(bytes);
      if (c.length > 0) c[i]! ^= 1 << (value % 8);
      return c;
    }
    case 1:
      return bytes.slice(0, i);
    case 2:
      return Uint8Array.from([...bytes, ...extra]);
    case 3:
      return Uint8Array.from([...bytes.subarray(0, i), value & 0xff, ...bytes.subarray(i)]);
    case 4:
      return Uint8Array.from([...bytes.subarray(0, i), ...bytes.subarray(i + 1)]);
    default: {
      const c = new Uint8Array(bytes);
      c.set(extra.subarray(0, Math.max(0, c.length - i)), i);
      return c;
    }
  }
}

/** Random bytes, and valid seeds mutated at the byte level (1-3 times) or one CBOR leaf at a time. */
export function fuzzInput(seeds: readonly Uint8Array[], maxRandomBytes = 1600): fc.Arbitrary<Uint8Array> {
  const seed = fc.constantFrom(...seeds);
  const step = fc.tuple(fc.nat(), fc.nat(), fc.nat(255), fc.uint8Array({ maxLength: 40 }));
  const bytewise = fc
    .tuple(seed, fc.array(step, { minLength: 1, maxLength: 3 }))
    .map(([bytes, steps]) => steps.reduce((b, [op, at, value, extra]) => byteMutation(b, op, at, value, extra), bytes));
  const structural = fc
    .tuple(seed, fc.nat(), leafValue)
    .map(([bytes, pick, leaf]) => mutateStructure(bytes, pick, leaf) ?? bytes);
  return fc.oneof(
    { arbitrary: fc.uint8Array({ maxLength: maxRandomBytes }), weight: 1 },
    { arbitrary: bytewise, weight: 3 },
    { arbitrary: structural, weight: 3 },
  );
}

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};

/**
 * Runs `property` on fuzz inputs for at most fuzzTimeMsPerTarget (fast-check's interruptAfterTimeLimit).
 * The property returns normally for a refusal by reason; a throw or `false` is a failure, reported with the
 * seed and the command that replays it (X0_FUZZ_SEED=... on Node).
 */
export function fuzz<T>(
  name: string,
  file: string,
  input: fc.Arbitrary<T>,
  property: (value: T) => boolean | void,
): number {
  const seed = env.X0_FUZZ_SEED !== undefined ? Number(env.X0_FUZZ_SEED) : Date.now() % 2 ** 31;
  const details = fc.check(fc.property(input, property), {
    seed,
    numRuns: fuzzRunsMax,
    interruptAfterTimeLimit: fuzzTimeMsPerTarget,
  });
  if (details.failed) {
    const error = details.errorInstance instanceof Error ? details.errorInstance : null;
    const where = (error?.stack ?? '').split('\n').find((line) => line.includes('.test.ts')) ?? '';
    const why = error !== null ? `${error.message} ${where.trim()}` : 'property returned false';
    throw new Error(
      `fuzz ${name}: ${why}\n  counterexample: ${fc.stringify(details.counterexample)}\n  reproduce: X0_FUZZ_SEED=${seed} node --import tsx node_modules/uvu/bin.js ${file}`,
    );
  }
  if (env.X0_FUZZ_VERBOSE !== undefined) console.log(`fuzz ${name}: ${details.numRuns} inputs (seed ${seed})`);
  return details.numRuns;
}

/** A refusal is a Result with a reason code: lowercase words joined by dashes. */
export function isRefusal(x: unknown): boolean {
  const r = x as { ok?: unknown; reason?: unknown };
  return (
    r !== null &&
    typeof r === 'object' &&
    (r.ok === true || (r.ok === false && typeof r.reason === 'string' && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(r.reason)))
  );
}
