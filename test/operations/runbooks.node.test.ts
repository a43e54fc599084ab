// Runbooks that run: every ```sh block of every docs/operations/*.md, in order, against routers on loopback (each an
// `x0 agent` on x0-runtime with its own ubusd, fixture.ts), so a runbook cannot go stale. The convention
// (setup line, norun and simulate blocks) is docs/operations/README.md's; its list of norun blocks is checked here.
// X0_RUNBOOK=name.md runs one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../lib/processes.js';
import {
  failedHandshakes,
  parseBlocks,
  parseSetup,
  readRunbook,
  runIn,
  script,
  startMesh,
  telemetrySamples,
  type Runbook,
  type Setup,
} from './fixture.js';

const docs = `${root}docs/operations`;
const only = process.env.X0_RUNBOOK;
const files = readdirSync(docs)
  .filter((f) => f.endsWith('.md') && f !== 'README.md')
  .sort();
const runbookTimeoutMs = 240_000;

test('the runbooks are the ones the README lists, each declares its setup, and every norun block is listed', () => {
  const readme = readFileSync(join(docs, 'README.md'), 'utf8');
  for (const f of files) assert.match(readme, `(${f})`, `README.md links ${f}`);
  const listed = new Set([...readme.matchAll(/^- `([a-z-]+\.md)`: `([^`]+)`/gm)].map((m) => `${m[1]}: ${m[2]}`));
  const found = new Set<string>();
  for (const f of files) {
    const runbook = readRunbook(join(docs, f));
    if (typeof runbook === 'string') assert.unreachable(runbook);
    const r = runbook as Runbook;
    assert.ok(
      r.blocks.some((b) => b.kind === 'run'),
      `${f} has blocks that run`,
    );
    for (const b of r.blocks.filter((x) => x.kind === 'norun')) found.add(`${f}: ${b.text.split('\n')[0]}`);
  }
  assert.equal([...found].sort(), [...listed].sort(), 'README.md lists exactly the norun blocks (file: first line)');
});

test('the runbook parser refuses what the convention does not allow', () => {
  assert.type(parseSetup('no setup line'), 'string');
  assert.type(parseSetup('<!-- runbook: anchors=a frobnicate -->'), 'string');
  assert.equal((parseSetup('<!-- runbook: anchors=a,b nodes=c no-failed-handshake -->') as Setup).anchors, ['a', 'b']);
  assert.type(parseBlocks('```sh\necho unclosed\n'), 'string');
  assert.type(parseBlocks('```bash\necho\n```\n'), 'string', 'only ```sh blocks');
  const blocks = parseBlocks('text\n```sh\na\n```\n```sh norun\nb\n```\n```sh simulate\nc\n```\n```json\n{}\n```\n');
  assert.equal(
    (blocks as { kind: string; text: string }[]).map((b) => `${b.kind}:${b.text}`),
    ['run:a', 'norun:b', 'simulate:c'],
  );
});

test('the no-failed-handshake check counts failures across restarts and ignores those before the start', () => {
  const s = (node: string, at: number, failures: number) => ({ node, at, failures });
  const samples = [
    s('a', 1, 5),
    s('a', 10, 5),
    s('a', 20, 6),
    s('a', 30, 1),
    s('a', 40, 1),
    s('b', 5, 0),
    s('b', 25, 0),
  ];
  const counted = failedHandshakes(samples, 10, 40);
  assert.is(counted.get('a'), 2, 'one before a restart, one after it');
  assert.is(counted.get('b'), 0);
  assert.is(failedHandshakes(samples, 35, 40).get('a'), 0);
});

test('the no-failed-handshake check sees a rollover done in the wrong order (new root before the bundle)', async () => {
  if (only !== undefined && only !== 'wrong-order') return;
  const setup = parseSetup('<!-- runbook: anchors=alpha,bravo no-failed-handshake -->');
  if (typeof setup === 'string') return assert.unreachable(setup);
  const mesh = await startMesh(setup, 'wrong-order');
  try {
    const startMs = Date.now();
    // alpha gets a certificate under the new root while bravo still trusts only the old one.
    const wrong = `set -x
x0 ca rollover start --ca-dir ca
x0 ca rollover activate --ca-dir ca
token=$(x0 ca issue-token --node alpha --roles anchor --ca-dir ca)
x0 cert request --token "$token" --state-dir alpha/state
x0 ca sign --request alpha/state/join-request.cbor --out alpha/state/node.chain --bundle-out alpha/state/bundle.cbor --ca-dir ca
cp ca/bundle.cbor monitor/bundle.cbor
node-ctl monitor restart
node-ctl alpha restart
sleep 5`;
    const ran = await runIn(mesh.dir, mesh.env, ['bash', '-euo', 'pipefail', '-c', wrong], 120_000);
    assert.is(ran.code, 0, ran.stderr);
    await new Promise((r) => setTimeout(r, 2_500));
    const failed = failedHandshakes(telemetrySamples(mesh.telemetryPath), startMs, Date.now());
    const total = [...failed.values()].reduce((a, b) => a + b, 0);
    assert.ok(total > 0, `the check counted no failed handshake: ${JSON.stringify([...failed])}`);
  } finally {
    await mesh.stop();
  }
});

for (const file of files) {
  if (only !== undefined && only !== file) continue;
  test(`runbook ${file} runs`, async () => {
    const runbook = readRunbook(join(docs, file)) as Runbook;
    const setupMs = Date.now();
    const mesh = await startMesh(runbook.setup, file.replace(/\.md$/, ''));
    try {
      const startMs = Date.now();
      const ran = await runIn(
        mesh.dir,
        mesh.env,
        ['bash', '-euo', 'pipefail', '-c', script(runbook)],
        runbookTimeoutMs,
      );
      const endMs = Date.now();
      if (ran.code !== 0) {
        const logs = readdirSync(mesh.dir)
          .filter((d) => existsSync(join(mesh.dir, d, 'agent.log')))
          .map(
            (d) =>
              `--- ${d}/agent.log (last lines)\n${readFileSync(join(mesh.dir, d, 'agent.log'), 'utf8')
                .split('\n')
                .slice(-12)
                .join('\n')}`,
          );
        assert.unreachable(
          `${file} failed (exit ${ran.code}) in ${mesh.dir}\n--- stdout\n${ran.stdout.slice(-3000)}\n--- stderr\n${ran.stderr.slice(-3000)}\n${logs.join('\n')}`,
        );
      }
      process.stdout.write(`  ${file}: mesh up in ${startMs - setupMs} ms, ran in ${endMs - startMs} ms\n`);
      if (runbook.setup.noFailedHandshake) {
        // Telemetry comes every second: wait for the last one covering the end of the runbook.
        await new Promise((r) => setTimeout(r, 2_500));
        const samples = telemetrySamples(mesh.telemetryPath);
        const nodes = [...runbook.setup.anchors, ...runbook.setup.nodes];
        for (const n of nodes)
          assert.ok(
            samples.some((x) => x.node === n && x.at > endMs),
            `telemetry from ${n} after the end`,
          );
        const failed = failedHandshakes(samples, startMs, endMs + 2_500);
        assert.equal(
          [...failed].filter(([, n]) => n > 0),
          [],
          `handshakes failed during ${file} (node, count); telemetry in ${mesh.telemetryPath}`,
        );
      }
    } finally {
      await mesh.stop();
    }
  });
}

test.run();
