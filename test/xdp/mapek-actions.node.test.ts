// MAPE-K's XDP actions (isolate, lift, rate-limit) with their real effect (issue 17): the Executor of
// src/mapek/executor.ts drives the real x0-xdp (the real BPF object from build/) attached to a veth in a private
// network namespace, real frames come from the veth's other end (x0-xdp-gen over AF_PACKET), and what passed is
// counted after XDP by a packet socket (x0-xdp-gen count) and by the program's own maps. Node only, as root;
// skipped with the reason when not root or when the kernel refuses BPF (like helper.node.test.ts).
import { startNamespaceHolder } from './netns.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Executor } from '../../src/mapek/executor.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { XdpBinding, type XdpResult } from '../../src/xdp/binding.js';
import { root, run } from '../lib/processes.js';

const helper = `${root}build/x0-xdp`;
const gen = `${root}build/xdp-tools/x0-xdp-gen`;
const platform = createNodePlatform();

function whySkip(): string | null {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync(helper) || !existsSync(gen)) return 'build/x0-xdp is missing (make -C bpf)';
  const probe = spawnSync(helper, ['probe'], { encoding: 'utf8', timeout: 20_000 });
  if (probe.status !== 0) return `the kernel refuses BPF here: ${probe.stderr.trim()}`;
  return null;
}
const skipReason = whySkip();
if (skipReason !== null) console.log(`mapek-actions.node.test.ts: SKIPPED (${skipReason})`);
const it = skipReason === null ? test : test.skip;

// A holder process owns the mount namespace (its own bpffs) and the network namespace (veth va <-> vb); every
// helper and generator run enters both; killing it at the end takes all state with it.
let holder: ChildProcess | null = null;
let enter: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'x0-mapek-xdp-'));

async function startHolder(): Promise<void> {
  const h = await startNamespaceHolder(120);
  holder = h.child;
  enter = h.enter;
}

function value<T>(result: XdpResult<T>): T {
  if (!result.ok) throw new Error(`helper failed: ${result.reason}: ${result.message}`);
  return result.value;
}

let xdp: XdpBinding;
let executor: Executor;

/** Frames received on vb after XDP per source MAC while `send` runs (x0-xdp-gen count, a packet socket). */
async function received(send: () => Promise<void>): Promise<Record<string, number>> {
  const ready = join(dir, `ready-${Date.now()}`);
  const counter = spawn(
    enter[0] as string,
    [...enter.slice(1), gen, 'count', 'vb', '--seconds', '30', '--ready', ready],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  counter.stdout?.on('data', (chunk) => {
    out += chunk;
  });
  const exited = new Promise<void>((resolve) => counter.on('close', () => resolve()));
  for (let i = 0; i < 100 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(ready), 'the frame counter started');
  await send();
  // A passed frame reaches the packet socket in the same softirq run as XDP; this is slack for the veth's ring.
  await new Promise((r) => setTimeout(r, 300));
  counter.kill('SIGTERM');
  await exited;
  return (JSON.parse(out) as { received: Record<string, number> }).received;
}

async function send(...args: string[]): Promise<{ elapsedMs: number }> {
  const result = await run([...enter, gen, 'send', 'va', ...args]);
  assert.is(result.code, 0, `x0-xdp-gen send: ${result.stderr}`);
  return { elapsedMs: Number((JSON.parse(result.stdout) as { elapsed_ns: number }).elapsed_ns) / 1e6 };
}

const source = async (mac: string) => value(await xdp.stats()).sources.find((s) => s.mac === mac);
const bad = '02:00:00:00:00:21';
const good = '02:00:00:00:00:22';

it('isolate: the Executor blocks the MAC in XDP; its frames are dropped and counted, the others pass', async () => {
  await startHolder();
  xdp = new XdpBinding(platform, { helperArgv: [...enter, helper] });
  executor = new Executor({
    platform,
    primaryInterface: () => null,
    batctl: 'batctl',
    meshif: 'bat0',
    xdp: () => xdp,
    raft: () => null,
    restart: () => ({ ok: false, reason: 'unknown-component' }),
    ubus: 'ubus',
    ip: 'ip',
  });
  value(await xdp.attach('vb'));
  const before = await received(async () => {
    await send('--src', `${bad},${good}`, '--count', '20', '--ethertype', '0x4305');
  });
  assert.equal([before[bad], before[good]], [20, 20], 'both pass before the action');
  const r = await executor.execute({ kind: 'isolate', mac: bad });
  assert.ok(r.ok, `isolate: ${r.reason} ${r.detail}`);
  const entry = value(await xdp.status()).blocklist.find((b) => b.mac === bad);
  assert.is(entry?.reason, 'mapek');
  const during = await received(async () => {
    await send('--src', `${bad},${good}`, '--count', '50', '--ethertype', '0x4305');
  });
  assert.is(during[bad] ?? 0, 0, 'traffic from the isolated MAC stops');
  assert.is(during[good], 50, 'the others pass');
  assert.is((await source(bad))?.droppedBlocked, 50, 'the drop counter rose by what was sent');
  assert.is((await source(good))?.drops, 0);
});

it('lift: the Executor unblocks the MAC and clears the limit; its frames pass again', async () => {
  const r = await executor.execute({ kind: 'lift', mac: bad });
  assert.ok(r.ok, `lift: ${r.reason} ${r.detail}`);
  assert.match(r.detail, /was blocked: true/);
  assert.is(value(await xdp.status()).blocklist.length, 0);
  const after = await received(async () => {
    await send('--src', bad, '--count', '30', '--ethertype', '0x4305');
  });
  assert.is(after[bad], 30, 'the lifted MAC passes again');
  assert.is((await source(bad))?.droppedBlocked, 50, 'no new drops');
});

it('rate-limit: frames of batman-adv above the rate are dropped per source; other traffic is not limited', async () => {
  const rate = 200;
  const r = await executor.execute({ kind: 'rate-limit', mac: bad, pps: rate });
  assert.ok(r.ok, `rate-limit: ${r.reason} ${r.detail}`);
  assert.equal(
    value(await xdp.limits()).map((l) => [l.match, l.match === 'ethertype' ? l.ethertype : null, l.ratePps]),
    [['ethertype', 0x4305, rate]],
  );
  const droppedBefore = (await source(bad))?.droppedRate ?? 0;
  let elapsedMs = 0;
  const got = await received(async () => {
    // 1.5 s of a flood at 5x the rate from one source, alongside a quiet source and non-batman-adv frames.
    const [flood] = await Promise.all([
      send('--src', bad, '--count', '1500', '--pps', '1000', '--ethertype', '0x4305'),
      send('--src', good, '--count', '100', '--pps', '100', '--ethertype', '0x4305'),
      send('--src', '02:00:00:00:00:23', '--count', '1000', '--pps', '1000', '--ethertype', '0x88b5'),
    ]);
    elapsedMs = flood.elapsedMs;
  });
  const want = rate + (rate * elapsedMs) / 1000; // burst (= rate) + rate x time
  const passed = got[bad] ?? 0;
  assert.ok(
    passed >= want * 0.85 && passed <= want * 1.15,
    `flooding source: ${passed} of 1500 passed in ${Math.round(elapsedMs)} ms, want ${Math.round(want)} ±15%`,
  );
  console.log(
    `    rate-limit ${rate}/s: ${passed} of 1500 passed in ${Math.round(elapsedMs)} ms (want ${Math.round(want)})`,
  );
  assert.is(got[good], 100, 'a source under the rate is not held');
  assert.is(got['02:00:00:00:00:23'], 1000, 'other ethertypes are not limited');
  assert.is(((await source(bad))?.droppedRate ?? 0) - droppedBefore, 1500 - passed, 'drops counted by the program');
  const lifted = await executor.execute({ kind: 'lift', mac: bad });
  assert.ok(lifted.ok);
  assert.is(value(await xdp.limits()).length, 0, 'lift clears the limit');
  const again = await received(async () => {
    await send('--src', bad, '--count', '600', '--pps', '1000', '--ethertype', '0x4305');
  });
  assert.is(again[bad], 600, 'after lift the same flood passes whole');
});

test.after(() => {
  if (holder?.pid !== undefined) holder.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test.run();
