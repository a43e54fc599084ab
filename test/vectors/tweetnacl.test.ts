// The identity and channel vectors with tweetnacl, on Node and (bundled) inside x0-runtime.
import { createTweetnaclCrypto } from '../../src/crypto/tweetnacl.js';
import { defineVectorChecks } from './check.js';

defineVectorChecks(createTweetnaclCrypto());
