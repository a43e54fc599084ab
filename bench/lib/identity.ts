// Engine-neutral identity/channel benchmark suite (used on Node and inside x0-runtime): a full handshake
// between two in-memory endpoints (3 messages + key confirmation, chain validation on both sides), and
// seal+open of 1400-byte records over an established session.
import { ChannelEndpoint, type Now, type Output } from '../../src/core/channel/endpoint.js';
import { createRoot, issueNodeCert } from '../../src/core/identity/ca.js';
import { createTrustBundle, noRevocations } from '../../src/core/identity/chain.js';
import type { Crypto } from '../../src/platform/types.js';
import { measure, type Measurement } from './measure.js';

export function identitySuite(crypto: Crypto, nowMs: () => number, budgetMs: number, wallMs: number): Measurement[] {
  const root = createRoot(crypto, { trustDomain: 'bench.example', nowMs: wallMs }).issuer;
  const bundle = createTrustBundle(crypto, 'bench.example', [root.cert]);
  if (!bundle.ok) throw new Error(bundle.reason);
  const node = (name: string) => {
    const sign = crypto.signKeyPair();
    const box = crypto.boxKeyPair();
    const cert = issueNodeCert(crypto, root, {
      name,
      signPublicKey: sign.publicKey,
      boxPublicKey: box.publicKey,
      nowMs: wallMs,
    });
    return { chain: [cert], signSecretKey: sign.secretKey };
  };
  const ia = node('a');
  const ib = node('b');
  const now = (): Now => ({ monoMs: nowMs(), wallMs });
  const make = (identity: ReturnType<typeof node>) =>
    new ChannelEndpoint({
      crypto,
      identity,
      bundle: bundle.value,
      revocations: noRevocations,
      limits: { handshakeBurst: 1e9, handshakeRefillMs: 1 },
    });
  const pump = (a: ChannelEndpoint, b: ChannelEndpoint, first: Output): number => {
    let queue = first.send.map((s) => ({ to: 'B', bytes: s.bytes }));
    let delivered = 0;
    for (let steps = 0; queue.length > 0 && steps < 10; steps++) {
      const next: { to: string; bytes: Uint8Array }[] = [];
      for (const m of queue) {
        const out = m.to === 'B' ? b.receive('A', m.bytes, now()) : a.receive('B', m.bytes, now());
        delivered += out.delivered.length;
        for (const s of out.send) next.push({ to: m.to === 'B' ? 'A' : 'B', bytes: s.bytes });
      }
      queue = next;
    }
    return delivered;
  };
  const handshake = measure('handshake (full, 1-cert chains)', nowMs, budgetMs, () => {
    const a = make(ia);
    const b = make(ib);
    pump(a, b, a.connect('B', now()));
    if (a.peers()[0]?.confirmed !== true) throw new Error('handshake failed');
  });
  const a = make(ia);
  const b = make(ib);
  pump(a, b, a.connect('B', now()));
  const payload = new Uint8Array(1400).fill(7);
  const record = measure(
    'seal+open 1400 B record',
    nowMs,
    budgetMs,
    () => {
      const sent = a.send('B', payload, now());
      if (!sent.ok) throw new Error(sent.reason);
      const out = b.receive('A', sent.value.send[0]!.bytes, now());
      if (out.delivered.length !== 1) throw new Error('open failed');
    },
    10,
  );
  return [handshake, record];
}
