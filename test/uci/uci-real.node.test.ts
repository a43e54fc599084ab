// parseUci against the real thing: OpenWrt's `uci` (libuci from the pinned tarball, built by
// scripts/openwrt-tools.sh into build/openwrt/prefix) reads the same files. A file uci accepts must give no
// errors here and `uci export` must equal formatUci(resolveUci(parseUci(text))); a file uci refuses must give
// the same first error (reason and line) here. A table of tricky inputs, then seeded random files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseUci, type UciParseReason } from '../../src/core/uci/parse.js';
import { formatUci, resolveUci } from '../../src/core/uci/resolve.js';
import { Rng } from '../../src/core/rng.js';
import { root } from '../lib/processes.js';

const prefix = join(root, 'build/openwrt/prefix');
const uciPath = join(prefix, 'bin/uci');
const randomFiles = 400;

function ensureUci(): void {
  if (existsSync(uciPath)) return;
  const built = spawnSync('bash', [join(root, 'scripts/openwrt-tools.sh'), 'uci'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (built.status !== 0 || !existsSync(uciPath)) {
    throw new Error(
      `could not build uci with 'bash scripts/openwrt-tools.sh uci' (status ${built.status}):\n${built.stderr}`,
    );
  }
}

/** libuci's parse error texts -> our reason codes. */
const uciReasons: Record<string, UciParseReason> = {
  'invalid command': 'invalid-command',
  'insufficient arguments': 'missing-argument',
  'config without name': 'missing-argument',
  'option without name': 'missing-argument',
  'package without name': 'missing-argument',
  'invalid character in name field': 'bad-name',
  'invalid character in type field': 'bad-type',
  'too many arguments': 'too-many-arguments',
  'option/list command found before the first section': 'option-outside-section',
  "EOF with unterminated '": 'unterminated-quote',
  'EOF with unterminated "': 'unterminated-quote',
  'section of different type overwrites prior section with same name': 'section-type-conflict',
};

type UciOutcome =
  | { readonly ok: true; readonly exported: string }
  | { readonly ok: false; readonly reason: UciParseReason; readonly line: number; readonly raw: string };

let dir = '';
let counter = 0;

function runUci(text: string): UciOutcome {
  const name = `f${counter++}`;
  writeFileSync(join(dir, name), text);
  const result = spawnSync(uciPath, ['-c', dir, 'export', name], {
    encoding: 'utf8',
    env: { ...process.env, LD_LIBRARY_PATH: join(prefix, 'lib') },
  });
  if (result.status === 0) return { ok: true, exported: result.stdout.replace(`package ${name}\n`, 'package q\n') };
  const match = /Parse error \((.*)\) at line (\d+), byte \d+/.exec(result.stderr);
  if (match === null) throw new Error(`uci failed without a parse error: ${result.stderr}`);
  const reason = uciReasons[match[1] as string];
  if (reason === undefined) throw new Error(`unmapped uci error: ${match[1]}`);
  return { ok: false, reason, line: Number(match[2]), raw: result.stderr.trim() };
}

/** Compares one file; returns a description of the difference, or null. */
function difference(text: string): string | null {
  const ours = parseUci(text);
  const real = runUci(text);
  if (real.ok) {
    if (ours.errors.length > 0) return `uci accepts it, we report ${JSON.stringify(ours.errors[0])}`;
    const exported = formatUci('q', resolveUci(ours));
    return exported === real.exported ? null : `export differs:\n--- uci\n${real.exported}--- ours\n${exported}`;
  }
  const first = ours.errors[0];
  if (first === undefined) return `uci refuses it (${real.raw}), we accept it`;
  // libuci takes "config\n" (a command word glued to the newline) as an unknown command; we say it lacks arguments.
  const sameReason =
    first.reason === real.reason || (real.reason === 'invalid-command' && first.reason === 'missing-argument');
  if (!sameReason) return `uci: ${real.raw}; ours: ${first.reason} at line ${first.line}`;
  // An unterminated quote: uci names the file's last line, we name the line where the quote opens.
  if (first.reason !== 'unterminated-quote' && first.line !== real.line)
    return `uci: ${real.raw}; ours: line ${first.line}`;
  return null;
}

test.before(() => {
  ensureUci();
  dir = mkdtempSync(join(tmpdir(), 'x0-uci-'));
});

test.after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

const table: readonly string[] = [
  "config agent 'main'\n\toption a 'x'\"y\"z # c\n\tlist l 1\n\tlist l '2'\nconfig agent\n\toption b \"a\\\"b\\nc\"\n",
  "config a 'm'\n\toption x y; option z w\n",
  "config a 'm'\n\toption x 'y'; option z w\n",
  "config a 'm'\n\toption x ;option z w\n",
  "config a 'm'\n\tlist x ''\n\tlist x 'b'\n\toption y ''\n",
  "config a 'm'\n\toption x 1\n\tlist x 2\n\toption k v\n\toption x 3\n",
  "config a 'm'\n\toption x 1\nconfig a 'n'\nconfig a 'm'\n\toption y 2\n",
  "config a 'm'\nconfig b 'm'\n",
  "config a 'm'\n\toption x 'multi\nline'\n",
  "config a 'm'\n\toption y a\\\nb\n",
  "config a 'm'\n\toption y a\\\n b\n",
  'config a \'m\'\n\toption z "a\\\nb"\n',
  "config a 'm'\n\toption x a\\ b\n\toption y 'a\\b'\n",
  'config a\toption x y\n',
  "config a-b.c 'n-1'\n",
  "config a-b.c 'n_1'\n",
  "config a 'm'\n\toption x-y 1\n",
  "config a 'm'\n\toption x\n",
  "config a 'm'\n\toption\n",
  "config a 'm' # comment\n  # indented\n\n\toption x 'a#b' # c\n\toption y a#b\n",
  "package foo\nconfig a 'm'\n",
  "package 'foo bar'\nconfig a 'm'\n",
  "config a 'm'\r\n\toption x 'y'\r\n",
  "config a 'm'\n\toption x 'y'z'w\n",
  "config a 'm'\n\toption x \"unterminated\n\toption y z\n",
  "config a 'm'\n\toption x 1 2\n",
  "config a 'm'\n\toption x 1 #2\n",
  'config\tagent\n',
  'config agent\n',
  "config agent ''\n\toption a 1\n",
  "config 'ag ent'\n",
  "config ''\n",
  'config\n',
  'configx a\n',
  'option a b\n',
  "c agent main\no a 'b'\nl x 1\nl x 2\n",
  "config a 'm'\n\toption x 'it'\\''s'\n",
  "config a 'm'\n\toption x \"it's\"\n\toption y 'say \"hi\"'\n",
  "config a 'm'\n\toption x \\#not-a-comment\n",
  "config a 'm'\n\toption x 'y'\\\n",
  "config a 'm'; option x 1\n",
  "config a 'm'\n\toption x 1\n\toption x ''\n\tlist y 1\n\toption y\n",
];

test('a table of tricky inputs: parseUci agrees with the real uci', () => {
  const differences = table.map((text) => [text, difference(text)] as const).filter(([, diff]) => diff !== null);
  assert.equal(differences, []);
});

// Random files built from the pieces that make UCI tricky: quotes of both kinds, escapes, continuations,
// comments, ';', names uci refuses, statements before a section, repeated sections.
function randomArg(rng: Rng): string {
  const word = (): string => rng.pick(['a', 'main', 'x_1', 'node', 'b-c', 'd.e', '10s', '0', 'v#w', 'y;z']);
  const inner = (): string => rng.pick(['a b', 'x', '', '#', ';', '\\', '\\"', '"', "'", 'line\nbreak', 'q\\\nr', 'é']);
  const piece = (): string => {
    switch (rng.int(7)) {
      case 0:
        return `'${inner().replace(/'/g, '')}'`;
      case 1:
        return `"${inner().replace(/(?<!\\)"/g, '')}"`;
      case 2:
        return rng.chance(0.2) ? rng.pick(["'open", '"open']) : word();
      case 3:
        return `${word()}\\${rng.pick([' ', '\n', 'n', '\\'])}${word()}`;
      default:
        return word();
    }
  };
  return rng.chance(0.3) ? piece() + piece() : piece();
}

function randomFile(rng: Rng): string {
  const lines: string[] = [];
  const statements = rng.range(1, 8);
  for (let i = 0; i < statements; i++) {
    const command =
      i === 0 && rng.chance(0.85)
        ? 'config'
        : rng.pick(['option', 'option', 'option', 'list', 'list', 'config', 'package', 'o', '#', 'bogus', '']);
    const argc =
      command === 'config' ? rng.range(1, 2) : command === '#' || command === '' ? 0 : rng.pick([0, 1, 2, 2, 2, 2, 3]);
    const args = Array.from({ length: argc }, () => randomArg(rng));
    const tail = rng.pick(['', '', '', '', '', ' # note', ';', '; option k v', '\r']);
    lines.push(`${rng.pick(['', '\t', '  '])}${[command, ...args].join(rng.pick([' ', '\t']))}${tail}`);
  }
  return `${lines.join('\n')}\n`;
}

test(`${randomFiles} seeded random files: parseUci agrees with the real uci`, () => {
  const seed = 14;
  const rng = new Rng(seed);
  let accepted = 0;
  for (let i = 0; i < randomFiles; i++) {
    const text = randomFile(rng);
    const diff = difference(text);
    assert.is(diff, null, `seed ${seed}, file ${i}: ${JSON.stringify(text)}\n${diff}`);
    if (parseUci(text).errors.length === 0) accepted += 1;
  }
  // Both kinds must be exercised: files uci accepts and files it refuses.
  console.log(`uci-real: ${accepted} of ${randomFiles} random files valid`);
  assert.ok(accepted > randomFiles / 20, `only ${accepted} valid files`);
  assert.ok(accepted < randomFiles - randomFiles / 10, `only ${randomFiles - accepted} invalid files`);
});

test.run();
