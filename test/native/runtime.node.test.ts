// x0-runtime's command line: exit codes and messages for missing files, syntax errors, memory and stack
// limits, uncaught errors, --compile and bytecode, --help. Spawns build/x0-runtime.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runSync, scriptPath } from './lib.js';

// Exit codes, as documented in src/native/README.md and x0.h.
const exit = { ok: 0, jsError: 1, usage: 2, file: 3, compile: 4, oom: 5, stack: 6 };

function script(name: string, source: string): string {
  const path = scriptPath(name);
  writeFileSync(path, source);
  return path;
}

test('a missing file: a clear message and exit 3', () => {
  const result = runSync(['/nonexistent/dir/app.js']);
  assert.is(result.status, exit.file);
  assert.is(result.stderr.trim(), 'x0-runtime: cannot open /nonexistent/dir/app.js: No such file or directory');
});

test('a directory is not a script: exit 3', () => {
  const result = runSync(['/tmp']);
  assert.is(result.status, exit.file);
  assert.match(result.stderr, 'cannot open /tmp: Is a directory');
});

test('a syntax error: the message with file and line, exit 4', () => {
  const file = script('syntax-error.js', 'const ok = 1;\nlet x = ;\n');
  const result = runSync([file]);
  assert.is(result.status, exit.compile);
  assert.match(result.stderr, `x0-runtime: ${file}: cannot compile`);
  assert.match(result.stderr, 'SyntaxError');
  assert.match(result.stderr, 'syntax-error.js:2');
});

test('an import that cannot be loaded: exit 4, naming the module', () => {
  const file = script('bad-import.js', "import './no-such-module.js';\n");
  const result = runSync([file]);
  assert.is(result.status, exit.compile);
  assert.match(result.stderr, 'no-such-module.js');
});

test('exceeding --memory-limit: "out of memory (limit N bytes)" and exit 5', () => {
  const file = script(
    'hog.js',
    'const keep = [];\nfor (let i = 0; i < 1e7; i++) keep.push(new Array(1024).fill(i));\n',
  );
  const result = runSync(['--memory-limit', '16M', file]);
  assert.is(result.status, exit.oom);
  assert.match(result.stderr, `x0-runtime: ${file}: out of memory (limit 16777216 bytes)`);
});

test('the same script runs to the end without the limit taking effect when it fits', () => {
  const file = script(
    'fits.js',
    'const keep = [];\nfor (let i = 0; i < 100; i++) keep.push(new Array(1024).fill(i));\nconsole.log(keep.length);\n',
  );
  const result = runSync(['--memory-limit=16M', file]);
  assert.is(result.status, exit.ok);
  assert.is(result.stdout, '100\n');
});

test('unbounded recursion under --stack-size: "stack overflow" and exit 6', () => {
  const file = script('deep.js', 'function down(n) { return down(n + 1) + 1; }\ndown(0);\n');
  const result = runSync(['--stack-size', '256K', file]);
  assert.is(result.status, exit.stack);
  assert.match(result.stderr, `x0-runtime: ${file}: stack overflow (limit 262144 bytes)`);
});

test('an uncaught throw: the stack trace on stderr and exit 1', () => {
  const file = script(
    'throws.js',
    'function inner() { throw new Error("boom"); }\nfunction outer() { inner(); }\nouter();\n',
  );
  const result = runSync([file]);
  assert.is(result.status, exit.jsError);
  assert.match(result.stderr, 'uncaught exception');
  assert.match(result.stderr, 'Error: boom');
  assert.match(result.stderr, /at inner \(.*throws\.js:1/);
  assert.match(result.stderr, /at outer \(.*throws\.js:2/);
});

test('a throw inside a timer callback also ends the run with exit 1', () => {
  const file = script(
    'timer-throws.js',
    "import * as os from 'qjs:os';\nos.setTimeout(() => { throw new TypeError('late'); }, 1);\n",
  );
  const result = runSync([file]);
  assert.is(result.status, exit.jsError);
  assert.match(result.stderr, 'TypeError: late');
});

test('an unhandled promise rejection: its stack and exit 1', () => {
  const file = script('rejects.js', "async function fail() { throw new RangeError('nope'); }\nfail();\n");
  const result = runSync([file]);
  assert.is(result.status, exit.jsError);
  assert.match(result.stderr, 'RangeError: nope');
  assert.match(result.stderr, 'rejects.js');
});

test('a top-level await that can never settle: exit 1 with a message', () => {
  const file = script('stuck.js', 'await new Promise(() => {});\n');
  const result = runSync([file]);
  assert.is(result.status, exit.jsError);
  assert.match(result.stderr, 'top-level await never settled');
});

test('scriptArgs, timers, top-level await and std.exit(n)', () => {
  const file = script(
    'args.js',
    [
      "import * as std from 'qjs:std';",
      "import * as os from 'qjs:os';",
      'await new Promise((resolve) => os.setTimeout(resolve, 5));',
      'console.log(JSON.stringify(scriptArgs.slice(1)));',
      'std.exit(Number(scriptArgs[2]));',
    ].join('\n'),
  );
  const result = runSync([file, 'first', '7']);
  assert.is(result.stdout, '["first","7"]\n');
  assert.is(result.status, 7);
});

test('--compile writes bytecode that runs with the same output', () => {
  const source = script(
    'compiled.js',
    "import * as os from 'qjs:os';\nconst squares = [1, 2, 3].map((n) => n * n);\nawait new Promise((r) => os.setTimeout(r, 1));\nconsole.log('squares', squares.join(','), scriptArgs.length);\n",
  );
  const bytecode = scriptPath('compiled.jsbc');
  const compiled = runSync(['--compile', source, '-o', bytecode]);
  assert.is(compiled.status, exit.ok, compiled.stderr);
  const fromSource = runSync([source, 'x']);
  const fromBytecode = runSync([bytecode, 'x']);
  assert.is(fromSource.status, exit.ok);
  assert.is(fromBytecode.status, exit.ok, fromBytecode.stderr);
  assert.is(fromBytecode.stdout, 'squares 1,4,9 2\n');
  assert.is(fromBytecode.stdout, fromSource.stdout);
});

test('bytecode keeps line numbers: a throw in compiled code has a stack trace', () => {
  const source = script('compiled-throws.js', 'function deep() {\n  throw new Error("from bytecode");\n}\ndeep();\n');
  const bytecode = scriptPath('compiled-throws.jsbc');
  assert.is(runSync(['--compile', source, '-o', bytecode]).status, exit.ok);
  const result = runSync([bytecode]);
  assert.is(result.status, exit.jsError);
  assert.match(result.stderr, 'Error: from bytecode');
  assert.match(result.stderr, /at deep \(.*compiled-throws\.js:2/);
});

test('--compile --strip-debug: smaller bytecode; a throw keeps its message and function names, not positions', () => {
  const source = script(
    'stripped-throws.js',
    `${'// padding that only the line table remembers\n'.repeat(40)}function deepStripped() {\n  throw new RangeError("from stripped bytecode");\n}\ndeepStripped();\n`,
  );
  const full = scriptPath('stripped-full.jsbc');
  const stripped = scriptPath('stripped.jsbc');
  assert.is(runSync(['--compile', source, '-o', full]).status, exit.ok);
  const compiled = runSync(['--compile', source, '--strip-debug', '-o', stripped]);
  assert.is(compiled.status, exit.ok, compiled.stderr);
  assert.ok(readFileSync(stripped).length < readFileSync(full).length, 'stripped bytecode is smaller');
  const result = runSync([stripped]);
  assert.is(result.status, exit.jsError);
  assert.match(result.stderr, 'RangeError: from stripped bytecode');
  assert.match(result.stderr, /at deepStripped/);
  assert.not.match(result.stderr, /stripped-throws\.js:\d/);
});

test('--strip-debug without --compile is a usage error', () => {
  const result = runSync(['--strip-debug', script('plain.js', 'console.log(1);\n')]);
  assert.is(result.status, exit.usage);
  assert.match(result.stderr, '--strip-debug is an option of --compile');
});

test('bytecode from another engine version is refused with exit 4, not run', () => {
  const bytecode = scriptPath('foreign.jsbc');
  writeFileSync(bytecode, 'x0-jsbc 1 quickjs-ng/0.1.0\n\u0001\u0002garbage');
  const result = runSync([bytecode]);
  assert.is(result.status, exit.compile);
  assert.match(result.stderr, 'recompile it');
});

test('truncated bytecode is refused with exit 4', () => {
  const source = script('truncate-me.js', 'console.log("a fairly long line of code to compile", [1, 2, 3].length);\n');
  const bytecode = scriptPath('truncated.jsbc');
  assert.is(runSync(['--compile', source, '-o', bytecode]).status, exit.ok);
  const full = readFileSync(bytecode);
  writeFileSync(bytecode, full.subarray(0, full.length - 20));
  const result = runSync([bytecode]);
  assert.is(result.status, exit.compile);
});

test('--compile of a syntax error: exit 4 and no output file', () => {
  const source = script('compile-bad.js', 'let = = 1;\n');
  const out = scriptPath('compile-bad.jsbc');
  const result = runSync(['--compile', source, '-o', out]);
  assert.is(result.status, exit.compile);
  assert.match(result.stderr, 'SyntaxError');
  assert.not.ok(existsSync(out));
});

test('usage errors: exit 2 with a pointer to --help', () => {
  for (const args of [
    [],
    ['--memory-limit'],
    ['--memory-limit', '12Q', 'x.js'],
    ['--stack-size', '0', 'x.js'],
    ['--bogus', 'x.js'],
    ['--compile', 'a.js'],
  ]) {
    const result = runSync(args);
    assert.is(result.status, exit.usage, `args ${JSON.stringify(args)}`);
    assert.match(result.stderr, "Try 'x0-runtime --help'");
  }
});

test('timers that are always due do not starve a ready pipe (the event loop serves one fd after each timer)', () => {
  // Three chains of 1 ms timers, each busy for 2 ms, run for 400 ms; a pipe becomes ready after 50 ms. Upstream
  // QuickJS-ng ran one due timer per pass and returned without polling, so the pipe was read only after the
  // chain ended (on a starved router every agent timer is due: sockets and child pipes waited seconds).
  const file = script(
    'timer-starvation.js',
    `import * as os from 'qjs:os';
const start = Date.now();
let readAt = null;
const [r, w] = os.pipe();
os.setReadHandler(r, () => {
  readAt = Date.now() - start;
  os.setReadHandler(r, null);
});
let written = false;
function busy() {
  const t = Date.now();
  while (Date.now() - t < 2);
  if (!written && t - start >= 50) {
    written = true;
    os.write(w, new Uint8Array([1]).buffer, 0, 1);
  }
  if (Date.now() - start < 400) os.setTimeout(busy, 1);
  else if (!ended) {
    ended = true;
    console.log('read-at', readAt, 'chain-ended', Date.now() - start);
  }
}
let ended = false;
// Three chains: while one runs (2 ms), the others fall due (1 ms), so some timer is always due.
for (let i = 0; i < 3; i++) os.setTimeout(busy, 1);
`,
  );
  const result = runSync([file]);
  assert.is(result.status, exit.ok, result.stderr);
  const [, readAt, , ended] = result.stdout.trim().split(' ');
  assert.ok(readAt !== 'null', `the pipe was never read while the timers ran (${result.stdout.trim()})`);
  assert.ok(Number(readAt) < Number(ended) / 2, `read at ${readAt} ms (ready at 50), chain ended at ${ended} ms`);
});

test('--help lists the flags and the exit codes; --version names the engine', () => {
  const help = runSync(['--help']);
  assert.is(help.status, exit.ok);
  for (const flag of ['--compile', '--memory-limit', '--stack-size', '--version', 'exit codes'])
    assert.match(help.stdout, flag);
  const version = runSync(['--version']);
  assert.is(version.status, exit.ok);
  assert.match(version.stdout, /^x0-runtime \S+ \(quickjs-ng 0\.17\.\d+, libsodium [\d.]+\)\n$/);
});

test.run();
