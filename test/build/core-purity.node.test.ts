// House rule: pure code imports no engine module and touches no ambient clock, timer or randomness; all of those
// come through the Platform it is given (or as ticks and arguments). Pure code is src/core and the pure state
// machines outside it (ubus and MQTT clients and codecs, XDP and batman-adv parsers, the agent's supervisor,
// journal and config). tsconfig.core.json lists them all and is the one list: this test reads it, scans every
// file in it, checks that they import only each other, and type-checks them without Node's types.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, relative, resolve } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const coreConfig = join(root, 'tsconfig.core.json');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The pure files: tsconfig.core.json's include, `dir/**\/*.ts` expanded; its declaration files left out. */
function guardedFiles(): string[] {
  const include = (JSON.parse(readFileSync(coreConfig, 'utf8')) as { include: string[] }).include;
  return include.flatMap((pattern) => {
    if (pattern.endsWith('.d.ts')) return [];
    if (pattern.endsWith('/**/*.ts')) return sources(join(root, pattern.slice(0, -'/**/*.ts'.length)));
    assert.not.match(pattern, /\*/, `tsconfig.core.json: '${pattern}': use a file or 'dir/**/*.ts'`);
    return [join(root, pattern)];
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

function impuritiesOf(name: string, code: string): string[] {
  const stripped = withoutComments(code);
  return forbidden.filter(([pattern]) => pattern.test(stripped)).map(([, what]) => `${name} ${what}`);
}

function impurities(files: string[]): string[] {
  return files.flatMap((file) => impuritiesOf(relative(root, file), readFileSync(file, 'utf8')));
}

/** Relative imports that leave the guarded set: pure code may lean only on pure code. */
function escapesOf(file: string, code: string, guarded: Set<string>): string[] {
  const found: string[] = [];
  for (const match of withoutComments(code).matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const target = resolve(dirname(file), (match[1] as string).replace(/\.js$/, '.ts'));
    if (!guarded.has(target))
      found.push(`${relative(root, file)} imports ${relative(root, target)}, which is not in tsconfig.core.json`);
  }
  return found;
}

test('pure code imports no engine module and uses no ambient clock, timer or randomness', () => {
  const files = guardedFiles();
  assert.ok(files.includes(join(root, 'src/core/raft/log.ts')), 'tsconfig.core.json covers src/core');
  assert.ok(files.length > 50, `tsconfig.core.json lists only ${files.length} files`);
  for (const file of files)
    assert.ok(existsSync(file), `tsconfig.core.json names ${relative(root, file)}, which does not exist`);
  const found = impurities(files);
  assert.equal(found, [], found.join('\n'));
});

test('pure code imports only pure code', () => {
  const files = guardedFiles();
  const guarded = new Set(files);
  const found = files.flatMap((file) => escapesOf(file, readFileSync(file, 'utf8'), guarded));
  assert.equal(found, [], found.join('\n'));
});

test('the check itself catches each kind of impurity', () => {
  const sample = join(root, 'build/purity-sample.ts');
  mkdirSync(join(root, 'build'), { recursive: true });
  writeFileSync(
    sample,
    "import * as fs from 'node:fs';\nconst t = Date.now();\nsetTimeout(() => {}, 1);\nconst r = Math.random();\n// Date.now() in a comment is fine\n",
  );
  const found = impurities([sample]);
  assert.is(found.length, 4, found.join('\n'));
});

test('the check catches a planted node:, qjs: or x0: import in every guarded file', () => {
  const files = guardedFiles();
  for (const file of files) {
    const code = readFileSync(file, 'utf8');
    for (const module of ['node:fs', 'qjs:os', 'x0:net']) {
      const planted = `import * as planted from '${module}';\n${code}`;
      assert.equal(
        impuritiesOf(file, planted),
        [`${file} imports an engine module`],
        `${relative(root, file)} with ${module}`,
      );
      const dynamic = `${code}\nconst planted = await import('${module}');\n`;
      assert.equal(
        impuritiesOf(file, dynamic),
        [`${file} imports an engine module`],
        `${relative(root, file)} with import('${module}')`,
      );
    }
  }
});

test('the check catches a planted import of impure code in every guarded file', () => {
  const files = guardedFiles();
  const guarded = new Set(files);
  const adapter = join(root, 'src/platform/node/index.ts');
  assert.ok(existsSync(adapter));
  for (const file of files) {
    const planted = `import { createNodePlatform } from '${relative(dirname(file), adapter)
      .replace(/\.ts$/, '.js')
      .replace(/^(?!\.)/, './')}';\n${readFileSync(file, 'utf8')}`;
    assert.is(escapesOf(file, planted, guarded).length, 1, relative(root, file));
  }
});

function tsc(project: string): { status: number | null; output: string } {
  const run = spawnSync(join(root, 'node_modules/.bin/tsc'), ['-p', project], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

test('pure code type-checks without Node types (tsconfig.core.json, types: [])', () => {
  const run = tsc(coreConfig);
  assert.is(run.status, 0, run.output);
});

test('the type check itself rejects an engine module and a Node global in pure code', () => {
  const dir = join(root, 'build/purity-tsc');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'planted.ts'),
    "import { readFileSync } from 'node:fs';\nexport const bytes = Buffer.from(readFileSync('x'));\n",
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ extends: '../../tsconfig.core.json', include: ['../../types/core/globals.d.ts', 'planted.ts'] }),
  );
  const run = tsc(join(dir, 'tsconfig.json'));
  assert.is.not(run.status, 0, run.output);
  assert.match(run.output, /Cannot find module 'node:fs'/);
  assert.match(run.output, /Cannot find name 'Buffer'/);
});

test.run();
