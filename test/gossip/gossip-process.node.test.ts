// Real processes over loopback UDP: the bundle on x0-runtime (QuickJS-ng, native crypto) and the Node twin
// gossip until their documents are identical; state survives a restart; bad datagrams from the network are
// refused and counted; a revocation list from the identity CA spreads and names the revoked node.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as dgram from 'node:dgram';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMessage } from '../../src/core/gossip/messages.js';
import { encodeCbor } from '../../src/core/wire/cbor.js';
import { must } from '../identity/cli-lib.js';
import { makeMesh } from '../mqtt/lib.js';
import { bundlePath, freePort, root, run, runtimePath, type RunResult } from '../lib/processes.js';

const onRuntime = (...args: string[]) => [runtimePath, bundlePath, 'gossip', ...args];
const onNode = (...args: string[]) => ['node', '--import', 'tsx', `${root}src/entry/node.ts`, 'gossip', ...args];
const tempDir = (label: string) => mkdtempSync(join(tmpdir(), `x0-gossip-${label}-`));

interface Output {
  readonly summary: string;
  readonly json: {
    doc: {
      revocations: { version: number; revoked: string[] };
      sections: Record<
        string,
        {
          incarnation: number;
          versions: Record<string, string>;
          counters: Record<string, number>;
          neighbours: Record<string, { tq: number }>;
        }
      >;
    };
    counters: Record<string, number>;
  };
}

function parse(result: RunResult, label: string): Output {
  assert.is(result.code, 0, `${label} exited ${result.code}: ${result.stdout}${result.stderr}`);
  const [summary, json] = result.stdout.trim().split('\n');
  return { summary: summary ?? '', json: JSON.parse(json ?? '{}') };
}

const digest = (o: Output) => /doc ([0-9a-f]{16})/.exec(o.summary)?.[1];

test.before(() => {
  assert.ok(existsSync(runtimePath), `${runtimePath} is missing: run 'bash scripts/setup.sh'`);
  assert.ok(existsSync(bundlePath), `${bundlePath} is missing: run 'npm run build'`);
});

test('help and bad usage', async () => {
  const help = await run(onRuntime('--help'));
  assert.is(help.code, 0);
  assert.match(help.stdout, /x0 gossip run \[--config PATH \| --name NAME/);
  const bad = await run(onRuntime('run', '--plain', '--name', 'a', '--listen', '127.0.0.1:1'));
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /give at least one --peer/);
  const badPeer = await run(onRuntime('run', '--plain', '--name', 'a', '--listen', ':1', '--peer', 'nobody'));
  assert.is(badPeer.code, 2);
  assert.match(badPeer.stderr, /--peer 'nobody' is not NAME@/);
});

const dirs = { a: tempDir('a'), b: tempDir('b') };

async function pair(aArgs: string[], bArgs: string[]): Promise<[Output, Output]> {
  const [pa, pb] = [await freePort(), await freePort()];
  const common = ['--until-converged', '--timeout-ms', '40000', '--json', '--tick-ms', '50'];
  const [a, b] = await Promise.all([
    run(
      onRuntime(
        'run',
        '--plain',
        '--name',
        'alpha',
        '--listen',
        `127.0.0.1:${pa}`,
        '--peer',
        `bravo@127.0.0.1:${pb}`,
        '--state-dir',
        dirs.a,
        ...aArgs,
        ...common,
      ),
      60_000,
    ),
    run(
      onNode(
        'run',
        '--plain',
        '--name',
        'bravo',
        '--listen',
        `127.0.0.1:${pb}`,
        '--peer',
        `alpha@127.0.0.1:${pa}`,
        '--state-dir',
        dirs.b,
        ...bArgs,
        ...common,
      ),
      60_000,
    ),
  ]);
  return [parse(a, 'alpha (x0-runtime)'), parse(b, 'bravo (node)')];
}

test('x0-runtime and Node gossip over loopback UDP until their documents are identical', async () => {
  const [a, b] = await pair(
    ['--versions', 'agent=0.1.0', '--counters', 'reboots=2'],
    ['--versions', 'agent=0.2.0', '--neighbours', 'alpha=230'],
  );
  assert.ok(digest(a) !== undefined && digest(a) === digest(b), `digests ${digest(a)} / ${digest(b)}`);
  assert.is(b.json.doc.sections.alpha?.versions.agent, '0.1.0');
  assert.is(b.json.doc.sections.alpha?.counters.reboots, 2);
  assert.is(a.json.doc.sections.bravo?.neighbours.alpha?.tq, 230);
  assert.is(a.json.doc.sections.bravo?.versions.agent, '0.2.0');
});

test('state survives a restart: a new incarnation carries the old section, and the peer adopts it', async () => {
  const shown = await run(onRuntime('show', '--state-dir', dirs.a, '--json'));
  assert.is(shown.code, 0, shown.stderr);
  const persisted = JSON.parse(shown.stdout) as { incarnation: number; doc: Output['json']['doc'] };
  assert.is(persisted.incarnation, 1);
  assert.is(persisted.doc.sections.alpha?.counters.reboots, 2);
  assert.is(persisted.doc.sections.bravo?.versions.agent, '0.2.0', "the peer's section was persisted too");
  const [a, b] = await pair(['--counters', 'reboots=1'], []);
  assert.is(a.json.doc.sections.alpha?.incarnation, 2);
  assert.is(b.json.doc.sections.alpha?.incarnation, 2, 'the peer replaced the old incarnation');
  assert.is(b.json.doc.sections.alpha?.counters.reboots, 3, 'the counter continued from the persisted value');
  assert.is(b.json.doc.sections.alpha?.versions.agent, '0.1.0');
  assert.ok(digest(a) === digest(b));
});

function udpSocket(port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => resolve(socket));
  });
}

test('bad datagrams from the network are refused and counted; the node keeps answering', async () => {
  const [pa, pb, pz] = [await freePort(), await freePort(), await freePort()];
  const fakeBravo = await udpSocket(pb);
  const stranger = await udpSocket(pz);
  let replies = 0;
  fakeBravo.on('message', () => {
    replies += 1;
  });
  const node = run(
    onRuntime(
      'run',
      '--plain',
      '--name',
      'alpha',
      '--listen',
      `127.0.0.1:${pa}`,
      '--peer',
      `bravo@127.0.0.1:${pb}`,
      '--run-for-ms',
      '2500',
      '--json',
      '--tick-ms',
      '50',
    ),
    30_000,
  );
  await new Promise((r) => setTimeout(r, 1000));
  const send = (socket: dgram.Socket, bytes: Uint8Array) => new Promise((r) => socket.send(bytes, pa, '127.0.0.1', r));
  await send(fakeBravo, new Uint8Array([0xff, 0x00, 0x13]));
  await send(fakeBravo, encodeCbor([1, 'bravo', 0, 0, 0, new Uint8Array(1400)]));
  await send(fakeBravo, encodeMessage({ type: 1, from: 'charlie', root: 1, doc: [0, 0] }));
  await send(
    fakeBravo,
    encodeCbor([
      4,
      'bravo',
      [
        [
          'bravo~1',
          1,
          {
            s: [
              [Date.now() + 3_600_000, 0, 'bravo~1'],
              [1, 1, 1],
            ],
          },
        ],
      ],
    ]),
  );
  await send(stranger, encodeMessage({ type: 1, from: 'bravo', root: 1, doc: [0, 0] }));
  await send(fakeBravo, encodeMessage({ type: 1, from: 'bravo', root: 1, doc: [0, 0] }));
  const out = parse(await node, 'alpha');
  fakeBravo.close();
  stranger.close();
  const c = out.json.counters;
  assert.is(c['refused:cbor-malformed'], 1);
  assert.is(c['refused:cbor-too-large'], 1);
  assert.is(c['refused:sender-mismatch'], 1);
  assert.is(c['refused:clock-future'], 1);
  assert.is(c['refused:source-unknown'], 1);
  assert.is(Object.keys(out.json.doc.sections).join(','), 'alpha', 'nothing from the bad datagrams was taken');
  assert.ok(replies > 0, 'the node answered the good digest');
});

// Issue 16 on the real process (x0-runtime, the bundle): extreme but well-formed datagrams from a member. Before,
// the full-state message merged a section of ours at a later incarnation (the next local write asserted), and
// an own stream at incarnation 2^32 - 1 made the node reincarnate past the incarnation space (an assertion).
test('extreme but well-formed datagrams from a member are refused by reason; the node keeps running', async () => {
  const [pa, pb] = [await freePort(), await freePort()];
  const fakeBravo = await udpSocket(pb);
  const node = run(
    onRuntime(
      'run',
      '--plain',
      '--name',
      'alpha',
      '--listen',
      `127.0.0.1:${pa}`,
      '--peer',
      `bravo@127.0.0.1:${pb}`,
      '--run-for-ms',
      '2500',
      '--json',
      '--tick-ms',
      '50',
    ),
    30_000,
  );
  await new Promise((r) => setTimeout(r, 1000));
  const send = (bytes: Uint8Array) => new Promise((r) => fakeBravo.send(bytes, pa, '127.0.0.1', r));
  const status = (writer: string) => ({
    s: [
      [Date.now(), 0, writer],
      [1, 1, 1],
    ],
  });
  await send(encodeCbor([7, 'bravo', [['alpha', 2 ** 32 - 1, status('alpha~4294967295')]]]));
  await send(encodeCbor([4, 'bravo', [['alpha~4294967295', 1, status('alpha~4294967295')]]]));
  await send(encodeCbor([4, 'bravo', [['bravo~1', Number.MAX_SAFE_INTEGER, status('bravo~1')]]]));
  await send(encodeCbor([1, 'bravo', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 2 ** 32 - 1]));
  const out = parse(await node, 'alpha');
  fakeBravo.close();
  const c = out.json.counters;
  assert.is(c['refused:full-state-refused'], 1, JSON.stringify(c));
  assert.is(c['refused:incarnation-future'], 1, JSON.stringify(c));
  assert.is(c['refused:message-malformed'], 1, JSON.stringify(c));
  assert.is(c.reincarnations ?? 0, 0, 'the node did not jump to a later incarnation');
  const own = out.json.doc.sections.alpha?.incarnation ?? 0;
  assert.ok(own > 0 && own < 2 ** 32 - 1, `our own section stays at our incarnation (${own})`);
});

test('a revocation list signed by the identity CA spreads over gossip and names the revoked node', async () => {
  const ca = tempDir('ca');
  await must('ca', 'init', '--trust-domain', 'mesh.test', '--dir', ca);
  await must('ca', 'revoke', '--node', 'charlie', '--force', '--ca-dir', ca);
  const [pa, pb] = [await freePort(), await freePort()];
  const common = [
    '--until-converged',
    '--timeout-ms',
    '40000',
    '--json',
    '--tick-ms',
    '50',
    '--trust-bundle',
    `${ca}/bundle.cbor`,
    '--members',
    'alpha,bravo,charlie',
  ];
  const [a, b] = await Promise.all([
    run(
      onNode(
        'run',
        '--plain',
        '--name',
        'alpha',
        '--listen',
        `127.0.0.1:${pa}`,
        '--peer',
        `bravo@127.0.0.1:${pb}`,
        '--revocations',
        `${ca}/revocations.cbor`,
        ...common,
      ),
      60_000,
    ),
    run(
      onRuntime(
        'run',
        '--plain',
        '--name',
        'bravo',
        '--listen',
        `127.0.0.1:${pb}`,
        '--peer',
        `alpha@127.0.0.1:${pa}`,
        ...common,
      ),
      60_000,
    ),
  ]);
  const bravo = parse(b, 'bravo (x0-runtime)');
  parse(a, 'alpha (node)');
  assert.is(bravo.json.doc.revocations.version, 1);
  assert.equal(bravo.json.doc.revocations.revoked, ['charlie']);
  const unsigned = await run(
    onRuntime(
      'run',
      '--plain',
      '--name',
      'bravo',
      '--listen',
      ':1',
      '--peer',
      'alpha@:2',
      '--revocations',
      `${ca}/revocations.cbor`,
    ),
  );
  assert.is(unsigned.code, 2, 'a list without a trust bundle is a usage error');
});

test("the sealed node (the agent's gossip component): x0-runtime and Node converge over the sealed link", async () => {
  const meshDir = tempDir('sealed');
  const mesh = makeMesh(meshDir, 'mesh.test', ['alpha', 'bravo']);
  const [pa, pb] = [await freePort(), await freePort()];
  const common = ['--until-converged', '--timeout', '40s', '--json'];
  const [a, b] = await Promise.all([
    run(
      onRuntime(
        'run',
        '--listen',
        `127.0.0.1:${pa}`,
        '--peer',
        `bravo@127.0.0.1:${pb}`,
        '--state-dir',
        mesh.nodeDir('alpha'),
        '--versions',
        'x=1',
        ...common,
      ),
      60_000,
    ),
    run(
      onNode(
        'run',
        '--listen',
        `127.0.0.1:${pb}`,
        '--peer',
        `alpha@127.0.0.1:${pa}`,
        '--state-dir',
        mesh.nodeDir('bravo'),
        '--counters',
        'c=2',
        ...common,
      ),
      60_000,
    ),
  ]);
  const [oa, ob] = [parse(a, 'alpha (x0-runtime, sealed)'), parse(b, 'bravo (node, sealed)')];
  assert.is(ob.json.doc.sections.alpha?.versions.x, '1', "alpha's value reached bravo");
  assert.is(oa.json.doc.sections.bravo?.counters.c, 2, "bravo's value reached alpha");
  assert.match(a.stderr, /link started/);
  const shown = await run(onNode('show', '--state-dir', mesh.nodeDir('bravo'), '--json'));
  assert.is(shown.code, 0, shown.stderr);
  assert.is(JSON.parse(shown.stdout).node, 'bravo', 'show finds the document in STATE_DIR/gossip');
});

test('the sealed node without a certificate says which file is missing and what to do (exit 1)', async () => {
  const empty = tempDir('no-cert');
  const r = await run(
    onRuntime('run', '--name', 'alpha', '--listen', '127.0.0.1:1', '--peer', 'bravo@127.0.0.1:2', '--state-dir', empty),
  );
  assert.is(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `x0 gossip: cannot start \\(identity: not-enrolled\\): .*${empty}/node\\.chain is missing.*x0 cert request.*--plain`,
    ),
  );
  const misplaced = await run(
    onNode('run', '--name', 'a', '--listen', ':1', '--peer', 'b@:2', '--state-dir', empty, '--members', 'a'),
  );
  assert.is(misplaced.code, 2);
  assert.match(misplaced.stderr, /--members is for --plain nodes/);
});

test.run();
