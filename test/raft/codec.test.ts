// The Raft wire codec: every message type round-trips; mutated or random bytes never throw, they are refused
// with a reason code (the decoder faces the network).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeMessage, encodeMessage } from '../../src/core/raft/codec.js';
import { encodeConf } from '../../src/core/raft/conf.js';
import type { Message } from '../../src/core/raft/types.js';
import { decodePacket, encodeRaftPacket, encodeReply, encodeRequest } from '../../src/raft/protocol.js';
import { Rng } from '../../src/core/rng.js';
import { ByteReader, ByteWriter, optStrBytes, strBytes } from '../../src/core/raft/bytes.js';
import {
  decodeRequest as decodeCommand,
  encodeRequest as encodeCommand,
  type KvCommand,
} from '../../src/core/raft/kv.js';

const h = { term: 7, from: 1, to: 2 };
const meta = { index: 40, term: 6, conf: { voters: [1, 2, 3], learners: [4] } };
const samples: Message[] = [
  { type: 'prevote', ...h, lastIndex: 9, lastTerm: 6, transfer: false },
  { type: 'vote', ...h, lastIndex: 9, lastTerm: 6, transfer: true },
  { type: 'prevote-resp', ...h, reject: true },
  { type: 'vote-resp', ...h, reject: false },
  {
    type: 'app',
    ...h,
    prevIndex: 3,
    prevTerm: 5,
    commit: 3,
    entries: [
      { index: 4, term: 6, type: 'normal', data: new Uint8Array([1, 2]) },
      { index: 5, term: 7, type: 'conf', data: encodeConf(meta.conf) },
    ],
  },
  { type: 'app-resp', ...h, index: 5, reject: true, hintIndex: 3, hintTerm: 5 },
  { type: 'heartbeat', ...h, commit: 5, ctx: 3 },
  { type: 'heartbeat-resp', ...h, ctx: 3 },
  { type: 'snap', ...h, meta, offset: 4, total: 10, chunk: new Uint8Array([9, 9, 9]) },
  { type: 'snap-resp', ...h, index: 40, offset: 7, reject: false },
  { type: 'timeout-now', ...h },
  { type: 'read-index', ...h, id: 12 },
  { type: 'read-index-resp', ...h, id: 12, index: 40, reject: false },
];

test('every message type round-trips through CBOR', () => {
  for (const m of samples) {
    const decoded = decodeMessage(encodeMessage(m));
    assert.ok(decoded.ok, m.type);
    if (decoded.ok) assert.equal(decoded.value, m);
  }
});

test('inconsistent messages are refused with a reason, before the core sees them', () => {
  const app = samples[4] as Extract<Message, { type: 'app' }>;
  const gap = { ...app, entries: [{ ...app.entries[0], index: 9 }] } as Message;
  assert.equal(decodeMessage(encodeMessage(gap)), { ok: false, reason: 'raft-msg-bad-entries' });
  const future = { ...app, entries: [{ index: 4, term: 8, type: 'normal', data: new Uint8Array(0) }] } as Message;
  assert.equal(decodeMessage(encodeMessage(future)), { ok: false, reason: 'raft-msg-bad-entries' });
  const badConf = { ...app, entries: [{ index: 4, term: 6, type: 'conf', data: new Uint8Array([1]) }] } as Message;
  assert.equal(decodeMessage(encodeMessage(badConf)), { ok: false, reason: 'raft-msg-bad-entries' });
  assert.equal(decodeMessage(encodeMessage({ ...h, type: 'heartbeat', commit: -1, ctx: 0 })), {
    ok: false,
    reason: 'raft-msg-bad-field',
  });
  assert.equal(decodeMessage(encodeMessage({ ...h, from: 0, type: 'timeout-now' })), {
    ok: false,
    reason: 'raft-msg-bad-field',
  });
  assert.equal(decodeMessage(new Uint8Array(70_000)), { ok: false, reason: 'raft-msg-too-large' });
});

test('mutated and random datagrams never throw', () => {
  const rng = new Rng(4242);
  const packets = [
    ...samples.map(encodeRaftPacket),
    encodeRequest(1, { op: 'get', key: 'k' }),
    encodeReply(1, { ok: true, value: 'v', index: 3 }),
  ];
  for (let i = 0; i < 400; i++) {
    const base = new Uint8Array(rng.pick(packets));
    const mutated = rng.chance(0.2) ? rng.bytes(rng.int(64)) : base.subarray(0, rng.int(base.length + 1));
    for (let j = 0; j < 3 && mutated.length > 0; j++) mutated[rng.int(mutated.length)] = rng.int(256);
    const result = decodePacket(mutated);
    assert.type(result.ok, 'boolean');
  }
});

test('client requests and replies round-trip; bad ones are refused', () => {
  const put = decodePacket(
    encodeRequest(5, { op: 'write', client: 3, seq: 4, command: { op: 'cas', key: 'k', expected: null, value: 'v' } }),
  );
  assert.ok(put.ok && put.value.kind === 'request' && put.value.request.op === 'write');
  if (put.ok && put.value.kind === 'request' && put.value.request.op === 'write') {
    const { encoded, ...request } = put.value.request;
    assert.equal(request, {
      op: 'write',
      client: 3,
      seq: 4,
      command: { op: 'cas', key: 'k', expected: null, value: 'v' },
    });
    assert.ok(encoded instanceof Uint8Array, 'the command bytes go into the log as they came');
  }
  const bad = decodePacket(
    encodeRequest(5, { op: 'write', client: 3, seq: 4, command: { op: 'put', key: '', value: 'v' } }),
  );
  assert.equal(bad, { ok: false, reason: 'request-malformed' });
  assert.equal(decodePacket(new Uint8Array([9, 1])), { ok: false, reason: 'packet-unknown-tag' });
});

test('every number in a Raft message is bounded by its kind, at decode', () => {
  const edge = 2 ** 52 - 1;
  const past = 2 ** 52;
  assert.ok(
    decodeMessage(encodeMessage({ ...h, term: edge, type: 'heartbeat', commit: edge, ctx: edge })).ok,
    'the top of each range decodes',
  );
  for (const m of [
    { ...h, term: past, type: 'timeout-now' },
    { ...h, type: 'heartbeat', commit: past, ctx: 0 },
    { ...h, type: 'heartbeat-resp', ctx: past },
    { ...h, type: 'app-resp', index: 1, reject: true, hintIndex: past, hintTerm: 0 },
    { ...h, type: 'vote', lastIndex: 1, lastTerm: past, transfer: false },
    { ...h, type: 'read-index', id: past },
    { ...h, type: 'snap-resp', index: 1, offset: 16 * 1024 * 1024 + 1, reject: false },
    { ...h, to: 65_536, type: 'timeout-now' },
  ] as Message[]) {
    assert.equal(decodeMessage(encodeMessage(m)), { ok: false, reason: 'raft-msg-bad-field' }, JSON.stringify(m));
  }
  const noVoter = { ...samples[8], meta: { index: 40, term: 6, conf: { voters: [], learners: [4] } } } as Message;
  assert.equal(decodeMessage(encodeMessage(noVoter)), { ok: false, reason: 'raft-msg-bad-entries' });
});

test('client packets bound their numbers too: node ids, indexes, leader hints', () => {
  assert.equal(decodePacket(encodeRequest(1, { op: 'admin', action: 'add-learner', node: 70_000 })), {
    ok: false,
    reason: 'request-malformed',
  });
  assert.ok(decodePacket(encodeRequest(1, { op: 'admin', action: 'add-learner', node: 65_535 })).ok);
  assert.equal(decodePacket(encodeReply(1, { ok: true, value: 'v', index: 2 ** 53 - 1 })), {
    ok: false,
    reason: 'reply-malformed',
  });
  assert.equal(decodePacket(encodeReply(1, { ok: false, reason: 'not-leader', leader: 2 ** 40 })), {
    ok: false,
    reason: 'reply-malformed',
  });
  assert.ok(decodePacket(encodeReply(1, { ok: false, reason: 'not-leader', leader: 3 })).ok);
  const status = {
    id: 1,
    role: 'leader',
    term: 2 ** 60,
    lead: 1,
    commit: 1,
    applied: 1,
    lastIndex: 1,
    voters: [1],
    learners: [],
    keys: 0,
    bytesWritten: 0,
    appends: 0,
  };
  assert.equal(decodePacket(encodeReply(1, { ok: true, status })), { ok: false, reason: 'reply-malformed' });
  assert.ok(decodePacket(encodeReply(1, { ok: true, status: { ...status, term: 5 } })).ok);
});

test('the binary layouts round-trip any string, and refuse bad UTF-8 and overruns', () => {
  const strings = ['', 'ascii', 'ключ', '鍵', 'emoji 🛰️ mesh', 'lone \ud800 surrogate'];
  for (const text of strings) {
    const w = new ByteWriter(strBytes(text) + optStrBytes(null)).str(text).optStr(null);
    const r = new ByteReader(w.bytes, 1000);
    assert.is(r.str(), text.replace('\ud800', '\ufffd'));
    assert.is(r.optStr(), null);
    assert.ok(r.ok && r.done);
  }
  const overlong = new ByteWriter(6).u32(2).u8(0xc0).u8(0x80).bytes;
  const bad = new ByteReader(overlong, 100);
  bad.str();
  assert.is(bad.ok, false);
  const short = new ByteReader(new ByteWriter(4).u32(10).bytes, 100);
  short.str();
  assert.is(short.ok, false);
  const big = new ByteWriter(8).u64(2 ** 53 - 1).bytes;
  assert.is(new ByteReader(big, 0).u64(), 2 ** 53 - 1);
});

test('KV commands round-trip through their log encoding', () => {
  const commands: KvCommand[] = [
    { op: 'put', key: 'node/ключ', value: 'v🛰️' },
    { op: 'del', key: 'k' },
    { op: 'cas', key: 'k', expected: null, value: 'x' },
    { op: 'cas', key: 'k', expected: 'x', value: null },
  ];
  for (const command of commands) {
    const request = { client: 2 ** 40 + 3, seq: 77, command };
    assert.equal(decodeCommand(encodeCommand(request)), request);
  }
  const bytes = encodeCommand({ client: 1, seq: 1, command: { op: 'put', key: 'k', value: 'v' } });
  assert.is(decodeCommand(bytes.subarray(0, bytes.length - 1)), null);
  assert.is(decodeCommand(new Uint8Array([...bytes, 0])), null, 'trailing bytes');
});

test.run();
