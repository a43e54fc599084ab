// Engine-neutral micro-benchmarks of what one replicated write costs the leader in CPU: decode the client's
// request, encode the command, frame the WAL record, encode the append to a follower (a batch of 16), decode
// the follower's answer, apply the command, encode the reply.
import { decodeMessage, encodeMessage } from '../../src/core/raft/codec.js';
import { encodeRequest as encodeCommand, KvStore } from '../../src/core/raft/kv.js';
import type { Entry, Message } from '../../src/core/raft/types.js';
import { decodePacket, encodeReply, encodeRequest } from '../../src/raft/protocol.js';
import { crc32 } from '../../src/raft/crc32.js';
import { measure, type Measurement } from './measure.js';

export function raftMicroSuite(nowMs: () => number, budgetMs: number): Measurement[] {
  const value = 'v'.repeat(64);
  const request = encodeRequest(7, {
    op: 'write',
    client: 123456789,
    seq: 42,
    command: { op: 'put', key: 'bench/17', value },
  });
  const command = encodeCommand({ client: 123456789, seq: 42, command: { op: 'put', key: 'bench/17', value } });
  const batch: Entry[] = Array.from({ length: 16 }, (_, i) => ({
    index: 100 + i,
    term: 3,
    type: 'normal',
    data: command,
  }));
  const app: Message = { type: 'app', term: 3, from: 1, to: 2, prevIndex: 99, prevTerm: 3, commit: 98, entries: batch };
  const appBytes = encodeMessage(app);
  const resp = encodeMessage({
    type: 'app-resp',
    term: 3,
    from: 2,
    to: 1,
    index: 115,
    reject: false,
    hintIndex: 0,
    hintTerm: 0,
  });
  const kv = new KvStore();
  let index = 0;
  let seq = 0;
  return [
    measure('decode client request', nowMs, budgetMs, () => {
      decodePacket(request);
    }),
    measure('encode command', nowMs, budgetMs, () => {
      encodeCommand({ client: 1, seq: 1, command: { op: 'put', key: 'bench/17', value } });
    }),
    measure('crc32 of a WAL record', nowMs, budgetMs, () => {
      crc32(command);
    }),
    measure('encode append of 16 entries', nowMs, budgetMs, () => {
      encodeMessage(app);
    }),
    measure('decode append of 16 entries', nowMs, budgetMs, () => {
      decodeMessage(appBytes);
    }),
    measure('decode append answer', nowMs, budgetMs, () => {
      decodeMessage(resp);
    }),
    measure('apply a put', nowMs, budgetMs, () => {
      kv.apply(++index, encodeCommand({ client: 5, seq: ++seq, command: { op: 'put', key: `k${seq % 1000}`, value } }));
    }),
    measure('encode reply', nowMs, budgetMs, () => {
      encodeReply(7, { ok: true, write: { ok: true, prev: value } });
    }),
  ];
}
