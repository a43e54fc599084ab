// The replicated KV state machine and the client service on top of the Raft core.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeRequest, encodeRequest, KvStore, type KvCommand, type KvEvent } from '../../src/core/raft/kv.js';
import { KvService, type ClientReply } from '../../src/core/raft/kv-service.js';
import { kvSessionsMax, kvWatchersMax } from '../../src/core/raft/limits.js';
import { TestNet } from './net.js';
import { RemoteWatchers } from '../../src/raft/watchers.js';
import { watchLeaseTicks } from '../../src/raft/limits.js';

let index = 0;
const apply = (kv: KvStore, client: number, seq: number, command: KvCommand) =>
  kv.apply(++index, encodeRequest({ client, seq, command }));

test('put, get, delete and compare-and-set return the previous value', () => {
  const kv = new KvStore();
  assert.equal(apply(kv, 1, 1, { op: 'put', key: 'a', value: '1' }), { ok: true, prev: null });
  assert.is(kv.get('a'), '1');
  assert.equal(apply(kv, 1, 2, { op: 'cas', key: 'a', expected: '0', value: '2' }), {
    ok: false,
    prev: '1',
    reason: 'kv-cas-mismatch',
  });
  assert.equal(apply(kv, 1, 3, { op: 'cas', key: 'a', expected: '1', value: '2' }), { ok: true, prev: '1' });
  assert.equal(apply(kv, 1, 4, { op: 'cas', key: 'b', expected: null, value: 'new' }), { ok: true, prev: null });
  assert.equal(apply(kv, 1, 5, { op: 'del', key: 'a' }), { ok: true, prev: '2' });
  assert.is(kv.get('a'), null);
});

test('prefix list is sorted and bounded', () => {
  const kv = new KvStore();
  for (const key of ['node/b', 'node/a', 'policy/x', 'node/c']) apply(kv, 2, index + 1, { op: 'put', key, value: key });
  assert.equal(
    kv.list('node/').map(([k]) => k),
    ['node/a', 'node/b', 'node/c'],
  );
  assert.is(kv.list('node/', 2).length, 2);
  assert.equal(kv.list('nothing'), []);
});

test('a retried request (same client and sequence) is applied once and answered the same', () => {
  const kv = new KvStore();
  const first = apply(kv, 9, 1, { op: 'cas', key: 'k', expected: null, value: 'mine' });
  const retry = apply(kv, 9, 1, { op: 'cas', key: 'k', expected: null, value: 'mine' });
  assert.equal(retry, first);
  assert.equal(first, { ok: true, prev: null });
  apply(kv, 9, 2, { op: 'put', key: 'k', value: 'later' });
  assert.equal(apply(kv, 9, 1, { op: 'put', key: 'k', value: 'old' }), {
    ok: false,
    prev: null,
    reason: 'kv-stale-seq',
  });
  assert.is(kv.get('k'), 'later');
});

test('client sessions are bounded: the least recently used is forgotten', () => {
  const kv = new KvStore();
  for (let c = 1; c <= kvSessionsMax + 1; c++) apply(kv, c, 1, { op: 'put', key: 'x', value: String(c) });
  // Client 1 was evicted: its retry applies again (documented: sessions are a bounded cache).
  assert.equal(apply(kv, 1, 1, { op: 'put', key: 'x', value: '1' }), { ok: true, prev: String(kvSessionsMax + 1) });
});

test('watchers see changes under their prefix until they unsubscribe', () => {
  const kv = new KvStore();
  const events: KvEvent[] = [];
  const watch = kv.watch('cfg/', (e) => events.push(e));
  assert.ok(watch.ok);
  apply(kv, 3, 1, { op: 'put', key: 'cfg/a', value: '1' });
  apply(kv, 3, 2, { op: 'put', key: 'other', value: '1' });
  apply(kv, 3, 3, { op: 'del', key: 'cfg/a' });
  if (watch.ok) watch.value();
  apply(kv, 3, 4, { op: 'put', key: 'cfg/b', value: '2' });
  assert.equal(
    events.map((e) => [e.key, e.value]),
    [
      ['cfg/a', '1'],
      ['cfg/a', null],
    ],
  );
});

test('a snapshot restores the same data and sessions', () => {
  const kv = new KvStore();
  apply(kv, 4, 1, { op: 'put', key: 'a', value: '1' });
  apply(kv, 4, 2, { op: 'put', key: 'b', value: '2' });
  const copy = new KvStore();
  assert.ok(copy.restore(kv.snapshot()).ok);
  assert.equal(copy.snapshot(), kv.snapshot());
  const retry = copy.apply(++index, encodeRequest({ client: 4, seq: 2, command: { op: 'put', key: 'b', value: '2' } }));
  assert.equal(retry, { ok: true, prev: null }, 'the session came along: a retry is answered, not applied again');
  assert.equal(copy.restore(new Uint8Array([1, 2, 3])), { ok: false, reason: 'kv-bad-snapshot' });
});

test('malformed commands decode to null and apply deterministically as refused', () => {
  assert.is(decodeRequest(new Uint8Array([0xff, 0x00])), null);
  assert.is(decodeRequest(encodeRequest({ client: 1, seq: 1, command: { op: 'put', key: '', value: 'x' } })), null);
  const kv = new KvStore();
  assert.equal(kv.apply(++index, new Uint8Array([0x01])), { ok: false, prev: null, reason: 'kv-bad-command' });
  assert.is(kv.apply(++index, new Uint8Array(0)), null, "the leader's no-op");
});

test('the service proposes writes on the leader, redirects elsewhere, and reads via ReadIndex', () => {
  const net = new TestNet([1, 2, 3]);
  const leader = net.elect();
  const follower = [1, 2, 3].find((id) => id !== leader.id) as number;
  const services = new Map([...net.nodes].map(([id, node]) => [id, new KvService(node.raft, new KvStore())]));
  const feed = (): void => {
    for (const [id, node] of net.nodes) {
      const service = services.get(id) as KvService;
      service.apply(node.applied.splice(0));
      service.readStates(node.reads.splice(0));
    }
  };
  const replies: ClientReply[] = [];
  services
    .get(follower)
    ?.submit({ op: 'write', client: 5, seq: 1, command: { op: 'put', key: 'k', value: 'v' } }, (r) => replies.push(r));
  assert.equal(replies[0], { ok: false, reason: 'not-leader', leader: leader.id });
  services
    .get(leader.id)
    ?.submit({ op: 'write', client: 5, seq: 1, command: { op: 'put', key: 'k', value: 'v' } }, (r) => replies.push(r));
  for (let i = 0; i < 3; i++) {
    net.tick(1);
    feed();
  }
  assert.equal(replies[1], { ok: true, write: { ok: true, prev: null } });
  services.get(follower)?.submit({ op: 'get', key: 'k' }, (r) => replies.push(r));
  for (let i = 0; i < 3; i++) {
    net.tick(1);
    feed();
  }
  assert.equal(replies[2] !== undefined && 'value' in replies[2] ? replies[2].value : 'no answer', 'v');
});

test('remote watches match by prefix, lapse without renewal, and are bounded', () => {
  const pushed: [number, string][] = [];
  const watchers = new RemoteWatchers((_to, id, event) => pushed.push([id, event.key]));
  const to = { host: '127.0.0.1', port: 9 };
  assert.ok(watchers.watch(to, 1, 'cfg/'));
  watchers.changed({ key: 'cfg/a', value: '1', index: 5 });
  watchers.changed({ key: 'other', value: '1', index: 6 });
  assert.equal(pushed, [[1, 'cfg/a']]);
  for (let i = 0; i < watchLeaseTicks - 1; i++) watchers.tick();
  assert.ok(watchers.watch(to, 1, 'cfg/'), 'renewed');
  for (let i = 0; i < watchLeaseTicks; i++) watchers.tick();
  assert.is(watchers.size, 0, 'lapsed');
  for (let id = 0; id < kvWatchersMax; id++) assert.ok(watchers.watch(to, id, ''));
  assert.is(watchers.watch(to, 999, ''), false);
});

test.run();
