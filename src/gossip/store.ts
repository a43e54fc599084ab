// The mesh document on flash, through platform.files: `snapshot.cbor` (written atomically: temp file,
// fsync, rename) names a log generation, and `log-<generation>.bin` holds the records appended since. A new
// snapshot starts a new generation; older logs are then removed. A crash at any point leaves either the old
// snapshot with its log or the new snapshot with an empty one. What to write and when: core/gossip/persist.ts.
import type { Gossip } from '../core/gossip/gossip.js';
import {
  decodeLog,
  readSnapshotHeader,
  restoreSnapshot,
  type LogRecord,
  type SnapshotHeader,
} from '../core/gossip/persist.js';
import { removeStaleTempFiles } from '../platform/temp-files.js';
import type { Files } from '../platform/types.js';

export interface LoadedState {
  readonly header: SnapshotHeader | null;
  readonly body: readonly unknown[];
  readonly records: readonly LogRecord[];
  /** Reasons the state was partly unreadable (a torn log tail, a corrupt snapshot); [] when clean. */
  readonly problems: readonly string[];
}

export class StateStore {
  readonly bytesWritten = { snapshot: 0, log: 0 };
  readonly writes = { snapshot: 0, log: 0 };
  /** Leftover temporary files of atomic writes removed by the last load(). */
  tempFilesRemoved = 0;

  constructor(
    private readonly files: Files,
    readonly dir: string,
  ) {}

  private get snapshotPath(): string {
    return `${this.dir}/snapshot.cbor`;
  }

  private logPath(generation: number): string {
    return `${this.dir}/log-${generation}.bin`;
  }

  load(): LoadedState {
    const made = this.files.mkdirp(this.dir);
    if (made !== null) return { header: null, body: [], records: [], problems: [`state-dir-${made}`] };
    // A kill between an atomic write's open and its rename leaves its temporary file: never state, removed.
    this.tempFilesRemoved = removeStaleTempFiles(this.files, this.dir).length;
    const bytes = this.files.read(this.snapshotPath);
    if (bytes === null) return { header: null, body: [], records: [], problems: [] };
    const header = readSnapshotHeader(bytes);
    if (!header.ok) return { header: null, body: [], records: [], problems: [header.reason] };
    const log = this.files.read(this.logPath(header.value.generation));
    const decoded = log === null ? { records: [], intact: true, corrupt: 0 } : decodeLog(log);
    const { body, ...rest } = header.value;
    // Damage inside the log (not a torn tail) is reported loudly; the mesh brings back what it held.
    const problems = [
      ...(decoded.corrupt > 0 ? [`log-corrupt:${decoded.corrupt}`] : []),
      ...(decoded.intact ? [] : ['log-torn']),
    ];
    return { header: rest, body, records: decoded.records, problems };
  }

  /**
   * Writes a snapshot of `generation` (its log starts empty), then removes every other generation's log. null, or
   * the errno of a refused write: the old snapshot and its log stay as they were (a later snapshot retries).
   */
  writeSnapshot(bytes: Uint8Array, generation: number): string | null {
    const errno = this.files.writeAtomic(this.snapshotPath, bytes);
    if (errno !== null) return errno;
    this.writes.snapshot += 1;
    this.bytesWritten.snapshot += bytes.length;
    for (const name of this.files.list(this.dir)) {
      // A log that cannot be removed is ignored on load (it names another generation) and removed next time.
      if (/^log-\d+\.bin$/.test(name) && name !== `log-${generation}.bin`) this.files.remove(`${this.dir}/${name}`);
    }
    return null;
  }

  /** Appends to the log of `generation`; null, or the errno of a refused write. */
  append(bytes: Uint8Array, generation: number): string | null {
    const errno = this.files.append(this.logPath(generation), bytes);
    if (errno !== null) return errno;
    this.writes.log += 1;
    this.bytesWritten.log += bytes.length;
    return null;
  }
}

/**
 * Restores loaded state into a fresh engine (before start): the snapshot, then the log replayed through
 * the engine's own checks. Returns the reasons of what was refused (counted by the caller), [] when clean.
 */
export function restoreInto(engine: Gossip, loaded: LoadedState): string[] {
  if (loaded.header === null) return [...loaded.problems];
  const problems = [...loaded.problems];
  restoreSnapshot(engine, loaded.body);
  for (const record of loaded.records) {
    const refusal = engine.replay(record);
    if (refusal !== null) problems.push(`replay-refused:${refusal}`);
  }
  return problems;
}
