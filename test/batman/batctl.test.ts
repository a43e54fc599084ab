// The agent's batman-adv reader over a replay of batctl's recorded answers (recorded.ts): tables joined into
// neighbours with TQ, and every way batctl can fail turned into a counted reason, never a throw.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BatctlReader } from '../../src/batman/batctl.js';
import { batmanRowsMax } from '../../src/batman/limits.js';
import type { ExecOptions, ExecResult, Platform } from '../../src/platform/types.js';
import { utf8 } from '../../src/core/wire/hex.js';
import { lowerInterfaces } from '../../src/batman/batctl.js';
import {
  absentExitCode,
  absentStderr,
  neighboursTable,
  originatorsEmpty,
  originatorsTable,
  ring5Node1Addresses,
  ring5Node1SysBat0,
} from './recorded.js';

type Answer = { code: number | null; stdout?: string; stderr?: string; timedOut?: boolean; truncated?: boolean };

/** sysfs as recorded on node 1 of the lab's ring (recorded.ts): bat0's directory and each interface's address. */
const sysfs = {
  list: (dir: string) => (dir === '/sys/class/net/bat0' ? [...ring5Node1SysBat0] : []),
  readText: (path: string) => ring5Node1Addresses[path] ?? null,
};

function replay(
  answers: Record<string, Answer>,
  seen: Array<{ argv: readonly string[]; options: ExecOptions | undefined }> = [],
): Platform {
  const exec = async (argv: readonly string[], options?: ExecOptions): Promise<ExecResult> => {
    seen.push({ argv, options });
    const a = answers[argv.slice(1).join(' ')] ?? { code: 127, stderr: `${argv[0]}: not found\n` };
    return {
      code: a.code,
      stdout: utf8(a.stdout ?? ''),
      stderr: utf8(a.stderr ?? ''),
      timedOut: a.timedOut ?? false,
      truncated: a.truncated ?? false,
    };
  };
  return { exec, files: sysfs } as unknown as Platform;
}

const healthy = {
  'meshif bat0 neighbors -H': { code: 0, stdout: neighboursTable },
  'meshif bat0 originators': { code: 0, stdout: originatorsTable },
};

test('neighbours carry the TQ of their own originator row and the node its primary MAC', async () => {
  const seen: Array<{ argv: readonly string[]; options: ExecOptions | undefined }> = [];
  const view = await new BatctlReader(replay(healthy, seen)).meshView('bat0');
  assert.ok(view.ok);
  if (!view.ok) return;
  assert.is(view.value.primaryMac, '52:54:00:01:00:01');
  assert.equal(view.value.neighbours, [
    { iface: 'eth1', neighbour: '52:54:00:02:00:01', lastSeenMs: 972, tq: 55, best: true },
  ]);
  assert.is(view.value.originators.length, 2);
  assert.is(view.value.truncated, false);
  // batctl is run directly (no shell), bounded in time and output.
  assert.equal(
    seen.map((s) => s.argv),
    [
      ['batctl', 'meshif', 'bat0', 'neighbors', '-H'],
      ['batctl', 'meshif', 'bat0', 'originators'],
    ],
  );
  for (const s of seen) assert.ok((s.options?.timeoutMs ?? 0) > 0 && (s.options?.maxOutputBytes ?? 0) > 0);
});

test("the node's own interfaces under bat0 come from sysfs lower_* links and their addresses", async () => {
  const view = await new BatctlReader(replay(healthy)).meshView('bat0');
  assert.ok(view.ok);
  if (!view.ok) return;
  assert.equal(view.value.interfaces, [
    { name: 'eth1', mac: '52:54:00:01:00:01' },
    { name: 'eth2', mac: '52:54:00:01:04:01' },
  ]);
  // Only lower_ links with a valid interface name count; an interface without a readable MAC is left out.
  assert.equal(lowerInterfaces(['lower_eth1', 'lower_../x', 'upper_bat0', 'lower_', 'address']), ['eth1']);
  const noAddress = {
    ...replay(healthy),
    files: { list: () => ['lower_wlan0'], readText: () => null },
  } as unknown as Platform;
  assert.equal(new BatctlReader(noAddress).hardInterfaces('bat0'), []);
});

test('a neighbour heard before its first OGM has no TQ yet', async () => {
  const view = await new BatctlReader(
    replay({ ...healthy, 'meshif bat0 originators': { code: 0, stdout: originatorsEmpty } }),
  ).meshView();
  assert.ok(view.ok && view.value.neighbours[0]!.tq === null && view.value.neighbours[0]!.best === false);
});

test('a missing mesh interface, a missing batctl, a hung batctl and other failures are counted reasons', async () => {
  const absent = new BatctlReader(
    replay({ 'meshif bat9 neighbors -H': { code: absentExitCode, stderr: absentStderr } }),
  );
  assert.equal(await absent.meshView('bat9'), { ok: false, reason: 'meshif-absent' });
  assert.is(absent.counters.get('meshif-absent'), 1);
  assert.equal(await new BatctlReader(replay({})).meshView(), { ok: false, reason: 'batctl-missing' });
  const hung = { 'meshif bat0 neighbors -H': { code: null, timedOut: true } };
  assert.equal(await new BatctlReader(replay(hung)).meshView(), { ok: false, reason: 'batctl-timeout' });
  const odd = { 'meshif bat0 neighbors -H': { code: 3, stderr: 'something else\n' } };
  assert.equal(await new BatctlReader(replay(odd)).meshView(), { ok: false, reason: 'batctl-failed' });
  const throwing = {
    exec: async () => {
      throw new Error('ENOENT');
    },
  } as unknown as Platform;
  assert.equal(await new BatctlReader(throwing).meshView(), { ok: false, reason: 'batctl-missing' });
});

test('an answer without the originator header (exit 0, output lost on the way) is incomplete, not an empty mesh', async () => {
  // What the old exec gave on a starved router (test/native/platform.node.test.ts, "a starved loop"): exit 0, no
  // output. Taken as "no neighbours" it wiped the node's links from its mesh-document section while batctl had them.
  const lost = { ...healthy, 'meshif bat0 originators': { code: 0, stdout: '' } };
  const reader = new BatctlReader(replay(lost));
  assert.equal(await reader.meshView(), { ok: false, reason: 'batctl-incomplete' });
  assert.is(reader.counters.get('batctl-incomplete'), 1);
  const headerOnly = { ...healthy, 'meshif bat0 originators': { code: 0, stdout: originatorsEmpty } };
  assert.ok((await new BatctlReader(replay(headerOnly)).meshView()).ok, 'a header without rows is a real empty table');
});

test('an interface name that is not one is refused before batctl runs', async () => {
  const seen: Array<{ argv: readonly string[]; options: ExecOptions | undefined }> = [];
  const reader = new BatctlReader(replay(healthy, seen));
  for (const name of ['', 'a b', 'bat0;reboot', 'x'.repeat(16), '../bat0'])
    assert.equal(await reader.meshView(name), { ok: false, reason: 'meshif-invalid' });
  assert.is(seen.length, 0);
});

test('tables longer than the limit are cut and reported', async () => {
  const row = (i: number) =>
    `  eth1\t  02:00:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}    0.100s`;
  const many = Array.from({ length: batmanRowsMax + 5 }, (_, i) => row(i)).join('\n');
  const reader = new BatctlReader(replay({ ...healthy, 'meshif bat0 neighbors -H': { code: 0, stdout: many } }));
  const view = await reader.meshView();
  assert.ok(view.ok && view.value.neighbours.length === batmanRowsMax && view.value.truncated);
  assert.is(reader.counters.get('table-truncated'), 1);
});

test.run();
