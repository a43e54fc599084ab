// Engine-neutral: our wire CBOR codec (src/core/wire/cbor.ts) side by side with cbor-x 1.6, which it
// replaced in the router bundle, on a gossip datagram and a COSE_Sign1 telemetry message. Used on Node and
// inside x0-runtime by bench/cbor.bench.ts (cbor-x is bundled into the benchmark only, never the agent).
import { Decoder, Encoder } from 'cbor-x';
import { createTweetnaclCrypto } from '../../src/crypto/tweetnacl.js';
import { contentTypeCbor, signSign1 } from '../../src/core/telemetry/cose.js';
import { encodeValue } from '../../src/core/telemetry/cbor.js';
import { CborTag, decodeCbor, decodeLimited, encodeCbor } from '../../src/core/wire/cbor.js';
import { measure, typicalMessage, type Measurement } from './measure.js';

/** Our figure and cbor-x's for one operation. */
export interface Pair {
  readonly name: string;
  readonly ours: Measurement;
  readonly cborX: Measurement;
}

// The options src/core/wire/cbor.ts gave cbor-x, and the ones cose.ts and messages.ts decoded with.
const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  tagUint8Array: false,
  pack: false,
  variableMapSize: true,
});
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });
const coseDecoder = new Decoder({ useRecords: false, mapsAsObjects: false });
const bodyDecoder = new Decoder({
  useRecords: false,
  mapsAsObjects: true,
  int64AsNumber: true,
} as ConstructorParameters<typeof Decoder>[0]);

/**
 * A deltas datagram (type 4) as gossip sends it: three items, each [stream, seq, section wire, attestation],
 * the first carrying a neighbour-table status (bench/lib/measure.ts), the attestation [seq, hash, signature].
 */
export function gossipDatagram(): unknown {
  const status = typicalMessage() as Record<string, unknown>;
  const attestation = [48213, new Uint8Array(32).fill(0x11), new Uint8Array(64).fill(0x22)];
  const items = [
    [
      'router-17~3',
      48213,
      {
        s: [
          [1_763_850_000_123, 0, 'router-17~3'],
          [1, 864_000, 0],
        ],
        st: status,
      },
      attestation,
    ],
    [
      'router-17~3',
      48214,
      {
        s: [
          [1_763_850_000_456, 1, 'router-17~3'],
          [1, 864_001, 0],
        ],
      },
      attestation,
    ],
    ['router-04~1', 977, { r: ['router-09', 'router-11'], at: 1_763_849_990_000 }, attestation],
  ];
  return [4, 'router-17', items];
}

/** A COSE_Sign1 telemetry message (tag 18, EdDSA, kid) around the status as its CBOR body. */
export function coseMessage(): Uint8Array {
  const crypto = createTweetnaclCrypto((n) => new Uint8Array(n).fill(7));
  const keys = crypto.signKeyPairFromSeed(new Uint8Array(32).fill(1));
  const body = encodeValue({
    v: 1,
    kind: 'telemetry',
    mesh: 'mesh.example',
    node: 'router-17',
    data: typicalMessage(),
  });
  return signSign1(crypto, keys.secretKey, body, { contentType: contentTypeCbor, kid: new Uint8Array(8).fill(3) });
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`bench cbor: ${what}`);
}

function decodeCoseOurs(bytes: Uint8Array): void {
  const outer = decodeCbor(bytes, 16_384, { maps: 'maps', tags: [18] });
  check(outer.ok && outer.value instanceof CborTag, 'COSE outer');
  const parts = (outer as { value: CborTag }).value.value as Uint8Array[];
  check(decodeCbor(parts[0] as Uint8Array, 16_384, { maps: 'maps' }).ok, 'COSE header');
  check(decodeCbor(parts[2] as Uint8Array, 16_384, { int64: 'number' }).ok, 'COSE body');
}

function decodeCoseCborX(bytes: Uint8Array): void {
  const outer = coseDecoder.decode(bytes) as { tag: number; value: Uint8Array[] };
  check(outer.tag === 18, 'COSE outer (cbor-x)');
  check(coseDecoder.decode(outer.value[0] as Uint8Array) instanceof Map, 'COSE header (cbor-x)');
  check(typeof bodyDecoder.decode(outer.value[2] as Uint8Array) === 'object', 'COSE body (cbor-x)');
}

export function cborCompareSuite(nowMs: () => number, budgetMs: number): Pair[] {
  const datagram = gossipDatagram();
  const bytes = encodeCbor(datagram);
  const reference = encoder.encode(datagram);
  check(bytes.length === reference.length && bytes.every((b, i) => b === reference[i]), 'same bytes as cbor-x');
  const cose = coseMessage();
  const pair = (name: string, ours: () => void, cborX: () => void): Pair => ({
    name,
    ours: measure(name, nowMs, budgetMs, ours),
    cborX: measure(name, nowMs, budgetMs, cborX),
  });
  return [
    pair(
      `gossip datagram encode (${bytes.length} B)`,
      () => encodeCbor(datagram),
      () => encoder.encode(datagram),
    ),
    pair(
      `gossip datagram decode (${bytes.length} B)`,
      () => check(decodeLimited(bytes, 4096).ok, 'decode'),
      () => decoder.decode(bytes),
    ),
    pair(
      `COSE_Sign1 decode: envelope, header, body (${cose.length} B)`,
      () => decodeCoseOurs(cose),
      () => decodeCoseCborX(cose),
    ),
  ];
}
