// x0:crypto inside x0-runtime: RFC known answers, byte-for-byte equality with tweetnacl for the same keys,
// nonces and messages, argument validation, and the shared conformance suite run on QuickJS-ng.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bundleFixture, root, runSync, scriptPath } from './lib.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const fixture = (name: string) => join(root, 'test/native/fixtures', name);

type Call = { op: string; args: string[] };

/** Runs the ops under x0-runtime and returns their hex outputs by name. */
function native(calls: Record<string, Call>): Record<string, unknown> {
  const input = scriptPath(`crypto-input-${process.pid}.json`);
  writeFileSync(input, JSON.stringify(calls));
  const result = runSync([fixture('crypto-ops.js'), input]);
  assert.is(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

const utf8Hex = (text: string) => Buffer.from(text, 'utf8').toString('hex');

test('RFC 8032 Ed25519 tests 1 and 2, SHA-512 "abc", RFC 4231 HMAC-SHA-512 cases 1, 2, 6, 7', () => {
  const seed1 = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
  const seed2 = '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb';
  const pk1 = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
  const pk2 = '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c';
  const longKey = 'aa'.repeat(131);
  const out = native({
    keys1: { op: 'signSeedKeypair', args: [seed1] },
    keys2: { op: 'signSeedKeypair', args: [seed2] },
    sig1: { op: 'sign', args: ['', seed1 + pk1] },
    sig2: { op: 'sign', args: ['72', seed2 + pk2] },
    sha: { op: 'sha512', args: [utf8Hex('abc')] },
    hmac1: { op: 'hmacSha512', args: ['0b'.repeat(20), utf8Hex('Hi There')] },
    hmac2: { op: 'hmacSha512', args: [utf8Hex('Jefe'), utf8Hex('what do ya want for nothing?')] },
    hmac6: { op: 'hmacSha512', args: [longKey, utf8Hex('Test Using Larger Than Block-Size Key - Hash Key First')] },
    hmac7: {
      op: 'hmacSha512',
      args: [
        longKey,
        utf8Hex(
          'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
        ),
      ],
    },
  });
  assert.equal(out.keys1, { publicKey: pk1, secretKey: seed1 + pk1 });
  assert.equal(out.keys2, { publicKey: pk2, secretKey: seed2 + pk2 });
  assert.is(
    out.sig1,
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  );
  assert.is(
    out.sig2,
    '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  );
  assert.is(
    out.sha,
    'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
  );
  assert.is(
    out.hmac1,
    '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854',
  );
  assert.is(
    out.hmac2,
    '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
  );
  assert.is(
    out.hmac6,
    '80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598',
  );
  assert.is(
    out.hmac7,
    'e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58',
  );
});

test('same keys, nonces and messages: x0:crypto output equals tweetnacl (and node:crypto) byte for byte', () => {
  for (const size of [0, 1, 200, 1400, 70_000]) {
    const seed = randomBytes(32);
    const message = randomBytes(size);
    const nonce = randomBytes(24);
    const key = randomBytes(32);
    const hmacKey = randomBytes(1 + (size % 200));
    const alice = nacl.box.keyPair();
    const bob = nacl.box.keyPair();
    const signer = nacl.sign.keyPair.fromSeed(seed);
    const sealed = nacl.box(message, nonce, bob.publicKey, alice.secretKey);
    const out = native({
      keys: { op: 'signSeedKeypair', args: [hex(seed)] },
      sig: { op: 'sign', args: [hex(message), hex(signer.secretKey)] },
      verified: {
        op: 'verify',
        args: [hex(message), hex(nacl.sign.detached(message, signer.secretKey)), hex(signer.publicKey)],
      },
      boxPk: { op: 'scalarmultBase', args: [hex(alice.secretKey)] },
      shared: { op: 'scalarmult', args: [hex(alice.secretKey), hex(bob.publicKey)] },
      box: { op: 'box', args: [hex(message), hex(nonce), hex(bob.publicKey), hex(alice.secretKey)] },
      opened: { op: 'boxOpen', args: [hex(sealed), hex(nonce), hex(alice.publicKey), hex(bob.secretKey)] },
      secretbox: { op: 'secretbox', args: [hex(message), hex(nonce), hex(key)] },
      secretOpened: { op: 'secretboxOpen', args: [hex(nacl.secretbox(message, nonce, key)), hex(nonce), hex(key)] },
      sha: { op: 'sha512', args: [hex(message)] },
      hmac: { op: 'hmacSha512', args: [hex(hmacKey), hex(message)] },
    });
    assert.equal(out.keys, { publicKey: hex(signer.publicKey), secretKey: hex(signer.secretKey) }, `size ${size}`);
    assert.is(out.sig, hex(nacl.sign.detached(message, signer.secretKey)));
    assert.is(out.verified, true);
    assert.is(out.boxPk, hex(alice.publicKey));
    assert.is(out.shared, hex(nacl.scalarMult(alice.secretKey, bob.publicKey)));
    assert.is(out.box, hex(sealed));
    assert.is(out.opened, hex(message));
    assert.is(out.secretbox, hex(nacl.secretbox(message, nonce, key)));
    assert.is(out.secretOpened, hex(message));
    assert.is(out.sha, hex(nacl.hash(message)));
    assert.is(out.sha, createHash('sha512').update(message).digest('hex'));
    assert.is(out.hmac, createHmac('sha512', hmacKey).update(message).digest('hex'));
  }
});

test('forgeries: a flipped bit fails verify and open (false / null), never a throw', () => {
  const signer = nacl.sign.keyPair();
  const message = randomBytes(64);
  const signature = nacl.sign.detached(message, signer.secretKey);
  signature[3] = (signature[3] as number) ^ 1;
  const nonce = randomBytes(24);
  const key = randomBytes(32);
  const box = nacl.secretbox(message, nonce, key);
  box[20] = (box[20] as number) ^ 0x10;
  const out = native({
    verified: { op: 'verify', args: [hex(message), hex(signature), hex(signer.publicKey)] },
    opened: { op: 'secretboxOpen', args: [hex(box), hex(nonce), hex(key)] },
  });
  assert.is(out.verified, false);
  assert.is(out.opened, null);
});

test('bad arguments throw TypeError/RangeError with clear messages; short boxes open to null', () => {
  const result = runSync([fixture('crypto-args.js')]);
  assert.is(result.status, 0, result.stderr);
  const lines = new Map(
    result.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(' => ') as [string, string]),
  );
  assert.is(lines.get('sign with a 32-byte secret key'), 'RangeError: secretKey must be 64 bytes, got 32');
  assert.is(lines.get('verify with a 10-byte signature'), 'RangeError: signature must be 64 bytes, got 10');
  assert.is(lines.get('seed of 31 bytes'), 'RangeError: seed must be 32 bytes, got 31');
  assert.is(lines.get('secretbox with a 23-byte nonce'), 'RangeError: nonce must be 24 bytes, got 23');
  assert.is(lines.get('box with a string message'), 'TypeError: message must be a Uint8Array or an ArrayBuffer');
  assert.is(lines.get('sha512 of a number'), 'TypeError: data must be a Uint8Array or an ArrayBuffer');
  assert.match(lines.get('randomBytes(-1)') ?? '', /^RangeError: length must be an integer/);
  assert.match(lines.get('randomBytes(1.5)') ?? '', /^RangeError: length must be an integer/);
  assert.match(lines.get('randomBytes(2 MiB)') ?? '', /^RangeError: length must be an integer in \[0, 1048576\]/);
  assert.is(lines.get('secretboxOpen of 5 bytes'), 'null');
  assert.is(lines.get('boxOpen of 15 bytes'), 'null');
  assert.is(lines.get('scalarmult with the zero point'), 'null');
  assert.is(lines.get('sha512 of a DataView window'), 'value 64');
  assert.is(lines.get('hmac with an empty key'), 'value 64');
  assert.is(lines.get('randomBytes(0)'), 'value 0');
});

test('the shared Crypto conformance suite passes for the native backend on QuickJS-ng', async () => {
  const bundle = await bundleFixture('crypto-conformance');
  const result = runSync(['--memory-limit', '256M', bundle], { timeoutMs: 120_000 });
  assert.is(result.status, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /Passed:\s+\d+/);
  assert.not.match(result.stdout, /Passed:\s+0\b/);
});

test.run();
