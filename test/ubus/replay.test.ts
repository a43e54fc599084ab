import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { signatureNodes, type ClientEvent, type ObjectDefinition, type Reply } from '../../src/ubus/client.js';
import { decodeBlobmsg } from '../../src/ubus/blobmsg.js';
import { Attr, MessageType } from '../../src/ubus/message.js';
import { argTypeFromCode, type ArgType } from '../../src/ubus/values.js';
import { encodeBlobmsg } from '../../src/ubus/blobmsg.js';
import { captures } from './capture-lib.js';
import { framedMessages, toHex } from './capture-lib.js';
import { replay, type ReplayContext } from './replay.js';

const framed = framedMessages();

function reply(events: readonly ClientEvent[], index = 0): Reply {
  const replies = events.filter((e) => e.kind === 'reply');
  const event = replies[index];
  assert.ok(event !== undefined && event.kind === 'reply', `reply ${index}`);
  assert.ok(event.result.ok, JSON.stringify(event.result));
  return event.result.value;
}

function clientWrites(label: string): number {
  return captures.filter((c) => c.label === label && c.dir === 'client->ubusd').length;
}

function lookedUpId(context: ReplayContext, path: string): number {
  const found = reply(context.events).objects.find((o) => o.path === path);
  assert.ok(found, `${path} in the lookup reply`);
  return found.id;
}

test('list: `ubus list` — the client sends the same LOOKUP and reads every object', () => {
  const result = replay({ label: 'list', actions: { 0: ({ client }) => void client.lookup() } });
  assert.is(result.mismatch, null);
  assert.is(result.matchedWrites, clientWrites('list'));
  assert.equal(
    reply(result.events).objects.map((o) => o.path),
    ['demo', 'file', 'rc', 'session', 'uci'],
  );
  assert.is(reply(result.events).status, 0);
});

test('listv: `ubus -v list demo` — same LOOKUP by path, method signatures read', () => {
  const result = replay({ label: 'listv', actions: { 0: ({ client }) => void client.lookup('demo') } });
  assert.is(result.mismatch, null);
  assert.is(result.matchedWrites, clientWrites('listv'));
  assert.equal(reply(result.events).objects[0]!.signature, { status: {}, echo: { msg: 3 } });
});

test('call: `ubus call demo echo \'{"msg":"hi"}\'` — LOOKUP then INVOKE byte for byte, reply data read', () => {
  const result = replay({
    label: 'call',
    actions: {
      0: ({ client }) => void client.lookup('demo'),
      1: (context) => void context.client.invoke(lookedUpId(context, 'demo'), 'echo', { msg: 'hi' }),
    },
  });
  assert.is(result.mismatch, null);
  assert.is(result.matchedWrites, clientWrites('call'));
  assert.equal(reply(result.events, 1), { status: 0, data: [{ got: { msg: 'hi' } }], objects: [] });
});

test('callerr: `ubus call demo nosuch` — an empty DATA attribute like the CLI, status 3 (method not found)', () => {
  const result = replay({
    label: 'callerr',
    actions: {
      0: ({ client }) => void client.lookup('demo'),
      1: (context) => void context.client.invoke(lookedUpId(context, 'demo'), 'nosuch'),
    },
  });
  assert.is(result.mismatch, null);
  assert.is(result.matchedWrites, clientWrites('callerr'));
  assert.is(reply(result.events, 1).status, 3);
});

test('callmissing: `ubus call nosuchobj status` — the LOOKUP fails with status 4 (not found)', () => {
  const result = replay({ label: 'callmissing', actions: { 0: ({ client }) => void client.lookup('nosuchobj') } });
  assert.is(result.mismatch, null);
  assert.is(result.matchedWrites, clientWrites('callmissing'));
  assert.equal(reply(result.events), { status: 4, data: [], objects: [] });
});

test('listen: `ubus listen x0.test` — anonymous object, register on the event object, event acknowledged', () => {
  const result = replay({ label: 'listen', actions: { 0: ({ client }) => void client.listen('x0.test') } });
  assert.is(result.mismatch, null);
  assert.is(result.matchedWrites, clientWrites('listen'));
  const registered = result.events.find((e) => e.kind === 'registered');
  assert.ok(registered && registered.kind === 'registered');
  assert.is(registered.objectId, 3908416887);
  const event = result.events.find((e) => e.kind === 'event');
  assert.equal(event, {
    kind: 'event',
    registration: registered.registration,
    name: 'x0.test',
    data: { a: 1, b: 'two' },
  });
});

test('send: `ubus send x0.test \'{"a":1,"b":"two"}\'` — the same INVOKE of send on object 1', () => {
  const result = replay({
    label: 'send',
    actions: { 0: ({ client }) => void client.sendEvent('x0.test', { a: 1, b: 'two' }) },
  });
  assert.is(result.mismatch, null);
  assert.is(result.matchedWrites, clientWrites('send'));
  assert.is(reply(result.events).status, 0);
});

const demo: ObjectDefinition = { name: 'demo', methods: { status: {}, echo: { msg: 'string' } } };

/** rpcd's other objects, read back from its captured ADD_OBJECT signatures (the demo object is written by hand). */
function rpcdDefinitions(): Map<string, ObjectDefinition> {
  const out = new Map<string, ObjectDefinition>();
  for (const { message } of framed.filter((f) => f.label === 'rpcd' && f.message.type === MessageType.addObject)) {
    const path = new TextDecoder().decode(message.attrs.find((a) => a.id === Attr.objpath)!.payload).replace(/\0$/, '');
    const signature = decodeBlobmsg(message.attrs.find((a) => a.id === Attr.signature)!.payload);
    assert.ok(signature.ok);
    const methods: Record<string, Record<string, ArgType>> = {};
    for (const method of signature.value) {
      assert.is(method.type, 'table');
      if (method.type !== 'table') continue;
      methods[method.name] = Object.fromEntries(
        method.children.map((arg) => [arg.name, argTypeFromCode(arg.type === 'int32' ? arg.value : -1)!]),
      );
    }
    out.set(path, { name: path, methods });
  }
  return out;
}

test('the hand-written demo definition encodes to the signature rpcd announced', () => {
  const captured = framed.find(
    (f) =>
      f.label === 'rpcd' &&
      f.message.type === MessageType.addObject &&
      toHex(f.message.attrs[0]!.payload) === toHex(new TextEncoder().encode('demo\0')),
  );
  assert.ok(captured);
  assert.is(toHex(encodeBlobmsg(signatureNodes(demo))), toHex(captured.message.attrs[1]!.payload));
});

test('rpcd: registers session, uci, rc, demo, file one by one and answers echo and a missing method like rpcd', () => {
  const defs = rpcdDefinitions();
  defs.set('demo', demo);
  const add =
    (name: string) =>
    ({ client }: ReplayContext) =>
      void client.addObject(defs.get(name)!);
  let echoToken = -1;
  const result = replay({
    label: 'rpcd',
    actions: {
      0: add('session'),
      1: add('uci'),
      2: add('rc'),
      3: add('demo'),
      4: add('file'),
      // rpcd looks up every object while handling the exec plugin call; the scenario does the same.
      5: ({ client, events }) => {
        const invoke = events.find((e) => e.kind === 'invoke');
        assert.ok(invoke && invoke.kind === 'invoke');
        assert.equal(
          [invoke.object, invoke.method, invoke.args, invoke.user, invoke.group],
          ['demo', 'echo', { msg: 'hi' }, 'root', 'root'],
        );
        echoToken = invoke.token;
        client.lookup();
      },
      6: ({ client, events }) => {
        const invoke = events.find((e) => e.kind === 'invoke');
        assert.ok(invoke && invoke.kind === 'invoke');
        client.reply(echoToken, 0, { got: invoke.args });
      },
    },
  });
  assert.is(result.mismatch, null);
  assert.is(result.matchedWrites, clientWrites('rpcd'));
  assert.equal(
    result.events.filter((e) => e.kind === 'registered').map((e) => (e.kind === 'registered' ? e.objectId : 0)),
    [1317428658, 673448745, 1942270319, 2092160440, 3989777436],
  );
  // The missing method never reached a handler: the client answered status 3 itself.
  assert.is(result.events.filter((e) => e.kind === 'invoke').length, 1);
});

test('replay detects a wrong byte: a different argument does not match the capture', () => {
  const result = replay({
    label: 'call',
    actions: {
      0: ({ client }) => void client.lookup('demo'),
      1: (context) => void context.client.invoke(lookedUpId(context, 'demo'), 'echo', { msg: 'ho' }),
    },
  });
  assert.ok(result.mismatch !== null);
  assert.is(result.matchedWrites, 1);
});

test.run();
