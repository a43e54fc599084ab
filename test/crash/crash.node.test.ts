// Crash consistency in CI (issue 16): every write path is killed with SIGKILL at seeded points (see crash.ts for
// the invariants). Kill points per path in CI: raft 40, gossip 30, identity 25, CA 25, self-healing knowledge 20
// (140 in all, about a minute and a half on the 2-core VM). More with `npm run crash -- --points N [--seed S] [--path P]`. A failure names the
// seed and the point; X0_CRASH_SEED=S replays it here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWriter, crashPath } from './crash.js';
import type { WritePath } from './shared.js';

const seed = Number(process.env.X0_CRASH_SEED ?? 1);
const ciPoints: Record<Exclude<WritePath, 'ca-cli'>, number> = {
  raft: 40,
  gossip: 30,
  identity: 25,
  ca: 25,
  knowledge: 20,
};
const base = mkdtempSync(join(tmpdir(), 'x0-crash-'));

test.before(async () => {
  await buildWriter();
});
test.after(() => rmSync(base, { recursive: true, force: true }));

const names: Record<keyof typeof ciPoints, string> = {
  raft: 'Raft WAL and snapshots (one entry per Ready, compaction every 25): the log opens, holds every acknowledged entry and term',
  gossip: 'gossip persistence (log appends, a snapshot every 30): the document restores with every acknowledged write',
  identity:
    'node key, certificate chain and bundle (enrolment and renewal): always one matching set, never older than acknowledged',
  ca: 'CA key, certificate and bundle (x0 ca init --force, intermediates): the CA can always sign, never older than acknowledged',
  knowledge:
    'self-healing knowledge (state_dir/mapek.json, one atomic JSON write): it loads as the agent loads it, never older than acknowledged',
};

for (const [path, points] of Object.entries(ciPoints) as Array<[keyof typeof ciPoints, number]>) {
  test(`SIGKILL at ${points} points: ${names[path]}; no temporary file left once open`, async () => {
    const report = await crashPath(path, base, points, seed);
    assert.ok(report.acked > 0, `${path}: nothing was acknowledged in ${points} runs: the kills came too early`);
    assert.equal(report.failures, [], `${path}: ${report.failures.join('\n')}\n(reproduce: X0_CRASH_SEED=${seed})`);
  });
}

test.run();
