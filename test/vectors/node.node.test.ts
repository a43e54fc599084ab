// The identity and channel vectors with node:crypto, and the stored file against its generator: the script
// must reproduce test/vectors/identity-vectors.ts byte for byte.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createNodeCrypto } from '../../src/crypto/node.js';
import { createTweetnaclCrypto } from '../../src/crypto/tweetnacl.js';
import { defineVectorChecks } from './check.js';
import { generateIdentityVectors, renderVectorsModule } from './generate.js';
import { root } from '../lib/processes.js';

defineVectorChecks(createNodeCrypto());

test('the stored vector file is exactly what the generator writes, and the script agrees', () => {
  const stored = readFileSync(`${root}test/vectors/identity-vectors.ts`, 'utf8');
  assert.is(renderVectorsModule(generateIdentityVectors(createTweetnaclCrypto())), stored);
  assert.is(renderVectorsModule(generateIdentityVectors(createNodeCrypto())), stored);
  const check = spawnSync(process.execPath, ['--import', 'tsx', `${root}scripts/gen-identity-vectors.ts`, '--check'], {
    encoding: 'utf8',
    cwd: root,
    timeout: 60_000,
  });
  assert.is(check.status, 0, check.stderr);
  assert.match(check.stdout, /is up to date/);
});

test.run();
