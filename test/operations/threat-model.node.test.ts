// docs/protocol/threat-model.md names a test for every claim: `dir/file.test.ts` "title", where "…" stands for
// words left out. This checks that every named file exists under test/ and that each named title's words are in
// it, so a renamed or deleted test cannot leave a claim pointing at nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';

const doc = readFileSync('docs/protocol/threat-model.md', 'utf8');

/** [file, [title fragments]] for each reference: a backticked test file, then its quoted titles (", "-separated). */
function references(): Array<{ file: string; fragments: string[] }> {
  const out: Array<{ file: string; fragments: string[] }> = [];
  const reference = /`([a-z0-9/_.-]+\.test\.ts)`((?:,? ?(?:"(?:[^"\\]|\\.)*"))*)/g;
  for (const m of doc.matchAll(reference)) {
    const titles = [...(m[2] ?? '').matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((t) => t[1] as string);
    const fragments = titles
      .flatMap((t) => t.split('…'))
      .map((f) => f.replace(/\s+/g, ' ').trim().replace(/\\"/g, '"'))
      .filter((f) => f.length >= 8);
    out.push({ file: m[1] as string, fragments });
  }
  return out;
}

test('every test the threat model names exists, with the words of its title', () => {
  const refs = references();
  assert.ok(refs.length >= 30, `found ${refs.length} references`);
  const missing: string[] = [];
  for (const { file, fragments } of refs) {
    const path = `test/${file}`;
    if (!existsSync(path)) {
      missing.push(`${path} does not exist`);
      continue;
    }
    const text = readFileSync(path, 'utf8');
    for (const f of fragments) if (!text.includes(f)) missing.push(`${path} has no test titled with "${f}"`);
  }
  assert.equal(missing, [], `docs/protocol/threat-model.md names tests that are not there:\n${missing.join('\n')}`);
});

test.run();
