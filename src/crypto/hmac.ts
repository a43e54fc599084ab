// RFC 2104 HMAC over any hash, for backends whose library has none (tweetnacl).
export function hmac(
  hash: (data: Uint8Array) => Uint8Array,
  blockBytes: number,
  key: Uint8Array,
  data: Uint8Array,
): Uint8Array {
  const block = new Uint8Array(blockBytes);
  block.set(key.length > blockBytes ? hash(key) : key);
  const inner = new Uint8Array(blockBytes + data.length);
  const outerKey = new Uint8Array(blockBytes);
  for (let i = 0; i < blockBytes; i++) {
    inner[i] = (block[i] as number) ^ 0x36;
    outerKey[i] = (block[i] as number) ^ 0x5c;
  }
  inner.set(data, blockBytes);
  const innerHash = hash(inner);
  const outer = new Uint8Array(blockBytes + innerHash.length);
  outer.set(outerKey);
  outer.set(innerHash, blockBytes);
  return hash(outer);
}
