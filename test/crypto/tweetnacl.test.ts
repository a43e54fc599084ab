import { createTweetnaclCrypto } from '../../src/crypto/tweetnacl.js';
import { defineCryptoConformance } from '../lib/crypto-conformance.js';

defineCryptoConformance([createTweetnaclCrypto()]);
