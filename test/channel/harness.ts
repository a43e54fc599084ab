// A tiny simulated network for channel endpoints: virtual time, datagrams delivered in order unless a
// test drops, duplicates or tampers with them. Engine-neutral.
import { ChannelEndpoint, type Now, type Output } from '../../src/core/channel/endpoint.js';
import type { ChannelLimits } from '../../src/core/channel/limits.js';
import { noRevocations, type RevocationView, type TrustBundle } from '../../src/core/identity/chain.js';
import type { Crypto } from '../../src/platform/types.js';
import { nowMs, type NodeIdentity } from '../identity/fixtures.js';

export interface Wire {
  readonly from: string;
  readonly to: string;
  readonly bytes: Uint8Array;
}

export class Net {
  monoMs = 0;
  wallMs = nowMs;
  readonly endpoints = new Map<string, ChannelEndpoint>();
  readonly delivered: { at: string; from: string; peerId: string; data: Uint8Array }[] = [];
  readonly events: { at: string; type: string; reason?: string; peerId?: string }[] = [];
  readonly log: Wire[] = [];
  /** Return false to drop a datagram, or new bytes to tamper with it. */
  filter: (w: Wire) => boolean | Uint8Array = () => true;
  private queue: Wire[] = [];

  now(): Now {
    return { monoMs: this.monoMs, wallMs: this.wallMs };
  }

  add(
    address: string,
    crypto: Crypto,
    node: NodeIdentity,
    bundle: TrustBundle,
    limits: Partial<ChannelLimits> = {},
    revocations: RevocationView = noRevocations,
  ): ChannelEndpoint {
    const endpoint = new ChannelEndpoint({
      crypto,
      identity: { chain: node.chain, signSecretKey: node.sign.secretKey },
      bundle,
      revocations,
      limits,
    });
    this.endpoints.set(address, endpoint);
    return endpoint;
  }

  absorb(at: string, out: Output): void {
    for (const s of out.send) this.queue.push({ from: at, to: s.to, bytes: s.bytes });
    for (const d of out.delivered) this.delivered.push({ at, ...d });
    for (const e of out.events)
      this.events.push({
        at,
        type: e.type,
        ...('reason' in e ? { reason: e.reason } : {}),
        ...('peerId' in e ? { peerId: e.peerId } : {}),
      });
  }

  /** Delivers queued datagrams until none are left (bounded). */
  pump(stepsMax = 100): number {
    let steps = 0;
    while (this.queue.length > 0 && steps < stepsMax) {
      const w = this.queue.shift() as Wire;
      steps++;
      this.log.push(w);
      const verdict = this.filter(w);
      if (verdict === false) continue;
      const bytes = verdict === true ? w.bytes : verdict;
      const endpoint = this.endpoints.get(w.to);
      if (endpoint !== undefined) this.absorb(w.to, endpoint.receive(w.from, bytes, this.now()));
    }
    return steps;
  }

  inject(from: string, to: string, bytes: Uint8Array): void {
    this.queue.push({ from, to, bytes });
  }

  connect(from: string, to: string): void {
    this.absorb(from, (this.endpoints.get(from) as ChannelEndpoint).connect(to, this.now()));
    this.pump();
  }

  send(from: string, to: string, text: string): boolean {
    const result = (this.endpoints.get(from) as ChannelEndpoint).send(to, new TextEncoder().encode(text), this.now());
    if (!result.ok) return false;
    this.absorb(from, result.value);
    return true;
  }

  advance(ms: number): void {
    this.monoMs += ms;
    this.wallMs += ms;
    for (const [address, endpoint] of this.endpoints) this.absorb(address, endpoint.tick(this.now()));
    this.pump();
  }

  texts(at: string): string[] {
    return this.delivered.filter((d) => d.at === at).map((d) => new TextDecoder().decode(d.data));
  }
}
