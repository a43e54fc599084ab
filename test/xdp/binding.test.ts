// The XDP binding against what the real x0-xdp printed (test/xdp/recorded.ts, recorded by test/xdp/run.sh on
// this machine's kernel): a replaying exec checks that the binding sends the same arguments the real helper was
// given and hands it the real answers. Engine-neutral: runs on Node and inside x0-runtime.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fc from 'fast-check';
import type { ExecOptions, ExecResult } from '../../src/platform/types.js';
import { interpret, XdpBinding, type XdpResult } from '../../src/xdp/binding.js';
import { helperOutputBytesMax } from '../../src/xdp/limits.js';
import { readers } from '../../src/xdp/parse.js';
import { helperReasons } from '../../src/xdp/types.js';
import { recorded, type RecordedRun } from './recorded.js';

const helper = '/usr/sbin/x0-xdp';
const encoder = new TextEncoder();

function named(name: string): RecordedRun {
  const found = recorded.find((run) => run.name === name);
  if (found === undefined) throw new Error(`no recorded run '${name}': run 'bash test/xdp/run.sh --record' as root`);
  return found;
}

function asResult(run: Pick<RecordedRun, 'code' | 'stdout' | 'stderr'>): ExecResult {
  return {
    code: run.code,
    stdout: encoder.encode(run.stdout),
    stderr: encoder.encode(run.stderr),
    timedOut: false,
    truncated: false,
  };
}

/** An exec that replays recorded runs in order and checks each argv against the one the real helper got. */
function replay(...names: string[]) {
  const queue = names.map(named);
  const exec = async (argv: readonly string[], options?: ExecOptions): Promise<ExecResult> => {
    const next = queue.shift();
    if (next === undefined) throw new Error(`unexpected helper run: ${argv.join(' ')}`);
    assert.equal(argv.slice(0, 2), [helper, '--json'], 'helper and --json first');
    assert.equal(argv.slice(2), next.args, `arguments of '${next.name}'`);
    assert.ok(options?.timeoutMs !== undefined && options.timeoutMs > 0, 'a timeout');
    assert.is(options?.maxOutputBytes, helperOutputBytesMax, 'bounded output');
    return asResult(next);
  };
  return { binding: new XdpBinding({ exec }), left: () => queue.length };
}

/** An exec that must not be called. */
function noExec() {
  let calls = 0;
  const binding = new XdpBinding({
    exec: async () => {
      calls++;
      return asResult({ code: 0, stdout: '', stderr: '' });
    },
  });
  return { binding, calls: () => calls };
}

function unwrap<T>(result: { ok: true; value: T } | { ok: false; reason: string; message: string }): T {
  if (!result.ok) throw new Error(`expected success, got ${result.reason}: ${result.message}`);
  return result.value;
}

test('the fixture holds real runs of every command and of each failure the helper reports', () => {
  const names = new Set(recorded.map((run) => run.name));
  for (const name of [
    'attach',
    'attach-again',
    'detach',
    'block',
    'unblock',
    'limit-show',
    'stats',
    'status-loaded',
    'probe',
    'not-permitted',
    'bpf-unavailable',
    'bpffs-not-mounted',
    'unknown-interface',
    'verifier-rejected',
    'mode-unsupported',
    'locked',
    'interface-busy',
    'not-loaded',
    'map-full',
    'usage-bad-mac',
  ]) {
    assert.ok(names.has(name), `recorded run '${name}' (bash test/xdp/run.sh --record)`);
  }
});

test('reads every recorded answer: successes as values, failures as the reason the helper gave', () => {
  for (const run of recorded) {
    const command = run.args[0] as string;
    const outcome = interpret(command, asResult(run), readers[command] as (root: Record<string, unknown>) => unknown);
    if (run.code === 0) {
      assert.ok(outcome.ok, `${run.name}: ${outcome.ok ? '' : outcome.reason}`);
      continue;
    }
    assert.not.ok(outcome.ok, `${run.name} failed`);
    if (!outcome.ok) {
      assert.is(outcome.reason, (JSON.parse(run.stdout) as { error: string }).error, run.name);
      assert.is(outcome.reason, helperReasons[run.code], `${run.name}: exit code ${run.code} and reason agree`);
    }
  }
});

test('attach is idempotent, status and stats read as the real helper printed them', async () => {
  const { binding, left } = replay('status-empty', 'attach', 'attach-again', 'stats');
  assert.is(unwrap(await binding.status()).loaded, false);
  const attached = unwrap(await binding.attach('x0vb', 'native'));
  assert.is(attached.mode, 'native');
  assert.is(attached.already, false);
  const again = unwrap(await binding.attach('x0vb', 'native'));
  assert.is(again.already, true);
  assert.is(again.progId, attached.progId);
  const stats = unwrap(await binding.stats());
  const source = (mac: string) => stats.sources.find((s) => s.mac === mac);
  assert.is(source('02:00:00:00:00:01')?.packets, 100);
  assert.is(source('02:00:00:00:00:01')?.bytes, 6400);
  assert.is(source('02:00:00:00:00:03')?.batmanPackets, 23);
  assert.is(stats.totals.packets, 160);
  assert.is(stats.sourcesMax, 1024);
  assert.is(left(), 0);
  assert.is(binding.runs.get('ok'), 4);
});

test('block with reason and TTL, status lists it with its drops, unblock reports whether it was there', async () => {
  const { binding, left } = replay('block', 'block-permanent', 'status-loaded', 'unblock', 'unblock-absent');
  const blocked = unwrap(await binding.block('02-00-00-00-00-02', 'revoked', 600));
  assert.equal(blocked, { macs: [{ mac: '02:00:00:00:00:02', already: false }], reason: 'revoked', ttlS: 600 });
  assert.is(unwrap(await binding.block('02:00:00:00:00:06', 'manual')).ttlS, null);
  const status = unwrap(await binding.status());
  const entry = status.blocklist.find((b) => b.mac === '02:00:00:00:00:02');
  assert.is(entry?.reason, 'revoked');
  assert.is(entry?.drops, 50);
  assert.ok(entry?.ttlS !== null && entry !== undefined && entry.ttlS <= 600);
  assert.is(status.blocklist.find((b) => b.mac === '02:00:00:00:00:06')?.ttlS, null);
  assert.is(status.interfaces[0]?.state, 'attached');
  assert.ok(status.loaded && status.program !== null);
  assert.is(unwrap(await binding.unblock('02:00:00:00:00:02')).wasBlocked, true);
  assert.is(unwrap(await binding.unblock('02:00:00:00:00:02')).wasBlocked, false);
  assert.is(left(), 0);
});

test('rate limits: set by ethertype and by UDP port range, show, clear one, clear all', async () => {
  const { binding, left } = replay(
    'limit-set-ethertype',
    'limit-set-udp',
    'limit-show',
    'limit-clear-udp',
    'limit-clear-all',
    'map-full',
  );
  unwrap(await binding.setLimit({ match: 'ethertype', ethertype: 0x88b5 }, 400, 40));
  const both = unwrap(await binding.setLimit({ match: 'udp-dport', portLo: 5000, portHi: 5010 }, 100, 10));
  assert.equal(both[1], {
    match: 'udp-dport',
    portLo: 5000,
    portHi: 5010,
    index: 1,
    ratePps: 100,
    burst: 10,
    matched: 0,
    dropped: 0,
  });
  const shown = unwrap(await binding.limits());
  assert.equal(shown[0], {
    match: 'ethertype',
    ethertype: 0x88b5,
    index: 0,
    ratePps: 400,
    burst: 40,
    matched: 0,
    dropped: 0,
  });
  assert.is(unwrap(await binding.clearLimits({ match: 'udp-dport', portLo: 5000, portHi: 5010 })).length, 1);
  assert.is(unwrap(await binding.clearLimits()).length, 0);
  const full = await binding.setLimit({ match: 'ethertype', ethertype: 0x88b9 }, 10);
  assert.is(full.ok ? 'ok' : full.reason, 'map-full');
  assert.is(left(), 0);
});

test('each failure of the real helper comes back as its reason code, counted, never thrown', async () => {
  const cases: [string, XdpCall][] = [
    ['not-permitted', (b) => b.status()],
    ['bpffs-not-mounted', (b) => b.status()],
    ['unknown-interface', (b) => b.attach('nope0')],
    ['verifier-rejected', (b) => b.attach('x0vb')],
    ['interface-busy', (b) => b.attach('x0vb')],
    ['not-loaded', (b) => b.stats()],
    ['bpf-unavailable', (b) => b.probe()],
    ['mode-unsupported', (b) => b.attach('lo', 'native')],
    ['locked', (b) => b.block('02:00:00:00:00:01', 'manual')],
  ];
  for (const [name, call] of cases) {
    const { binding } = replay(name);
    const result = await call(binding);
    assert.not.ok(result.ok, name);
    if (result.ok) continue;
    assert.is(result.reason, name);
    assert.ok(result.message.length > 0, `${name}: a message`);
    assert.is(binding.failures.get(name), 1);
    assert.is(binding.lastFailure?.reason, name);
  }
  const { binding } = replay('verifier-rejected');
  const rejected = await binding.attach('x0vb');
  assert.ok(
    !rejected.ok && rejected.verifierLog !== undefined && rejected.verifierLog.includes('invalid access to packet'),
    'the verifier log',
  );
});

type XdpCall = (binding: XdpBinding) => Promise<XdpResult<unknown>>;

test('block takes several MACs in one helper run and reads back each with whether it was blocked before', async () => {
  const { binding, left } = replay('block-many');
  const many = unwrap(await binding.block(['02-00-00-00-00-04', '02:00:00:00:00:05', '02:00:00:00:00:02'], 'revoked'));
  assert.equal(many.macs, [
    { mac: '02:00:00:00:00:04', already: false },
    { mac: '02:00:00:00:00:05', already: false },
    { mac: '02:00:00:00:00:02', already: true },
  ]);
  assert.is(many.ttlS, null);
  assert.is(binding.runs.get('block'), 1);
  assert.is(left(), 0);
});

test('bad input is refused with a reason before any helper runs', async () => {
  const { binding, calls } = noExec();
  const reasons = async (...results: Promise<{ ok: boolean; reason?: string }>[]) =>
    (await Promise.all(results)).map((r) => (r.ok ? 'ok' : r.reason));
  assert.equal(
    await reasons(
      binding.block('02:00:00:00:00', 'x'),
      binding.block('zz:00:00:00:00:01', 'x'),
      binding.unblock('02:00:00:00:00:01:02'),
      binding.block([], 'x'),
      binding.block(['02:00:00:00:00:01', 'zz:00:00:00:00:01'], 'x'),
      binding.block(Array(65).fill('02:00:00:00:00:01'), 'x'),
    ),
    Array(6).fill('bad-mac'),
  );
  assert.equal(
    await reasons(
      binding.block('02:00:00:00:00:01', ''),
      binding.block('02:00:00:00:00:01', 'Revoked'),
      binding.block('02:00:00:00:00:01', 'a'.repeat(16)),
    ),
    ['bad-reason', 'bad-reason', 'bad-reason'],
  );
  assert.equal(
    await reasons(
      ...[0, -1, 1.5, 31_536_001, Number.NaN].map((ttl) => binding.block('02:00:00:00:00:01', 'revoked', ttl)),
    ),
    Array(5).fill('bad-ttl'),
  );
  assert.equal(
    await reasons(
      binding.attach(''),
      binding.attach('a/b'),
      binding.attach('x'.repeat(16)),
      binding.attach('--json'),
      binding.detach('eth 0'),
    ),
    Array(5).fill('bad-interface'),
  );
  assert.equal(await reasons(binding.attach('eth0', 'fast' as 'auto')), ['bad-mode']);
  assert.equal(
    await reasons(
      binding.setLimit({ match: 'ethertype', ethertype: 0x0100 }, 10),
      binding.setLimit({ match: 'udp-dport', portLo: 10, portHi: 5 }, 10),
      binding.setLimit({ match: 'ethertype', ethertype: 0x4305 }, 0),
      binding.setLimit({ match: 'ethertype', ethertype: 0x4305 }, 10, 0),
      binding.clearLimits({ match: 'udp-dport', portLo: 0, portHi: 5 }),
    ),
    Array(5).fill('bad-rule'),
  );
  assert.is(calls(), 0);
  assert.is(binding.failures.get('bad-ttl'), 5);
});

test('a missing, hanging, killed or babbling helper is a reason code, not an exception', async () => {
  const stats = named('stats');
  const cases: [string, ExecResult | 'throw'][] = [
    [
      'helper-timeout',
      { code: null, stdout: new Uint8Array(0), stderr: new Uint8Array(0), timedOut: true, truncated: false },
    ],
    [
      'helper-killed',
      { code: null, stdout: new Uint8Array(0), stderr: new Uint8Array(0), timedOut: false, truncated: false },
    ],
    ['helper-output-truncated', { ...asResult(stats), truncated: true }],
    ['helper-bad-json', asResult({ code: 0, stdout: 'Segmentation fault', stderr: '' })],
    ['helper-bad-json', asResult({ code: 0, stdout: stats.stdout.slice(0, 80), stderr: '' })],
    [
      'helper-bad-shape',
      asResult({ code: 0, stdout: stats.stdout.replace('"packets":100', '"packets":-100'), stderr: '' }),
    ],
    ['helper-bad-shape', asResult({ code: 0, stdout: named('status-empty').stdout, stderr: '' })],
    ['helper-not-found', asResult({ code: 127, stdout: '', stderr: 'spawn /usr/sbin/x0-xdp ENOENT' })],
    ['helper-not-found', 'throw'],
    ['not-permitted', asResult({ code: 3, stdout: '', stderr: 'x0-xdp: permission denied' })],
    ['failed', asResult({ code: 99, stdout: '', stderr: '' })],
  ];
  for (const [reason, result] of cases) {
    const binding = new XdpBinding({
      exec: async () => {
        if (result === 'throw') throw new Error('spawn failed');
        return result;
      },
    });
    const outcome = await binding.stats();
    assert.is(outcome.ok ? 'ok' : outcome.reason, reason);
    assert.is(binding.failures.get(reason), 1);
  }
});

test('helper argv: a command prefix, --pin-dir and --mount come before the command', async () => {
  const seen: string[][] = [];
  const options = { helperArgv: ['nsenter', '-t', '42', '-n', 'x0-xdp'], pinDir: '/sys/fs/bpf/t', mountBpffs: true };
  const binding = new XdpBinding(
    {
      exec: async (argv) => {
        seen.push([...argv]);
        return asResult(named('detach'));
      },
    },
    options,
  );
  assert.ok((await binding.detach('x0vb')).ok);
  assert.equal(seen[0], [
    'nsenter',
    '-t',
    '42',
    '-n',
    'x0-xdp',
    '--json',
    '--pin-dir',
    '/sys/fs/bpf/t',
    '--mount',
    'detach',
    'x0vb',
  ]);
});

/** Every path (list of keys/indices) to a value inside parsed JSON, breadth first, bounded. */
function paths(value: unknown, max = 400): (string | number)[][] {
  const out: (string | number)[][] = [];
  const queue: [unknown, (string | number)[]][] = [[value, []]];
  while (queue.length > 0 && out.length < max) {
    const [node, path] = queue.shift() as [unknown, (string | number)[]];
    out.push(path);
    if (node !== null && typeof node === 'object')
      for (const [k, v] of Object.entries(node)) queue.push([v, [...path, Array.isArray(node) ? Number(k) : k]]);
  }
  return out;
}

test('property: any change to a recorded answer is read or refused with a reason, never thrown', () => {
  const successes = recorded.filter((run) => run.code === 0);
  fc.assert(
    fc.property(fc.nat(), fc.nat(), fc.jsonValue({ maxDepth: 2 }), (r, p, replacement) => {
      const run = successes[r % successes.length] as RecordedRun;
      const root = JSON.parse(run.stdout) as unknown;
      const all = paths(root).filter((path) => path.length > 0);
      const path = all[p % all.length] as (string | number)[];
      let node = root as Record<string | number, unknown>;
      for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
      node[path[path.length - 1] as string | number] = replacement;
      const command = run.args[0] as string;
      const outcome = interpret(
        command,
        asResult({ code: 0, stdout: JSON.stringify(root), stderr: '' }),
        readers[command] as (root: Record<string, unknown>) => unknown,
      );
      return outcome.ok || outcome.reason === 'helper-bad-shape';
    }),
    { numRuns: 300, seed: 6 },
  );
});

test.run();
