import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { agentObjectName, agentReadMethods, agentWriteMethods } from '../../src/ubus/agent-object.js';
import { fixturePath, modulePath, readFixture, renderModule } from './make-captures.js';
import { root } from '../lib/processes.js';

test('test/ubus/captures.ts is what make-captures.ts makes from the shared fixture today', () => {
  assert.ok(fs.existsSync(fixturePath), `${fixturePath} is missing`);
  assert.is(
    fs.readFileSync(modulePath, 'utf8'),
    renderModule(readFixture()),
    'regenerate: node --import tsx test/ubus/make-captures.ts',
  );
});

test('the rpcd ACL: a read-only group with exactly the read methods, an admin group that adds exactly the write methods', () => {
  const acl = JSON.parse(fs.readFileSync(`${root}ubus/acl.d/x0tta6bl4.json`, 'utf8'));
  const readOnly = acl[agentObjectName];
  const admin = acl[`${agentObjectName}-admin`];
  assert.ok(readOnly, 'read-only ACL group named after the object');
  assert.ok(admin, 'admin ACL group named <object>-admin');
  assert.equal(readOnly.read.ubus[agentObjectName], [...agentReadMethods]);
  assert.is(readOnly.write, undefined, 'the read-only group writes nothing');
  assert.equal(admin.read.ubus[agentObjectName], [...agentReadMethods]);
  assert.equal(admin.write.ubus[agentObjectName], [...agentWriteMethods]);
  assert.equal(Object.keys(readOnly.read.ubus), [agentObjectName]);
  assert.equal(Object.keys(admin.write.ubus), [agentObjectName]);
  assert.equal(Object.keys(acl).sort(), [agentObjectName, `${agentObjectName}-admin`]);
});

test.run();
