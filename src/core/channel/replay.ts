// Sliding replay window (RFC 6479's idea, one bit per counter in a ring): a counter is accepted once, and
// only if it is above the highest seen or within `size` below it. check() runs before decryption (cheap
// refusal), mark() only after the record authenticated, so a forged record cannot move the window.
import { assert } from '../identity/result.js';

export type ReplayReason = 'replay' | 'replay-too-old';

export class ReplayWindow {
  private readonly bits: Uint8Array;
  /** Highest counter marked; -1 before the first. */
  private highest = -1;

  constructor(private readonly size: number) {
    assert(size > 0, 'replay window size is positive');
    assert(size % 8 === 0, 'replay window size is a multiple of 8');
    this.bits = new Uint8Array(size / 8);
  }

  private bit(counter: number): boolean {
    const i = counter % this.size;
    return (((this.bits[i >> 3] as number) >> (i & 7)) & 1) === 1;
  }

  private setBit(counter: number, on: boolean): void {
    const i = counter % this.size;
    const byte = this.bits[i >> 3] as number;
    this.bits[i >> 3] = on ? byte | (1 << (i & 7)) : byte & ~(1 << (i & 7));
  }

  check(counter: number): ReplayReason | null {
    if (counter > this.highest) return null;
    if (this.highest - counter >= this.size) return 'replay-too-old';
    return this.bit(counter) ? 'replay' : null;
  }

  mark(counter: number): void {
    assert(this.check(counter) === null, 'replay: mark only a counter that passed check');
    if (counter > this.highest) {
      // Clear the slots the window slides over; bounded by the window size, not by the jump.
      const from = Math.max(this.highest + 1, counter - this.size + 1);
      for (let c = from; c <= counter; c++) this.setBit(c, false);
      this.highest = counter;
    }
    this.setBit(counter, true);
    assert(this.highest >= counter, 'replay: the window covers a marked counter');
    assert(this.check(counter) === 'replay', 'replay: a marked counter is refused from now on');
  }
}
