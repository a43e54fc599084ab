// The identity and channel vectors with libsodium (x0:crypto), inside x0-runtime only.
import { createNativeCrypto } from '../../src/crypto/native.js';
import { defineVectorChecks } from './check.js';

defineVectorChecks(createNativeCrypto());
