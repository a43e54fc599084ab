// parseUci: UCI's file syntax as libuci reads it (the same inputs are checked against the real `uci` binary in
// uci-real.node.test.ts). Engine-neutral: runs on Node and inside x0-runtime.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseUci, quoteUci, type UciParseReason } from '../../src/core/uci/parse.js';
import { formatUci, resolveUci } from '../../src/core/uci/resolve.js';
import { uciLimits } from '../../src/core/uci/limits.js';

const values = (text: string): Array<[string, string, string, number]> =>
  parseUci(text).sections.flatMap((s) =>
    s.entries.map((e): [string, string, string, number] => [e.kind, e.name, e.value, e.line]),
  );

const firstError = (text: string): { line: number; reason: UciParseReason } | undefined => {
  const error = parseUci(text).errors[0];
  return error === undefined ? undefined : { line: error.line, reason: error.reason };
};

test('sections in order, named and anonymous, with a line number for each statement', () => {
  const file = parseUci(
    "# comment\n\nconfig agent 'main'\n\toption role 'node'\n\tlist anchor 'a@h:1'\n\tlist anchor \"b@h:2\"\nconfig uplink\n  option qos 1\n",
  );
  assert.equal(file.errors, []);
  assert.equal(
    file.sections.map((s) => [s.type, s.name, s.line]),
    [
      ['agent', 'main', 3],
      ['uplink', null, 7],
    ],
  );
  assert.equal(values("config a 'm'\n\toption role 'node'\n\tlist anchor 'a@h:1'\n\tlist anchor \"b@h:2\"\n"), [
    ['option', 'role', 'node', 2],
    ['list', 'anchor', 'a@h:1', 3],
    ['list', 'anchor', 'b@h:2', 4],
  ]);
});

test('quoting: single, double, none, glued pieces, escapes and comments', () => {
  const cases: Array<[string, string]> = [
    [`option x 'a b'`, 'a b'],
    [`option x "a b"`, 'a b'],
    [`option x plain`, 'plain'],
    [`option x 'x'"y"z`, 'xyz'],
    [`option x "a\\"b"`, 'a"b'],
    [`option x "a\\nb"`, 'anb'], // libuci does not decode \n: the backslash just escapes 'n'
    [`option x 'a\\b'`, 'a\\b'], // no escapes in single quotes
    [`option x a\\ b`, 'a b'],
    [`option x 'it'\\''s'`, "it's"],
    [`option x 'a#b' # comment`, 'a#b'],
    [`option x a#b`, 'a'],
    [`option x # only a comment`, ''],
    [`option x ''`, ''],
    [`option x`, ''],
    [`o x short`, 'short'],
  ];
  for (const [line, expected] of cases) {
    const file = parseUci(`config a 'm'\n\t${line}\n`);
    assert.equal(file.errors, [], line);
    assert.equal(file.sections[0]?.entries[0]?.value ?? '', expected, line);
  }
});

test('a quoted value and a trailing backslash may span lines; statements keep their first line', () => {
  assert.equal(values("config a 'm'\n\toption x 'multi\nline'\n\toption y a\\\nb\n\toption z 1\n"), [
    ['option', 'x', 'multi\nline', 2],
    ['option', 'y', 'ab', 4],
    ['option', 'z', '1', 6],
  ]);
});

test("';' ends a command, with libuci's quirk: after an unquoted value it drops the rest of the line", () => {
  assert.equal(values("config a 'm'\n\toption x 'y'; option z w\n"), [
    ['option', 'x', 'y', 2],
    ['option', 'z', 'w', 2],
  ]);
  assert.equal(values("config a 'm'\n\toption x y; option z w\n"), [['option', 'x', 'y', 2]]);
});

test('CRLF line ends are read like uci reads them', () => {
  assert.equal(values("config a 'm'\r\n\toption x 'y'\r\n"), [['option', 'x', 'y', 2]]);
});

test('package statements are recorded and otherwise ignored', () => {
  const file = parseUci("package x0tta6bl4\nconfig a 'm'\n");
  assert.equal(file.errors, []);
  assert.is(file.packageName, 'x0tta6bl4');
  assert.is(file.sections.length, 1);
});

test('each syntax error is a value with its line and a reason code', () => {
  const cases: Array<[string, number, UciParseReason]> = [
    ['option a b\n', 1, 'option-outside-section'],
    ["config a 'm'\nfoo bar\n", 2, 'invalid-command'],
    ["config a 'm'\n\toption x 'open\n\toption y z\n", 2, 'unterminated-quote'],
    ["config a 'm'\n\n\toption x \"open\n", 3, 'unterminated-quote'],
    ["config a 'm'\n\toption x 1 2\n", 2, 'too-many-arguments'],
    ["config a 'm'\n\toption x-y 1\n", 2, 'bad-name'],
    ["config a 'm-1'\n", 1, 'bad-name'],
    ["config 'a b'\n", 1, 'bad-type'],
    ["config ''\n", 1, 'missing-argument'],
    ['config\n', 1, 'missing-argument'],
    ["config a 'm'\n\toption\n", 2, 'missing-argument'],
    ["config a 'm'\nconfig b 'm'\n", 2, 'section-type-conflict'],
    ["package 'a b'\n", 1, 'bad-name'],
    ["config a 'm'\n\toption x 'y'\0\n", 2, 'nul-character'],
  ];
  for (const [text, line, reason] of cases) assert.equal(firstError(text), { line, reason }, JSON.stringify(text));
});

test('a quote left open is blamed on the statement it breaks, not on the end of the file', () => {
  const file = parseUci("config a 'm'\n\toption x 'one\n\toption y 'two'\n\toption z 'three'\n");
  assert.equal(
    file.errors.map((e) => [e.line, e.reason]),
    [[2, 'unterminated-quote']],
  );
  assert.match(file.errors[0]?.message ?? '', "runs on to line 4, where a ' quote is never closed");
});

test('goes on after an error so every error is reported, without echoing a broken section', () => {
  const file = parseUci("config a 'm'\n\toption x 1 2\n\toption y 'ok'\nconfig 'b c' 'n'\n\toption z 1\nbogus\n");
  assert.equal(
    file.errors.map((e) => [e.line, e.reason]),
    [
      [2, 'too-many-arguments'],
      [4, 'bad-type'],
      [6, 'invalid-command'],
    ],
  );
  assert.equal(values("config a 'm'\n\toption x 1 2\n\toption y 'ok'\n"), [['option', 'y', 'ok', 3]]);
});

test('bounds: file size, line length, sections, entries and the number of errors', () => {
  assert.is(firstError('#'.repeat(uciLimits.fileCharsMax + 1))?.reason, 'file-too-large');
  assert.is(firstError(`config a 'm'\n\toption x '${'v'.repeat(uciLimits.lineCharsMax)}'\n`)?.reason, 'line-too-long');
  assert.is(
    firstError(`config a 'm'\n\toption x 'never closed\n${'x\n'.repeat(uciLimits.lineCharsMax)}`)?.reason,
    'line-too-long',
  );
  assert.equal(firstError('config a\n'.repeat(uciLimits.sectionsMax + 1)), {
    line: uciLimits.sectionsMax + 1,
    reason: 'too-many-sections',
  });
  assert.equal(firstError(`config a 'm'\n${'\tlist x 1\n'.repeat(uciLimits.entriesPerSectionMax + 1)}`), {
    line: uciLimits.entriesPerSectionMax + 2,
    reason: 'too-many-entries',
  });
  const errors = parseUci('bad\n'.repeat(uciLimits.errorsMax + 5)).errors;
  assert.is(errors.length, uciLimits.errorsMax + 1);
  assert.is(errors[errors.length - 1]?.reason, 'too-many-errors');
});

test('resolveUci merges like libuci: repeated named section, option replaced, empty value ignored, option turned list', () => {
  const file = parseUci(
    "config a 'm'\n\toption x 1\n\tlist x 2\n\toption k v\n\toption k ''\n\toption y 1\n\toption y 3\nconfig a 'n'\nconfig a 'm'\n\toption z 2\n",
  );
  assert.equal(resolveUci(file), [
    {
      type: 'a',
      name: 'm',
      options: [
        { name: 'x', value: ['1', '2'] },
        { name: 'k', value: 'v' },
        { name: 'y', value: '3' },
        { name: 'z', value: '2' },
      ],
    },
    { type: 'a', name: 'n', options: [] },
  ]);
});

test('formatUci writes what parseUci reads back unchanged, quotes included', () => {
  const tricky = ["it's", 'a"b', 'multi\nline', 'a#b', 'back\\slash', ' spaced ', ''];
  const sections = [
    {
      type: 'agent',
      name: 'main',
      options: [
        { name: 'v', value: 'plain' },
        { name: 'l', value: tricky.filter((t) => t !== '') },
      ],
    },
  ];
  const text = formatUci('x0tta6bl4', sections);
  const file = parseUci(text);
  assert.equal(file.errors, []);
  assert.equal(resolveUci(file), sections);
  assert.is(quoteUci("it's"), "'it'\\''s'");
});

test.run();
