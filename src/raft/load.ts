// A write load against a cluster: `count` puts of a fixed-size value from concurrent clients, each waiting for
// its answer before the next; commits/s and latency percentiles. Used by `x0 raft bench` and bench/raft.bench.ts.
import type { RaftClient } from './client.js';

export interface WriteFigures {
  readonly clients: number;
  readonly writes: number;
  readonly failed: number;
  readonly elapsedMs: number;
  readonly commitsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export async function writeLoad(
  clients: readonly RaftClient[],
  count: number,
  valueBytes: number,
  nowMs: () => number,
): Promise<WriteFigures> {
  const value = 'v'.repeat(valueBytes);
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const started = nowMs();
  await Promise.all(
    clients.map(async (client) => {
      while (next < count) {
        const i = next++;
        const t0 = nowMs();
        const result = await client.write({ op: 'put', key: `bench/${i % 1000}`, value });
        if (result.ok) latencies.push(nowMs() - t0);
        else failed++;
      }
    }),
  );
  const elapsedMs = nowMs() - started;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return {
    clients: clients.length,
    writes: count,
    failed,
    elapsedMs,
    commitsPerSec: (latencies.length * 1000) / elapsedMs,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
  };
}
