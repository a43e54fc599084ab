// Virtual time for deterministic simulation: events run in (time, insertion order), never in real time.

interface Scheduled {
  readonly atMs: number;
  readonly seq: number;
  readonly run: () => void;
  cancelled: boolean;
}

export interface SimTimer {
  cancel(): void;
}

/** A binary min-heap keyed by (atMs, seq): equal times run in the order they were scheduled. */
export class Scheduler {
  private readonly heap: Scheduled[] = [];
  private seq = 0;
  private nowMs = 0;
  private executed = 0;

  get now(): number {
    return this.nowMs;
  }

  get pending(): number {
    return this.heap.length;
  }

  get eventsRun(): number {
    return this.executed;
  }

  at(atMs: number, run: () => void): SimTimer {
    if (!(atMs >= this.nowMs)) throw new RangeError(`Scheduler.at: ${atMs} is in the past (now ${this.nowMs})`);
    const event: Scheduled = { atMs, seq: this.seq++, run, cancelled: false };
    this.push(event);
    return {
      cancel: () => {
        event.cancelled = true;
      },
    };
  }

  after(delayMs: number, run: () => void): SimTimer {
    return this.at(this.nowMs + Math.max(0, delayMs), run);
  }

  /** Runs the next event; false when none is left. */
  step(): boolean {
    for (;;) {
      const event = this.pop();
      if (event === undefined) return false;
      if (event.cancelled) continue;
      this.nowMs = event.atMs;
      this.executed++;
      event.run();
      return true;
    }
  }

  /** Runs events up to and including time `untilMs` (bounded by maxEvents), then sets now = untilMs. */
  runUntil(untilMs: number, maxEvents = 10_000_000): void {
    let budget = maxEvents;
    while (this.heap.length > 0 && (this.heap[0] as Scheduled).atMs <= untilMs) {
      if (budget-- <= 0) throw new Error(`Scheduler.runUntil: more than ${maxEvents} events before ${untilMs} ms`);
      this.step();
    }
    if (untilMs > this.nowMs) this.nowMs = untilMs;
  }

  private less(x: Scheduled, y: Scheduled): boolean {
    return x.atMs < y.atMs || (x.atMs === y.atMs && x.seq < y.seq);
  }

  private push(event: Scheduled): void {
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i] as Scheduled, heap[parent] as Scheduled)) break;
      [heap[i], heap[parent]] = [heap[parent] as Scheduled, heap[i] as Scheduled];
      i = parent;
    }
  }

  private pop(): Scheduled | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return top;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && this.less(heap[l] as Scheduled, heap[m] as Scheduled)) m = l;
      if (r < heap.length && this.less(heap[r] as Scheduled, heap[m] as Scheduled)) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m] as Scheduled, heap[i] as Scheduled];
      i = m;
    }
    return top;
  }
}
