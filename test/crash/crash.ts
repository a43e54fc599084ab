// Crash consistency (issue 16): a child runs one real write path (writer.ts) and is killed with SIGKILL at a
// seeded moment; the directory is then reopened the way the agent opens it at start, and the invariants are
// checked: it loads (nothing half-written is taken for state, nothing refused), nothing acknowledged is lost,
// a multi-file state is one consistent set, and no temporary file of an atomic write is left once it is open.
// The same directory takes every kill point of a run in turn, as a router that keeps losing power would.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { Rng } from '../../src/core/rng.js';
import { Gossip } from '../../src/core/gossip/gossip.js';
import { MeshDoc } from '../../src/core/gossip/mesh-doc.js';
import { listRevocations } from '../../src/core/gossip/signed-doc.js';
import { bytesEqual, toHex } from '../../src/core/wire/hex.js';
import { restoreInto, StateStore } from '../../src/gossip/store.js';
import { caFiles, loadBundle, loadIssuer, loadNodeIdentity } from '../../src/identity/store.js';
import { createNodePlatform, nodeFiles } from '../../src/platform/node/index.js';
import { isTempFileName } from '../../src/platform/temp-files.js';
import { RaftStorage } from '../../src/raft/storage.js';
import { readKnowledgeFile } from '../../src/agent/components/mapek.js';
import { root } from '../lib/processes.js';
import type { WritePath } from './shared.js';

const writerBundle = `${root}build/crash/writer.mjs`;
const platform = createNodePlatform({ argv: [] });

/** Bundles the writer once (a plain Node start per kill point, not tsx's). */
export async function buildWriter(): Promise<string> {
  mkdirSync(`${root}build/crash`, { recursive: true });
  await build({
    entryPoints: [`${root}test/crash/writer.ts`],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: writerBundle,
    logLevel: 'error',
    banner: {
      js: "import { createRequire as x0CreateRequire } from 'node:module'; const require = x0CreateRequire(import.meta.url);",
    },
  });
  return writerBundle;
}

/** What the killed child said before it died: its acknowledged operations and the one it had started. */
export interface Run {
  readonly acks: string[];
  /** Every whole line, in order ('ack ...', 'next ...'). */
  readonly lines: string[];
  readonly stderr: string;
  readonly exit: string;
}

/** Runs the writer on `dir` and kills it `delayMs` after it is ready. */
export function killAt(path: WritePath, dir: string, delayMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writerBundle, path, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | null = null;
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (timer === null && out.includes('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (timer !== null) clearTimeout(timer);
      // Only whole lines count: a line cut by the kill was not acknowledged.
      const lines = out.slice(0, out.lastIndexOf('\n') + 1).split('\n');
      const acks = lines.filter((l) => l.startsWith('ack ')).map((l) => l.slice(4));
      resolve({ acks, lines, stderr: err, exit: signal ?? String(code) });
    });
  });
}

/** The state a path's checker remembers across kill points: the newest acknowledged value. */
export interface Checker {
  /** Problems after this kill point (empty: every invariant held). */
  check(run: Run): string[];
}

const temps = (dir: string): string[] => readdirSync(dir).filter(isTempFileName);

function raftChecker(dir: string): Checker {
  let acked = { index: 0, term: 0, snapshot: 0 };
  return {
    check(run) {
      for (const a of run.acks) {
        const [first, second] = a.split(' ');
        if (first === 'snapshot') acked = { ...acked, snapshot: Number(second) };
        else acked = { ...acked, index: Number(first), term: Number(second) };
      }
      const opened = RaftStorage.open(nodeFiles, dir);
      if (!opened.ok) return [`does not open: ${opened.reason}: ${opened.detail}`];
      const problems: string[] = [];
      const left = temps(dir);
      if (left.length > 0) problems.push(`temporary files left after open: ${left.join(' ')}`);
      const stored = opened.value.stored;
      if (stored === null)
        return acked.index === 0 ? problems : [...problems, `lost everything (acked ${acked.index})`];
      const snapIndex = stored.snapshot?.meta.index ?? 0;
      if (snapIndex < acked.snapshot) problems.push(`snapshot at ${snapIndex}, acknowledged ${acked.snapshot}`);
      const last = stored.entries.at(-1)?.index ?? snapIndex;
      if (last < acked.index) problems.push(`log ends at ${last}, acknowledged ${acked.index}`);
      if (stored.hardState.term < acked.term)
        problems.push(`term ${stored.hardState.term}, acknowledged ${acked.term}`);
      const first = stored.entries[0]?.index ?? snapIndex + 1;
      if (first > snapIndex + 1) problems.push(`entries start at ${first} after a snapshot at ${snapIndex}`);
      for (const e of stored.entries) {
        const text = new TextDecoder().decode(e.data);
        if (e.index > 1 && text !== `entry ${e.index} of term ${e.term}`)
          problems.push(`entry ${e.index} holds '${text}'`);
      }
      return problems;
    },
  };
}

function gossipChecker(dir: string): Checker {
  let acked: [number, number] = [0, 0];
  const after = (a: [number, number], b: [number, number]) => a[0] > b[0] || (a[0] === b[0] && a[1] >= b[1]);
  return {
    check(run) {
      for (const a of run.acks) acked = a.split(' ').map(Number) as [number, number];
      const store = new StateStore(platform.files, dir);
      const loaded = store.load();
      const problems: string[] = [];
      const left = temps(dir);
      if (left.length > 0) problems.push(`temporary files left after load: ${left.join(' ')}`);
      if (loaded.header === null) return acked[0] === 0 ? problems : [...problems, `nothing loads: ${loaded.problems}`];
      const g = new Gossip({
        nodeId: 'alpha',
        incarnation: loaded.header.incarnation + 1,
        doc: new MeshDoc(listRevocations(new Uint8Array(32), () => false)),
        membership: () => 'member',
        random: () => 4,
      });
      const refused = restoreInto(g, loaded).filter((p) => p !== 'log-torn');
      if (refused.length > 0) problems.push(`restore refused: ${refused.join(' ')}`);
      const status = g.doc.status('alpha');
      const have: [number, number] = [status?.loadMilli ?? 0, status?.uptimeS ?? 0];
      if (!after(have, acked))
        problems.push(`status (incarnation ${have[0]}, ${have[1]}) older than acknowledged ${acked}`);
      return problems;
    },
  };
}

/**
 * Keys a directory may hold after a kill: the last acknowledged one, or one the writer announced after it
 * (its write may have finished before the kill, unacknowledged). Announcements carry over between kill points.
 */
class KeyLedger {
  private acked: string | null = null;
  private pending: string[] = [];

  take(run: Run): void {
    for (const line of run.lines) {
      const [word, , key] = line.split(' ');
      if (word === 'next') this.pending.push(line.split(' ')[1] as string);
      else if (word === 'ack') {
        this.acked = key ?? null;
        this.pending = [];
      }
    }
  }

  get nothingAcked(): boolean {
    return this.acked === null;
  }

  /** A loaded key is allowed if it is the acknowledged one or announced since; it is then the baseline. */
  allows(key: string): boolean {
    if (key !== this.acked && !this.pending.includes(key)) return false;
    this.acked = key;
    this.pending = [];
    return true;
  }
}

function identityChecker(dir: string): Checker {
  const ledger = new KeyLedger();
  return {
    check(run) {
      ledger.take(run);
      const loaded = loadNodeIdentity(platform, dir);
      const problems: string[] = [];
      const left = temps(dir);
      if (left.length > 0) problems.push(`temporary files left after load: ${left.join(' ')}`);
      if (!loaded.ok) return ledger.nothingAcked ? problems : [...problems, `does not load: ${loaded.reason}`];
      const key = toHex(loaded.value.keys.sign.publicKey);
      if (!ledger.allows(key)) problems.push(`loaded key ${key.slice(0, 8)}: neither the acknowledged one nor newer`);
      const leaf = loaded.value.chain[0];
      if (leaf === undefined || !bytesEqual(leaf.signPublicKey, loaded.value.keys.sign.publicKey))
        problems.push('the certificate does not match the key');
      return problems;
    },
  };
}

function caChecker(dir: string): Checker {
  const ledger = new KeyLedger();
  return {
    check(run) {
      ledger.take(run);
      const issuer = loadIssuer(platform, dir);
      const problems: string[] = [];
      const left = temps(dir);
      if (left.length > 0) problems.push(`temporary files left after load: ${left.join(' ')}`);
      if (typeof issuer === 'string')
        return ledger.nothingAcked ? problems : [...problems, `CA cannot sign: ${issuer}`];
      const key = toHex(issuer.cert.signPublicKey);
      if (!ledger.allows(key)) problems.push(`CA key ${key.slice(0, 8)}: neither the acknowledged one nor newer`);
      const bundle = loadBundle(platform, caFiles(dir).bundle);
      if (!bundle.ok) problems.push(`bundle does not load: ${bundle.reason}`);
      else if (!bundle.value.roots.some((r) => bytesEqual(r.signPublicKey, issuer.cert.signPublicKey)))
        problems.push('the bundle does not hold the CA certificate');
      return problems;
    },
  };
}

function knowledgeChecker(dir: string): Checker {
  const ledger = new KeyLedger();
  return {
    check(run) {
      ledger.take(run);
      // As the agent's mapek component loads it at start (temporary files removed first).
      const read = readKnowledgeFile(platform.files, dir);
      const problems: string[] = [];
      const left = temps(dir);
      if (left.length > 0) problems.push(`temporary files left after load: ${left.join(' ')}`);
      if (!read.ok) return [...problems, `the knowledge file does not load: ${read.reason}`];
      if (read.value === null) return ledger.nothingAcked ? problems : [...problems, 'the knowledge file is gone'];
      const tries = read.value.stats['neighbour-dead/link-down']?.tries;
      if (tries === undefined || !ledger.allows(String(tries)))
        problems.push(`loaded write ${tries}: neither the acknowledged one nor newer`);
      return problems;
    },
  };
}

export function checkerFor(path: WritePath, dir: string): Checker {
  switch (path) {
    case 'raft':
      return raftChecker(dir);
    case 'gossip':
      return gossipChecker(dir);
    case 'identity':
      return identityChecker(dir);
    case 'ca':
    case 'ca-cli':
      return caChecker(dir);
    case 'knowledge':
      return knowledgeChecker(dir);
  }
}

export interface PathReport {
  readonly path: WritePath;
  readonly points: number;
  readonly acked: number;
  readonly failures: string[];
}

/** `points` kill points on one directory for one path, delays drawn from `seed` (1..maxDelayMs ms after ready). */
/**
 * How long after 'ready' a kill may come, per path: a few of its operations (each is several fsyncs; an
 * identity or CA write is five atomic writes), so kills land before, inside and between operations.
 */
export const killWindowMs: Record<WritePath, number> = {
  raft: 150,
  gossip: 150,
  identity: 500,
  ca: 700,
  'ca-cli': 700,
  knowledge: 100,
};

export async function crashPath(
  path: WritePath,
  baseDir: string,
  points: number,
  seed: number,
  maxDelayMs = killWindowMs[path],
): Promise<PathReport> {
  const dir = join(baseDir, path);
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(seed);
  const checker = checkerFor(path, dir);
  const failures: string[] = [];
  let acked = 0;
  for (let point = 1; point <= points; point++) {
    const delayMs = 1 + (rng.nextUint32() % maxDelayMs);
    const run = await killAt(path, dir, delayMs);
    if (run.exit !== 'SIGKILL') failures.push(`point ${point}: the writer exited ${run.exit}: ${run.stderr.trim()}`);
    acked += run.acks.length;
    for (const problem of checker.check(run))
      failures.push(`point ${point} (killed ${delayMs} ms after ready, seed ${seed}): ${problem}`);
    if (failures.length >= 5) break;
  }
  return { path, points, acked, failures };
}
