import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Attr, MessageType, readFields } from '../../src/ubus/message.js';
import { Broker, type IdKind } from './standin.js';
import { captures, concat, framedMessages, fromHex, toHex } from './capture-lib.js';

/** The ids real ubusd assigned, in the order it assigned them (a type before its object, like ubusd_create_object). */
function capturedIds(): Record<IdKind, number[]> {
  const ids: Record<IdKind, number[]> = { client: [], object: [], type: [] };
  const framed = framedMessages();
  for (const f of framed) {
    if (f.dir !== 'ubusd->client') continue;
    if (f.message.type === MessageType.hello) ids.client.push(f.message.peer);
    const request = framed.find(
      (r) =>
        r.label === f.label &&
        r.dir === 'client->ubusd' &&
        r.message.type === MessageType.addObject &&
        r.message.seq === f.message.seq,
    );
    if (request === undefined || f.message.type !== MessageType.data) continue;
    const fields = readFields(f.message);
    assert.ok(fields.ok);
    ids.object.push(fields.value.objid!);
    if (fields.value.objtype !== undefined) ids.type.push(fields.value.objtype);
  }
  return ids;
}

interface Run {
  readonly mismatch: string | null;
  readonly compared: number;
}

/** Plays every captured client's bytes into one stand-in and compares all it writes, per connection, with ubusd's. */
function runAgainstCaptures(overrides: { user?: string } = {}): Run {
  const ids = capturedIds();
  const broker = new Broker({ nextId: (kind) => ids[kind].shift() ?? 0xdead, ...overrides });
  const connections = new Map<string, { receive: (c: Uint8Array) => void; out: Uint8Array[] }>();
  let compared = 0;
  for (const line of captures) {
    const key = `${line.label}/${line.conn}`;
    let connection = connections.get(key);
    if (connection === undefined) {
      const out: Uint8Array[] = [];
      const handle = broker.connect(
        (bytes) => out.push(bytes),
        () => undefined,
      );
      connection = { receive: handle.receive, out };
      connections.set(key, connection);
    }
    if (line.dir === 'client->ubusd') {
      connection.receive(fromHex(line.hex));
      continue;
    }
    const written = concat(connection.out);
    const expected = fromHex(line.hex);
    if (toHex(written.subarray(0, expected.length)) !== line.hex)
      return { mismatch: `${key}: expected ${line.hex}\n got ${toHex(written)}`, compared };
    connection.out.length = 0;
    if (written.length > expected.length) connection.out.push(written.slice(expected.length));
    compared++;
  }
  for (const [key, connection] of connections)
    if (concat(connection.out).length > 0)
      return { mismatch: `${key}: extra bytes ${toHex(concat(connection.out))}`, compared };
  return { mismatch: null, compared };
}

test('the stand-in writes what real ubusd wrote to every captured client, byte for byte', () => {
  const run = runAgainstCaptures();
  assert.is(run.mismatch, null);
  assert.is(run.compared, captures.filter((c) => c.dir === 'ubusd->client').length);
});

test('the comparison is not vacuous: a stand-in reporting another user fails it', () => {
  const run = runAgainstCaptures({ user: 'nobody' });
  assert.ok(run.mismatch !== null);
  assert.ok(run.compared > 0);
});

test('the stand-in drops a client whose stream cannot be framed, and keeps serving others', () => {
  let nextId = 5000;
  const broker = new Broker({ nextId: () => nextId++ });
  let closed = false;
  const bad = broker.connect(
    () => undefined,
    () => {
      closed = true;
    },
  );
  bad.receive(new Uint8Array([7, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4]));
  assert.ok(closed);
  assert.equal(broker.refused, ['bad-version']);
  const out: Uint8Array[] = [];
  const good = broker.connect(
    (b) => out.push(b),
    () => undefined,
  );
  good.receive(new Uint8Array([0, MessageType.lookup, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4]));
  const status = out.at(-1)!;
  assert.is(status[1], MessageType.status);
  assert.is(toHex(status.subarray(12, 20)), toHex(new Uint8Array([Attr.status, 0, 0, 8, 0, 0, 0, 0])));
});

test.run();
