import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { agentObjectName, agentReadMethods, agentWriteMethods } from '../../src/ubus/agent-object.js';
import { fixturePath, modulePath, readFixture, renderModule } from './make-captures.js';
import { root } from '../lib/processes.js';

test('test/ubus/captures.ts is what make-captures.ts makes from the shared fixture today', () => {
  assert.ok(fs.existsSync(fixturePath), `${fixturePath} is missing`);
  assert.is(fs.readFileSync(modulePath, 'utf8'), renderModule(readFixture()), 'regenerate: node --import tsx test/ubus/make-captures.ts');
});

test('the rpcd ACL grants read to exactly the read methods and write to exactly the write methods', () => {
  const acl = JSON.parse(fs.readFileSync(`${root}ubus/acl.d/x0tta6bl4.json`, 'utf8'));
  const entry = acl[agentObjectName];
  assert.ok(entry, 'ACL group named after the object');
  assert.equal(entry.read.ubus[agentObjectName], [...agentReadMethods]);
  assert.equal(entry.write.ubus[agentObjectName], [...agentWriteMethods]);
  assert.equal(Object.keys(entry.read.ubus), [agentObjectName]);
  assert.equal(Object.keys(entry.write.ubus), [agentObjectName]);
});

test.run();
