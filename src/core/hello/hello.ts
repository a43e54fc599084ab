// The signed hello: the first message two agents exchange. A CBOR body signed with the sender's Ed25519
// key; the receiver checks the signature over the exact body bytes before it believes a field.
// (The identity layer later binds the key to a mesh certificate; here the key is self-asserted.)
import type { Crypto } from '../../platform/types.js';
import { decodeLimited, encodeCbor } from '../wire/cbor.js';

export const helloVersion = 1;
export const maxHelloBytes = 512;
export const maxNodeNameBytes = 64;
export const maxHelloTextBytes = 160;

export interface Hello {
  readonly node: string;
  readonly publicKey: Uint8Array;
  readonly sentAtMs: number;
  readonly seq: number;
  /** True once the sender has verified a hello from the receiver. */
  readonly heard: boolean;
  readonly text: string;
}

export type HelloRejection =
  | 'hello-too-large'
  | 'hello-malformed'
  | 'hello-bad-version'
  | 'hello-bad-field'
  | 'hello-bad-signature';
export type OpenedHello =
  | { readonly ok: true; readonly hello: Hello }
  | { readonly ok: false; readonly reason: HelloRejection };

export function sealHello(hello: Hello, crypto: Crypto, secretKey: Uint8Array): Uint8Array {
  const body = encodeCbor([
    helloVersion,
    hello.node,
    hello.publicKey,
    hello.sentAtMs,
    hello.seq,
    hello.heard,
    hello.text,
  ]);
  const sealed = encodeCbor([body, crypto.sign(body, secretKey)]);
  if (sealed.length > maxHelloBytes) throw new RangeError(`hello is ${sealed.length} bytes, limit ${maxHelloBytes}`);
  return sealed;
}

const isBytes = (value: unknown, length?: number): value is Uint8Array =>
  value instanceof Uint8Array && (length === undefined || value.length === length);
const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const isShortText = (value: unknown, maxChars: number): value is string =>
  typeof value === 'string' && value.length <= maxChars;

function parseBody(fields: unknown): Hello | HelloRejection {
  if (!Array.isArray(fields) || fields.length !== 7) return 'hello-malformed';
  const [version, node, publicKey, sentAtMs, seq, heard, text] = fields as unknown[];
  if (version !== helloVersion) return 'hello-bad-version';
  if (!isShortText(node, maxNodeNameBytes) || node.length === 0) return 'hello-bad-field';
  if (!isBytes(publicKey, 32) || !isCount(sentAtMs) || !isCount(seq) || typeof heard !== 'boolean')
    return 'hello-bad-field';
  if (!isShortText(text, maxHelloTextBytes)) return 'hello-bad-field';
  return { node, publicKey, sentAtMs, seq, heard, text };
}

export function openHello(datagram: Uint8Array, crypto: Crypto): OpenedHello {
  if (datagram.length > maxHelloBytes) return { ok: false, reason: 'hello-too-large' };
  const outer = decodeLimited(datagram, maxHelloBytes);
  if (!outer.ok || !Array.isArray(outer.value) || outer.value.length !== 2)
    return { ok: false, reason: 'hello-malformed' };
  const [body, signature] = outer.value as unknown[];
  if (!isBytes(body) || !isBytes(signature, 64)) return { ok: false, reason: 'hello-malformed' };
  const inner = decodeLimited(body, maxHelloBytes);
  if (!inner.ok) return { ok: false, reason: 'hello-malformed' };
  const hello = parseBody(inner.value);
  if (typeof hello === 'string') return { ok: false, reason: hello };
  if (!crypto.verify(body, signature, hello.publicKey)) return { ok: false, reason: 'hello-bad-signature' };
  return { ok: true, hello };
}
