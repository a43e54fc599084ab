import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UbusClient, type ClientEvent } from '../../src/ubus/client.js';
import { encodeBlobmsg, type BlobmsgNode } from '../../src/ubus/blobmsg.js';
import * as limits from '../../src/ubus/limits.js';
import { Attr, MessageType, Status, buildMessage, decodeMessage, readFields } from '../../src/ubus/message.js';

let now = 0;
const hello = buildMessage(MessageType.hello, 0, 0xabcd, () => undefined);

function ready(): UbusClient {
  now = 0;
  const client = new UbusClient({ nowMs: () => now, requestTimeoutMs: 1000 });
  client.connected();
  client.receive(hello);
  client.takeEvents();
  return client;
}

const replies = (events: ClientEvent[]) => events.flatMap((e) => (e.kind === 'reply' ? [e.result] : []));
const statusOf = (bytes: Uint8Array) => {
  const message = decodeMessage(bytes);
  assert.ok(message.ok);
  const fields = readFields(message.value);
  assert.ok(fields.ok);
  return fields.value.status;
};

function withObject(): { client: UbusClient; objectId: number } {
  const client = ready();
  client.addObject({ name: 'x0tta6bl4', methods: { status: {}, set: { level: 'int32' } } });
  client.takeOutput();
  client.receive(
    buildMessage(MessageType.data, 1, 0, (w) => {
      w.int32(Attr.objid, 0x1234);
      w.int32(Attr.objtype, 0x99);
    }),
  );
  client.receive(buildMessage(MessageType.status, 1, 0, (w) => w.int32(Attr.status, 0)));
  client.takeEvents();
  return { client, objectId: 0x1234 };
}

function invoke(objectId: number, method: string, data: BlobmsgNode[] | Uint8Array = []): Uint8Array {
  return buildMessage(MessageType.invoke, 7, 0x5555, (w) => {
    w.int32(Attr.objid, objectId);
    w.string(Attr.method, method);
    const start = w.start(Attr.data, false);
    w.raw(data instanceof Uint8Array ? data : encodeBlobmsg(data));
    w.end(start);
  });
}

test('a request with no STATUS times out on tick with reason timeout, and a late reply is only counted', () => {
  const client = ready();
  const id = client.lookup('x');
  assert.ok(id.ok);
  now = 999;
  client.tick();
  assert.equal(replies(client.takeEvents()), []);
  now = 1000;
  client.tick();
  assert.equal(replies(client.takeEvents()), [{ ok: false, reason: 'timeout' }]);
  client.receive(buildMessage(MessageType.status, 1, 0, (w) => w.int32(Attr.status, 0)));
  assert.equal(client.takeEvents(), []);
  assert.is(client.counters.get('unmatched-reply'), 1);
  assert.is(client.inflight, 0);
});

test('requests before HELLO are refused as not-connected; no HELLO in time resets with hello-timeout', () => {
  const client = new UbusClient({ nowMs: () => now });
  now = 0;
  assert.equal(client.lookup(), { ok: false, reason: 'not-connected' });
  client.connected();
  assert.equal(client.lookup(), { ok: false, reason: 'not-connected' });
  now = limits.helloTimeoutMs;
  client.tick();
  assert.equal(client.takeEvents(), [{ kind: 'reset', reason: 'hello-timeout' }]);
  assert.is(client.connectionState, 'disconnected');
});

test('in-flight requests are bounded: the one over the limit is refused', () => {
  const client = ready();
  for (let i = 0; i < limits.inflightRequestsMax; i++) assert.ok(client.lookup().ok);
  assert.equal(client.lookup(), { ok: false, reason: 'too-many-requests' });
});

test('a disconnect fails every request with connection-lost; the next HELLO re-registers objects', () => {
  const { client } = withObject();
  client.lookup();
  client.invoke(0x1234, 'status');
  client.takeOutput();
  client.disconnected('ECONNRESET');
  assert.equal(replies(client.takeEvents()), [
    { ok: false, reason: 'connection-lost' },
    { ok: false, reason: 'connection-lost' },
  ]);
  assert.is(client.objectId(1), 0);
  client.connected();
  client.receive(hello);
  const out = client.takeOutput();
  assert.is(out.length, 1);
  assert.is(out[0]![1], MessageType.addObject);
});

test('garbage from ubusd resets the stream with a reason and fails what was in flight', () => {
  const client = ready();
  client.lookup();
  const bad = new Uint8Array(12);
  bad[0] = 3;
  client.receive(bad);
  const events = client.takeEvents();
  assert.equal(replies(events), [{ ok: false, reason: 'connection-reset' }]);
  assert.equal(events.at(-1), { kind: 'reset', reason: 'bad-version' });
  assert.is(client.counters.get('bad-version'), 1);
});

test('an unknown message type is counted and ignored; the connection stays up', () => {
  const client = ready();
  client.receive(buildMessage(42, 1, 0, () => undefined));
  assert.is(client.counters.get('unexpected-message-type'), 1);
  assert.is(client.connectionState, 'ready');
});

test('an INVOKE on our object reaches the handler; its reply is DATA then STATUS to the caller', () => {
  const { client, objectId } = withObject();
  client.receive(invoke(objectId, 'status'));
  const event = client.takeEvents()[0];
  assert.ok(event && event.kind === 'invoke');
  assert.ok(client.reply(event.token, 0, { state: 'running' }));
  const [data, status] = client.takeOutput();
  assert.is(data![1], MessageType.data);
  assert.is(statusOf(status!), 0);
  assert.not.ok(client.reply(event.token, 0), 'a token answers once');
});

test('incoming calls with bad input are answered with a status, never dispatched', () => {
  const { client, objectId } = withObject();
  const cases: [Uint8Array, number][] = [
    [invoke(objectId, 'nosuch'), Status.methodNotFound],
    [invoke(0x7777, 'status'), Status.notFound],
    [invoke(objectId, 'set', [{ type: 'string', name: 'level', value: 'high' }]), Status.invalidArgument],
    [invoke(objectId, 'set', new Uint8Array([0x89, 0, 0, 8, 0, 0, 0, 0])), Status.invalidArgument],
  ];
  let deep: BlobmsgNode[] = [];
  for (let i = 0; i < 40; i++) deep = [{ type: 'table', name: 't', children: deep }];
  cases.push([invoke(objectId, 'status', deep), Status.invalidArgument]);
  for (const [message, expected] of cases) {
    client.receive(message);
    const out = client.takeOutput();
    assert.is(out.length, 1);
    assert.is(statusOf(out[0]!), expected);
  }
  assert.equal(
    client.takeEvents().filter((e) => e.kind === 'invoke'),
    [],
  );
  assert.is(client.connectionState, 'ready');
  assert.is(client.counters.get('too-deep'), 1);
});

test('calls past the handler slots wait in line (bounded) and get a slot as one is answered; all time out with status 7', () => {
  const { client, objectId } = withObject();
  for (let i = 0; i < limits.pendingInvokesMax + limits.queuedInvokesMax; i++)
    client.receive(invoke(objectId, 'status'));
  assert.equal(client.takeOutput(), [], 'nobody is refused while the line has room');
  const events = client.takeEvents().filter((e) => e.kind === 'invoke');
  assert.is(events.length, limits.pendingInvokesMax, 'only as many handlers run as there are slots');
  assert.is(client.counters.get('invoke-queued'), limits.queuedInvokesMax);
  client.receive(invoke(objectId, 'status'));
  assert.is(statusOf(client.takeOutput()[0]!), Status.unknownError, 'past the line: refused at once');
  assert.is(client.counters.get('too-many-invokes'), 1);
  const first = events[0];
  assert.ok(first !== undefined && first.kind === 'invoke');
  assert.ok(client.reply(first.token, 0));
  client.takeOutput();
  assert.is(
    client.takeEvents().filter((e) => e.kind === 'invoke').length,
    1,
    'an answer frees a slot for the next in line',
  );
  now = limits.handlerTimeoutMs;
  client.tick();
  const out = client.takeOutput();
  assert.is(out.length, limits.pendingInvokesMax + limits.queuedInvokesMax - 1);
  assert.ok(out.every((m) => statusOf(m) === Status.timeout));
  assert.is(client.nextDeadlineMs(), null);
});

test('a reply collecting more DATA than replyDataMessagesMax fails with reply-too-large', () => {
  const client = ready();
  client.lookup();
  const data = buildMessage(MessageType.data, 1, 0, (w) => w.int32(Attr.objid, 5));
  for (let i = 0; i <= limits.replyDataMessagesMax; i++) client.receive(data);
  assert.equal(replies(client.takeEvents()), [{ ok: false, reason: 'reply-too-large' }]);
});

test('arguments that cannot be encoded are refused before anything is sent', () => {
  const client = ready();
  let deep: Record<string, unknown> = {};
  for (let i = 0; i < 40; i++) deep = { d: deep };
  assert.equal(client.invoke(5, 'x', deep as never), { ok: false, reason: 'too-deep' });
  assert.equal(client.invoke(5, 'x', { f: () => 1 } as never), { ok: false, reason: 'unsupported-value' });
  assert.equal(client.takeOutput(), []);
});

test.run();
