// Durable Raft storage on real files (the Node platform's files, fsync and atomic rename included).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeFiles } from '../../src/platform/node/index.js';
import { RaftStorage } from '../../src/raft/storage.js';
import { crc32 } from '../../src/raft/crc32.js';
import type { Entry, HardState, Ready, Snapshot } from '../../src/core/raft/types.js';
import { encodeConf } from '../../src/core/raft/conf.js';

const dirs: string[] = [];
const fresh = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'x0-raft-storage-'));
  dirs.push(dir);
  return dir;
};
test.after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const conf = { voters: [1, 2, 3], learners: [] };
const entry = (index: number, term: number, text = `e${index}`): Entry => ({
  index,
  term,
  type: index === 1 ? 'conf' : 'normal',
  data: index === 1 ? encodeConf(conf) : new TextEncoder().encode(text),
});
const ready = (hardState: HardState | null, entries: Entry[], snapshot: Snapshot | null = null): Ready => ({
  softState: null,
  hardState,
  entries,
  snapshot,
  committedEntries: [],
  messages: [],
  readStates: [],
});
const open = (dir: string) => {
  const opened = RaftStorage.open(nodeFiles, dir);
  assert.ok(opened.ok, opened.ok ? '' : opened.reason);
  return opened.ok ? opened.value : (null as never);
};
const segments = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith('wal-'));

test('a write the flash refuses stops the node with an assertion naming it (acknowledged means on flash); opening an unusable directory is a refusal', () => {
  const dir = fresh();
  let refuse: string | null = null;
  const files = { ...nodeFiles, append: (path: string, data: Uint8Array) => refuse ?? nodeFiles.append(path, data) };
  const opened = RaftStorage.open(files, dir);
  assert.ok(opened.ok);
  const { storage } = opened.ok ? opened.value : (null as never);
  storage.save(ready({ term: 1, vote: 1, commit: 0 }, [entry(1, 1)]));
  refuse = 'ENOSPC';
  assert.throws(
    () => storage.save(ready({ term: 1, vote: 1, commit: 1 }, [entry(2, 1)])),
    /raft storage: append .*wal-.* failed: ENOSPC/,
  );
  writeFileSync(join(dir, 'in-the-way'), 'x');
  const blocked = RaftStorage.open(nodeFiles, join(dir, 'in-the-way', 'raft'));
  assert.equal(blocked.ok ? null : [blocked.reason, blocked.detail], ['dir-unusable', 'ENOTDIR']);
});

test('an empty directory opens with nothing stored', () => {
  assert.is(open(fresh()).stored, null);
});

test('hard state and entries come back after a restart, later entries replacing earlier ones', () => {
  const dir = fresh();
  const { storage } = open(dir);
  storage.save(ready({ term: 1, vote: 0, commit: 1 }, [entry(1, 1), entry(2, 1), entry(3, 1)]));
  storage.save(ready({ term: 2, vote: 3, commit: 2 }, [entry(3, 2, 'replaced'), entry(4, 2)]));
  assert.is(storage.appends, 3, 'one append (one fsync) per Ready, plus the segment header');
  const { stored } = open(dir);
  assert.equal(stored?.hardState, { term: 2, vote: 3, commit: 2 });
  assert.equal(
    stored?.entries.map((e) => [e.index, e.term]),
    [
      [1, 1],
      [2, 1],
      [3, 2],
      [4, 2],
    ],
  );
  assert.equal(new TextDecoder().decode(stored?.entries[2]?.data), 'replaced');
});

test('a Ready that only moves the commit index costs no write; the commit rides with the next record', () => {
  const dir = fresh();
  const { storage } = open(dir);
  storage.save(ready({ term: 1, vote: 0, commit: 1 }, [entry(1, 1), entry(2, 1)]));
  const written = storage.bytesWritten;
  storage.save(ready({ term: 1, vote: 0, commit: 2 }, []));
  assert.is(storage.bytesWritten, written);
  assert.is(open(dir).stored?.hardState.commit, 1, 'a restart re-learns the commit from the leader');
  storage.save(ready({ term: 2, vote: 2, commit: 2 }, []));
  assert.ok(storage.bytesWritten > written, 'a vote is written at once');
  assert.equal(open(dir).stored?.hardState, { term: 2, vote: 2, commit: 2 });
});

test('a torn tail is cut back to its last whole record, and the node starts', () => {
  const dir = fresh();
  const { storage } = open(dir);
  storage.save(ready({ term: 1, vote: 0, commit: 1 }, [entry(1, 1), entry(2, 1)]));
  const file = join(dir, segments(dir)[0] as string);
  const good = statSync(file).size;
  storage.save(ready(null, [entry(3, 1), entry(4, 1)]));
  const full = readFileSync(file);
  writeFileSync(file, full.subarray(0, full.length - 5)); // power lost mid-append
  const reopened = open(dir);
  assert.equal(
    reopened.stored?.entries.map((e) => e.index),
    [1, 2, 3],
  );
  assert.is(reopened.storage.counters.get('wal-torn-tail'), 1);
  assert.ok(statSync(file).size > good && statSync(file).size < full.length - 5 + 1);
  reopened.storage.save(ready(null, [entry(4, 1, 'again')]));
  assert.equal(
    open(dir).stored?.entries.map((e) => e.index),
    [1, 2, 3, 4],
  );
});

test('a torn append never leaves a commit index ahead of the entries it covers (simulator seed 243)', () => {
  const dir = fresh();
  const { storage } = open(dir);
  storage.save(ready({ term: 2, vote: 0, commit: 1 }, [entry(1, 1), entry(2, 2), entry(3, 2)]));
  storage.save(ready({ term: 3, vote: 0, commit: 3 }, [entry(3, 3, 'new leader')]));
  const file = join(dir, segments(dir)[0] as string);
  const full = readFileSync(file);
  writeFileSync(file, full.subarray(0, full.length - 30)); // lose the trailing commit record and part of the entry
  const { stored } = open(dir);
  assert.is(stored?.hardState.term, 3, 'the new term made it');
  assert.is(stored?.hardState.commit, 1, 'the new commit did not, so entry 3 (term 2) is not taken as committed');
  assert.equal(
    stored?.entries.map((e) => `${e.index}:${e.term}`),
    ['1:1', '2:2', '3:2'],
  );
});

test('a flipped bit in a closed segment is corruption: refused, not silently dropped', () => {
  const dir = fresh();
  const { storage } = open(dir);
  storage.save(ready({ term: 1, vote: 0, commit: 1 }, [entry(1, 1)]));
  const first = join(dir, segments(dir)[0] as string);
  appendFileSync(join(dir, 'wal-00000002.log'), readFileSync(first)); // a later segment exists
  const bytes = readFileSync(first);
  bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0x40;
  writeFileSync(first, bytes);
  const opened = RaftStorage.open(nodeFiles, dir);
  assert.is(opened.ok ? 'opened' : opened.reason, 'wal-corrupt');
  assert.match(
    opened.ok ? '' : opened.detail,
    /wal-00000001\.log: bad record at byte \d+ of \d+ \(not the last segment\)/,
  );
});

test('a damaged record in the middle of the last segment is corruption: refused with a named error, not cut as a torn tail', () => {
  const dir = fresh();
  const { storage } = open(dir);
  storage.save(ready({ term: 1, vote: 0, commit: 1 }, [entry(1, 1), entry(2, 1)]));
  const file = join(dir, segments(dir)[0] as string);
  const middle = statSync(file).size - 4; // inside entry 2's data
  storage.save(ready({ term: 2, vote: 3, commit: 2 }, [entry(3, 2)])); // later appends: acknowledged state
  storage.save(ready(null, [entry(4, 2)]));
  const bytes = readFileSync(file);
  bytes[middle] = (bytes[middle] as number) ^ 0x01;
  writeFileSync(file, bytes);
  const opened = RaftStorage.open(nodeFiles, dir);
  assert.is(opened.ok, false, 'the node must not start on a log with a hole in it');
  assert.is(opened.ok ? '' : opened.reason, 'wal-corrupt');
  assert.match(
    opened.ok ? '' : opened.detail,
    /wal-00000001\.log: bad record at byte \d+ of \d+, followed by a later append/,
  );
  assert.equal(readFileSync(file), bytes, 'nothing was cut: the damaged file is left for the operator');
});

test('a record with a good checksum but a term or index out of range is refused, never loaded', () => {
  for (const [name, payload] of [
    [
      'term past termMax',
      (() => {
        const p = new Uint8Array(21);
        new DataView(p.buffer).setUint32(1, 0x0020_0000);
        return p;
      })(),
    ],
    [
      'vote not a node id',
      (() => {
        const p = new Uint8Array(21);
        new DataView(p.buffer).setUint32(9, 0x1_0000);
        return p;
      })(),
    ],
    [
      'conf entry that does not decode',
      (() => {
        const p = new Uint8Array(19);
        p[0] = 1;
        p[8] = 2;
        p[16] = 1;
        p[17] = 1;
        p[18] = 0xff;
        return p;
      })(),
    ],
  ] as const) {
    const dir = fresh();
    const { storage } = open(dir);
    storage.save(ready({ term: 1, vote: 0, commit: 1 }, [entry(1, 1)]));
    const framed = new Uint8Array(8 + payload.length);
    new DataView(framed.buffer).setUint32(0, payload.length);
    new DataView(framed.buffer).setUint32(4, crc32(payload));
    framed.set(payload, 8);
    const file = join(dir, segments(dir)[0] as string);
    const good = readFileSync(file);
    writeFileSync(file, Buffer.concat([good, framed, good.subarray(0, 29)])); // followed by a later append
    const opened = RaftStorage.open(nodeFiles, dir);
    assert.is(opened.ok ? 'opened' : opened.reason, 'wal-corrupt', name);
  }
});

test('a snapshot compacts the log: covered segments are removed, the tail survives', () => {
  const dir = fresh();
  const { storage } = open(dir);
  const big = 'x'.repeat(8000);
  storage.save(ready({ term: 1, vote: 0, commit: 1 }, [entry(1, 1)]));
  for (let i = 2; i <= 300; i++) storage.save(ready({ term: 1, vote: 0, commit: i - 1 }, [entry(i, 1, big)]));
  const before = segments(dir).length;
  assert.ok(before >= 2, `${before} segments`);
  storage.saveSnapshot({ meta: { index: 290, term: 1, conf }, data: new Uint8Array([7, 7]) });
  assert.ok(segments(dir).length < before);
  const { stored } = open(dir);
  assert.is(stored?.snapshot?.meta.index, 290);
  assert.equal(stored?.snapshot?.data, new Uint8Array([7, 7]));
  assert.equal(
    stored?.entries.map((e) => e.index),
    Array.from({ length: 10 }, (_, i) => 291 + i),
  );
  assert.is(stored?.hardState.commit, 299);
});

test('a snapshot received from the leader replaces the whole log', () => {
  const dir = fresh();
  const { storage } = open(dir);
  storage.save(ready({ term: 1, vote: 0, commit: 1 }, [entry(1, 1), entry(2, 1), entry(3, 1)]));
  const snapshot = { meta: { index: 50, term: 4, conf }, data: new Uint8Array([1, 2, 3]) };
  storage.save(ready({ term: 4, vote: 0, commit: 50 }, [], snapshot));
  storage.save(ready(null, [entry(51, 4)]));
  const { stored } = open(dir);
  assert.is(stored?.snapshot?.meta.index, 50);
  assert.equal(
    stored?.entries.map((e) => e.index),
    [51],
  );
  assert.equal(stored?.hardState, { term: 4, vote: 0, commit: 50 });
  assert.equal(segments(dir).length, 1);
});

test('a corrupt snapshot file refuses to start', () => {
  const dir = fresh();
  const { storage } = open(dir);
  storage.saveSnapshot({ meta: { index: 5, term: 1, conf }, data: new Uint8Array([1]) });
  const file = join(dir, 'snapshot');
  const bytes = readFileSync(file);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
  writeFileSync(file, bytes);
  const opened = RaftStorage.open(nodeFiles, dir);
  assert.is(opened.ok ? 'opened' : opened.reason, 'snapshot-corrupt');
  assert.match(opened.ok ? '' : opened.detail, /snapshot: bad checksum/);
});

test.run();
