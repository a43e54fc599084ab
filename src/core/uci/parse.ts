// UCI's file syntax, read the way libuci reads it (uci/file.c, the version pinned in
// ../shared/vendor/openwrt): a port of its line buffer, argument scanner and commands, so that every quirk an
// operator can meet on a router behaves the same here. Statements: `config TYPE ['NAME']`, `option NAME
// ['VALUE']`, `list NAME ['VALUE']`, `package NAME` (recorded, otherwise ignored, as uci_load does for one
// file), and the one-letter forms `c o l p`. Arguments are unquoted, 'single' (no escapes, may span lines) or
// "double" (backslash escapes the next character, may span lines) quoted, or pieces of each glued together; a
// backslash outside single quotes escapes the next character and at the end of a line joins the next one;
// `#` outside quotes starts a comment; `;` ends a command.
//
// Differences from libuci, all on purpose: it stops at the first error, we go on at the next line (as
// libuci does without UCI_FLAG_STRICT) so an operator sees every error at once; an unterminated quote is
// reported on the line of the statement it breaks (libuci names the last line of the file); a NUL character
// is refused (libuci silently cuts the line there); and the sizes in ./limits.ts are bounded. Merging the
// statements into libuci's view (a repeated named section, an option set twice) is ./resolve.ts.
import { uciLimits } from './limits.js';

export type UciEntryKind = 'option' | 'list';

export interface UciEntry {
  readonly kind: UciEntryKind;
  readonly name: string;
  /** '' for `option NAME` with no value or an empty quoted one. */
  readonly value: string;
  readonly line: number;
}

/** One `config` statement and the `option` / `list` statements after it, in file order. */
export interface UciSection {
  readonly type: string;
  /** null for an anonymous section (`config TYPE` or `config TYPE ''`). */
  readonly name: string | null;
  readonly line: number;
  readonly entries: readonly UciEntry[];
}

export type UciParseReason =
  | 'invalid-command'
  | 'missing-argument'
  | 'bad-type'
  | 'bad-name'
  | 'too-many-arguments'
  | 'option-outside-section'
  | 'unterminated-quote'
  | 'section-type-conflict'
  | 'nul-character'
  | 'file-too-large'
  | 'line-too-long'
  | 'too-many-sections'
  | 'too-many-entries'
  | 'too-many-errors';

export interface UciParseError {
  /** 1-based line of the file. */
  readonly line: number;
  readonly reason: UciParseReason;
  /** What is wrong and what to write instead, without the file name and line. */
  readonly message: string;
}

export interface UciFile {
  /** The name of the last `package NAME` statement, if any (a single file's name comes from its path). */
  readonly packageName: string | null;
  readonly sections: readonly UciSection[];
  /** Empty when the file is valid UCI syntax. */
  readonly errors: readonly UciParseError[];
}

type Command = 'config' | 'option' | 'list' | 'package';

class Stop {
  constructor(
    readonly reason: UciParseReason,
    readonly message: string,
    readonly line: number,
  ) {}
}

interface MutableSection {
  readonly type: string;
  readonly name: string | null;
  readonly line: number;
  readonly entries: UciEntry[];
}

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
const isAlnum = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

/** libuci's uci_validate_str: names are [A-Za-z0-9_]+, package names also allow '-', types any printable ASCII. */
function validUciString(text: string, name: boolean, packageName: boolean): boolean {
  if (text.length === 0) return false;
  for (const c of text) {
    if (isAlnum(c) || c === '_') continue;
    if (c === '-' && packageName) continue;
    const code = c.charCodeAt(0);
    if (name || code < 33 || code > 126) return false;
  }
  return true;
}

export const isUciName = (text: string): boolean => validUciString(text, true, false);
export const isUciType = (text: string): boolean => validUciString(text, false, false);

/** Quotes a value so that parseUci reads it back unchanged (uci export's style: '\'' for a quote). */
export const quoteUci = (value: string): string => `'${value.split("'").join("'\\''")}'`;

type ArgKind = 'text' | 'name' | 'package';

/** libuci takes a command word glued to the line's end ("config\n") as an unknown command; we say what it lacks. */
const commandWords = new Map([
  ['config', "config TYPE 'NAME'"],
  ['option', "option NAME 'VALUE'"],
  ['list', "list NAME 'VALUE'"],
  ['package', 'package NAME'],
]);

class Parser {
  /** The current logical line, one UTF-16 unit per slot; '' is C's NUL (end of string). */
  private buf: string[] = [];
  /** The file line each slot came from. */
  private lineOf: number[] = [];
  private filled = 0;
  private pos = 0;
  private line = 0;
  private nextChar = 0;
  private command: Command | null = null;
  /** The line of the current statement's command word. */
  private statementLine = 0;
  private section: MutableSection | null = null;
  /** After a broken `config` line its options are not reported again as outside a section. */
  private sectionBroken = false;
  private packageName: string | null = null;
  private readonly sections: MutableSection[] = [];
  private readonly namedTypes = new Map<string, { readonly type: string; readonly line: number }>();
  private readonly errors: UciParseError[] = [];
  private errorsDropped = 0;

  constructor(private readonly text: string) {}

  run(): UciFile {
    const refused = this.refuseWhole();
    if (refused !== null) return { packageName: null, sections: [], errors: [refused] };
    while (this.nextChar < this.text.length) {
      this.pos = 0;
      this.command = null;
      this.statementLine = 0;
      try {
        this.getln(0);
        if (this.at(0) !== '') this.parseLine();
      } catch (error) {
        if (!(error instanceof Stop)) throw error;
        this.record(error);
      }
    }
    if (this.errorsDropped > 0) {
      this.errors.push({
        line: this.line,
        reason: 'too-many-errors',
        message: `${this.errorsDropped} more errors not shown; fix the ones above first`,
      });
    }
    return { packageName: this.packageName, sections: this.sections, errors: this.errors };
  }

  private refuseWhole(): UciParseError | null {
    if (this.text.length > uciLimits.fileCharsMax) {
      return {
        line: 1,
        reason: 'file-too-large',
        message: `the file has ${this.text.length} characters, more than ${uciLimits.fileCharsMax}`,
      };
    }
    const nul = this.text.indexOf('\0');
    if (nul === -1) return null;
    const line = this.text.slice(0, nul).split('\n').length;
    return { line, reason: 'nul-character', message: 'the file contains a NUL character; it is not a text file' };
  }

  private record(stop: Stop): void {
    if (stop.reason === 'option-outside-section' && this.sectionBroken) return;
    if (this.command === 'config') {
      this.section = null;
      this.sectionBroken = true;
    }
    if (this.errors.length < uciLimits.errorsMax)
      this.errors.push({ line: stop.line, reason: stop.reason, message: stop.message });
    else this.errorsDropped += 1;
  }

  private stop(reason: UciParseReason, message: string, line = this.line): Stop {
    return new Stop(reason, message, line);
  }

  // ---- libuci's line buffer (uci_getln) ----

  private at(index: number): string {
    return this.buf[index] ?? '';
  }

  private cur(): string {
    return this.at(this.pos);
  }

  /** Reads the next file line into the buffer at offset, dropping what was there from offset on. */
  private getln(offset: number): void {
    this.buf.length = offset;
    this.lineOf.length = offset;
    if (this.nextChar >= this.text.length) return;
    const newline = this.text.indexOf('\n', this.nextChar);
    const end = newline === -1 ? this.text.length : newline + 1;
    this.line += 1;
    if (offset + (end - this.nextChar) > uciLimits.lineCharsMax) {
      this.nextChar = end;
      throw this.stop(
        'line-too-long',
        `a statement is longer than ${uciLimits.lineCharsMax} characters (a quote or a trailing backslash that never ends?)`,
      );
    }
    for (let i = this.nextChar; i < end; i++) {
      this.buf.push(this.text[i] as string);
      this.lineOf.push(this.line);
    }
    this.nextChar = end;
    this.filled = this.buf.length;
  }

  private cString(start: number): string {
    let end = start;
    while (this.at(end) !== '') end++;
    return this.buf.slice(start, end).join('');
  }

  // ---- libuci's argument scanner (parse_backslash, parse_*_quote, parse_str, next_arg) ----

  /** Skips a backslash; false when it joined the next line (nothing to add). */
  private parseBackslash(): boolean {
    this.pos += 1;
    const c = this.cur();
    if (c === '' || c === '\n' || (c === '\r' && this.at(this.pos + 1) === '\n' && this.at(this.pos + 2) === '')) {
      this.getln(this.pos);
      return false;
    }
    return true;
  }

  private skipWhitespace(): void {
    while (this.cur() !== '' && isSpace(this.cur())) this.pos += 1;
  }

  private addc(target: number): number {
    this.buf[target] = this.cur();
    this.pos += 1;
    return target + 1;
  }

  private parseQuoted(target: number, quote: "'" | '"'): number {
    const openedAt = this.lineOf[this.pos] ?? this.line;
    this.pos += 1;
    for (;;) {
      const c = this.cur();
      if (c === quote) {
        this.pos += 1;
        return target;
      }
      if (c === '') {
        // A quoted value goes on over the next line, newline included.
        this.getln(this.pos);
        if (this.cur() === '') throw this.unterminated(quote, openedAt);
        continue;
      }
      if (c === '\\' && quote === '"' && !this.parseBackslash()) continue;
      target = this.addc(target);
    }
  }

  /**
   * A quote left open pairs every later quote with the wrong partner, so the one found open at the end of the
   * file may be far below the mistake: blame the statement whose quoted text runs over several lines.
   */
  private unterminated(quote: string, openedAt: number): Stop {
    const start = this.statementLine === 0 ? openedAt : this.statementLine;
    if (start === openedAt)
      return this.stop(
        'unterminated-quote',
        `the ${quote} quote opened on this line is never closed (the file ends first)`,
        openedAt,
      );
    return this.stop(
      'unterminated-quote',
      `a quote is probably missing on this line: this statement's quoted text runs on to line ${openedAt}, where a ${quote} quote is never closed`,
      start,
    );
  }

  /** Reads one argument in place starting at `start`, as parse_str does, and NUL-terminates it there. */
  private parseStr(start: number): void {
    let target = start;
    let next = true;
    scan: do {
      switch (this.cur()) {
        case "'":
        case '"':
          target = this.parseQuoted(target, this.cur() as "'" | '"');
          break;
        case '#':
          this.buf[this.pos] = '';
          break scan;
        case '':
          break scan;
        case ';':
          next = false;
          break scan;
        case '\\':
          if (!this.parseBackslash()) continue;
          target = this.addc(target);
          break;
        default:
          target = this.addc(target);
      }
    } while (this.cur() !== '' && !isSpace(this.cur()));
    if (this.cur() !== '' && next) this.pos += 1;
    // libuci's quirk, kept: when nothing was unescaped, this NUL lands on a ';' and drops the rest of the line.
    this.buf[target] = '';
  }

  private nextArg(required: boolean, kind: ArgKind, what: string): string {
    this.skipWhitespace();
    const start = this.pos;
    if (this.cur() === ';') {
      this.buf[this.pos] = '';
      this.pos += 1;
    } else {
      this.parseStr(start);
    }
    const text = this.cString(start);
    if (text === '') {
      if (required) throw this.stop('missing-argument', `'${this.command ?? 'config'}' needs ${what}`);
      return '';
    }
    if (kind !== 'text' && !validUciString(text, true, kind === 'package')) {
      const allowed = kind === 'package' ? "letters, digits, '_' and '-'" : "letters, digits and '_'";
      throw this.stop('bad-name', `${what} '${text}' may only contain ${allowed}`);
    }
    return text;
  }

  private assertEol(usage: string): void {
    this.skipWhitespace();
    const extra = this.nextArg(false, 'text', 'nothing more');
    if (extra !== '') {
      throw this.stop(
        'too-many-arguments',
        `'${extra}' is one argument too many for ${usage}; quote a value that contains spaces`,
      );
    }
  }

  // ---- commands (uci_parse_line and friends) ----

  /** strtok(buf + pos, " \t"): the next word, NUL-terminated in place. */
  private nextWord(): { readonly word: string; readonly start: number } | null {
    let start = this.pos;
    while (this.at(start) === ' ' || this.at(start) === '\t') start++;
    if (this.at(start) === '') return null;
    let end = start;
    while (this.at(end) !== '' && this.at(end) !== ' ' && this.at(end) !== '\t') end++;
    if (this.at(end) !== '') this.buf[end] = '';
    return { word: this.buf.slice(start, end).join(''), start };
  }

  private parseLine(): void {
    this.skipWhitespace();
    for (;;) {
      const next = this.nextWord();
      if (next === null) return;
      const { word } = next;
      const line = this.lineOf[next.start] ?? this.line;
      this.statementLine = line;
      const rest = word.slice(1);
      if (word[0] === '#') return;
      if (word[0] === 'p' && (rest === '' || rest === 'ackage')) this.parsePackage();
      else if (word[0] === 'c' && (rest === '' || rest === 'onfig')) this.parseConfig(line);
      else if (word[0] === 'o' && (rest === '' || rest === 'ption')) this.parseOption('option', line);
      else if (word[0] === 'l' && (rest === '' || rest === 'ist')) this.parseOption('list', line);
      else if (commandWords.has(word.trim()))
        throw this.stop('missing-argument', `'${word.trim()}' needs arguments: ${commandWords.get(word.trim())}`, line);
      else
        throw this.stop(
          'invalid-command',
          `'${word.trim()}' is not a UCI statement (config, option, list or package)`,
          line,
        );
    }
  }

  /** Moves past the command word (libuci: uci_increase_pos(strlen(cur) + 1)). */
  private skipCommandWord(what: string): void {
    const length = this.cString(this.pos).length;
    if (this.pos + length + 1 > this.filled)
      throw this.stop('missing-argument', `'${this.command ?? 'config'}' needs ${what}`);
    this.pos += length + 1;
  }

  private parsePackage(): void {
    this.command = 'package';
    this.skipCommandWord('a name');
    const name = this.nextArg(true, 'package', 'a package name');
    this.assertEol("package 'NAME'");
    this.packageName = name;
  }

  private parseConfig(line: number): void {
    this.command = 'config';
    this.skipCommandWord('a section type');
    const type = this.nextArg(true, 'text', 'a section type');
    if (!isUciType(type))
      throw this.stop('bad-type', `section type '${type}' may only contain printable characters, no spaces`);
    const name = this.nextArg(false, 'name', 'section name');
    this.assertEol("config TYPE 'NAME'");
    if (name !== '') {
      const prior = this.namedTypes.get(name);
      if (prior !== undefined && prior.type !== type) {
        throw this.stop(
          'section-type-conflict',
          `section '${name}' is of type '${prior.type}' (line ${prior.line}); a name names one section`,
        );
      }
      if (prior === undefined) this.namedTypes.set(name, { type, line });
    }
    if (this.sections.length >= uciLimits.sectionsMax)
      throw this.stop('too-many-sections', `more than ${uciLimits.sectionsMax} sections`);
    const section: MutableSection = { type, name: name === '' ? null : name, line, entries: [] };
    this.sections.push(section);
    this.section = section;
    this.sectionBroken = false;
  }

  private parseOption(kind: UciEntryKind, line: number): void {
    this.command = kind;
    const section = this.section;
    if (section === null) {
      throw this.stop(
        'option-outside-section',
        `'${kind}' comes before the first section; start one with config TYPE 'NAME'`,
        line,
      );
    }
    this.skipCommandWord('a name');
    const name = this.nextArg(true, 'name', `${kind} name`);
    const value = this.nextArg(false, 'text', 'a value');
    this.assertEol(`${kind} NAME 'VALUE'`);
    if (section.entries.length >= uciLimits.entriesPerSectionMax) {
      throw this.stop(
        'too-many-entries',
        `more than ${uciLimits.entriesPerSectionMax} options and list items in one section`,
      );
    }
    section.entries.push({ kind, name, value, line });
  }
}

/** Parses a UCI file's text. Pure; never throws on any input: errors come back in `errors`. */
export function parseUci(text: string): UciFile {
  return new Parser(text).run();
}
