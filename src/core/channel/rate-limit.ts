// Per-address token bucket for handshakes: a responder does an X25519 and a signature for every M1, so
// each address gets `burst` handshakes and one more per `refillMs`. The table is bounded; the address
// touched longest ago is forgotten first (a Map keeps insertion order; we re-insert on use).
import { assert } from '../identity/result.js';

export class HandshakeRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedMs: number }>();

  constructor(
    private readonly burst: number,
    private readonly refillMs: number,
    private readonly addressesMax: number,
  ) {
    assert(burst >= 1, 'rate limit: at least one handshake per address');
    assert(refillMs > 0, 'rate limit: tokens come back after a positive period');
    assert(addressesMax >= 1, 'rate limit: at least one address is remembered');
  }

  take(address: string, nowMs: number): boolean {
    const bucket = this.buckets.get(address) ?? { tokens: this.burst, updatedMs: nowMs };
    const refilled = Math.floor((nowMs - bucket.updatedMs) / this.refillMs);
    if (refilled > 0) {
      bucket.tokens = Math.min(this.burst, bucket.tokens + refilled);
      bucket.updatedMs += refilled * this.refillMs;
    }
    this.buckets.delete(address);
    if (this.buckets.size >= this.addressesMax) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    this.buckets.set(address, bucket);
    assert(this.buckets.size <= this.addressesMax, 'rate limit: the address table is bounded');
    assert(bucket.tokens <= this.burst, 'rate limit: a bucket holds at most its burst');
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }
}
