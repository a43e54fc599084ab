// House rule: src/core is pure. It imports no engine module and touches no ambient clock, timer or
// randomness; all of those come through the Platform it is given (or as ticks and arguments).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

// Comments may mention these words; strip them before looking.
const withoutComments = (code: string) => code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

const forbidden: Array<[RegExp, string]> = [
  [/from\s+['"](node:|qjs:|x0:)[^'"]*['"]/, 'imports an engine module'],
  [/import\(\s*['"](node:|qjs:|x0:)/, 'imports an engine module'],
  [/from\s+['"](fs|net|dgram|os|child_process|crypto|path)['"]/, 'imports a Node built-in'],
  [/\bDate\.now\s*\(/, 'reads the wall clock (Date.now)'],
  [/\bnew Date\s*\(\s*\)/, 'reads the wall clock (new Date())'],
  [/\bperformance\.now\s*\(/, 'reads a clock (performance.now)'],
  [/\bsetTimeout\s*\(|\bsetInterval\s*\(/, 'uses an ambient timer'],
  [/\bMath\.random\s*\(/, 'uses ambient randomness (Math.random)'],
  [/\bprocess\./, 'touches process'],
];

function impurities(files: string[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    const code = withoutComments(readFileSync(file, 'utf8'));
    for (const [pattern, what] of forbidden) {
      if (pattern.test(code)) found.push(`${relative(root, file)} ${what}`);
    }
  }
  return found;
}

test('src/core imports no engine module and uses no ambient clock, timer or randomness', () => {
  const found = impurities(sources(join(root, 'src/core')));
  assert.equal(found, [], found.join('\n'));
});

test('the check itself catches each kind of impurity', () => {
  const sample = join(root, 'build/purity-sample.ts');
  mkdirSync(join(root, 'build'), { recursive: true });
  writeFileSync(sample, "import * as fs from 'node:fs';\nconst t = Date.now();\nsetTimeout(() => {}, 1);\nconst r = Math.random();\n// Date.now() in a comment is fine\n");
  const found = impurities([sample]);
  assert.is(found.length, 4, found.join('\n'));
});

test.run();
