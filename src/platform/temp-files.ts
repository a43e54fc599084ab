// Leftovers of atomic writes. Both adapters write `<file>.tmp-<pid>-<n>` (Node, QuickJS-ng) or
// `<file>.tmp-<pid>` (x0-runtime --compile), fsync it and rename it over the file: a process killed between
// the open and the rename leaves the temporary file behind. Whoever owns a directory removes them when it
// opens it, before reading anything (they never hold acknowledged state: the rename is the commit point).
import type { Files } from './types.js';

/** A temporary file of an atomic write, by name. */
export const isTempFileName = (name: string): boolean => /\.tmp-\d+(-\d+)?$/.test(name);

/**
 * Removes leftover temporary files in `dir` (not recursive). Returns the names removed; one that cannot be
 * removed is left (the next start tries again) and does not stop the start: it is never read.
 */
export function removeStaleTempFiles(files: Files, dir: string): string[] {
  const removed: string[] = [];
  for (const name of files.list(dir)) {
    if (isTempFileName(name) && files.remove(`${dir}/${name}`) === null) removed.push(name);
  }
  return removed;
}
