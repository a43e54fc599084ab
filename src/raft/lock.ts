// Who holds a Raft data directory: the running server writes DIR/lock ("PID STARTTIME", from /proc/self/stat) and
// removes it when it stops. Offline tools (`x0 raft snapshot`, `x0 raft force-new-cluster`) refuse a directory
// whose lock names a live process; a lock left by a process that died (kill -9, power loss) is stale: the PID is
// gone, or now belongs to a process that started at another time. Without /proc (a simulated platform) there is
// no lock, and the tools cannot tell: they say so.
import type { Files } from '../platform/types.js';

export const lockName = 'lock';

export interface LockOwner {
  readonly pid: number;
  readonly startTime: string;
}

/** This process's id and start time (clock ticks since boot), or null without /proc. */
export function processIdentity(files: Files, pid: number | 'self' = 'self'): LockOwner | null {
  const stat = files.readText(`/proc/${pid}/stat`);
  if (stat === null) return null;
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  const id = Number(stat.slice(0, stat.indexOf(' ')));
  const startTime = fields[19];
  return Number.isSafeInteger(id) && id > 0 && startTime !== undefined ? { pid: id, startTime } : null;
}

/** Writes the lock for this process; returns the release (removes the lock if it is still ours). */
export function holdLock(files: Files, dir: string): () => void {
  const me = processIdentity(files);
  if (me === null) return () => {};
  const text = `${me.pid} ${me.startTime}\n`;
  // A lock that cannot be written (read-only flash) only costs the offline tools their check; the node runs.
  if (files.writeAtomic(`${dir}/${lockName}`, text) !== null) return () => {};
  return () => {
    if (files.readText(`${dir}/${lockName}`) === text) files.remove(`${dir}/${lockName}`);
  };
}

/** The live process holding dir, or null when none does (no lock, or a stale one). */
export function lockHolder(files: Files, dir: string): LockOwner | null {
  const text = files.readText(`${dir}/${lockName}`);
  if (text === null) return null;
  const [pidText, startTime] = text.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0 || startTime === undefined) return null;
  const live = processIdentity(files, pid);
  return live !== null && live.startTime === startTime ? live : null;
}
