// Topics and signed payloads of the telemetry uplink (docs/telemetry.md), both sides: the node signs
// (TelemetrySigner), any consumer verifies against the mesh CA's trust bundle (TelemetryVerifier), and the
// node verifies operator commands (CommandGuard). Pure: crypto and clocks come in as arguments.
import { keyId, type Certificate } from '../identity/cert.js';
import {
  decodeChain,
  validateChain,
  type ChainReason,
  type RevocationView,
  type TrustBundle,
  type ValidatedPeer,
} from '../identity/chain.js';
import { decodeCbor, type DecodeOptions } from '../wire/cbor.js';
import { bytesEqual, fromUtf8, toHex, utf8 } from '../wire/hex.js';
import type { Crypto } from '../../platform/types.js';
import { Counters, fail, ok, type Result } from '../result.js';
import * as cbor from './cbor.js';
import {
  Sign1Signer,
  contentTypeCbor,
  contentTypeJson,
  decodeSign1,
  encodeProtected,
  encodeUnprotected,
  signSign1,
  verifySign1,
  type CoseReason,
} from './cose.js';
import {
  atMsMax,
  clockAheadMsMax,
  commandIdsMax,
  commandSkewMsMax,
  messageBytesMax,
  nodesMax,
  operatorKeysMax,
  staleMsMax,
} from './limits.js';

export type Kind = 'status' | 'telemetry' | 'events' | 'cmd';
export type Format = 'cbor' | 'json';
const kinds: readonly Kind[] = ['status', 'telemetry', 'events', 'cmd'];

export interface TopicParts {
  readonly mesh: string;
  readonly node: string;
  readonly kind: Kind;
  /** The command name for cmd/<name>, else null. */
  readonly sub: string | null;
}

const levelSyntax = /^[A-Za-z0-9._-]{1,255}$/;

export function topicFor(mesh: string, node: string, kind: Kind, sub?: string): string {
  return `x0/${mesh}/${node}/${kind}${sub === undefined ? '' : `/${sub}`}`;
}

export function parseTopic(topic: string): TopicParts | null {
  const parts = topic.split('/');
  if (parts.length < 4 || parts.length > 5 || parts[0] !== 'x0') return null;
  const [, mesh, node, kind, sub] = parts as [string, string, string, string, string | undefined];
  if (!levelSyntax.test(mesh) || !levelSyntax.test(node) || !kinds.includes(kind as Kind)) return null;
  if ((kind === 'cmd') !== (sub !== undefined) || (sub !== undefined && !levelSyntax.test(sub))) return null;
  return { mesh, node, kind: kind as Kind, sub: sub ?? null };
}

/** What every signed payload carries besides its data: who, which kind, and its place in the node's stream. */
export interface Envelope {
  readonly v: 1;
  readonly kind: Kind;
  readonly mesh: string;
  readonly node: string;
  /** Random per agent start: sequence numbers restart with it. */
  readonly boot: string;
  /** Per kind, increasing within a boot. */
  readonly seq: number;
  /** The node's wall clock, ms since the epoch. */
  readonly at: number;
  readonly data: Record<string, unknown>;
}

// Plain objects, and 64-bit integers (timestamps, byte counters) as numbers, as JSON would give them; one
// beyond 2^53 makes the body undecodable rather than silently rounded.
const bodyOptions: DecodeOptions = { int64: 'number' };

function decodeBody(contentType: number | null, payload: Uint8Array): unknown {
  if (contentType === contentTypeJson) {
    try {
      return JSON.parse(fromUtf8(payload));
    } catch {
      return undefined;
    }
  }
  if (contentType !== contentTypeCbor) return undefined;
  const decoded = decodeCbor(payload, messageBytesMax, bodyOptions);
  return decoded.ok ? decoded.value : undefined;
}

export interface SignerIdentity {
  readonly signSecretKey: Uint8Array;
  readonly chain: readonly Certificate[];
}

/**
 * The node's side: builds and signs each message, numbering them per kind. The uplink's hot path: the CBOR
 * envelope's constant head ({v, kind, mesh, node, boot, and the key "seq"}) is encoded once per kind and the
 * rest straight into the COSE signer's buffer (Sign1Signer). The bytes are exactly encodeValue(envelope)
 * (test/telemetry/cose.test.ts checks it).
 */
export class TelemetrySigner {
  readonly mesh: string;
  readonly node: string;
  private readonly signer: Sign1Signer;
  private readonly chainHeader: Uint8Array;
  private readonly noHeader = encodeUnprotected(undefined);
  private readonly seqs = new Map<Kind, number>();
  private readonly heads = new Map<Kind, Uint8Array>();
  private readonly topics = new Map<Kind, string>();

  constructor(
    crypto: Crypto,
    identity: SignerIdentity,
    readonly boot: string,
    readonly format: Format = 'cbor',
  ) {
    const leaf = identity.chain[0] as Certificate;
    this.mesh = leaf.trustDomain;
    this.node = leaf.name;
    const protectedBytes = encodeProtected(
      format === 'cbor' ? contentTypeCbor : contentTypeJson,
      keyId(crypto, leaf.signPublicKey),
    );
    this.signer = new Sign1Signer(crypto, identity.signSecretKey, protectedBytes);
    this.chainHeader = encodeUnprotected(identity.chain.map((c) => c.bytes));
    for (const kind of ['status', 'telemetry', 'events'] as const) {
      this.topics.set(kind, topicFor(this.mesh, this.node, kind));
      this.heads.set(
        kind,
        cbor.encodeWith(() => {
          cbor.head(5, 8);
          for (const [key, value] of [
            ['v', 1],
            ['kind', kind],
            ['mesh', this.mesh],
            ['node', this.node],
            ['boot', this.boot],
          ] as const) {
            cbor.text(key);
            cbor.value(value);
          }
          cbor.text('seq');
        }),
      );
    }
  }

  /** Takes the next sequence number of a kind (the Will is numbered when it is signed, see docs). */
  sign(
    kind: Exclude<Kind, 'cmd'>,
    data: Record<string, unknown>,
    atMs: number,
    includeChain: boolean,
  ): { topic: string; payload: Uint8Array } {
    const seq = (this.seqs.get(kind) ?? 0) + 1;
    this.seqs.set(kind, seq);
    const head = this.heads.get(kind) as Uint8Array;
    // {v: 1, kind, mesh, node, boot, seq, at, data}: the head from the cache, the rest written here.
    const body =
      this.format === 'json'
        ? utf8(
            JSON.stringify({
              v: 1,
              kind,
              mesh: this.mesh,
              node: this.node,
              boot: this.boot,
              seq,
              at: atMs,
              data,
            } satisfies Envelope),
          )
        : () => {
            cbor.raw(head);
            cbor.number(seq);
            cbor.text('at');
            cbor.number(atMs);
            cbor.text('data');
            cbor.value(data, 1);
          };
    return {
      topic: this.topics.get(kind) as string,
      payload: this.signer.sign(body, includeChain ? this.chainHeader : this.noHeader),
    };
  }
}

export type VerifyReason =
  | CoseReason
  | 'topic-invalid'
  | 'unknown-kid'
  | 'kid-mismatch'
  | 'bad-signature'
  | 'payload-malformed'
  | 'topic-mismatch'
  | 'replayed'
  | 'duplicate'
  | 'stale'
  | 'from-future'
  | 'cert-expired'
  | 'cert-revoked'
  | ChainReason;

export interface Verified extends Envelope {
  readonly peer: ValidatedPeer;
  readonly chainIncluded: boolean;
}

interface StreamState {
  boot: string;
  seq: number;
  at: number;
}

const isEnvelope = (x: unknown): x is Envelope => {
  const e = x as Envelope;
  return (
    typeof e === 'object' &&
    e !== null &&
    e.v === 1 &&
    kinds.includes(e.kind) &&
    typeof e.mesh === 'string' &&
    typeof e.node === 'string' &&
    typeof e.boot === 'string' &&
    Number.isSafeInteger(e.seq) &&
    e.seq > 0 &&
    Number.isSafeInteger(e.at) &&
    e.at >= 0 &&
    e.at < atMsMax &&
    typeof e.data === 'object' &&
    e.data !== null
  );
};

/** A consumer's side: every message checked against the trust bundle, the topic and the node's stream. */
export class TelemetryVerifier {
  readonly counters = new Counters();
  private readonly peers = new Map<string, ValidatedPeer>();
  private readonly streams = new Map<string, StreamState>();

  constructor(
    private readonly crypto: Crypto,
    private readonly bundle: TrustBundle,
    private readonly wallClockMs: () => number,
    private readonly revocations?: RevocationView,
  ) {}

  verify(topic: string, bytes: Uint8Array): Result<Verified, VerifyReason> {
    const result = this.check(topic, bytes);
    this.counters.add(result.ok ? 'verified' : result.reason);
    return result;
  }

  private check(topic: string, bytes: Uint8Array): Result<Verified, VerifyReason> {
    const parts = parseTopic(topic);
    if (parts === null || parts.kind === 'cmd') return fail('topic-invalid');
    const message = decodeSign1(bytes);
    if (!message.ok) return message;
    const now = this.wallClockMs();
    const peer = this.peerFor(message.value.kid, message.value.chain, now);
    if (!peer.ok) return peer;
    if (!verifySign1(this.crypto, message.value, peer.value.signPublicKey)) return fail('bad-signature');
    const envelope = decodeBody(message.value.contentType, message.value.payload);
    if (!isEnvelope(envelope)) return fail('payload-malformed');
    // The signed envelope, the topic and the certificate must all name the same node and kind.
    if (envelope.kind !== parts.kind || envelope.mesh !== parts.mesh || envelope.node !== parts.node)
      return fail('topic-mismatch');
    if (peer.value.trustDomain !== parts.mesh || peer.value.name !== parts.node) return fail('topic-mismatch');
    const order = this.checkStream(envelope, now);
    if (order !== null) return fail(order);
    return ok({ ...envelope, peer: peer.value, chainIncluded: message.value.chain !== null });
  }

  /** A chain in the message is validated and remembered by key id; without one, the key id must be known. */
  private peerFor(
    kid: Uint8Array,
    chain: readonly Uint8Array[] | null,
    now: number,
  ): Result<ValidatedPeer, VerifyReason> {
    const id = toHex(kid);
    if (chain === null) {
      const known = this.peers.get(id);
      if (known === undefined) return fail('unknown-kid');
      if (now >= known.expiresAtMs) {
        this.peers.delete(id);
        return fail('cert-expired');
      }
      if (this.revocations?.isRevoked(known.chain[0] as Certificate) === true) return fail('cert-revoked');
      return ok(known);
    }
    const certs = decodeChain([...chain]);
    if (!certs.ok) return certs;
    const peer = validateChain(this.crypto, certs.value, this.bundle, now, this.revocations);
    if (!peer.ok) return peer;
    if (!bytesEqual(keyId(this.crypto, peer.value.signPublicKey), kid)) return fail('kid-mismatch');
    remember(this.peers, id, peer.value);
    return peer;
  }

  private checkStream(e: Envelope, now: number): VerifyReason | null {
    // A retained status may be old and still true (the node's last word); the consumer judges how current it
    // is (Watcher.currentState). Nothing may be from the future: remembered, it would outrank the next boot.
    if (e.at - now > clockAheadMsMax) return 'from-future';
    if (e.kind !== 'status' && now - e.at > staleMsMax) return 'stale';
    const key = `${e.mesh}/${e.node}/${e.kind}`;
    const last = this.streams.get(key);
    if (last !== undefined && last.boot === e.boot) {
      if (e.seq === last.seq) return 'duplicate';
      if (e.seq < last.seq) return 'replayed';
    }
    // A "new boot" that is older than what we already have is an old message replayed.
    if (last !== undefined && last.boot !== e.boot && e.at < last.at) return 'replayed';
    remember(this.streams, key, { boot: e.boot, seq: e.seq, at: e.at });
    return null;
  }
}

/** Bounded map: the oldest entry goes when full. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > nodesMax) map.delete(map.keys().next().value as string);
}

// ---- commands: x0/<mesh>/<node>/cmd/<name>, signed by an operator key the node was configured with ----

export interface Command {
  readonly v: 1;
  readonly kind: 'cmd';
  readonly mesh: string;
  readonly node: string;
  readonly name: string;
  /** 16 random bytes, hex: each command runs once. */
  readonly id: string;
  readonly at: number;
  readonly args: Record<string, unknown>;
}

export function signCommand(
  crypto: Crypto,
  operatorSecretKey: Uint8Array,
  command: Omit<Command, 'v' | 'kind'>,
): { topic: string; payload: Uint8Array } {
  const publicKey = operatorSecretKey.slice(32);
  const body: Command = { v: 1, kind: 'cmd', ...command };
  const payload = signSign1(crypto, operatorSecretKey, cbor.encodeValue(body), {
    contentType: contentTypeCbor,
    kid: keyId(crypto, publicKey),
  });
  return { topic: topicFor(command.mesh, command.node, 'cmd', command.name), payload };
}

export type CommandReason =
  | CoseReason
  | 'topic-invalid'
  | 'operator-unknown'
  | 'bad-signature'
  | 'payload-malformed'
  | 'topic-mismatch'
  | 'command-stale'
  | 'command-replayed';

/** The node's side of commands: only operator keys, only for this node, only fresh, only once. */
export class CommandGuard {
  readonly counters = new Counters();
  private readonly operators: Map<string, Uint8Array>;
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly crypto: Crypto,
    operatorPublicKeys: readonly Uint8Array[],
    private readonly mesh: string,
    private readonly node: string,
  ) {
    this.operators = new Map(operatorPublicKeys.slice(0, operatorKeysMax).map((k) => [toHex(keyId(crypto, k)), k]));
  }

  check(topic: string, bytes: Uint8Array, nowMs: number): Result<Command, CommandReason> {
    const result = this.verify(topic, bytes, nowMs);
    this.counters.add(result.ok ? 'accepted' : result.reason);
    return result;
  }

  private verify(topic: string, bytes: Uint8Array, nowMs: number): Result<Command, CommandReason> {
    const parts = parseTopic(topic);
    if (parts === null || parts.kind !== 'cmd') return fail('topic-invalid');
    const message = decodeSign1(bytes);
    if (!message.ok) return message;
    const key = this.operators.get(toHex(message.value.kid));
    if (key === undefined) return fail('operator-unknown');
    if (!verifySign1(this.crypto, message.value, key)) return fail('bad-signature');
    const c = decodeBody(message.value.contentType, message.value.payload) as Command | undefined;
    if (
      typeof c !== 'object' ||
      c === null ||
      c.v !== 1 ||
      c.kind !== 'cmd' ||
      typeof c.name !== 'string' ||
      typeof c.id !== 'string' ||
      typeof c.at !== 'number' ||
      typeof c.args !== 'object' ||
      c.args === null
    )
      return fail('payload-malformed');
    if (
      c.mesh !== this.mesh ||
      c.node !== this.node ||
      parts.mesh !== this.mesh ||
      parts.node !== this.node ||
      parts.sub !== c.name
    )
      return fail('topic-mismatch');
    if (Math.abs(nowMs - c.at) > commandSkewMsMax) return fail('command-stale');
    if (this.seen.has(c.id)) return fail('command-replayed');
    this.seen.set(c.id, c.at);
    if (this.seen.size > commandIdsMax) this.seen.delete(this.seen.keys().next().value as string);
    return ok(c);
  }
}
