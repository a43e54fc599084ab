// libuci's view of a parsed file (what `uci show` / `uci export` print), from the statements parseUci returns:
// a `config` with the name of an earlier section adds to that section; `option` replaces a value in place,
// and with '' does nothing at all (uci_set while parsing: not even a delete); `list` appends, turning an earlier `option` into the list's first item
// (uci_add_list). formatUci writes the result the way `uci export` does, which is also how the agent's tools
// write a UCI file that parseUci and libuci read back the same.
import { quoteUci, type UciFile } from './parse.js';

export interface UciResolvedOption {
  readonly name: string;
  readonly value: string | readonly string[];
}

export interface UciResolvedSection {
  readonly type: string;
  readonly name: string | null;
  readonly options: readonly UciResolvedOption[];
}

interface Slot {
  name: string;
  value: string | string[];
}

export function resolveUci(file: UciFile): UciResolvedSection[] {
  const out: { type: string; name: string | null; options: Slot[] }[] = [];
  const byName = new Map<string, { type: string; name: string | null; options: Slot[] }>();
  for (const section of file.sections) {
    let target = section.name === null ? undefined : byName.get(section.name);
    if (target === undefined) {
      target = { type: section.type, name: section.name, options: [] };
      out.push(target);
      if (section.name !== null) byName.set(section.name, target);
    }
    for (const entry of section.entries) {
      const index = target.options.findIndex((slot) => slot.name === entry.name);
      const slot = index === -1 ? undefined : target.options[index];
      if (entry.kind === 'list') {
        if (slot === undefined) target.options.push({ name: entry.name, value: [entry.value] });
        else if (typeof slot.value === 'string') slot.value = [slot.value, entry.value];
        else slot.value.push(entry.value);
      } else if (entry.value === '') {
      } else if (slot === undefined) {
        target.options.push({ name: entry.name, value: entry.value });
      } else {
        slot.value = entry.value;
      }
    }
  }
  return out;
}

/** The text `uci export` prints for these sections under this package name. */
export function formatUci(packageName: string, sections: readonly UciResolvedSection[]): string {
  const lines = [`package ${packageName}`, ''];
  for (const section of sections) {
    // uci export escapes a type's quotes without quoting it; our types never hold one (isUciType allows it).
    const type = section.type.split("'").join("'\\''");
    lines.push(section.name === null ? `config ${type}` : `config ${type} ${quoteUci(section.name)}`);
    for (const option of section.options) {
      if (typeof option.value === 'string') lines.push(`\toption ${option.name} ${quoteUci(option.value)}`);
      else for (const item of option.value) lines.push(`\tlist ${option.name} ${quoteUci(item)}`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
