// Writer attestation with the node's identity: the hook between src/core/identity (certificates, chains, the
// mesh CA's trust bundle) and the gossip engine's WriterAuth (src/core/gossip/writer.ts). A node signs its
// section with its certificate's signing key; a writer's chain is valid when the bundle's CA issued it, now, to
// the node of that name in our trust domain. The digest is the first 32 bytes of SHA-512 (libsodium on the
// router, the same function the identity layer already uses).
import { limits } from '../core/gossip/limits.js';
import type { WriterAuth } from '../core/gossip/writer.js';
import { fail, ok, type Result } from '../core/result.js';
import type { Certificate } from '../core/identity/cert.js';
import { decodeChain, encodeChain, type TrustBundle, validateChain } from '../core/identity/chain.js';
import { decodeBounded } from '../core/identity/canonical.js';
import type { Crypto } from '../platform/types.js';

export interface WriterIdentity {
  readonly chain: readonly Certificate[];
  readonly signSecretKey: Uint8Array;
  readonly bundle: TrustBundle;
}

/** The WriterAuth of a node with this identity; an error naming the limit when its chain is too large to carry. */
export function identityWriters(
  crypto: Crypto,
  identity: WriterIdentity,
  wallClockMs: () => number,
): Result<WriterAuth, string> {
  const chain = encodeChain(identity.chain);
  if (chain.length > limits.writerChainBytesMax)
    return fail(
      `certificate chain of ${chain.length} bytes exceeds the ${limits.writerChainBytesMax} gossip carries (issue from a CA at most one intermediate below the root)`,
    );
  return ok({
    chain,
    sign: (message) => crypto.sign(message, identity.signSecretKey),
    verify: (message, signature, key) => crypto.verify(message, signature, key),
    hash: (bytes) => crypto.sha512(bytes).subarray(0, 32),
    checkChain: (node, bytes) => {
      const decoded = decodeBounded(bytes, limits.writerChainBytesMax);
      if (!decoded.ok) return fail('chain-malformed');
      const certs = decodeChain(decoded.value);
      if (!certs.ok) return fail(certs.reason);
      const valid = validateChain(crypto, certs.value, identity.bundle, wallClockMs());
      if (!valid.ok) return fail(valid.reason);
      if (valid.value.name !== node || valid.value.trustDomain !== identity.bundle.trustDomain)
        return fail('chain-other-node');
      return ok(valid.value.signPublicKey);
    },
  });
}
