import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { parseAttrs } from '../../src/ubus/blob.js';
import { decodeBlobmsg, encodeBlobmsg, type BlobmsgNode } from '../../src/ubus/blobmsg.js';
import { blobmsgDepthMax, maxMessageBytes } from '../../src/ubus/limits.js';
import {
  Attr,
  MessageReader,
  MessageType,
  buildMessage,
  decodeMessage,
  encodeMessage,
  readFields,
} from '../../src/ubus/message.js';
import { argumentsFromBlobmsg, fromBlobmsg, toBlobmsg, type JsValue } from '../../src/ubus/values.js';
import { captures, concat, framedMessages, fromHex, toHex } from './capture-lib.js';

const framed = framedMessages();

test('the captures hold every scenario and message type the README lists', () => {
  const labels = new Set(captures.map((c) => c.label));
  assert.equal([...labels].sort(), ['call', 'callerr', 'callmissing', 'list', 'listen', 'listv', 'rpcd', 'send']);
  const types = new Set(framed.map((f) => f.message.type));
  for (const type of [
    MessageType.hello,
    MessageType.status,
    MessageType.data,
    MessageType.lookup,
    MessageType.invoke,
    MessageType.addObject,
  ])
    assert.ok(types.has(type), `type ${type}`);
  assert.ok(framed.length >= 60, `${framed.length} messages`);
});

test('every captured chunk is consumed whole: framing leaves no bytes over', () => {
  const total = captures.reduce((n, c) => n + c.hex.length / 2, 0);
  assert.is(
    framed.reduce((n, f) => n + f.bytes.length, 0),
    total,
  );
});

test('every captured message decodes and re-encodes to the same bytes', () => {
  for (const { bytes, line } of framed) {
    const decoded = decodeMessage(bytes);
    assert.ok(decoded.ok, `line ${line}`);
    assert.is(toHex(encodeMessage(decoded.value)), toHex(bytes), `line ${line}`);
  }
});

test('every captured DATA and SIGNATURE decodes to blobmsg nodes that re-encode to the same bytes', () => {
  let checked = 0;
  for (const { message, line } of framed) {
    for (const attr of message.attrs) {
      if (attr.id !== Attr.data && attr.id !== Attr.signature) continue;
      const nodes = decodeBlobmsg(attr.payload);
      assert.ok(nodes.ok, `line ${line}`);
      assert.is(toHex(encodeBlobmsg(nodes.value)), toHex(attr.payload), `line ${line}`);
      checked++;
    }
  }
  assert.ok(checked >= 20, `${checked} checked`);
});

test('captured blobmsg goes to plain JS values and back to the same bytes (blobmsg_json rules)', () => {
  for (const { message, line } of framed) {
    for (const attr of message.attrs) {
      if (attr.id !== Attr.data && attr.id !== Attr.signature) continue;
      const nodes = decodeBlobmsg(attr.payload);
      assert.ok(nodes.ok);
      const back = toBlobmsg(fromBlobmsg(nodes.value));
      assert.ok(back.ok, `line ${line}`);
      assert.is(toHex(encodeBlobmsg(back.value)), toHex(attr.payload), `line ${line}`);
    }
  }
});

test('captured call arguments and event data read as the JSON the CLI was given', () => {
  const call = framed.find((f) => f.label === 'call' && f.message.type === MessageType.invoke);
  const fields = readFields(call!.message);
  assert.ok(fields.ok);
  assert.equal(fromBlobmsg(fields.value.data!), { msg: 'hi' });
  assert.is(fields.value.method, 'echo');
  const send = framed.find((f) => f.label === 'send' && f.message.type === MessageType.invoke);
  const sendFields = readFields(send!.message);
  assert.ok(sendFields.ok);
  assert.equal(fromBlobmsg(sendFields.value.data!), { id: 'x0.test', data: { a: 1, b: 'two' } });
});

test('every captured message reads into typed fields', () => {
  for (const { message, line } of framed) assert.ok(readFields(message).ok, `line ${line}`);
});

const leaf = fc.oneof(
  fc
    .string({ maxLength: 20 })
    .filter((s) => !s.includes('\0'))
    .map((value) => ({ type: 'string', value }) as const),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((value) => ({ type: 'int32', value }) as const),
  fc.integer({ min: -(2 ** 15), max: 2 ** 15 - 1 }).map((value) => ({ type: 'int16', value }) as const),
  fc.integer({ min: 0, max: 255 }).map((value) => ({ type: 'int8', value }) as const),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value) => ({ type: 'int64', value }) as const),
  fc.double({ noNaN: true }).map((value) => ({ type: 'double', value }) as const),
  fc.uint8Array({ maxLength: 9 }).map((value) => ({ type: 'unspec', value }) as const),
);
const name = fc.string({ maxLength: 12 }).filter((s) => !s.includes('\0'));
const { tree } = fc.letrec<{ tree: BlobmsgNode }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(name, leaf).map(([n, l]) => ({ name: n, ...l }) as BlobmsgNode),
    fc
      .tuple(name, fc.constantFrom('table', 'array' as const), fc.array(tie('tree'), { maxLength: 4 }))
      .map(([n, type, children]) => ({ type: type as 'table', name: n, children })),
  ),
}));

test('property: any blobmsg tree encodes and decodes to itself', () => {
  fc.assert(
    fc.property(fc.array(tree, { maxLength: 5 }), (nodes) => {
      const bytes = encodeBlobmsg(nodes);
      assert.is(bytes.length % 4, 0);
      const decoded = decodeBlobmsg(bytes, 64);
      assert.ok(decoded.ok);
      assert.equal(decoded.value, nodes);
    }),
    { numRuns: 200 },
  );
});

const jsValue = fc.letrec<{ value: JsValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.boolean(),
    fc.string({ maxLength: 10 }).filter((s) => !s.includes('\0')),
    fc.integer(),
    fc.constant(null),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(
      fc.string({ maxLength: 6 }).filter((s) => !s.includes('\0') && s !== '__proto__'),
      tie('value'),
      { maxKeys: 3 },
    ),
  ),
})).value;

test('property: JS values survive toBlobmsg → bytes → fromBlobmsg', () => {
  fc.assert(
    fc.property(
      fc.dictionary(
        fc.string({ maxLength: 6 }).filter((s) => !s.includes('\0') && s !== '__proto__'),
        jsValue,
        { maxKeys: 4 },
      ),
      (table) => {
        const nodes = toBlobmsg(table);
        if (!nodes.ok) return; // too deep for the limit: refused with a reason, checked below
        const decoded = decodeBlobmsg(encodeBlobmsg(nodes.value));
        assert.ok(decoded.ok);
        assert.equal(fromBlobmsg(decoded.value), JSON.parse(JSON.stringify(table)));
      },
    ),
    { numRuns: 200 },
  );
});

test('property: random bytes never throw from any decoder', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      decodeBlobmsg(bytes);
      parseAttrs(bytes);
      decodeMessage(bytes);
      const reader = new MessageReader();
      reader.push(bytes);
    }),
    { numRuns: 500 },
  );
});

test('property: a captured message cut anywhere and mutated anywhere decodes or is refused with a reason', () => {
  const samples = framed.filter((f) => f.bytes.length < 200).map((f) => f.bytes);
  fc.assert(
    fc.property(fc.constantFrom(...samples), fc.nat(), fc.nat(255), (bytes, at, value) => {
      const copy = bytes.slice();
      copy[at % copy.length] = value;
      const result = decodeMessage(copy);
      if (result.ok) {
        const fields = readFields(result.value);
        if (!fields.ok) assert.type(fields.reason, 'string');
      } else assert.type(result.reason, 'string');
      const cut = decodeMessage(bytes.subarray(0, at % bytes.length));
      assert.not.ok(cut.ok);
    }),
    { numRuns: 500 },
  );
});

test('signature types follow the policy: bool is int8, declared ints keep their width, wrong types are refused', () => {
  const nodes = toBlobmsg({ on: true, n: 5, big: 2 ** 40, name: 'x' }, { n: 'int16', on: 'bool' });
  assert.ok(nodes.ok);
  assert.equal(
    nodes.value.map((n) => n.type),
    ['int8', 'int16', 'int64', 'string'],
  );
  const wrong = toBlobmsg({ n: 'five' }, { n: 'int32' });
  assert.equal(wrong, { ok: false, reason: 'argument-type' });
  assert.equal(toBlobmsg({ n: 70000 }, { n: 'int16' }), { ok: false, reason: 'argument-range' });
  const args = argumentsFromBlobmsg(nodes.value, { on: 'bool', n: 'int16' });
  assert.equal(args, { ok: true, value: { on: true, n: 5, big: 2 ** 40, name: 'x' } });
  assert.equal(argumentsFromBlobmsg(nodes.value, { name: 'int32' }), { ok: false, reason: 'argument-type' });
});

function nested(depth: number): Uint8Array {
  let inner: BlobmsgNode[] = [];
  for (let i = 0; i < depth; i++) inner = [{ type: 'table', name: `t${i}`, children: inner }];
  return encodeBlobmsg(inner);
}

test('nesting deeper than the limit is refused as too-deep, at the limit it decodes', () => {
  assert.ok(decodeBlobmsg(nested(blobmsgDepthMax - 1)).ok);
  assert.equal(decodeBlobmsg(nested(blobmsgDepthMax)), { ok: false, reason: 'too-deep' });
  assert.equal(decodeBlobmsg(nested(5000)), { ok: false, reason: 'too-deep' });
  let deep: JsValue = 1;
  for (let i = 0; i < 100; i++) deep = { d: deep };
  assert.equal(toBlobmsg({ deep }), { ok: false, reason: 'too-deep' });
});

test('bad blobmsg input is refused with a named reason', () => {
  const good = fromHex(
    framed
      .find((f) => f.label === 'call' && f.message.type === MessageType.invoke)!
      .message.attrs[2]!.payload.reduce((s, b) => s + b.toString(16).padStart(2, '0'), ''),
  );
  const cases: [string, (b: Uint8Array) => void, string][] = [
    [
      'unknown type 9',
      (b) => {
        b[0] = 0x89;
      },
      'unknown-type',
    ],
    [
      'not extended',
      (b) => {
        b[0] = 0x03;
      },
      'not-blobmsg',
    ],
    [
      'length past the end',
      (b) => {
        b[3] = 0x40;
      },
      'truncated',
    ],
    [
      'length under the header',
      (b) => {
        b[3] = 0x02;
      },
      'bad-length',
    ],
    [
      'name length past the value',
      (b) => {
        b[5] = 0x30;
      },
      'bad-name',
    ],
    [
      'string without its NUL',
      (b) => {
        b[12] = 0x21;
        b[13] = 0x21;
        b[14] = 0x21;
      },
      'bad-string',
    ],
    [
      'nonzero padding',
      (b) => {
        b[15] = 1;
      },
      'nonzero-padding',
    ],
  ];
  for (const [what, mutate, reason] of cases) {
    const copy = good.slice();
    mutate(copy);
    assert.equal(decodeBlobmsg(copy), { ok: false, reason }, what);
  }
  const int32Short = encodeBlobmsg([{ type: 'int16', name: 'a', value: 1 }]);
  int32Short[0] = 0x85;
  assert.equal(decodeBlobmsg(int32Short), { ok: false, reason: 'bad-value-length' });
});

test('the message reader frames messages split at every byte boundary', () => {
  const stream = concat(framed.filter((f) => f.label === 'rpcd' && f.dir === 'ubusd->client').map((f) => f.bytes));
  for (const step of [1, 3, 7, 64, 1000]) {
    const reader = new MessageReader();
    const out: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i += step) {
      const { messages, error } = reader.push(stream.subarray(i, i + step));
      assert.is(error, null);
      out.push(...messages.map(encodeMessage));
    }
    assert.is(toHex(concat(out)), toHex(stream));
    assert.is(reader.pendingBytes, 0);
  }
});

test('the message reader refuses oversized, wrong-version and misaligned headers, then stays failed', () => {
  const big = buildMessage(MessageType.data, 1, 0, () => undefined);
  const view = new DataView(big.buffer);
  view.setUint32(8, maxMessageBytes + 4);
  const reader = new MessageReader();
  assert.is(reader.push(big).error, 'message-too-large');
  assert.is(reader.push(buildMessage(MessageType.data, 1, 0, () => undefined)).error, 'message-too-large');
  const wrongVersion = buildMessage(MessageType.data, 1, 0, () => undefined);
  wrongVersion[0] = 1;
  assert.is(new MessageReader().push(wrongVersion).error, 'bad-version');
  const odd = buildMessage(MessageType.data, 1, 0, () => undefined);
  odd[11] = 5;
  assert.is(new MessageReader().push(odd).error, 'bad-length');
  const extendedContainer = buildMessage(MessageType.data, 1, 0, () => undefined);
  extendedContainer[8] = 0x80;
  assert.is(new MessageReader().push(extendedContainer).error, 'bad-container');
});

test('a header announcing a large message is buffered, not refused, until the limit', () => {
  const reader = new MessageReader();
  const header = new Uint8Array(12);
  new DataView(header.buffer).setUint32(8, 64 * 1024);
  const { messages, error } = reader.push(header);
  assert.is(error, null);
  assert.is(messages.length, 0);
  assert.is(reader.pendingBytes, 12);
});

test.run();
