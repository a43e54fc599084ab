// Wire formats of the channel. The first byte is the message type; handshake bodies are canonical CBOR
// arrays (the transcript hashes their exact bytes), data records a fixed binary header (no CBOR on the
// hot path). See docs/protocol/identity.md §Channel.
import { asNat, decodeBounded, encodeCanonical, isBytes, isText, copyBytes } from '../identity/canonical.js';
import { limits } from '../identity/limits.js';
import { fail, ok, type Result } from '../identity/result.js';
import { channelLimits, dataHeaderBytes, initPaddedBytes, recordKindBytes, sealTagBytes } from './limits.js';

export const protocolVersion = 1;
export enum MessageType {
  Init = 1,
  Response = 2,
  Finish = 3,
  Data = 4,
}
export enum RecordKind {
  Payload = 0,
  Keepalive = 1,
  Close = 2,
}

export interface Init {
  readonly senderIndex: number;
  readonly ephemeral: Uint8Array;
  readonly trustDomain: string;
}
export interface Response {
  readonly senderIndex: number;
  readonly receiverIndex: number;
  readonly ephemeral: Uint8Array;
  readonly sealed: Uint8Array;
}
export interface Finish {
  readonly receiverIndex: number;
  readonly sealed: Uint8Array;
}
export interface DataHeader {
  readonly receiverIndex: number;
  readonly epoch: number;
  readonly counter: number;
}

export type MessageReason =
  | 'message-empty'
  | 'message-too-large'
  | 'message-unknown-type'
  | 'handshake-malformed'
  | 'record-malformed';

const isIndex = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffffffff;
const withType = (type: MessageType, body: Uint8Array): Uint8Array => {
  const out = new Uint8Array(body.length + 1);
  out[0] = type;
  out.set(body, 1);
  return out;
};

export function encodeInit(m: Init): Uint8Array {
  const unpadded =
    encodeCanonical([protocolVersion, m.senderIndex, m.ephemeral, m.trustDomain, new Uint8Array(0)]).length + 1;
  // Padding length is at most 511 (a 2-byte header above 255 bytes): one extra byte of header at most.
  const pad = Math.max(0, initPaddedBytes - unpadded - 2);
  return withType(
    MessageType.Init,
    encodeCanonical([protocolVersion, m.senderIndex, m.ephemeral, m.trustDomain, new Uint8Array(pad)]),
  );
}
export const responseHeaderBytes = (m: Omit<Response, 'sealed'>): Uint8Array =>
  encodeCanonical([m.senderIndex, m.receiverIndex, m.ephemeral]);
export const encodeResponse = (m: Response): Uint8Array =>
  withType(MessageType.Response, encodeCanonical([m.senderIndex, m.receiverIndex, m.ephemeral, m.sealed]));
export const encodeFinish = (m: Finish): Uint8Array =>
  withType(MessageType.Finish, encodeCanonical([m.receiverIndex, m.sealed]));

/** Type byte of a datagram, after the size checks every inbound message goes through first. */
export function messageType(bytes: Uint8Array): Result<MessageType, MessageReason> {
  if (bytes.length === 0) return fail('message-empty');
  if (bytes.length > channelLimits.datagramBytesMax) return fail('message-too-large');
  const type = bytes[0] as number;
  if (type < MessageType.Init || type > MessageType.Data) return fail('message-unknown-type');
  if (type !== MessageType.Data && bytes.length > channelLimits.handshakeBytesMax) return fail('message-too-large');
  return ok(type as MessageType);
}

function body(bytes: Uint8Array, fields: number): unknown[] | null {
  const decoded = decodeBounded(bytes.subarray(1), channelLimits.handshakeBytesMax);
  return decoded.ok && Array.isArray(decoded.value) && decoded.value.length === fields ? decoded.value : null;
}

export function decodeInit(bytes: Uint8Array): Result<Init, MessageReason | 'handshake-bad-version'> {
  if (bytes.length < initPaddedBytes) return fail('handshake-malformed');
  const f = body(bytes, 5);
  if (f === null) return fail('handshake-malformed');
  const [version, senderIndex, ephemeral, trustDomain, padding] = f;
  if (version !== protocolVersion) return fail('handshake-bad-version');
  if (!isBytes(padding)) return fail('handshake-malformed');
  if (!isIndex(senderIndex) || !isBytes(ephemeral, 32) || !isText(trustDomain, limits.trustDomainCharsMax))
    return fail('handshake-malformed');
  return ok({ senderIndex, ephemeral: copyBytes(ephemeral), trustDomain });
}

export function decodeResponse(bytes: Uint8Array): Result<Response, MessageReason> {
  const f = body(bytes, 4);
  if (f === null) return fail('handshake-malformed');
  const [senderIndex, receiverIndex, ephemeral, sealed] = f;
  if (!isIndex(senderIndex) || !isIndex(receiverIndex) || !isBytes(ephemeral, 32) || !isBytes(sealed))
    return fail('handshake-malformed');
  return ok({ senderIndex, receiverIndex, ephemeral: copyBytes(ephemeral), sealed: copyBytes(sealed) });
}

export function decodeFinish(bytes: Uint8Array): Result<Finish, MessageReason> {
  const f = body(bytes, 2);
  if (f === null) return fail('handshake-malformed');
  const [receiverIndex, sealed] = f;
  if (!isIndex(receiverIndex) || !isBytes(sealed)) return fail('handshake-malformed');
  return ok({ receiverIndex, sealed: copyBytes(sealed) });
}

/** The sealed part of M2 and M3: the sender's chain and its signature over the transcript. */
export const encodeProof = (chain: readonly Uint8Array[], signature: Uint8Array): Uint8Array =>
  encodeCanonical([chain, signature]);

export function decodeProof(
  bytes: Uint8Array,
): Result<{ chain: unknown; chainBytes: Uint8Array; signature: Uint8Array }, 'handshake-malformed'> {
  const decoded = decodeBounded(bytes, channelLimits.handshakeBytesMax);
  if (!decoded.ok || !Array.isArray(decoded.value) || decoded.value.length !== 2) return fail('handshake-malformed');
  const [chain, signature] = decoded.value as unknown[];
  if (!Array.isArray(chain) || !isBytes(signature, 64)) return fail('handshake-malformed');
  if (!chain.every((c) => isBytes(c))) return fail('handshake-malformed');
  return ok({ chain, chainBytes: encodeCanonical(chain as Uint8Array[]), signature: copyBytes(signature) });
}

export function encodeDataHeader(h: DataHeader): Uint8Array {
  const out = new Uint8Array(dataHeaderBytes);
  const view = new DataView(out.buffer);
  out[0] = MessageType.Data;
  view.setUint32(1, h.receiverIndex);
  view.setUint16(5, h.epoch);
  view.setUint32(7, Math.floor(h.counter / 0x1_0000_0000));
  view.setUint32(11, h.counter >>> 0);
  return out;
}

export function decodeDataHeader(bytes: Uint8Array): Result<DataHeader, MessageReason> {
  if (bytes.length < dataHeaderBytes + sealTagBytes + recordKindBytes) return fail('record-malformed');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const high = view.getUint32(7);
  if (high > 0x1fffff) return fail('record-malformed'); // beyond 2^53: never sent by us
  return ok({
    receiverIndex: view.getUint32(1),
    epoch: view.getUint16(5),
    counter: high * 0x1_0000_0000 + view.getUint32(11),
  });
}

/** XSalsa20 nonce for a record: the epoch and the counter; each (key, nonce) pair is used once. */
export function recordNonce(epoch: number, counter: number): Uint8Array {
  const nonce = new Uint8Array(24);
  const view = new DataView(nonce.buffer);
  view.setUint16(0, epoch);
  view.setUint32(16, Math.floor(counter / 0x1_0000_0000));
  view.setUint32(20, counter >>> 0);
  return nonce;
}

export { asNat };
