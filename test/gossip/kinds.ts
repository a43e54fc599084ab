// Test descriptions of every CRDT type: how to make one, apply a random operation (returning its delta),
// join, clone and compare. Shared by the law tests and the convergence tests.
import fc from 'fast-check';
import { HlcClock } from '../../src/core/gossip/hlc.js';
import { LwwMap, LwwRegister } from '../../src/core/gossip/lww.js';
import { AWORMap, AWORSet } from '../../src/core/gossip/or.js';
import { PnCounter } from '../../src/core/gossip/pn-counter.js';
import {
  encodeRevokedIds,
  listRevocations,
  SignedDocRegister,
  signatureCheck,
  signedDocMessage,
  type SignedDoc,
} from '../../src/core/gossip/signed-doc.js';
import { MeshDoc, rebaseSection } from '../../src/core/gossip/mesh-doc.js';
import {
  addToCounter,
  removeNeighbour,
  setNeighbour,
  setStatus,
  setVersion,
  type Writer,
} from '../../src/core/gossip/local.js';
import { streamId } from '../../src/core/gossip/stream.js';
import { natCodec, textCodec } from '../../src/core/gossip/codec.js';
import { createTweetnaclCrypto } from '../../src/crypto/tweetnacl.js';
import { encodeCbor } from '../../src/core/wire/cbor.js';

export interface Replica {
  readonly id: string;
  readonly clock: HlcClock;
  wallMs: number;
}

export interface Op {
  readonly key: number;
  readonly value: number;
  readonly action: number;
  /** Wall clock advance before the operation; 0 models a stuck (pre-NTP) clock. */
  readonly advanceMs: number;
}

export interface Kind<S> {
  readonly name: string;
  empty(): S;
  clone(s: S): S;
  /** Joins b into a (in place). */
  merge(a: S, b: S): void;
  /** Applies a local operation at replica r; returns the delta. */
  apply(s: S, r: Replica, op: Op): S;
  wire(s: S): unknown;
}

export const opArb: fc.Arbitrary<Op> = fc.record({
  key: fc.nat(4),
  value: fc.nat(20),
  action: fc.nat(9),
  advanceMs: fc.constantFrom(0, 0, 1, 7),
});

const keyOf = (op: Op) => `k${op.key}`;
const stamp = (r: Replica, op: Op) => r.clock.now((r.wallMs += op.advanceMs));

export const lwwRegisterKind: Kind<LwwRegister<number>> = {
  name: 'LWW register',
  empty: () => new LwwRegister(natCodec),
  clone: (s) => s.clone(),
  merge: (a, b) => void a.merge(b),
  apply: (s, r, op) => s.set(op.value, stamp(r, op)),
  wire: (s) => s.toWire(),
};

export const lwwMapKind: Kind<LwwMap<string>> = {
  name: 'LWW map',
  empty: () => new LwwMap(textCodec),
  clone: (s) => s.clone(),
  merge: (a, b) => void a.merge(b),
  apply: (s, r, op) =>
    op.action < 3 ? s.remove(keyOf(op), stamp(r, op)) : s.set(keyOf(op), `v${op.value}`, stamp(r, op)),
  wire: (s) => s.toWire(),
};

export const orSetKind: Kind<AWORSet> = {
  name: 'AW OR set',
  empty: () => new AWORSet(),
  clone: (s) => s.clone(),
  merge: (a, b) => void a.merge(b),
  apply: (s, r, op) => (op.action < 4 ? s.remove(keyOf(op)) : s.add(r.id, keyOf(op))),
  wire: (s) => s.toWire(),
};

export const orMapKind: Kind<AWORMap<number>> = {
  name: 'AW OR map',
  empty: () => new AWORMap(natCodec),
  clone: (s) => s.clone(),
  merge: (a, b) => void a.merge(b),
  apply: (s, r, op) => (op.action < 3 ? s.remove(keyOf(op)) : s.set(r.id, keyOf(op), op.value, stamp(r, op))),
  wire: (s) => s.toWire(),
};

export const pnCounterKind: Kind<PnCounter> = {
  name: 'PN counter',
  empty: () => new PnCounter(),
  clone: (s) => s.clone(),
  merge: (a, b) => void a.merge(b),
  apply: (s, r, op) => s.add(r.id, op.action < 4 ? -op.value : op.value),
  wire: (s) => s.toWire(),
};

// Signing is slow on QuickJS-ng: a small pool of documents signed once, some with forged signatures.
const crypto = createTweetnaclCrypto();
export const authority = crypto.signKeyPairFromSeed(new Uint8Array(32).fill(7));
const impostor = crypto.signKeyPairFromSeed(new Uint8Array(32).fill(9));

export function signDoc(version: number, text: string, secretKey = authority.secretKey): SignedDoc {
  const payload = encodeCbor([text]);
  return {
    kind: 'revocations',
    version,
    payload,
    signature: crypto.sign(signedDocMessage('revocations', version, payload), secretKey),
  };
}

export const docPool: readonly SignedDoc[] = [
  signDoc(1, 'a'),
  signDoc(2, 'b'),
  signDoc(2, 'c'),
  signDoc(3, 'd'),
  signDoc(9, 'forged', impostor.secretKey),
  signDoc(5, 'forged-too', impostor.secretKey),
];
// Memoised: the laws call verify thousands of times on the same six documents.
const verified = new Map<string, boolean>();
export const verify = (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean => {
  const key = `${signature.join(',')}|${message.length}`;
  let result = verified.get(key);
  if (result === undefined) verified.set(key, (result = crypto.verify(message, signature, publicKey)));
  return result;
};

export const signedDocKind: Kind<SignedDocRegister> = {
  name: 'signed document register',
  empty: () => new SignedDocRegister('revocations', signatureCheck(authority.publicKey, verify)),
  clone: (s) => s.clone(),
  merge: (a, b) => void a.merge(b),
  apply: (s, _r, op) => {
    const delta = s.clone();
    delta.doc = null;
    const candidate = docPool[op.value % docPool.length] as SignedDoc;
    if (delta.offer(candidate).ok) s.offer(candidate);
    return delta;
  },
  wire: (s) => s.toWire(),
};

/** Revocation lists in the simple format (a CBOR array of node ids), signed by the test authority. */
export const revocationCheck = listRevocations(authority.publicKey, verify);

export function revocationDoc(version: number, revoked: readonly string[], secretKey = authority.secretKey): SignedDoc {
  const payload = encodeRevokedIds(revoked);
  return {
    kind: 'revocations',
    version,
    payload,
    signature: crypto.sign(signedDocMessage('revocations', version, payload), secretKey),
  };
}

// The mesh document: sections are (incarnation, state) pairs, each written by its own replica, which may
// restart (a new incarnation rebases its section). Writers live outside the state, one per replica.
const writers = new WeakMap<Replica, { inc: number; clock: HlcClock }>();

function writeSection(s: MeshDoc, r: Replica, op: Op): MeshDoc {
  const delta = new MeshDoc(revocationCheck);
  let w = writers.get(r);
  const wall = () => (r.wallMs += op.advanceMs);
  if (w === undefined || op.action === 0) {
    const inc = (w?.inc ?? 0) + 1;
    writers.set(r, (w = { inc, clock: new HlcClock(streamId(r.id, inc)) }));
    const base = rebaseSection(s.sections.get(r.id) ?? {}, w.clock.replica, () =>
      (w as { clock: HlcClock }).clock.now(wall()),
    );
    s.apply(r.id, inc, base, 'state');
    delta.apply(r.id, inc, base, 'state');
    return delta;
  }
  const inc = w.inc;
  const writer: Writer = {
    doc: s,
    nodeId: r.id,
    stream: w.clock.replica,
    clock: w.clock,
    revoked: false,
    commit: (d) => {
      s.apply(r.id, inc, d, 'delta');
      delta.apply(r.id, inc, d, 'state');
    },
  };
  const key = keyOf(op);
  if (op.action <= 2) setStatus(writer, { online: op.value % 2 === 0, uptimeS: op.value, loadMilli: 7 }, wall());
  else if (op.action <= 4) setNeighbour(writer, key, { tq: op.value, rttMs: 3 }, wall());
  else if (op.action === 5) removeNeighbour(writer, key);
  else if (op.action <= 7) setVersion(writer, key, `v${op.value}`, wall());
  else addToCounter(writer, key, op.action === 8 ? op.value : -op.value);
  return delta;
}

export const meshDocKind: Kind<MeshDoc> = {
  name: 'mesh document (incarnation, section) pairs',
  empty: () => new MeshDoc(revocationCheck),
  clone: (s) => s.clone(),
  merge: (a, b) => a.merge(b),
  apply: writeSection,
  wire: (s) => s.toWire(),
};

export const allKinds: ReadonlyArray<Kind<any>> = [
  lwwRegisterKind,
  lwwMapKind,
  orSetKind,
  orMapKind,
  pnCounterKind,
  signedDocKind,
  meshDocKind,
];

export function makeReplicas(n: number): Replica[] {
  return Array.from({ length: n }, (_, i) => ({ id: `r${i}`, clock: new HlcClock(`r${i}`), wallMs: 0 }));
}
