// Operating the mesh CA over years: `x0 ca list`, `x0 ca verify`, `x0 ca backup|restore`, `x0 ca rollover`, and the
// ledger the other `ca` commands keep (src/cli/identity.ts records each token, certificate and intermediate here,
// and asks knowsNode before revoking). Runs through the Platform, like every x0 command.
import type { Platform } from '../platform/types.js';
import { toHex } from '../core/identity/canonical.js';
import type { Certificate } from '../core/identity/cert.js';
import { createRoot } from '../core/identity/ca.js';
import type { TrustBundle } from '../core/identity/chain.js';
import { limits } from '../core/identity/limits.js';
import {
  decodeBackup,
  decodeLedger,
  emptyLedger,
  encodeBackup,
  encodeLedger,
  knowsNode,
  verifyCertificates,
  withCert,
  withToken,
  type BackupFile,
  type Ledger,
  type TokenRecord,
} from '../core/identity/ledger.js';
import { decodeRevocationList, encodeRevocationList, signRevocationList } from '../core/identity/revocation.js';
import { addRoot, retireRoot } from '../core/identity/rotation.js';
import { decodeCertificate } from '../core/identity/cert.js';
import { decodeBounded, bytesEqual } from '../core/identity/canonical.js';
import { decodeChain } from '../core/identity/chain.js';
import {
  caFiles,
  described,
  encodeKeyFile,
  firstFailure,
  loadBundle,
  loadIssuer,
  loadKeys,
  loadRevocations,
  saveBundle,
  secretFileMode,
  publicFileMode,
  writePublic,
  writeSecret,
} from '../identity/store.js';
import { parseDuration, refused, usage } from './args.js';

export const caOpsUsage = `       x0 ca list [--ca-dir DIR] [--json]
       x0 ca verify CERT [--trust FILE] [--revocations FILE] [--ca-dir DIR] [--json]
       x0 ca backup --out FILE [--ca-dir DIR] [--force]
       x0 ca restore FILE [--ca-dir DIR] [--force]
       x0 ca rollover start|activate|finish [--ttl DURATION] [--ca-dir DIR]
`;

export const caOpsText = `'list' prints what this CA handed out: join tokens (used, unused, expired), node certificates and intermediates
(valid, expired, revoked), the revocation list and the roots of the trust bundle. 'verify' checks a certificate
or chain file (node.chain, an intermediate's ca.cert) against a trust bundle (--trust, default DIR/bundle.cbor of --ca-dir):
chain to a root, expiry, revocation (--revocations, default DIR/revocations.cbor when present).
'backup' writes the whole CA directory (root key included: the file is 0600) to one file with a digest;
'restore' checks that file completely before it writes anything, then writes the files one by one (each
atomically, the key last, so a restore cut short cannot sign with a key that does not match its certificate;
run it again). It refuses to replace an existing CA without --force.
'rollover' replaces the root without an outage (docs/operations/rotate-ca.md): 'start' makes the new root
(DIR/next) and a trust bundle with both roots: give it to every node; 'activate' makes the new root the one
that signs (the old one moves to DIR/previous; the revocation list is signed again by the new root): re-issue
the intermediates and node certificates; 'finish' drops the old root from the bundle (and its key): give the
one-root bundle to every node.
`;

const caOpsHelp = `usage: ${caOpsUsage.trimStart()}\n${caOpsText}Exit codes: 0 ok, 1 refused (the message names the file and what to do), 2 bad usage; ca verify: 3 revoked,
4 expired or not yet valid.
`;

export const ledgerPath = (dir: string): string => `${dir}/ledger.cbor`;
const nextDir = (dir: string): string => `${dir}/next`;
const previousDir = (dir: string): string => `${dir}/previous`;

/** The ledger in dir (empty when there is none yet); a damaged one is an error, never silently emptied. */
export function loadLedger(platform: Platform, dir: string): Ledger | string {
  const bytes = platform.files.read(ledgerPath(dir));
  if (bytes === null) return emptyLedger;
  const decoded = decodeLedger(bytes);
  return decoded.ok
    ? decoded.value
    : `${ledgerPath(dir)}: ${decoded.reason} (restore it from a backup: x0 ca restore FILE --ca-dir ${dir} --force)`;
}

function saveLedger(platform: Platform, dir: string, update: (l: Ledger) => Ledger): string | null {
  const ledger = loadLedger(platform, dir);
  if (typeof ledger === 'string') return ledger;
  return writePublic(platform, ledgerPath(dir), encodeLedger(update(ledger)));
}

/** Called by `ca issue-token` once the token exists (before it is printed). */
export const recordToken = (platform: Platform, dir: string, token: TokenRecord): string | null =>
  saveLedger(platform, dir, (l) => withToken(l, token));

/** Called by `ca sign` and `ca intermediate` once the certificate is written. */
export const recordCert = (platform: Platform, dir: string, cert: Certificate): string | null =>
  saveLedger(platform, dir, (l) => withCert(platform.crypto, l, cert));

/** `ca revoke --node NAME`: null when NAME is known to this CA, else the one-line refusal. */
export function unknownNode(platform: Platform, dir: string, name: string): string | null {
  const ledger = loadLedger(platform, dir);
  if (typeof ledger === 'string') return ledger;
  if (knowsNode(ledger, name)) return null;
  return `node '${name}' is unknown to the CA in ${dir}: it issued no token and signed no certificate for it (see x0 ca list --ca-dir ${dir}); check the name, or add --force to revoke a name this CA never saw`;
}

const iso = (ms: number): string => new Date(ms).toISOString();

interface ListView {
  readonly trustDomain: string;
  readonly roots: Array<{ keyId: string; subject: string; notAfter: string; signing: boolean }>;
  readonly tokens: Array<{
    node: string;
    tokenId: string;
    roles: string[];
    issuedAt: string;
    expires: string;
    state: string;
  }>;
  readonly nodes: Array<{ node: string; serial: string; issuerKeyId: string; expires: string; state: string }>;
  readonly intermediates: Array<{ name: string; serial: string; issuerKeyId: string; expires: string; state: string }>;
  readonly revocations: { version: number; serials: string[]; nodes: string[] };
  readonly rollover: 'none' | 'started' | 'activated';
}

function usedTokenIds(platform: Platform, dir: string): Set<string> {
  const bytes = platform.files.read(caFiles(dir).used);
  const decoded = bytes === null ? null : decodeBounded(bytes, limits.usedTokensBytesMax);
  const entries = decoded?.ok && Array.isArray(decoded.value) ? (decoded.value[1] as unknown) : [];
  return new Set(
    (Array.isArray(entries) ? entries : []).flatMap((e) =>
      Array.isArray(e) && e[0] instanceof Uint8Array ? [toHex(e[0])] : [],
    ),
  );
}

function listView(platform: Platform, dir: string, bundle: TrustBundle, ledger: Ledger): ListView | string {
  const issuer = loadIssuer(platform, dir);
  if (typeof issuer === 'string') return issuer;
  const store = loadRevocations(platform, caFiles(dir).revocations, bundle);
  if (typeof store === 'string') return store;
  const nowMs = platform.wallClockMs();
  const used = usedTokenIds(platform, dir);
  const revokedSerials = new Set((store.list?.serials ?? []).map(toHex));
  const revokedNodes = new Set(store.list?.nodeIds ?? []);
  const certState = (serial: Uint8Array, notAfterMs: number, nodeId: string | null): string =>
    revokedSerials.has(toHex(serial)) || (nodeId !== null && revokedNodes.has(nodeId))
      ? 'revoked'
      : nowMs >= notAfterMs
        ? 'expired'
        : 'valid';
  const nodeIdOf = (name: string) => `spiffe://${bundle.trustDomain}/node/${name}`;
  const signing = toHex(issuer.cert.issuerKeyId);
  return {
    trustDomain: bundle.trustDomain,
    roots: bundle.roots.map((r) => ({
      keyId: toHex(r.issuerKeyId),
      subject: r.subject,
      notAfter: iso(r.notAfterMs),
      signing: toHex(r.issuerKeyId) === signing,
    })),
    tokens: ledger.tokens.map((t) => ({
      node: t.name,
      tokenId: toHex(t.tokenId),
      roles: [...t.roles],
      issuedAt: iso(t.issuedAtMs),
      expires: iso(t.notAfterMs),
      state: used.has(toHex(t.tokenId)) ? 'used' : nowMs >= t.notAfterMs ? 'expired' : 'unused',
    })),
    nodes: ledger.certs
      .filter((c) => c.kind === 'node')
      .map((c) => ({
        node: c.name,
        serial: toHex(c.serial),
        issuerKeyId: toHex(c.issuerKeyId),
        expires: iso(c.notAfterMs),
        state: certState(c.serial, c.notAfterMs, nodeIdOf(c.name)),
      })),
    intermediates: ledger.certs
      .filter((c) => c.kind === 'intermediate')
      .map((c) => ({
        name: c.name,
        serial: toHex(c.serial),
        issuerKeyId: toHex(c.issuerKeyId),
        expires: iso(c.notAfterMs),
        state: certState(c.serial, c.notAfterMs, null),
      })),
    revocations: {
      version: store.version,
      serials: (store.list?.serials ?? []).map(toHex),
      nodes: [...revokedNodes],
    },
    rollover: platform.files.exists(caFiles(nextDir(dir)).key)
      ? 'started'
      : platform.files.exists(caFiles(previousDir(dir)).cert) && bundle.roots.length > 1
        ? 'activated'
        : 'none',
  };
}

function printList(platform: Platform, v: ListView): void {
  const lines = [`trust domain ${v.trustDomain}; rollover: ${v.rollover}`, `roots (${v.roots.length}):`];
  for (const r of v.roots) lines.push(`  ${r.keyId}  ${r.subject}  until ${r.notAfter}${r.signing ? '  (signs)' : ''}`);
  lines.push(`tokens (${v.tokens.length}):`);
  for (const t of v.tokens)
    lines.push(`  ${t.node.padEnd(16)} ${t.state.padEnd(8)} ${t.roles.join(',')}  until ${t.expires}`);
  lines.push(`nodes (${v.nodes.length}):`);
  for (const n of v.nodes)
    lines.push(
      `  ${n.node.padEnd(16)} ${n.state.padEnd(8)} serial ${n.serial}  root/issuer ${n.issuerKeyId}  until ${n.expires}`,
    );
  lines.push(`intermediates (${v.intermediates.length}):`);
  for (const i of v.intermediates)
    lines.push(
      `  ${i.name.padEnd(16)} ${i.state.padEnd(8)} serial ${i.serial}  root ${i.issuerKeyId}  until ${i.expires}`,
    );
  lines.push(
    `revocations: version ${v.revocations.version}, ${v.revocations.serials.length} serials, ${v.revocations.nodes.length} nodes${v.revocations.nodes.length > 0 ? ` (${v.revocations.nodes.join(', ')})` : ''}`,
  );
  platform.stdout(`${lines.join('\n')}\n`);
}

async function caList(platform: Platform, flags: Record<string, string | boolean>, dir: string): Promise<number> {
  const bundle = loadBundle(platform, caFiles(dir).bundle);
  if (!bundle.ok)
    return refused(
      platform,
      'ca list',
      `cannot load ${caFiles(dir).bundle}: ${bundle.reason} (is --ca-dir the CA directory?)`,
    );
  const ledger = loadLedger(platform, dir);
  if (typeof ledger === 'string') return refused(platform, 'ca list', ledger);
  const view = listView(platform, dir, bundle.value, ledger);
  if (typeof view === 'string') return refused(platform, 'ca list', view);
  if (flags.json === true) platform.stdout(`${JSON.stringify(view, null, 2)}\n`);
  else printList(platform, view);
  return 0;
}

/** Exit codes of `ca verify` beyond 0/1/2, so a script can tell why without parsing text. */
export const verifyExit = { revoked: 3, expired: 4 } as const;

function loadCerts(platform: Platform, path: string): Certificate[] | string {
  const bytes = platform.files.read(path);
  if (bytes === null) return `${path}: file-missing (give a certificate or chain file, e.g. STATE_DIR/node.chain)`;
  const single = decodeCertificate(bytes);
  if (single.ok) return [single.value];
  const decoded = decodeBounded(bytes, 8192);
  const chain = decoded.ok ? decodeChain(decoded.value) : null;
  return chain?.ok
    ? chain.value
    : `${path}: not a certificate or chain (${chain?.ok === false ? chain.reason : 'malformed'})`;
}

async function caVerify(
  platform: Platform,
  flags: Record<string, string | boolean>,
  positionals: readonly string[],
  dir: string,
): Promise<number> {
  const path = positionals[0];
  if (path === undefined || positionals.length > 1) return usage(platform, 'ca verify takes one CERT file', caOpsHelp);
  const trust = typeof flags.trust === 'string' ? flags.trust : caFiles(dir).bundle;
  const bundle = loadBundle(platform, trust);
  if (!bundle.ok)
    return refused(platform, 'ca verify', `cannot load trust bundle ${trust}: ${bundle.reason} (give --trust FILE)`);
  const certs = loadCerts(platform, path);
  if (typeof certs === 'string') return refused(platform, 'ca verify', certs);
  const revocationsPath = typeof flags.revocations === 'string' ? flags.revocations : caFiles(dir).revocations;
  if (typeof flags.revocations === 'string' && !platform.files.exists(revocationsPath))
    return refused(platform, 'ca verify', `${revocationsPath}: file-missing`);
  const store = loadRevocations(platform, revocationsPath, bundle.value);
  if (typeof store === 'string') return refused(platform, 'ca verify', store);
  const result = verifyCertificates(platform.crypto, certs, bundle.value, platform.wallClockMs(), store);
  const leaf = certs[0] as Certificate;
  const report = {
    file: path,
    subject: leaf.subject,
    serial: toHex(leaf.serial),
    expires: iso(leaf.notAfterMs),
    valid: result.ok,
    reason: result.ok ? null : result.reason,
    root: result.ok ? toHex(result.value.rootKeyId) : null,
    revocationsVersion: store.version,
  };
  if (flags.json === true) platform.stdout(`${JSON.stringify(report)}\n`);
  else if (result.ok)
    platform.stdout(
      `${path}: valid: ${leaf.subject} until ${report.expires}, chains to root ${report.root} of ${trust}\n`,
    );
  else platform.stderr(`x0 ca verify: ${path}: ${result.reason} (${leaf.subject}, until ${report.expires})\n`);
  if (result.ok) return 0;
  if (result.reason === 'cert-revoked') return verifyExit.revoked;
  return ['cert-expired', 'issuer-expired', 'cert-not-yet-valid', 'issuer-not-yet-valid'].includes(result.reason)
    ? verifyExit.expired
    : 1;
}

/** Every file a CA directory may hold, relative to it (the rollover's next and previous roots included). */
const backedUp = (): Array<{ name: string; mode: number }> => {
  const names = (base: string) => {
    const f = caFiles(base);
    return [
      { name: f.key, mode: secretFileMode },
      { name: f.cert, mode: publicFileMode },
      { name: f.bundle, mode: publicFileMode },
      { name: f.used, mode: secretFileMode },
      { name: f.revocations, mode: publicFileMode },
    ];
  };
  return [
    ...names('.'),
    { name: './ledger.cbor', mode: publicFileMode },
    ...names('./next').slice(0, 2),
    ...names('./previous').slice(0, 2),
  ].map((f) => ({ name: f.name.slice(2), mode: f.mode }));
};

async function caBackup(platform: Platform, flags: Record<string, string | boolean>, dir: string): Promise<number> {
  const out = flags.out;
  if (typeof out !== 'string') return usage(platform, '--out FILE is required (where the backup goes)', caOpsHelp);
  if (platform.files.exists(out) && flags.force !== true)
    return refused(platform, 'ca backup', `${out} exists (choose another --out, or --force to replace it)`);
  const issuer = loadIssuer(platform, dir);
  if (typeof issuer === 'string') return refused(platform, 'ca backup', `${issuer} (is --ca-dir the CA directory?)`);
  const files: BackupFile[] = [];
  for (const f of backedUp()) {
    const data = platform.files.read(`${dir}/${f.name}`);
    if (data !== null) files.push({ name: f.name, mode: f.mode, data });
  }
  const bytes = encodeBackup(platform.crypto, { createdAtMs: platform.wallClockMs(), files });
  const failed = writeSecret(platform, out, bytes);
  if (failed !== null) return refused(platform, 'ca backup', failed);
  platform.stdout(
    `backed up ${files.length} files of ${dir} (${issuer.cert.subject}) to ${out} (0600: it holds the root key)\n`,
  );
  return 0;
}

/** Everything a restore checks before it writes: the digest, the key against its certificate, the bundle. */
function checkBackupFiles(platform: Platform, files: readonly BackupFile[]): string | null {
  const byName = new Map(files.map((f) => [f.name, f.data]));
  const key = byName.get('ca.key');
  const cert = byName.get('ca.cert');
  const bundle = byName.get('bundle.cbor');
  if (key === undefined || cert === undefined || bundle === undefined)
    return 'the backup lacks ca.key, ca.cert or bundle.cbor';
  const decodedCert = decodeCertificate(cert);
  if (!decodedCert.ok) return `ca.cert in the backup: ${decodedCert.reason}`;
  const keys = loadKeysFrom(platform, key);
  if (keys === null || !bytesEqual(keys, decodedCert.value.signPublicKey))
    return 'ca.key in the backup does not match ca.cert';
  const trust = loadBundleFrom(platform, bundle);
  if (typeof trust === 'string') return `bundle.cbor in the backup: ${trust}`;
  const revocations = byName.get('revocations.cbor');
  if (revocations !== undefined) {
    const list = decodeRevocationList(platform.crypto, revocations, trust);
    if (!list.ok) return `revocations.cbor in the backup: ${list.reason}`;
  }
  const ledger = byName.get('ledger.cbor');
  if (ledger !== undefined && !decodeLedger(ledger).ok) return 'ledger.cbor in the backup: ledger-malformed';
  return null;
}

function loadKeysFrom(platform: Platform, bytes: Uint8Array): Uint8Array | null {
  const memory = { ...platform.files, read: () => bytes };
  const keys = loadKeys({ ...platform, files: memory }, 'ca.key');
  return keys.ok ? keys.value.sign.publicKey : null;
}

function loadBundleFrom(platform: Platform, bytes: Uint8Array): TrustBundle | string {
  const memory = { ...platform.files, read: () => bytes };
  const bundle = loadBundle({ ...platform, files: memory }, 'bundle.cbor');
  return bundle.ok ? bundle.value : bundle.reason;
}

async function caRestore(
  platform: Platform,
  flags: Record<string, string | boolean>,
  positionals: readonly string[],
  dir: string,
): Promise<number> {
  const path = positionals[0];
  if (path === undefined || positionals.length > 1)
    return usage(platform, 'ca restore takes one backup FILE', caOpsHelp);
  const bytes = platform.files.read(path);
  if (bytes === null) return refused(platform, 'ca restore', `${path}: file-missing`);
  const backup = decodeBackup(platform.crypto, bytes);
  if (!backup.ok) return refused(platform, 'ca restore', `${path}: ${backup.reason}; nothing was written`);
  const bad = checkBackupFiles(platform, backup.value.files);
  if (bad !== null) return refused(platform, 'ca restore', `${path}: ${bad}; nothing was written`);
  if (platform.files.exists(caFiles(dir).key) && flags.force !== true)
    return refused(platform, 'ca restore', `a CA already exists in ${dir} (--force replaces it with the backup)`);
  // The key goes last: until it is written, the directory's key does not match its certificate and nothing signs.
  const files = [...backup.value.files].sort((a, b) => Number(a.name === 'ca.key') - Number(b.name === 'ca.key'));
  const wanted = new Set(files.map((f) => f.name));
  const failed = firstFailure(
    () => described(dir, platform.files.mkdirp(dir)),
    () =>
      described(
        `${dir}/next`,
        files.some((f) => f.name.startsWith('next/')) ? platform.files.mkdirp(nextDir(dir)) : null,
      ),
    () =>
      described(
        `${dir}/previous`,
        files.some((f) => f.name.startsWith('previous/')) ? platform.files.mkdirp(previousDir(dir)) : null,
      ),
    // Files the backup does not have must not survive from the replaced CA (a newer list, another rollover).
    ...backedUp()
      .filter((f) => !wanted.has(f.name))
      .map((f) => () => described(`${dir}/${f.name}`, platform.files.remove(`${dir}/${f.name}`))),
    ...files.map(
      (f) => () =>
        f.mode === secretFileMode
          ? writeSecret(platform, `${dir}/${f.name}`, f.data)
          : writePublic(platform, `${dir}/${f.name}`, f.data),
    ),
  );
  if (failed !== null)
    return refused(platform, 'ca restore', `${failed}; the CA in ${dir} is incomplete: run the restore again`);
  platform.stdout(`restored ${files.length} files from ${path} (made ${iso(backup.value.createdAtMs)}) into ${dir}\n`);
  return 0;
}

async function rolloverStart(
  platform: Platform,
  flags: Record<string, string | boolean>,
  dir: string,
): Promise<number> {
  const issuer = loadIssuer(platform, dir);
  if (typeof issuer === 'string') return refused(platform, 'ca rollover start', issuer);
  if (issuer.cert.kind !== 'root')
    return refused(platform, 'ca rollover start', `${dir} holds an intermediate; roll over the root CA's directory`);
  if (platform.files.exists(caFiles(nextDir(dir)).key))
    return refused(
      platform,
      'ca rollover start',
      `a rollover is under way (${nextDir(dir)}): run 'x0 ca rollover activate'`,
    );
  if (platform.files.exists(caFiles(previousDir(dir)).cert))
    return refused(
      platform,
      'ca rollover start',
      `the last rollover is not finished (${previousDir(dir)}): run 'x0 ca rollover finish'`,
    );
  const ttlMs = typeof flags.ttl === 'string' ? parseDuration(flags.ttl) : limits.rootCertTtlMsDefault;
  if (ttlMs === null) return usage(platform, '--ttl needs a duration like 3650d', caOpsHelp);
  const bundle = loadBundle(platform, caFiles(dir).bundle);
  if (!bundle.ok) return refused(platform, 'ca rollover start', `cannot load ${caFiles(dir).bundle}: ${bundle.reason}`);
  const root = createRoot(platform.crypto, {
    trustDomain: issuer.cert.trustDomain,
    name: issuer.cert.name,
    nowMs: platform.wallClockMs(),
    ttlMs,
  });
  const both = addRoot(platform.crypto, bundle.value, root.issuer.cert);
  if (!both.ok) return refused(platform, 'ca rollover start', both.reason);
  const next = caFiles(nextDir(dir));
  const failed = firstFailure(
    () => described(nextDir(dir), platform.files.mkdirp(nextDir(dir))),
    () => writeSecret(platform, next.key, encodeKeyFile({ sign: root.signKeys, box: root.boxKeys })),
    () => writePublic(platform, next.cert, root.issuer.cert.bytes),
    () => recordCert(platform, dir, root.issuer.cert),
    () => saveBundle(platform, caFiles(dir).bundle, both.value),
  );
  if (failed !== null) return refused(platform, 'ca rollover start', failed);
  platform.stdout(
    `new root ${toHex(root.issuer.cert.issuerKeyId)} in ${nextDir(dir)}; ${caFiles(dir).bundle} now trusts both roots.\nNext: copy it to every node's STATE_DIR/bundle.cbor and restart each agent, then run 'x0 ca rollover activate'.\n`,
  );
  return 0;
}

async function rolloverActivate(platform: Platform, dir: string): Promise<number> {
  const next = caFiles(nextDir(dir));
  const newRoot = loadIssuer(platform, nextDir(dir));
  if (typeof newRoot === 'string')
    return refused(
      platform,
      'ca rollover activate',
      `no rollover under way (${newRoot}); start one with 'x0 ca rollover start'`,
    );
  const oldRoot = loadIssuer(platform, dir);
  if (typeof oldRoot === 'string') return refused(platform, 'ca rollover activate', oldRoot);
  const bundle = loadBundle(platform, caFiles(dir).bundle);
  if (!bundle.ok)
    return refused(platform, 'ca rollover activate', `cannot load ${caFiles(dir).bundle}: ${bundle.reason}`);
  const store = loadRevocations(platform, caFiles(dir).revocations, bundle.value);
  if (typeof store === 'string') return refused(platform, 'ca rollover activate', store);
  const oldKey = platform.files.read(caFiles(dir).key) as Uint8Array;
  const newKey = platform.files.read(next.key) as Uint8Array;
  // The revocation list is signed again by the new root (version + 1), so it stays valid once the old root goes.
  const list = store.list;
  const resigned =
    list === null
      ? null
      : signRevocationList(platform.crypto, newRoot, list.version + 1, {
          issuedAtMs: platform.wallClockMs(),
          serials: list.serials,
          nodeIds: list.nodeIds,
        });
  const prev = caFiles(previousDir(dir));
  const failed = firstFailure(
    () => described(previousDir(dir), platform.files.mkdirp(previousDir(dir))),
    () => writeSecret(platform, prev.key, oldKey),
    () => writePublic(platform, prev.cert, oldRoot.cert.bytes),
    () => writePublic(platform, caFiles(dir).cert, newRoot.cert.bytes),
    () => writeSecret(platform, caFiles(dir).key, newKey),
    () => (resigned === null ? null : writePublic(platform, caFiles(dir).revocations, encodeRevocationList(resigned))),
    () => described(next.key, platform.files.remove(next.key)),
    () => described(next.cert, platform.files.remove(next.cert)),
  );
  if (failed !== null)
    return refused(
      platform,
      'ca rollover activate',
      `${failed}; the CA in ${dir} may be half switched: restore the backup taken before the rollover (x0 ca restore FILE --ca-dir ${dir} --force), then run start and activate again`,
    );
  platform.stdout(
    `root ${toHex(newRoot.cert.issuerKeyId)} now signs (the old root is in ${previousDir(dir)})${resigned === null ? '' : `; revocation list version ${resigned.version} signed by it`}.\nNext: re-issue every intermediate (x0 ca intermediate --force) and node certificate from it, then run 'x0 ca rollover finish'.\n`,
  );
  return 0;
}

async function rolloverFinish(platform: Platform, dir: string): Promise<number> {
  const prev = caFiles(previousDir(dir));
  const old = platform.files.read(prev.cert);
  const oldCert = old === null ? null : decodeCertificate(old);
  if (oldCert === null || !oldCert.ok)
    return refused(
      platform,
      'ca rollover finish',
      `no activated rollover (${prev.cert} missing): run 'x0 ca rollover activate' first`,
    );
  const bundle = loadBundle(platform, caFiles(dir).bundle);
  if (!bundle.ok)
    return refused(platform, 'ca rollover finish', `cannot load ${caFiles(dir).bundle}: ${bundle.reason}`);
  const ledger = loadLedger(platform, dir);
  if (typeof ledger === 'string') return refused(platform, 'ca rollover finish', ledger);
  const nowMs = platform.wallClockMs();
  const oldKeyId = oldCert.value.issuerKeyId;
  const stale = ledger.certs.filter(
    (c) => c.kind !== 'root' && bytesEqual(c.issuerKeyId, oldKeyId) && c.notAfterMs > nowMs && !reissued(ledger, c),
  );
  const retired = retireRoot(platform.crypto, bundle.value, oldKeyId);
  if (!retired.ok) return refused(platform, 'ca rollover finish', retired.reason);
  const failed = firstFailure(
    () => saveBundle(platform, caFiles(dir).bundle, retired.value),
    () => described(prev.key, platform.files.remove(prev.key)),
    () => described(prev.cert, platform.files.remove(prev.cert)),
  );
  if (failed !== null) return refused(platform, 'ca rollover finish', failed);
  const warning =
    stale.length === 0
      ? ''
      : `\nwarning: still valid under the old root and not re-issued (they stop working once nodes take this bundle): ${stale.map((c) => c.name).join(', ')}`;
  platform.stdout(
    `root ${toHex(oldKeyId)} dropped from ${caFiles(dir).bundle} (its key is removed).\nNext: copy the bundle to every node's STATE_DIR/bundle.cbor and restart each agent.${warning}\n`,
  );
  return 0;
}

/** A certificate issued later (a later ledger entry) under another root, for the same name and kind. */
function reissued(ledger: Ledger, c: Ledger['certs'][number]): boolean {
  const at = ledger.certs.indexOf(c);
  return ledger.certs.some(
    (d, i) => i > at && d.kind === c.kind && d.name === c.name && !bytesEqual(d.issuerKeyId, c.issuerKeyId),
  );
}

export async function caOpsCommand(
  platform: Platform,
  sub: string,
  flags: Record<string, string | boolean>,
  positionals: readonly string[],
  dir: string,
): Promise<number | null> {
  switch (sub) {
    case 'list':
      return caList(platform, flags, dir);
    case 'verify':
      return caVerify(platform, flags, positionals, dir);
    case 'backup':
      return caBackup(platform, flags, dir);
    case 'restore':
      return caRestore(platform, flags, positionals, dir);
    case 'rollover': {
      const phase = positionals[0];
      if (positionals.length !== 1) return usage(platform, 'ca rollover takes start, activate or finish', caOpsHelp);
      if (phase === 'start') return rolloverStart(platform, flags, dir);
      if (phase === 'activate') return rolloverActivate(platform, dir);
      if (phase === 'finish') return rolloverFinish(platform, dir);
      return usage(platform, `unknown rollover step '${phase}' (start, activate, finish)`, caOpsHelp);
    }
    default:
      return null;
  }
}
