// Issue 21 item 3 end to end: `x0 exporter` and `x0 watch` follow the CA's revocation list file. Two nodes
// publish (alpha on x0-runtime, bravo on Node); `x0 ca revoke --node bravo` writes a new list while they run;
// within seconds the exporter shows bravo revoked and not up, counts its telemetry as cert-revoked, and the
// watch shows it REVOKED; alpha stays up. An operator command sent with `x0 cmd` is not a rejection.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { bundlePath, freePort, run, runtimePath } from '../lib/processes.js';
import { Mosquitto, sleep, start, waitFor, x0Node, x0Runtime } from '../mqtt/lib.js';
import { enrol, must, tempDir } from '../identity/cli-lib.js';

test.before(() => {
  assert.ok(
    existsSync(runtimePath) && existsSync(bundlePath),
    'build/x0-runtime and dist/x0tta6bl4.js are needed (bash scripts/setup.sh)',
  );
});

const gauge = (text: string, name: string, node: string): number | null => {
  const m = new RegExp(`^${name}\\{mesh="mesh\\.test",node="${node}"\\} (\\S+)$`, 'm').exec(text);
  return m === null ? null : Number(m[1]);
};

test('a node revoked while it runs: exporter and watch show it revoked within seconds; x0 cmd is not a rejection', async () => {
  const dir = tempDir('telemetry-revocation');
  await enrol(dir, 'mesh.test', ['alpha', 'bravo']);
  const listPath = `${dir}/ca/revocations.cbor`;
  assert.not.ok(existsSync(listPath), 'no list before the first revocation');
  const broker = await Mosquitto.start(dir);
  const brokerArg = ['--broker', `127.0.0.1:${broker.port}`];
  const port = await freePort();
  const exporter = start(
    x0Node(
      'exporter',
      '--bundle',
      `${dir}/ca/bundle.cbor`,
      ...brokerArg,
      '--listen',
      `127.0.0.1:${port}`,
      '--revocations',
      listPath,
      '--duration-ms',
      '60000',
    ),
  );
  const watch = start(
    x0Node(
      'watch',
      '--bundle',
      `${dir}/ca/bundle.cbor`,
      ...brokerArg,
      '--revocations',
      listPath,
      '--json',
      '--duration-ms',
      '60000',
    ),
  );
  const uplinks = [
    start(
      x0Runtime(bundlePath, 'uplink', '--dir', `${dir}/alpha`, ...brokerArg, '--interval-ms', '200', '--simulate', '1'),
    ),
    start(x0Node('uplink', '--dir', `${dir}/bravo`, ...brokerArg, '--interval-ms', '200', '--simulate', '2')),
  ];
  const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const until = async (what: string, check: (text: string) => boolean, timeoutMs = 15_000): Promise<string> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const text = await scrape();
      if (check(text)) return text;
      if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms:\n${text}\n${exporter.stderr}`);
      await sleep(200);
    }
  };
  try {
    await waitFor(exporter, /exporter: http:/);
    await waitFor(exporter, /no list at .*revocations\.cbor yet; following it/);
    await until('both up', (t) => gauge(t, 'x0_node_up', 'alpha') === 1 && gauge(t, 'x0_node_up', 'bravo') === 1);
    let text = await scrape();
    assert.is(gauge(text, 'x0_node_revoked', 'bravo'), 0);
    assert.not.match(text, /reason="cert-revoked"/);

    // An operator command to alpha: seen, not rejected.
    await run(x0Node('cmd', 'keygen', '--out', `${dir}/operator.key`));
    const sent = await run(
      x0Node(
        'cmd',
        'send',
        '--key',
        `${dir}/operator.key`,
        '--mesh',
        'mesh.test',
        '--node',
        'alpha',
        '--name',
        'ping',
        ...brokerArg,
      ),
    );
    assert.is(sent.code, 0, sent.stderr);
    text = await until('command seen', (t) => /^x0_operator_commands_seen_total 1$/m.test(t));
    assert.not.match(text, /x0_messages_rejected_total\{reason="topic-invalid"\}/);

    const revokedAt = Date.now();
    await must('ca', 'revoke', '--node', 'bravo', '--dir', `${dir}/ca`);
    text = await until(
      'bravo revoked',
      (t) =>
        gauge(t, 'x0_node_revoked', 'bravo') === 1 &&
        /x0_messages_rejected_total\{reason="cert-revoked"\} [1-9]/.test(t),
    );
    const tookMs = Date.now() - revokedAt;
    assert.is(gauge(text, 'x0_node_up', 'bravo'), 0);
    assert.is(gauge(text, 'x0_node_up', 'alpha'), 1);
    assert.is(gauge(text, 'x0_node_revoked', 'alpha'), 0);
    assert.match(text, /^x0_revocation_list_version 1$/m);
    assert.match(exporter.stderr, /revocations: .*revocations\.cbor version 1 in use nodes=1 serials=0/);
    console.log(`  revocation seen by the exporter ${tookMs} ms after 'x0 ca revoke'`);

    await waitFor(watch, /"reason":"cert-revoked"/);
    watch.child.kill('SIGINT');
    await watch.done;
    const lines = watch.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines[lines.length - 1] as {
      rejected: Record<string, number>;
      nodes: { node: string; state: string }[];
    };
    assert.ok((summary.rejected['cert-revoked'] ?? 0) > 0, JSON.stringify(summary));
    assert.is(summary.rejected['topic-invalid'], undefined, 'the operator command is not a rejection');
    assert.ok(
      lines.some((l) => l.reason === 'operator-command' && l.benign === true),
      'the command was seen as such',
    );
    assert.is(summary.nodes.find((n) => n.node === 'bravo')?.state, 'revoked');
  } finally {
    for (const u of uplinks) u.child.kill('SIGTERM');
    exporter.child.kill('SIGTERM');
    watch.child.kill('SIGTERM');
    await Promise.all([...uplinks.map((u) => u.done), exporter.done, watch.done]);
    await broker.stop();
  }
});

test.run();
