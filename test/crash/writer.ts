// The child the crash test kills: it runs one real write path in a loop, as fast as it can, through the Node
// platform's files (fsync, atomic rename), and acknowledges each completed operation on stdout only after the
// write returned ("ack <n> <detail>"), synchronously, so an acknowledged operation is one the write path
// reported durable. The parent sends SIGKILL at a seeded moment, then reopens the directory and checks the
// invariants (crash.ts). Usage: node writer.mjs <path> <dir> (path: raft | gossip | identity | ca | ca-cli).
import { writeSync } from 'node:fs';
import { createRoot, issueNodeCert } from '../../src/core/identity/ca.js';
import { createTrustBundle, type TrustBundle } from '../../src/core/identity/chain.js';
import type { Entry, Ready } from '../../src/core/raft/types.js';
import { Gossip } from '../../src/core/gossip/gossip.js';
import { limits as gossipLimits } from '../../src/core/gossip/limits.js';
import { setStatus } from '../../src/core/gossip/local.js';
import { MeshDoc } from '../../src/core/gossip/mesh-doc.js';
import { encodeRecord, encodeSnapshot, nextIncarnation, type LogRecord } from '../../src/core/gossip/persist.js';
import { listRevocations } from '../../src/core/gossip/signed-doc.js';
import { encodeConf } from '../../src/core/raft/conf.js';
import { toHex } from '../../src/core/wire/hex.js';
import { restoreInto, StateStore } from '../../src/gossip/store.js';
import {
  caFiles,
  encodeKeyFile,
  saveBundle,
  saveIssuer,
  saveNodeIdentity,
  writePublic,
  writeSecret,
  firstFailure,
} from '../../src/identity/store.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { RaftStorage } from '../../src/raft/storage.js';
import { knowledgeFile } from '../../src/agent/components/mapek.js';
import { wallMs } from './shared.js';

const [path, dir] = process.argv.slice(2);
const platform = createNodePlatform({ argv: [] });
const ack = (line: string) => writeSync(1, `ack ${line}\n`);
const fail = (message: string): never => {
  writeSync(2, `writer ${path}: ${message}\n`);
  process.exit(2);
};

function raft(): void {
  const opened = RaftStorage.open(platform.files, dir as string);
  if (!opened.ok) fail(`${opened.reason}: ${opened.detail}`);
  const { storage, stored } = opened.ok ? opened.value : fail('unreachable');
  let index = stored?.entries.at(-1)?.index ?? stored?.snapshot?.meta.index ?? 0;
  let term = stored?.hardState.term ?? 0;
  const conf = { voters: [1, 2, 3], learners: [] };
  writeSync(1, 'ready\n');
  for (;;) {
    // A new term (with a vote) every 40 entries; one entry per Ready (the slowest case for the WAL).
    if (index % 40 === 0) term += 1;
    index += 1;
    const entry: Entry =
      index === 1
        ? { index, term, type: 'conf', data: encodeConf(conf) }
        : { index, term, type: 'normal', data: new TextEncoder().encode(`entry ${index} of term ${term}`) };
    const ready: Ready = {
      softState: null,
      hardState: { term, vote: 1 + (term % 3), commit: index - 1 },
      entries: [entry],
      snapshot: null,
      committedEntries: [],
      messages: [],
      readStates: [],
    };
    storage.save(ready);
    ack(`${index} ${term}`);
    // Compaction every 25 entries: the snapshot covers all but the last 5.
    if (index % 25 === 0) {
      const at = index - 5;
      storage.saveSnapshot({ meta: { index: at, term, conf }, data: new TextEncoder().encode(`image ${at}`) });
      ack(`snapshot ${at}`);
    }
  }
}

function gossip(): void {
  const store = new StateStore(platform.files, dir as string);
  const loaded = store.load();
  const incarnation =
    (loaded.header === null ? 1 : nextIncarnation(loaded.header.incarnation, 0)) ?? fail('no incarnation left');
  let generation = loaded.header?.generation ?? 0;
  const records: LogRecord[] = [];
  const g = new Gossip({
    nodeId: 'alpha',
    incarnation,
    doc: new MeshDoc(listRevocations(new Uint8Array(32), (m, s, k) => platform.crypto.verify(m, s, k))),
    membership: () => 'member',
    random: () => 4,
    onRecord: (r) => records.push(r),
  });
  // As GossipNode.open does: what was persisted, then a new incarnation, then a snapshot.
  const refused = restoreInto(g, loaded).filter((p) => p !== 'log-torn');
  if (refused.length > 0) fail(`restore refused: ${refused.join(' ')}`);
  g.start(wallMs);
  generation += 1;
  if (store.writeSnapshot(encodeSnapshot(g, generation), generation) !== null) fail('snapshot refused');
  records.length = 0;
  writeSync(1, 'ready\n');
  for (let i = 1; ; i++) {
    setStatus(g, { online: true, uptimeS: i, loadMilli: incarnation }, wallMs + i);
    if (i % 30 === 0) {
      generation += 1;
      const errno = store.writeSnapshot(encodeSnapshot(g, generation), generation);
      if (errno !== null) fail(`snapshot: ${errno}`);
    } else {
      const bytes = records.map(encodeRecord);
      const errno = store.append(concat(bytes), generation);
      if (errno !== null) fail(`append: ${errno}`);
    }
    records.length = 0;
    ack(`${incarnation} ${i}`);
  }
}

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** A CA for the identity paths; the root key is fixed so a restarted writer signs under the same root. */
function world() {
  const seed = new Uint8Array(32).fill(7);
  const sign = platform.crypto.signKeyPairFromSeed(seed);
  const box = platform.crypto.boxKeyPairFromSecretKey(seed);
  const root = createRoot(platform.crypto, {
    trustDomain: 'crash.test',
    nowMs: wallMs,
    keys: { sign, box },
  });
  const bundle = createTrustBundle(platform.crypto, 'crash.test', [root.issuer.cert]);
  if (!bundle.ok) fail(bundle.reason);
  return { root, bundle: bundle.ok ? bundle.value : (null as unknown as TrustBundle) };
}

function identity(): void {
  const { root, bundle } = world();
  if (platform.files.mkdirp(dir as string) !== null) fail('mkdir');
  writeSync(1, 'ready\n');
  for (let i = 1; ; i++) {
    const keys = { sign: platform.crypto.signKeyPair(), box: platform.crypto.boxKeyPair() };
    const cert = issueNodeCert(platform.crypto, root.issuer, {
      name: 'alpha',
      signPublicKey: keys.sign.publicKey,
      boxPublicKey: keys.box.publicKey,
      nowMs: wallMs,
    });
    // Tell the parent which key is about to be written, then write it (enrolment: key, bundle and chain).
    writeSync(1, `next ${toHex(keys.sign.publicKey)}\n`);
    const failed = saveNodeIdentity(platform, dir as string, keys, [cert], bundle);
    if (failed !== null) fail(failed);
    ack(`${i} ${toHex(keys.sign.publicKey)}`);
  }
}

/** A CA made again and again (x0 ca init --force): `set` writes the three files as one set, `cli` one by one. */
function ca(mode: 'set' | 'cli'): void {
  if (platform.files.mkdirp(dir as string) !== null) fail('mkdir');
  writeSync(1, 'ready\n');
  for (let i = 1; ; i++) {
    const root = createRoot(platform.crypto, { trustDomain: 'crash.test', nowMs: wallMs });
    const made = createTrustBundle(platform.crypto, 'crash.test', [root.issuer.cert]);
    if (!made.ok) fail(made.reason);
    const bundle = made.ok ? made.value : (null as unknown as TrustBundle);
    const keys = { sign: root.signKeys, box: root.boxKeys };
    writeSync(1, `next ${toHex(keys.sign.publicKey)}\n`);
    const files = caFiles(dir as string);
    const failed =
      mode === 'set'
        ? saveIssuer(platform, dir as string, keys, root.issuer.cert, bundle)
        : // The order src/cli/identity.ts `ca init` uses today: each file atomic, the set not.
          firstFailure(
            () => writeSecret(platform, files.key, encodeKeyFile(keys)),
            () => writePublic(platform, files.cert, root.issuer.cert.bytes),
            () => saveBundle(platform, files.bundle, bundle),
          );
    if (failed !== null) fail(failed);
    ack(`${i} ${toHex(keys.sign.publicKey)}`);
  }
}

/**
 * The self-healing knowledge file as the agent's mapek component writes it (one atomic JSON write of the core's
 * knowledge, state_dir/mapek.json): write i records i tries of one action, so a reload shows which write it is.
 */
function knowledge(): void {
  if (platform.files.mkdirp(dir as string) !== null) fail('mkdir');
  writeSync(1, 'ready\n');
  for (let i = 1; ; i++) {
    const snapshot = {
      version: 1,
      stats: { 'neighbour-dead/link-down': { tries: i, successes: i, clearMsMean: 300 } },
      breakers: [],
      incidents: [],
    };
    writeSync(1, `next ${i}\n`);
    const error = platform.files.writeAtomic(knowledgeFile(dir as string), JSON.stringify(snapshot));
    if (error !== null) fail(error);
    ack(`${i} ${i}`);
  }
}

if (gossipLimits.datagramBytesMax <= 0) fail('limits');
if (path === 'raft') raft();
else if (path === 'gossip') gossip();
else if (path === 'identity') identity();
else if (path === 'ca') ca('set');
else if (path === 'ca-cli') ca('cli');
else if (path === 'knowledge') knowledge();
else fail(`unknown path ${path}`);
