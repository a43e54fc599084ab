// The telemetry's respondd-shaped neighbours come from batman-adv through the agent's batctl reader (replayed
// here from batctl output recorded in the QEMU lab, test/batman/recorded.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { utf8 } from '../../src/core/wire/hex.js';
import type { ExecResult, Platform } from '../../src/platform/types.js';
import { ProcMetrics } from '../../src/telemetry/metrics.js';
import { absentExitCode, absentStderr, neighboursTable, originatorsTable } from '../batman/recorded.js';

function router(answers: Record<string, { code: number; stdout?: string; stderr?: string }>): Platform {
  const exec = async (argv: readonly string[]): Promise<ExecResult> => {
    const a = answers[argv.slice(1).join(' ')] ?? { code: 127 };
    return {
      code: a.code,
      stdout: utf8(a.stdout ?? ''),
      stderr: utf8(a.stderr ?? ''),
      timedOut: false,
      truncated: false,
    };
  };
  return { exec, files: { readText: () => null, list: () => [] }, monotonicMs: () => 0 } as unknown as Platform;
}

test('neighbours with TQ, per mesh interface, as respondd reports them', async () => {
  const metrics = new ProcMetrics(
    router({
      'meshif bat0 neighbors -H': { code: 0, stdout: neighboursTable },
      'meshif bat0 originators': { code: 0, stdout: originatorsTable },
    }),
    'n1',
    'mesh',
  );
  const collected = await metrics.collect();
  assert.equal(collected.neighbours, {
    node_id: 'n1',
    batadv: { eth1: { neighbours: { '52:54:00:02:00:01': { tq: 55, lastseen: 0.972 } } } },
  });
});

test('no batman-adv interface: no neighbours, the reason counted, the rest still reported', async () => {
  const metrics = new ProcMetrics(
    router({ 'meshif bat0 neighbors -H': { code: absentExitCode, stderr: absentStderr } }),
    'n1',
    'mesh',
  );
  const collected = await metrics.collect();
  assert.equal(collected.neighbours, { node_id: 'n1', batadv: {} });
  assert.is(metrics.counters.get('meshif-absent'), 1);
  assert.is((collected.statistics as { node_id: string }).node_id, 'n1');
});

test.run();
