// Inside x0-runtime only: libsodium through x0:crypto against the same vectors, and against tweetnacl
// running on the same engine (what one seals or signs, the other opens or verifies).
import { createNativeCrypto } from '../../src/crypto/native.js';
import { createTweetnaclCrypto } from '../../src/crypto/tweetnacl.js';
import { defineCryptoConformance } from '../lib/crypto-conformance.js';

const native = createNativeCrypto();
defineCryptoConformance([native, createTweetnaclCrypto(native.randomBytes)]);
