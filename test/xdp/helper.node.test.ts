// The binding driving the real x0-xdp on this kernel (Node only, as root): a holder process owns a private
// mount namespace with its own bpffs and a network namespace with a veth pair; every helper and generator run
// enters both through nsenter, and killing the holder at the end takes all state with it. Skipped, with the
// reason, when not root or when the kernel refuses BPF (test/xdp/run.sh covers the same ground in shell).
import { startNamespaceHolder } from './netns.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { runCli } from '../../src/cli/main.js';
import { XdpBinding, type XdpResult } from '../../src/xdp/binding.js';
import { root, run } from '../lib/processes.js';

const helper = `${root}build/x0-xdp`;
const gen = `${root}build/xdp-tools/x0-xdp-gen`;
const logged: string[] = [];
const platform = {
  ...createNodePlatform(),
  logger: {
    log: (level: string, message: string, fields?: Record<string, unknown>) => {
      logged.push(`${level} ${message} ${String(fields?.reason)}`);
    },
  },
};

function whySkip(): string | null {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync(helper) || !existsSync(gen)) return 'build/x0-xdp is missing (make -C bpf)';
  const probe = spawnSync(helper, ['probe'], { encoding: 'utf8', timeout: 20_000 });
  if (probe.status !== 0) return `the kernel refuses BPF here: ${probe.stderr.trim()}`;
  return null;
}
const skipReason = whySkip();
if (skipReason !== null) console.log(`helper.node.test.ts: SKIPPED (${skipReason})`);
const it = skipReason === null ? test : test.skip;

let holder: ChildProcess | null = null;
let enter: string[] = [];

async function startHolder(): Promise<void> {
  const h = await startNamespaceHolder(300);
  holder = h.child;
  enter = h.enter;
}

function binding(options: { timeoutMs?: number; prefix?: string[]; session?: boolean } = {}): XdpBinding {
  const helperArgv = [...(options.prefix ?? []), ...enter, helper];
  return new XdpBinding(platform, {
    helperArgv,
    session: options.session === true,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}

async function send(...args: string[]): Promise<void> {
  const result = await run([...enter, gen, 'send', 'va', ...args]);
  assert.is(result.code, 0, `x0-xdp-gen send: ${result.stderr}`);
}

function value<T>(result: XdpResult<T>): T {
  if (!result.ok) throw new Error(`helper failed: ${result.reason}: ${result.message}`);
  return result.value;
}

const m1 = '02:00:00:00:00:11';
const m2 = '02:00:00:00:00:12';

it('probe, and status before anything is loaded', async () => {
  await startHolder();
  const xdp = binding();
  assert.ok(value(await xdp.probe()).kernel.length > 0);
  const status = value(await xdp.status());
  assert.is(status.loaded, false);
  assert.is(status.pinDir, '/sys/fs/bpf/x0tta6bl4');
});

it('attach is idempotent; frames are counted per source MAC', async () => {
  const xdp = binding();
  const attached = value(await xdp.attach('vb'));
  assert.is(attached.mode, 'native');
  assert.is(value(await xdp.attach('vb')).already, true);
  await send('--src', `${m1},${m2}`, '--count', '30');
  const stats = value(await xdp.stats());
  assert.is(stats.sources.find((s) => s.mac === m1)?.packets, 30);
  assert.is(stats.sources.find((s) => s.mac === m2)?.packets, 30);
});

it('block with a reason and TTL drops and counts that MAC only; unblock restores it', async () => {
  const xdp = binding();
  assert.equal(value(await xdp.block(m2, 'revoked', 300)), {
    macs: [{ mac: m2, already: false }],
    reason: 'revoked',
    ttlS: 300,
  });
  await send('--src', `${m1},${m2}`, '--count', '10');
  const stats = value(await xdp.stats());
  assert.is(stats.sources.find((s) => s.mac === m2)?.droppedBlocked, 10);
  assert.is(stats.sources.find((s) => s.mac === m1)?.drops, 0);
  const entry = value(await xdp.status()).blocklist.find((b) => b.mac === m2);
  assert.is(entry?.reason, 'revoked');
  assert.is(entry?.drops, 10);
  assert.is(value(await xdp.unblock(m2)).wasBlocked, true);
  await send('--src', m2, '--count', '5');
  assert.is(value(await xdp.stats()).sources.find((s) => s.mac === m2)?.droppedBlocked, 10);
});

it('helper failures are reason codes, counted, and the binding keeps working', async () => {
  const xdp = binding();
  const unknown = await xdp.attach('nope0');
  assert.is(unknown.ok ? 'ok' : unknown.reason, 'unknown-interface');
  const missing = new XdpBinding(platform, { helperArgv: ['/nonexistent/x0-xdp'] });
  const gone = await missing.status();
  assert.is(gone.ok ? 'ok' : gone.reason, 'helper-not-found');
  assert.is(missing.failures.get('helper-not-found'), 1);
  // A helper that hangs mid-attach (holding the lock and an unpinned link) is killed by the timeout; the
  // kernel then drops its link and its lock, and the next attach finds the pinned state.
  value(await xdp.detach('vb'));
  const hung = await binding({ timeoutMs: 1_500, prefix: ['env', 'X0_XDP_FAULT=hang-before-pin'] }).attach('vb');
  assert.is(hung.ok ? 'ok' : hung.reason, 'helper-timeout');
  assert.is(value(await xdp.status()).interfaces.length, 0);
  const again = value(await xdp.attach('vb'));
  assert.is(again.already, false);
  assert.is(value(await xdp.stats()).sources.find((s) => s.mac === m1)?.packets, 40);
  assert.is(xdp.failures.get('unknown-interface'), 1);
  assert.ok(logged.includes('warn xdp: x0-xdp failed helper-timeout'), 'failures are logged');
});

it('detach leaves the interface clean', async () => {
  const xdp = binding();
  assert.is(value(await xdp.detach('vb')).detached, true);
  assert.is(value(await xdp.status()).interfaces.length, 0);
  const link = await run([...enter, 'ip', '-d', 'link', 'show', 'vb']);
  assert.not.match(link.stdout, /xdp/);
});

it('session: one x0-xdp serve answers as a process per command would, and the binding recovers when it hangs', async () => {
  const once = binding();
  const xdp = binding({ session: true });
  value(await once.attach('vb'));
  await send('--src', m1, '--count', '7');
  const [a, b] = [value(await once.stats()), value(await xdp.stats())];
  const counts = (stats: typeof a) => stats.sources.map((s) => ({ ...s, idleMs: 0 }));
  assert.equal(counts(b), counts(a), 'the same counters either way');
  assert.is(xdp.serving, true);
  // Concurrent requests queue for the one helper and each gets its own answer.
  const [blocked, limited, status] = await Promise.all([
    xdp.block([m1, m2], 'revoked'),
    xdp.setLimit({ match: 'ethertype', ethertype: 0x4305 }, 500),
    xdp.status(),
  ]);
  assert.equal(
    value(blocked).macs.map((m) => m.mac),
    [m1, m2],
  );
  assert.is(value(limited).length, 1);
  assert.is(value(status).loaded, true);
  await send('--src', m1, '--count', '5');
  assert.is(value(await once.stats()).sources.find((s) => s.mac === m1)?.droppedBlocked, 5, 'blocked through serve');
  const unknown = await xdp.attach('nope0');
  assert.is(unknown.ok ? 'ok' : unknown.reason, 'unknown-interface', "the helper's own failure, from its answer");
  for (let i = 0; i < 50; i++) value(await xdp.stats());
  assert.is(xdp.sessionStarts, 1, 'one helper for 55 commands');
  assert.is(xdp.runs.get('ok'), 54);
  value(await xdp.unblock(m1));
  value(await xdp.unblock(m2));
  value(await xdp.clearLimits());
  xdp.close();
  // A serve that hangs (mid-attach, holding the lock) is killed at the timeout; the next command starts another.
  value(await once.detach('vb'));
  const hanging = binding({ timeoutMs: 1_500, prefix: ['env', 'X0_XDP_FAULT=hang-before-pin'], session: true });
  const hung = await hanging.attach('vb');
  assert.is(hung.ok ? 'ok' : hung.reason, 'helper-timeout');
  assert.is(value(await hanging.status()).interfaces.length, 0, 'the next command, in a new helper');
  assert.is(hanging.sessionStarts, 2);
  hanging.close();
  // A helper that cannot serve (an older one answers `serve` with a usage error) is run per command.
  // The real helper, its last argument `serve` swapped for an unknown command: what a helper from before serve says.
  const older = binding({
    prefix: [
      '/bin/sh',
      '-c',
      'n=$#; i=0; for a; do i=$((i+1)); [ $i -eq $n ] && [ "$a" = serve ] && a=bogus; set -- "$@" "$a"; done; shift $n; exec "$@"',
      'sh',
    ],
    session: true,
  });
  assert.is(value(await older.status()).loaded, true);
  assert.is(older.serving, false);
  assert.is(value(await older.status()).loaded, true);
  assert.ok(logged.some((l) => l.startsWith('info xdp: x0-xdp does not serve')));
});

it('x0 xdp passes the helper through: its output and its exit code', async () => {
  const out: string[] = [];
  const err: string[] = [];
  const captured = {
    ...platform,
    stdout: (text: string) => {
      out.push(text);
    },
    stderr: (text: string) => {
      err.push(text);
    },
  };
  assert.is(await runCli(captured, ['xdp', '--helper', helper, '--help']), 0);
  assert.match(out.join(''), /attach IFACE/);
  out.length = 0;
  assert.is(
    await runCli(captured, ['xdp', '--helper', helper, '--json', '--pin-dir', '/proc/x0-not-bpffs', 'status']),
    4,
  );
  assert.match(out.join(''), /"error":"bpffs-not-mounted"/);
});

test.after(() => {
  if (holder?.pid !== undefined) holder.kill('SIGKILL');
});

test.run();
