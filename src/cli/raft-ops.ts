// Offline operations on one anchor's Raft state: `x0 raft snapshot save|restore` (backup of the replicated KV store
// and its membership) and `x0 raft force-new-cluster` (etcd's --force-new-cluster: after losing quorum for good,
// rebuild a one-member cluster from this anchor's log, keeping the data). Each refuses a directory a
// running server holds (src/raft/lock.ts). Reads never change the directory: the storage is opened on an in-memory
// overlay, so the torn-tail repair an open does is not written.
import type { Files, Platform } from '../platform/types.js';
import { decodeLimited, encodeCbor } from '../core/wire/cbor.js';
import { validConf, validNodeId } from '../core/raft/config.js';
import { KvStore } from '../core/raft/kv.js';
import { RaftLog } from '../core/raft/log.js';
import { emptyConf, emptyHardState, type ConfState, type HardState, type Snapshot } from '../core/raft/types.js';
import { indexMax, snapshotBytesMax, termMax } from '../core/raft/limits.js';
import { RaftStorage } from '../raft/storage.js';
import { lockHolder } from '../raft/lock.js';
import { readConfig } from '../agent/agent.js';
import { effectiveAnchors } from '../agent/context.js';
import { bytesEqual } from '../core/identity/canonical.js';
import { refused, usage } from './args.js';

export const raftOpsUsage = `       x0 raft snapshot save --state-dir DIR --out FILE [--force]
       x0 raft snapshot restore FILE --state-dir DIR [--voters ID,...] [--force]
       x0 raft force-new-cluster (--state-dir DIR --id N | --config FILE) --yes
`;

export const raftOpsText = `Offline, on one anchor whose agent (or x0 raft serve) is stopped; each refuses a directory a running one holds.
DIR is the anchor's state directory (its Raft state is DIR/raft) or a Raft data directory (x0 raft serve --data)
holding a log or snapshot; an empty or new DIR is taken as a state directory.
  snapshot save             write this anchor's state (its whole log applied: the KV store, the membership,
                            index and term) to FILE, with a digest; refuses to replace FILE without --force
  snapshot restore FILE     check FILE, then make DIR hold exactly it (the membership it recorded); refuses a
                            DIR that holds Raft state without --force. The snapshot write is the one moment the
                            state changes: a restore cut short leaves the old state or the new; run it again.
                            --voters replaces the recorded membership (etcd's --initial-cluster): seeding every
                            anchor of a new cluster from one snapshot, each started with the same --voters
  force-new-cluster         after losing a quorum of anchors for good (docs/operations/quorum-loss.md): keep
                            this anchor's whole log (what it committed, and what it had in flight: Raft commits
                            that too once it leads alone) and make it the only voter (--id
                            N, its Raft id; with --config the agent's UCI file gives the directory and the id:
                            its place in the anchor list, which must then list this anchor first or alone).
                            Start it, then add anchors back one at a time (add-learner, promote). Needs --yes:
                            a cluster whose other anchors come back with their old state would have two leaders
`;

const magic = 'x0-raft-snapshot';
/** A snapshot file: the KV snapshot plus framing and metadata. */
const snapshotFileBytesMax = snapshotBytesMax + 64 * 1024;

/** The Raft data directory DIR names: DIR itself when it holds a log or snapshot, else DIR/raft. */
export function raftDir(files: Files, dir: string): string {
  const own = files.list(dir).some((n) => n === 'snapshot' || /^wal-\d{8}\.log$/.test(n));
  return own ? dir : `${dir}/raft`;
}

/** Files whose writes stay in memory: opening the storage may repair a torn tail, which a read must not do. */
function overlay(files: Files): Files {
  const changed = new Map<string, Uint8Array | null>();
  const text = new TextEncoder();
  const read = (p: string) => (changed.has(p) ? (changed.get(p) ?? null) : files.read(p));
  return {
    read,
    readText: (p) => {
      const b = read(p);
      return b === null ? null : new TextDecoder().decode(b);
    },
    writeAtomic: (p, d) => (changed.set(p, typeof d === 'string' ? text.encode(d) : d), null),
    append: (p, d) => {
      const old = read(p) ?? new Uint8Array(0);
      const both = new Uint8Array(old.length + d.length);
      both.set(old);
      both.set(d, old.length);
      changed.set(p, both);
      return null;
    },
    list: (d) => {
      const names = new Set(files.list(d));
      for (const [p, v] of changed) {
        if (!p.startsWith(`${d}/`) || p.slice(d.length + 1).includes('/')) continue;
        if (v === null) names.delete(p.slice(d.length + 1));
        else names.add(p.slice(d.length + 1));
      }
      return [...names].sort();
    },
    remove: (p) => (changed.set(p, null), null),
    mkdirp: () => null,
    exists: (p) => read(p) !== null || files.exists(p),
  };
}

export interface LogState {
  readonly snapshot: Snapshot;
  readonly hardState: HardState;
  readonly keys: number;
  /** Entries past the commit index on disk, taken too (see logState). */
  readonly pastCommit: number;
}

/**
 * Everything in dir's log, applied, as one snapshot; a string says why not (no state, damaged: the storage's words).
 * The whole log, not only up to the commit index on disk: that index reaches the disk with the next append
 * (src/raft/storage.ts), so it lags what the cluster committed, and cutting there would drop acknowledged writes.
 * Entries past it were committed, or were in flight when the node stopped (a write whose outcome its client never
 * learned); Raft itself commits them all when this node leads a cluster of its own (§5.4.2), so this is what the
 * node would serve if it alone carried on.
 */
export function logState(files: Files, dir: string): LogState | string {
  if (files.list(dir).length === 0) return `${dir} holds no Raft state`;
  const opened = RaftStorage.open(overlay(files), dir);
  if (!opened.ok) return `${dir}: ${opened.reason}: ${opened.detail}`;
  const stored = opened.value.stored;
  if (stored === null) return `${dir} holds no Raft state`;
  const base: Snapshot = stored.snapshot ?? { meta: { index: 0, term: 0, conf: emptyConf }, data: new Uint8Array(0) };
  const log = new RaftLog(base, stored.entries);
  const kv = new KvStore();
  if (stored.snapshot !== null && !kv.restore(stored.snapshot.data).ok) return `${dir}/snapshot: kv-bad-snapshot`;
  const commit = Math.max(stored.hardState.commit, base.meta.index);
  const last = log.lastIndex();
  for (let index = base.meta.index + 1; index <= last; index++) {
    const entry = log.entry(index);
    if (entry === undefined) return `${dir}: entry ${index} is missing from the log`;
    if (entry.type === 'normal') kv.apply(index, entry.data);
    else kv.appliedIndex = index;
  }
  const conf = log.confAt(last);
  if (conf.voters.length === 0) return `${dir}: no membership recorded (an empty log)`;
  return {
    snapshot: { meta: { index: last, term: log.term(last) as number, conf }, data: kv.snapshot() },
    hardState: stored.hardState,
    keys: kv.size,
    pastCommit: last - commit,
  };
}

function held(platform: Platform, dir: string): string | null {
  const owner = lockHolder(platform.files, dir);
  if (owner !== null)
    return `${dir} is held by a running agent or x0 raft serve (pid ${owner.pid}): stop it first (on a router: /etc/init.d/x0tta6bl4 stop)`;
  return null;
}

export function encodeSnapshotFile(platform: Platform, s: Snapshot, createdAtMs: number): Uint8Array {
  const body = encodeCbor([createdAtMs, s.meta.index, s.meta.term, s.meta.conf.voters, s.meta.conf.learners, s.data]);
  return encodeCbor([magic, 1, body, platform.crypto.sha512(body)]);
}

export function decodeSnapshotFile(
  platform: Platform,
  bytes: Uint8Array,
): { snapshot: Snapshot; createdAtMs: number } | string {
  if (bytes.length > snapshotFileBytesMax) return 'snapshot-file-too-large';
  const outer = decodeLimited<unknown>(bytes, snapshotFileBytesMax);
  if (!outer.ok || !Array.isArray(outer.value) || outer.value.length !== 4) return 'snapshot-file-malformed';
  const [m, format, body, digest] = outer.value as unknown[];
  if (m !== magic || format !== 1 || !(body instanceof Uint8Array) || !(digest instanceof Uint8Array))
    return 'snapshot-file-malformed';
  if (!bytesEqual(platform.crypto.sha512(body), digest)) return 'snapshot-file-digest-mismatch';
  const inner = decodeLimited<unknown>(body, snapshotFileBytesMax);
  if (!inner.ok || !Array.isArray(inner.value) || inner.value.length !== 6) return 'snapshot-file-malformed';
  const [createdAtMs, index, term, voters, learners, data] = inner.value as unknown[];
  const count = (n: unknown, max: number): n is number =>
    typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= max;
  if (!count(createdAtMs, Number.MAX_SAFE_INTEGER) || !count(index, indexMax) || !count(term, termMax))
    return 'snapshot-file-malformed';
  if (!Array.isArray(voters) || !Array.isArray(learners) || !(data instanceof Uint8Array))
    return 'snapshot-file-malformed';
  const conf: ConfState = { voters: voters as number[], learners: learners as number[] };
  if (!validConf(conf) || conf.voters.length === 0) return 'snapshot-file-bad-membership';
  if (!new KvStore().restore(data).ok) return 'snapshot-file-bad-kv';
  return { snapshot: { meta: { index, term, conf }, data }, createdAtMs };
}

const describe = (s: Snapshot): string =>
  `index ${s.meta.index}, term ${s.meta.term}, voters ${s.meta.conf.voters.join(',')}${s.meta.conf.learners.length > 0 ? `, learners ${s.meta.conf.learners.join(',')}` : ''}`;

async function snapshotSave(platform: Platform, flags: Flags, stateDir: string): Promise<number> {
  const out = flags.out;
  if (typeof out !== 'string') return usage(platform, '--out FILE is required (where the snapshot goes)', help());
  if (platform.files.exists(out) && flags.force !== true)
    return refused(platform, 'raft snapshot save', `${out} exists (choose another --out, or --force to replace it)`);
  const dir = raftDir(platform.files, stateDir);
  const busy = held(platform, dir);
  if (busy !== null) return refused(platform, 'raft snapshot save', busy);
  const state = logState(platform.files, dir);
  if (typeof state === 'string') return refused(platform, 'raft snapshot save', `${state} (is --state-dir right?)`);
  const failed = platform.files.writeAtomic(
    out,
    encodeSnapshotFile(platform, state.snapshot, platform.wallClockMs()),
    0o600,
  );
  if (failed !== null) return refused(platform, 'raft snapshot save', `cannot write ${out}: ${failed}`);
  platform.stdout(`saved ${dir} to ${out}: ${describe(state.snapshot)}, ${state.keys} keys\n`);
  return 0;
}

async function snapshotRestore(
  platform: Platform,
  flags: Flags,
  positionals: readonly string[],
  stateDir: string,
): Promise<number> {
  const path = positionals[0];
  if (path === undefined || positionals.length !== 1)
    return usage(platform, 'raft snapshot restore takes one FILE', help());
  const bytes = platform.files.read(path);
  if (bytes === null) return refused(platform, 'raft snapshot restore', `${path}: file-missing`);
  const file = decodeSnapshotFile(platform, bytes);
  if (typeof file === 'string')
    return refused(platform, 'raft snapshot restore', `${path}: ${file}; nothing was written`);
  const dir = raftDir(platform.files, stateDir);
  const busy = held(platform, dir);
  if (busy !== null) return refused(platform, 'raft snapshot restore', busy);
  const old = logState(platform.files, dir);
  const hasState = platform.files.list(dir).some((n) => n === 'snapshot' || n.startsWith('wal-'));
  if (hasState && flags.force !== true)
    return refused(platform, 'raft snapshot restore', `${dir} holds Raft state (--force replaces it with ${path})`);
  const previous = typeof old === 'string' ? emptyHardState : old.hardState;
  const voters = typeof flags.voters === 'string' ? flags.voters.split(',').map(Number) : null;
  if (voters !== null && (voters.length === 0 || !validConf({ voters, learners: [] })))
    return usage(platform, '--voters takes distinct Raft ids 1..65535, comma-separated', help());
  const snapshot: Snapshot =
    voters === null
      ? file.snapshot
      : {
          ...file.snapshot,
          meta: { ...file.snapshot.meta, conf: { voters: [...voters].sort((a, b) => a - b), learners: [] } },
        };
  const failed = RaftStorage.install(platform.files, dir, snapshot, previous);
  if (failed !== null) return refused(platform, 'raft snapshot restore', `${failed.detail}; run the restore again`);
  platform.stdout(`restored ${path} into ${dir}: ${describe(snapshot)}\n`);
  return 0;
}

/** The state directory and Raft id from --state-dir and --id, or from the agent's UCI file (--config). */
function target(platform: Platform, flags: Flags): { stateDir: string; id: number } | string {
  if (typeof flags.config === 'string') {
    const hostname = platform.files.readText('/proc/sys/kernel/hostname')?.trim() || 'x0';
    const loaded = readConfig(platform, flags.config, hostname);
    if (!loaded.ok) return loaded.errors.map((e) => e.message).join('; ');
    const id = effectiveAnchors(loaded.value).findIndex((a) => a.name === loaded.value.nodeName) + 1;
    if (id === 0) return `${flags.config}: ${loaded.value.nodeName} is not an anchor (not in its anchor list)`;
    return { stateDir: loaded.value.stateDir, id };
  }
  const id = Number(flags.id);
  if (typeof flags['state-dir'] !== 'string' || !validNodeId(id))
    return "give --state-dir DIR and --id N (this anchor's Raft id), or --config FILE";
  return { stateDir: flags['state-dir'], id };
}

async function forceNewCluster(platform: Platform, flags: Flags): Promise<number> {
  const where = target(platform, flags);
  if (typeof where === 'string') return usage(platform, where, help());
  if (flags.yes !== true)
    return usage(
      platform,
      'force-new-cluster makes this anchor the only member of a new cluster (the others are out for good: if one came back with its old state there would be two clusters); add --yes once they are stopped for good',
      help(),
    );
  const dir = raftDir(platform.files, where.stateDir);
  const busy = held(platform, dir);
  if (busy !== null) return refused(platform, 'raft force-new-cluster', busy);
  const state = logState(platform.files, dir);
  if (typeof state === 'string') return refused(platform, 'raft force-new-cluster', state);
  const snapshot: Snapshot = {
    ...state.snapshot,
    meta: { ...state.snapshot.meta, conf: { voters: [where.id], learners: [] } },
  };
  const failed = RaftStorage.install(platform.files, dir, snapshot, state.hardState);
  if (failed !== null) return refused(platform, 'raft force-new-cluster', `${failed.detail}; run it again`);
  platform.stdout(
    `${dir}: a one-member cluster (voter ${where.id}) at index ${snapshot.meta.index}, term ${snapshot.meta.term}, with ${state.keys} keys (was voters ${state.snapshot.meta.conf.voters.join(',')}; ${state.pastCommit} entries past the commit index on disk kept).\nNext: start it; it elects itself. Bring anchors back from a snapshot of it (snapshot save, then restore --voters on each), or add them one at a time (add-learner, then promote).\n`,
  );
  return 0;
}

type Flags = Readonly<Record<string, string | boolean | undefined>>;

let helpText = '';
const help = (): string => helpText;

/** `x0 raft snapshot ...` and `x0 raft force-new-cluster`; null for any other subcommand. */
export async function raftOpsCommand(
  platform: Platform,
  sub: string,
  rest: readonly string[],
  flags: Flags,
  fullHelp: string,
): Promise<number | null> {
  helpText = fullHelp;
  if (sub === 'force-new-cluster') {
    if (rest.length > 0) return usage(platform, `unexpected argument '${rest[0]}'`, help());
    return forceNewCluster(platform, flags);
  }
  if (sub !== 'snapshot') return null;
  const [action, ...args] = rest;
  const stateDir = flags['state-dir'];
  if (action !== 'save' && action !== 'restore') return usage(platform, 'raft snapshot takes save or restore', help());
  if (typeof stateDir !== 'string')
    return usage(platform, "--state-dir DIR is required (the anchor's state directory)", help());
  if (action === 'save')
    return args.length > 0
      ? usage(platform, `unexpected argument '${args[0]}'`, help())
      : snapshotSave(platform, flags, stateDir);
  return snapshotRestore(platform, flags, args, stateDir);
}
