// Regenerate test/crypto/vectors.ts: node scripts/gen-crypto-vectors.mjs (prints the JSON object).
import nacl from 'tweetnacl';
const hex = (u) => Buffer.from(u).toString('hex');
const seed = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const kp = nacl.sign.keyPair.fromSeed(seed);
const msg = new TextEncoder().encode('x0tta6bl4 signed hello');
const sig = nacl.sign.detached(msg, kp.secretKey);
const boxA = nacl.box.keyPair.fromSecretKey(Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i));
const boxB = nacl.box.keyPair.fromSecretKey(Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i));
const nonce = Uint8Array.from({ length: 24 }, (_, i) => i);
const key = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i);
const payload = Uint8Array.from({ length: 1400 }, (_, i) => (i * 7) & 0xff);
const box = nacl.box(msg, nonce, boxB.publicKey, boxA.secretKey);
const sbox = nacl.secretbox(payload, nonce, key);
const shared = nacl.scalarMult(boxA.secretKey, boxB.publicKey);
const sha = nacl.hash(payload);
import { createHmac } from 'node:crypto';
const hm = createHmac('sha512', Buffer.from(key)).update(Buffer.from(msg)).digest();
const hmLong = createHmac('sha512', Buffer.alloc(131, 0xaa)).update(Buffer.from(msg)).digest();
console.log(
  JSON.stringify(
    {
      seed: hex(seed),
      signPublicKey: hex(kp.publicKey),
      message: hex(msg),
      signature: hex(sig),
      boxSecretA: hex(boxA.secretKey),
      boxPublicA: hex(boxA.publicKey),
      boxSecretB: hex(boxB.secretKey),
      boxPublicB: hex(boxB.publicKey),
      nonce: hex(nonce),
      box: hex(box),
      secretKey: hex(key),
      secretboxOf1400: hex(sbox),
      sharedAB: hex(shared),
      sha512Of1400: hex(sha),
      hmacSha512: hex(hm),
      hmacSha512LongKey: hex(hmLong),
    },
    null,
    2,
  ),
);
