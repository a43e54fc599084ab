// Flash wear over one simulated hour (Node only: ~40,000 deltas). The bound from core/gossip/persist.ts:
// appends <= 3600 s / persistFlushMs, snapshots <= 3600 s / snapshotIntervalMs + 1 (the start), and each
// append carries at most persistBufferBytesMax of other nodes' deltas plus our own.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { limits } from '../../src/core/gossip/limits.js';
import { flashHour } from './flash.js';

for (const [nodes, everyS] of [[20, 8]] as const) {
  test(`one hour with ${nodes} nodes updating every ${everyS} s: flash writes stay within the bound and a restart recovers`, () => {
    const hour = flashHour(nodes, everyS);
    console.log(
      `  flash, 1 h, ${hour.remoteDeltasPerSecond} remote deltas/s + 1 own/min: ${hour.appends} appends, ${hour.snapshots} snapshots, ${(hour.bytes / 1e6).toFixed(2)} MB, ${hour.droppedRecords} remote records not persisted`,
    );
    assert.ok(hour.appends <= 3_600_000 / limits.persistFlushMs + 1, `${hour.appends} appends`);
    assert.ok(hour.snapshots <= 3_600_000 / limits.snapshotIntervalMs + 1, `${hour.snapshots} snapshots`);
    const bound = (hour.appends + 1) * limits.persistBufferBytesMax + hour.snapshots * 64 * 1024;
    assert.ok(hour.bytes <= bound, `${hour.bytes} bytes > ${bound}`);
    assert.is(hour.sections, nodes + 1);
    assert.ok(hour.restoredOwnCounter, 'our own writes survive the restart');
    if (hour.droppedRecords === 0) assert.ok(hour.restoredOthers, 'everything persisted comes back');
  });
}

test.run();
