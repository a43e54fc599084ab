// Per-address token bucket for handshakes: a responder does an X25519 and a signature for every M1, so
// each address gets `burst` handshakes and one more per `refillMs`. The table is bounded; the address
// touched longest ago is forgotten first (a Map keeps insertion order; we re-insert on use).
export class HandshakeRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedMs: number }>();

  constructor(private readonly burst: number, private readonly refillMs: number, private readonly addressesMax: number) {}

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
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }
}
