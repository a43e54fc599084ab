// Fuzzing every channel decoder that faces the network: the message decoders (M1, M2, M3, data header),
// the sealed proof inside M2/M3 with the chain it carries, the endpoint itself in each state that accepts a
// message (fresh, waiting for M2, waiting for M3, established), and the TCP stream framer. Seeds are the
// stored handshake transcript (test/vectors). Every input is refused by reason or, for the untouched
// original only, accepted; nothing is delivered from a forgery and no half-open state outlives its timeout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fc from 'fast-check';
import { ChannelEndpoint, type Now } from '../../src/core/channel/endpoint.js';
import { frameMessage, StreamFramer } from '../../src/core/channel/framing.js';
import {
  decodeDataHeader,
  decodeFinish,
  decodeInit,
  decodeProof,
  decodeResponse,
  encodeProof,
  messageType,
} from '../../src/core/channel/messages.js';
import { decodeBounded } from '../../src/core/identity/canonical.js';
import { decodeChain, decodeTrustBundle, noRevocations, validateChain } from '../../src/core/identity/chain.js';
import { fromHex, toHex } from '../../src/core/wire/hex.js';
import { createTweetnaclCrypto } from '../../src/crypto/tweetnacl.js';
import { seededCrypto } from '../vectors/generate.js';
import { identityVectors as v } from '../vectors/identity-vectors.js';
import { fuzz, fuzzInput, isRefusal } from '../identity/fuzz-lib.js';

const crypto = createTweetnaclCrypto();
const file = 'test/channel fuzz.test.ts';
const decodedBundle = decodeTrustBundle(crypto, fromHex(v.bundle));
if (!decodedBundle.ok) throw new Error(decodedBundle.reason);
const bundle = decodedBundle.value;
const h = v.handshake;
const transcript = [h.m1, h.m2, h.m3, h.confirmation, h.recordAToB, h.recordBToA].map(fromHex);
const now: Now = { monoMs: 1000, wallMs: v.nowMs };

function chainOf(hex: string) {
  const chain = decodeChain((decodeBounded(fromHex(hex), 8192) as { value: unknown }).value);
  if (!chain.ok) throw new Error(chain.reason);
  return chain.value;
}

const endpoint = (label: string, seed: string, chainHex: string) =>
  new ChannelEndpoint({
    crypto: seededCrypto(crypto, label),
    bundle,
    revocations: noRevocations,
    limits: { handshakeBurst: 1_000_000 },
    identity: { chain: chainOf(chainHex), signSecretKey: crypto.signKeyPairFromSeed(fromHex(seed)).secretKey },
  });
const endpointA = () => endpoint('endpoint a', v.signSecretSeeds.a, v.chainA);
const endpointB = () => endpoint('endpoint b', v.signSecretSeeds.b, v.chainB);

test('message decoders: random and mutated messages give a type and a body or a reason, never a throw', () => {
  fuzz('messageType+decode*', file, fuzzInput(transcript), (bytes) => {
    const type = messageType(bytes);
    assert.ok(isRefusal(type));
    for (const decode of [decodeInit, decodeResponse, decodeFinish, decodeDataHeader])
      assert.ok(isRefusal(decode(bytes)));
  });
});

test('the sealed proof and the chain it carries: mutated proofs never validate as another identity', () => {
  const proofs = [v.chainA, v.chainB].map((c) =>
    encodeProof(
      chainOf(c).map((x) => x.bytes),
      new Uint8Array(64).fill(7),
    ),
  );
  const issued = new Set([...chainOf(v.chainA), ...chainOf(v.chainB)].map((c) => toHex(c.bytes)));
  fuzz('decodeProof+validateChain', file, fuzzInput(proofs), (bytes) => {
    const proof = decodeProof(bytes);
    assert.ok(isRefusal(proof));
    if (!proof.ok) return;
    const chain = decodeChain(proof.value.chain);
    assert.ok(isRefusal(chain));
    if (!chain.ok) return;
    const peer = validateChain(crypto, chain.value, bundle, v.nowMs);
    if (peer.ok) for (const c of chain.value) assert.ok(issued.has(toHex(c.bytes)));
  });
});

/**
 * Feeds fuzz inputs to one endpoint state. Only an untouched transcript message may establish a session or
 * deliver a payload (mutations sometimes give back the original bytes), a payload at most once; every
 * half-open handshake is gone after the timeouts.
 */
function fuzzEndpoint(name: string, e: ChannelEndpoint, from: string, seeds: Uint8Array[]): void {
  const originals = new Set(transcript.map(toHex));
  let delivered = 0;
  fuzz(name, file, fuzzInput(seeds), (bytes) => {
    const out = e.receive(from, bytes, now);
    const untouched = originals.has(toHex(bytes));
    delivered += out.delivered.length;
    assert.ok(untouched || out.delivered.length === 0, 'a mutated record is never delivered');
    assert.ok(
      untouched || out.events.every((ev) => ev.type !== 'established'),
      'a mutated message never establishes a session',
    );
  });
  assert.ok(delivered <= 1, 'the untouched record is delivered at most once');
  e.tick({
    monoMs: now.monoMs + e.limits.handshakeTimeoutMs + e.limits.handshakeRetryMs * (e.limits.handshakeRetriesMax + 2),
    wallMs: now.wallMs,
  });
  const pending = e.pendingCounts();
  assert.equal([pending.initiators, pending.responders], [0, 0], `${name}: no half-open handshake stays`);
}

test('endpoint, fresh: mutated M1, M3 and records create no session', () => {
  fuzzEndpoint('endpoint fresh', endpointB(), 'a', transcript);
});

test('endpoint waiting for M2: mutated M2s are refused; none establishes a session', () => {
  const a = endpointA();
  assert.is(toHex(a.connect('b', now).send[0]!.bytes), h.m1);
  fuzzEndpoint('endpoint awaiting M2', a, 'b', [fromHex(h.m2)]);
});

test('endpoint waiting for M3: mutated M3s are refused; none establishes a session', () => {
  const b = endpointB();
  assert.is(toHex(b.receive('a', fromHex(h.m1), now).send[0]!.bytes), h.m2);
  fuzzEndpoint('endpoint awaiting M3', b, 'a', [fromHex(h.m3)]);
});

test('endpoint, established: mutated records are refused; the untouched one is delivered once', () => {
  const a = endpointA();
  const b = endpointB();
  a.connect('b', now);
  b.receive('a', fromHex(h.m1), now);
  a.receive('b', fromHex(h.m2), now);
  b.receive('a', fromHex(h.m3), now);
  assert.is(b.peers().length, 1);
  fuzzEndpoint('endpoint established', b, 'a', [fromHex(h.recordAToB)]);
});

test('stream framer: any split of framed messages gives back exactly those messages', () => {
  const messages = fc.array(fc.uint8Array({ minLength: 1, maxLength: 1472 }), { minLength: 1, maxLength: 6 });
  fuzz('StreamFramer split', file, fc.tuple(messages, fc.array(fc.nat(), { maxLength: 8 })), ([msgs, cuts]) => {
    const stream = Uint8Array.from(msgs.flatMap((m) => [...frameMessage(m)]));
    const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((x, y) => x - y);
    const framer = new StreamFramer();
    const got: string[] = [];
    let last = 0;
    for (const p of [...points, stream.length]) {
      const out = framer.push(stream.subarray(last, p));
      assert.is(out.error, null);
      got.push(...out.messages.map(toHex));
      last = p;
    }
    assert.equal(got, msgs.map(toHex));
    assert.is(framer.end(), null);
  });
});

test('stream framer: random and mutated streams give messages or one named error, never a throw', () => {
  const framed = transcript.map((m) => frameMessage(m));
  fuzz('StreamFramer garbage', file, fc.tuple(fuzzInput(framed, 4000), fc.nat(64)), ([bytes, chunk]) => {
    const framer = new StreamFramer();
    const size = chunk + 1;
    let error: string | null = null;
    for (let i = 0; i < bytes.length; i += size) {
      const out = framer.push(bytes.subarray(i, i + size));
      for (const m of out.messages) assert.ok(m.length > 0 && m.length <= 1472);
      if (out.error !== null) {
        assert.is(error, null);
        error = out.error;
      }
    }
    const end = framer.end();
    assert.ok(end === null || (end === 'frame-truncated' && error === null));
    if (error !== null) assert.ok(['frame-too-large', 'frame-empty'].includes(error));
  });
});

test.run();
