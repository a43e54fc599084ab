// `x0 raft serve` start-up failures are operating errors, not bugs: on Node and on x0-runtime (the shipped
// bundle) each prints one line naming the operation, the path or address and the errno name (or the storage
// reason), exits 1 as `x0 raft --help` documents, and shows no stack trace.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundlePath, freePort, root, run, runtimePath } from '../lib/processes.js';
import { nodeFiles } from '../../src/platform/node/index.js';
import { RaftStorage } from '../../src/raft/storage.js';
import { encodeConf } from '../../src/core/raft/conf.js';
import type { Entry, HardState, Ready } from '../../src/core/raft/types.js';

const engines = ['node', 'qjs'] as const;
const dir = mkdtempSync(join(tmpdir(), 'x0-raft-startup-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const x0 = (engine: (typeof engines)[number], args: string[]): string[] =>
  engine === 'node'
    ? ['node', '--import', 'tsx', `${root}src/entry/node.ts`, ...args]
    : [runtimePath, bundlePath, ...args];

async function serve(
  engine: (typeof engines)[number],
  data: string,
  port: number,
): Promise<{ code: number | null; lines: string[]; all: string }> {
  const result = await run(
    x0(engine, [
      'raft',
      'serve',
      '--plain',
      '--id',
      '1',
      '--peers',
      `1=127.0.0.1:${port}`,
      '--data',
      data,
      '--run-for',
      '3s',
    ]),
    20_000,
  );
  const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
  return { code: result.code, lines, all: `${result.stdout}${result.stderr}` };
}

function oneLine(outcome: { code: number | null; lines: string[]; all: string }, pattern: RegExp): void {
  assert.is(outcome.code, 1, outcome.all);
  assert.is(outcome.lines.length, 1, `one line expected:\n${outcome.all}`);
  assert.match(outcome.lines[0] as string, pattern);
  assert.not.match(outcome.all, /^\s+at |internal error|Error:/m);
}

/** A data directory whose last segment has a flipped bit in its first append, with later appends after it. */
function damagedDataDir(): string {
  const data = mkdtempSync(join(dir, 'damaged-'));
  const opened = RaftStorage.open(nodeFiles, data);
  assert.ok(opened.ok);
  if (!opened.ok) return data;
  const ready = (hardState: HardState | null, entries: Entry[]): Ready => ({
    softState: null,
    hardState,
    entries,
    snapshot: null,
    committedEntries: [],
    messages: [],
    readStates: [],
  });
  opened.value.storage.save(
    ready({ term: 1, vote: 0, commit: 1 }, [
      { index: 1, term: 1, type: 'conf', data: encodeConf({ voters: [1], learners: [] }) },
    ]),
  );
  opened.value.storage.save(
    ready({ term: 2, vote: 1, commit: 1 }, [{ index: 2, term: 2, type: 'normal', data: new Uint8Array(0) }]),
  );
  const file = join(data, readdirSync(data).find((n) => n.startsWith('wal-')) as string);
  const bytes = readFileSync(file);
  bytes[40] = (bytes[40] as number) ^ 0x10;
  writeFileSync(file, bytes);
  return data;
}

for (const engine of engines) {
  test(`${engine}: a --data path that cannot be a directory: one line with the path and the errno, exit 1`, async () => {
    if (engine === 'qjs')
      assert.ok(
        existsSync(runtimePath) && existsSync(bundlePath),
        'build x0-runtime and the bundle first (bash scripts/setup.sh)',
      );
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    oneLine(
      await serve(engine, join(file, 'raft'), await freePort()),
      /^x0 raft serve: cannot open raft data directory .*a-file\/raft: (ENOTDIR|EEXIST) \(--state-dir or --data must be/,
    );
  });

  test(`${engine}: an address already in use: one line with the address and EADDRINUSE, exit 1`, async () => {
    const port = await freePort();
    const holder = createSocket('udp4');
    await new Promise<void>((resolve) => holder.bind(port, '127.0.0.1', resolve));
    try {
      oneLine(
        await serve(engine, mkdtempSync(join(dir, 'bind-')), port),
        new RegExp(`^x0 raft serve: cannot bind udp 127\\.0\\.0\\.1:${port}: EADDRINUSE`),
      );
    } finally {
      holder.close();
    }
  });

  test(`${engine}: a log damaged in the middle is refused with where and what to do, exit 1`, async () => {
    oneLine(
      await serve(engine, damagedDataDir(), await freePort()),
      /^x0 raft serve: raft data in .* refused \(wal-corrupt\): .*wal-00000001\.log: bad record at byte \d+ .* move .* aside, remove node 1/,
    );
  });
}

test.run();
