// Bounds on a UCI file read by the agent. A router's config file is a few hundred bytes; these leave room for
// a large static-peer list and still keep a hostile or corrupted file from costing memory or time.

export const uciLimits = {
  /** Whole file, in UTF-16 code units (the text as read). 64 KiB holds ~1,000 peer lines. */
  fileCharsMax: 64 * 1024,
  /** One logical line (a command, its continuation lines and multi-line quoted values). */
  lineCharsMax: 8 * 1024,
  /** `config` statements in a file. */
  sectionsMax: 256,
  /** `option` and `list` statements in one section (list items count one each). */
  entriesPerSectionMax: 1024,
  /** Parse errors reported; the rest are counted in the last message. */
  errorsMax: 50,
} as const;
