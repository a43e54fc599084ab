// Identity and channel test vectors: prints, writes or checks test/vectors/identity-vectors.ts.
// Deterministic (fixed keys, fixed time, seeded randomness): running it again gives the same bytes.
// Usage: node --import tsx scripts/gen-identity-vectors.ts [--write | --check]
//   (no flag) print the module; --write replace the stored file; --check exit 1 if the stored file differs.
import { readFileSync, writeFileSync } from 'node:fs';
import { createTweetnaclCrypto } from '../src/crypto/tweetnacl.js';
import { generateIdentityVectors, renderVectorsModule } from '../test/vectors/generate.js';

const path = new URL('../test/vectors/identity-vectors.ts', import.meta.url).pathname;
const mode = process.argv[2] ?? '';
if (!['', '--write', '--check'].includes(mode)) {
  console.error('usage: node --import tsx scripts/gen-identity-vectors.ts [--write | --check]');
  process.exit(2);
}
const text = renderVectorsModule(generateIdentityVectors(createTweetnaclCrypto()));
if (mode === '--write') {
  writeFileSync(path, text);
  console.log(`wrote ${path} (${text.length} bytes)`);
} else if (mode === '--check') {
  let stored = '';
  try { stored = readFileSync(path, 'utf8'); } catch { /* missing: differs */ }
  if (stored !== text) {
    console.error(`${path} differs from what the generator makes: run with --write and review the diff`);
    process.exit(1);
  }
  console.log(`${path} is up to date`);
} else {
  process.stdout.write(text);
}
