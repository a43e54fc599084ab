// `x0 ca ...` and `x0 cert ...`: the operator's side of the mesh identity. Runs on Node and on the router
// through the Platform. Exit codes: 0 ok, 1 refused (the reason is printed), 2 bad arguments.
import type { Platform } from '../platform/types.js';
import { parseArgs, parseDuration, refused, usage } from './args.js';
import { caOpsCommand, caOpsText, caOpsUsage, ledgerPath, recordCert, recordToken, unknownNode } from './ca-ops.js';
import { toHex } from '../core/identity/canonical.js';
import { describeCertificate, isKnownRole, type Certificate } from '../core/identity/cert.js';
import { createRoot, issueIntermediate } from '../core/identity/ca.js';
import { createTrustBundle, validateChain } from '../core/identity/chain.js';
import { limits } from '../core/identity/limits.js';
import { Registrar } from '../core/identity/registrar.js';
import { encodeRevocationList, signRevocationList } from '../core/identity/revocation.js';
import { isName, isTrustDomain, nodeId } from '../core/identity/spiffe.js';
import { createJoinRequest, issueJoinToken, parseJoinToken } from '../core/identity/token.js';
import {
  caFiles,
  encodeKeyFile,
  loadBundle,
  loadCertificate,
  loadChain,
  loadIssuer,
  loadRevocations,
  nodeFiles,
  saveBundle,
  saveIssuer,
  saveChain,
  writePublic,
  writeSecret,
  firstFailure,
  described,
} from '../identity/store.js';

const caHelp = `usage: x0 ca init --trust-domain DOMAIN [--name NAME] [--ttl DURATION] [--ca-dir DIR] [--force]
       x0 ca issue-token --node NAME [--ttl DURATION] [--roles member,gateway,anchor] [--cert-ttl DURATION] [--ca-dir DIR]
       x0 ca sign --request FILE --out FILE [--renew] [--bundle-out FILE] [--ca-dir DIR]
       x0 ca revoke (--serial HEX | --node NAME [--force]) [--ca-dir DIR]
       x0 ca intermediate --name NAME --out DIR [--ttl DURATION] [--ca-dir DIR]
${caOpsUsage}
The mesh certificate authority in --ca-dir DIR (default /etc/x0/ca; old spelling --dir). 'init' creates a
root key (0600) and a self-signed certificate there and refuses to overwrite an existing CA unless --force.
'issue-token' prints a one-time join token for one node name. 'sign' redeems a join request (or, with --renew,
a renewal request) and writes the node's certificate chain to --out and the trust bundle to --bundle-out
(default: bundle.cbor beside --out); both places are checked before the token is used up. 'revoke' signs a
new revocation list (version + 1).
'intermediate' makes an anchor's issuing key: a new key (0600) and an intermediate CA certificate signed by this
CA, with the trust bundle, in DIR (put it in the anchor's STATE_DIR/issuer): the anchor then enrols nodes over
the network with it while the root key stays offline. 'revoke --node' refuses a name this CA issued nothing
for (a typo would revoke nobody) unless --force.
${caOpsText}Durations: 90s, 30m, 24h, 7d. Exit codes: 0 ok, 1 refused (the message says why and what to do), 2 bad usage;
ca verify: 3 revoked, 4 expired or not yet valid.
`;

const certHelp = `usage: x0 cert show [FILE] [--state-dir DIR] [--json]
       x0 cert request --token TOKEN [--state-dir DIR] [--address ADDR]

'show' prints a certificate or chain file (default DIR/node.chain; --state-dir DIR is the node's state
directory, default /etc/x0/identity; old spelling --dir), human readable or as JSON. 'request' generates this node's keys locally (DIR/node.key, 0600) and writes a
join request (DIR/join-request.cbor) proving possession of the token and of the new key.
Exit 0 ok, 1 refused (the message names the file or the reason), 2 bad arguments.
`;

async function caInit(platform: Platform, flags: Record<string, string | boolean>, dir: string): Promise<number> {
  const trustDomain = flags['trust-domain'];
  if (typeof trustDomain !== 'string' || !isTrustDomain(trustDomain))
    return usage(
      platform,
      '--trust-domain needs a valid SPIFFE trust domain (lowercase letters, digits, . - _)',
      caHelp,
    );
  const name = typeof flags.name === 'string' ? flags.name : 'root';
  if (!isName(name)) return usage(platform, '--name is not a valid name', caHelp);
  const ttlMs = typeof flags.ttl === 'string' ? parseDuration(flags.ttl) : limits.rootCertTtlMsDefault;
  if (ttlMs === null) return usage(platform, '--ttl needs a duration like 3650d', caHelp);
  const files = caFiles(dir);
  if (platform.files.exists(files.key) && flags.force !== true)
    return refused(platform, 'ca init', `a CA already exists in ${dir} (use --force to replace it)`);
  const root = createRoot(platform.crypto, { trustDomain, name, nowMs: platform.wallClockMs(), ttlMs });
  const bundle = createTrustBundle(platform.crypto, trustDomain, [root.issuer.cert]);
  if (!bundle.ok) return refused(platform, 'ca init', bundle.reason);
  const failed = firstFailure(
    () => described(dir, platform.files.mkdirp(dir)),
    // Key, certificate and bundle as one set: a stop in between never leaves a CA that cannot sign.
    () => saveIssuer(platform, dir, { sign: root.signKeys, box: root.boxKeys }, root.issuer.cert, bundle.value),
    () => described(files.used, platform.files.remove(files.used)),
    () => described(ledgerPath(dir), platform.files.remove(ledgerPath(dir))),
  );
  if (failed !== null) return refused(platform, 'ca init', `${failed} (is ${dir} writable?)`);
  platform.stdout(`created CA ${root.issuer.cert.subject} (key id ${toHex(root.issuer.cert.issuerKeyId)}) in ${dir}\n`);
  return 0;
}

async function caIssueToken(platform: Platform, flags: Record<string, string | boolean>, dir: string): Promise<number> {
  const name = flags.node;
  if (typeof name !== 'string' || !isName(name)) return usage(platform, '--node needs a valid node name', caHelp);
  const ttlMs = typeof flags.ttl === 'string' ? parseDuration(flags.ttl) : limits.tokenTtlMsDefault;
  const certTtlMs =
    typeof flags['cert-ttl'] === 'string' ? parseDuration(flags['cert-ttl']) : limits.nodeCertTtlMsDefault;
  if (ttlMs === null || ttlMs > limits.tokenTtlMsMax)
    return usage(platform, '--ttl needs a duration up to 30d', caHelp);
  if (certTtlMs === null || certTtlMs > limits.nodeCertTtlMsMax)
    return usage(platform, '--cert-ttl needs a duration up to 90d', caHelp);
  const roles = typeof flags.roles === 'string' ? flags.roles.split(',').filter((r) => r !== '') : ['member'];
  if (roles.length === 0 || !roles.every(isKnownRole))
    return usage(platform, '--roles takes anchor, gateway, member', caHelp);
  const issuer = loadIssuer(platform, dir);
  if (typeof issuer === 'string') return refused(platform, 'ca issue-token', `${issuer}${noCaHint(issuer, dir)}`);
  const nowMs = platform.wallClockMs();
  const { text, token } = issueJoinToken(platform.crypto, issuer, { name, nowMs, ttlMs, roles, certTtlMs });
  const record = { tokenId: token.body.tokenId, name, roles, issuedAtMs: nowMs, notAfterMs: token.body.notAfterMs };
  const unrecorded = recordToken(platform, dir, record);
  if (unrecorded !== null) return refused(platform, 'ca issue-token', `${unrecorded}; no token was issued`);
  platform.stdout(`${text}\n`);
  return 0;
}

async function caSign(platform: Platform, flags: Record<string, string | boolean>, dir: string): Promise<number> {
  if (typeof flags.request !== 'string' || typeof flags.out !== 'string')
    return usage(platform, '--request and --out are required', caHelp);
  const issuer = loadIssuer(platform, dir);
  if (typeof issuer === 'string') return refused(platform, 'ca sign', `${issuer}${noCaHint(issuer, dir)}`);
  const files = caFiles(dir);
  const bundle = loadBundle(platform, files.bundle);
  if (!bundle.ok) return refused(platform, 'ca sign', `cannot load ${files.bundle}: ${bundle.reason}`);
  const request = platform.files.read(flags.request);
  if (request === null) return refused(platform, 'ca sign', `${flags.request}: file-missing`);
  const revocations = loadRevocations(platform, files.revocations, bundle.value);
  if (typeof revocations === 'string') return refused(platform, 'ca sign', revocations);
  const registrar = new Registrar(platform.crypto, issuer, bundle.value, revocations);
  const used = platform.files.read(files.used);
  if (used !== null && !registrar.importUsed(used).ok)
    return refused(platform, 'ca sign', `${files.used}: used-tokens-malformed`);
  // Both places the node needs are checked before the token is used up: the bundle (public) is written first,
  // and the chain's directory must exist. A sign that cannot deliver must leave the token usable.
  const out = flags.out;
  const outDir = out.includes('/') ? out.slice(0, out.lastIndexOf('/')) || '/' : '.';
  const bundleOut = typeof flags['bundle-out'] === 'string' ? flags['bundle-out'] : `${outDir}/bundle.cbor`;
  if (!platform.files.exists(outDir))
    return refused(platform, 'ca sign', `${outDir} (the directory of --out) does not exist; the token was not used`);
  const bundleFailed = saveBundle(platform, bundleOut, bundle.value);
  if (bundleFailed !== null)
    return refused(
      platform,
      'ca sign',
      `cannot write the trust bundle: ${bundleFailed}; the token was not used (give --bundle-out FILE somewhere writable)`,
    );
  const nowMs = platform.wallClockMs();
  const issued = flags.renew === true ? registrar.renew(request, nowMs) : registrar.redeem(request, nowMs);
  if (!issued.ok)
    return refused(platform, 'ca sign', `${flags.request}: ${issued.reason}${signAdvice(issued.reason, dir)}`);
  // The used token is on disk before the certificate leaves: a crash cannot make the token usable again.
  const failed = firstFailure(
    () => writeSecret(platform, files.used, registrar.exportUsed()),
    () => saveChain(platform, out, issued.value.chain),
    () => recordCert(platform, dir, issued.value.certificate),
  );
  if (failed !== null) return refused(platform, 'ca sign', failed);
  platform.stdout(
    `issued ${issued.value.certificate.subject} serial ${toHex(issued.value.certificate.serial)} until ${new Date(issued.value.certificate.notAfterMs).toISOString()}\n`,
  );
  return 0;
}

/** A CA directory without a CA: say which flag names it and how one is made. */
function noCaHint(problem: string, dir: string): string {
  return problem.includes('file-missing')
    ? ` (is --ca-dir ${dir} the CA directory? 'x0 ca init --trust-domain DOMAIN --ca-dir DIR' creates one)`
    : '';
}

/** What to do after a refused request: a used or expired token is never accepted again, so a new one is needed. */
function signAdvice(reason: string, dir: string): string {
  if (reason === 'token-used' || reason === 'token-expired')
    return ` (a join token is good for one certificate: issue a new one with 'x0 ca issue-token --node NAME --ca-dir ${dir}', then run 'x0 cert request --token NEW_TOKEN' on the node again)`;
  return '';
}

async function caRevoke(platform: Platform, flags: Record<string, string | boolean>, dir: string): Promise<number> {
  const serial = typeof flags.serial === 'string' ? flags.serial : null;
  const node = typeof flags.node === 'string' ? flags.node : null;
  if ((serial === null) === (node === null)) return usage(platform, 'give one of --serial HEX or --node NAME', caHelp);
  if (serial !== null && !new RegExp(`^[0-9a-f]{${limits.serialBytes * 2}}$`).test(serial))
    return usage(platform, '--serial needs 32 hex digits', caHelp);
  if (node !== null && !isName(node)) return usage(platform, '--node needs a valid node name', caHelp);
  const issuer = loadIssuer(platform, dir);
  if (typeof issuer === 'string') return refused(platform, 'ca revoke', `${issuer}${noCaHint(issuer, dir)}`);
  const unknown = node !== null && flags.force !== true ? unknownNode(platform, dir, node) : null;
  if (unknown !== null) return refused(platform, 'ca revoke', unknown);
  const files = caFiles(dir);
  const bundle = loadBundle(platform, files.bundle);
  if (!bundle.ok) return refused(platform, 'ca revoke', bundle.reason);
  const store = loadRevocations(platform, files.revocations, bundle.value);
  if (typeof store === 'string')
    return refused(
      platform,
      'ca revoke',
      `${store} (restore it or move it away; a new list would drop every earlier revocation)`,
    );
  const current = store.list;
  const serials = [...(current?.serials ?? []), ...(serial !== null ? [hexBytes(serial)] : [])];
  const nodeIds = [...(current?.nodeIds ?? []), ...(node !== null ? [nodeId(issuer.cert.trustDomain, node)] : [])];
  const list = signRevocationList(platform.crypto, issuer, (current?.version ?? 0) + 1, {
    issuedAtMs: platform.wallClockMs(),
    serials,
    nodeIds,
  });
  const failed = writePublic(platform, files.revocations, encodeRevocationList(list));
  if (failed !== null) return refused(platform, 'ca revoke', `${failed}; the list is not changed`);
  platform.stdout(
    `revocation list version ${list.version}: ${list.serials.length} serials, ${list.nodeIds.length} nodes (${files.revocations})\n`,
  );
  return 0;
}

async function caIntermediate(
  platform: Platform,
  flags: Record<string, string | boolean>,
  dir: string,
): Promise<number> {
  const name = flags.name;
  if (typeof name !== 'string' || !isName(name))
    return usage(platform, "--name needs a valid name (the anchor's issuing CA, e.g. anchor-alpha)", caHelp);
  if (typeof flags.out !== 'string')
    return usage(platform, "--out DIR is required (the anchor's STATE_DIR/issuer)", caHelp);
  const ttlMs = typeof flags.ttl === 'string' ? parseDuration(flags.ttl) : limits.intermediateCertTtlMsDefault;
  if (ttlMs === null) return usage(platform, '--ttl needs a duration (90s, 30m, 24h, 7d)', caHelp);
  const issuer = loadIssuer(platform, dir);
  if (typeof issuer === 'string') return refused(platform, 'ca intermediate', `${issuer}${noCaHint(issuer, dir)}`);
  if (issuer.cert.kind !== 'root')
    return refused(platform, 'ca intermediate', `${dir} holds an intermediate; make intermediates with the root CA`);
  const bundle = loadBundle(platform, caFiles(dir).bundle);
  if (!bundle.ok) return refused(platform, 'ca intermediate', `cannot load ${caFiles(dir).bundle}: ${bundle.reason}`);
  const out = caFiles(flags.out);
  if (platform.files.exists(out.key) && flags.force !== true)
    return refused(platform, 'ca intermediate', `${out.key} exists (--force replaces it)`);
  const keys = { sign: platform.crypto.signKeyPair(), box: platform.crypto.boxKeyPair() };
  const cert = issueIntermediate(platform.crypto, issuer, {
    name,
    signPublicKey: keys.sign.publicKey,
    boxPublicKey: keys.box.publicKey,
    nowMs: platform.wallClockMs(),
    ttlMs,
  });
  const outDir = flags.out;
  const failed = firstFailure(
    () => described(outDir, platform.files.mkdirp(outDir)),
    () => saveIssuer(platform, outDir, keys, cert, bundle.value),
    () => recordCert(platform, dir, cert),
  );
  if (failed !== null) return refused(platform, 'ca intermediate', failed);
  platform.stdout(
    `issued intermediate ${cert.subject} serial ${toHex(cert.serial)} until ${new Date(cert.notAfterMs).toISOString()} in ${flags.out}\n`,
  );
  return 0;
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from({ length: hex.length / 2 }, (_, i) => Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16));
}

export async function caCommand(platform: Platform, args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined)
    return usage(platform, 'a ca command is needed (init, issue-token, sign, revoke, intermediate)', caHelp);
  const parsed = parseArgs(rest, {
    'trust-domain': 'string',
    name: 'string',
    ttl: 'string',
    'ca-dir': 'string',
    dir: { alias: 'ca-dir' },
    force: 'boolean',
    node: 'string',
    roles: 'string',
    'cert-ttl': 'string',
    request: 'string',
    out: 'string',
    renew: 'boolean',
    'bundle-out': 'string',
    serial: 'string',
    trust: 'string',
    revocations: 'string',
    json: 'boolean',
    help: 'boolean',
  });
  if (sub === '--help' || sub === '-h' || (parsed.ok && parsed.flags.help === true)) {
    platform.stdout(caHelp);
    return 0;
  }
  if (!parsed.ok) return usage(platform, parsed.error, caHelp);
  const dir = typeof parsed.flags['ca-dir'] === 'string' ? parsed.flags['ca-dir'] : '/etc/x0/ca';
  switch (sub) {
    case 'init':
      return caInit(platform, parsed.flags, dir);
    case 'issue-token':
      return caIssueToken(platform, parsed.flags, dir);
    case 'sign':
      return caSign(platform, parsed.flags, dir);
    case 'revoke':
      return caRevoke(platform, parsed.flags, dir);
    case 'intermediate':
      return caIntermediate(platform, parsed.flags, dir);
    default:
      return (
        (await caOpsCommand(platform, sub, parsed.flags, parsed.positionals, dir)) ??
        usage(platform, `unknown ca command '${sub}'`, caHelp)
      );
  }
}

function showCertificate(cert: Certificate): string {
  const d = describeCertificate(cert, toHex);
  return [
    `${cert.kind} certificate ${cert.subject}`,
    `  issuer      ${cert.issuer} (key id ${d.issuerKeyId})`,
    `  serial      ${d.serial}`,
    `  valid       ${d.notBefore} .. ${d.notAfter}`,
    ...(cert.kind === 'node' ? [`  roles       ${cert.roles.join(', ')}`] : [`  path length ${cert.pathLenMax}`]),
    ...(cert.addresses.length > 0 ? [`  addresses   ${cert.addresses.join(', ')}`] : []),
    `  sign key    ${d.signPublicKey}`,
    `  box key     ${d.boxPublicKey}`,
  ].join('\n');
}

async function certShow(
  platform: Platform,
  flags: Record<string, string | boolean>,
  positionals: readonly string[],
  dir: string,
): Promise<number> {
  const path = positionals[0] ?? nodeFiles(dir).chain;
  const chain = loadChain(platform, path);
  const certs = chain.ok
    ? chain.value
    : (() => {
        const one = loadCertificate(platform, path);
        return one.ok ? [one.value] : null;
      })();
  if (certs === null) return refused(platform, 'cert show', `${path}: ${chain.ok ? '' : chain.reason}`);
  const bundle = loadBundle(platform, nodeFiles(dir).bundle);
  const status =
    bundle.ok && certs[0]?.kind === 'node'
      ? validateChain(platform.crypto, certs, bundle.value, platform.wallClockMs())
      : null;
  const verdict = status === null ? 'not checked (no trust bundle)' : status.ok ? 'valid' : status.reason;
  if (flags.json === true) {
    platform.stdout(
      `${JSON.stringify({ chain: certs.map((c) => describeCertificate(c, toHex)), status: verdict }, null, 2)}\n`,
    );
  } else {
    platform.stdout(`${certs.map(showCertificate).join('\n')}\nchain: ${verdict}\n`);
  }
  return 0;
}

async function certRequest(platform: Platform, flags: Record<string, string | boolean>, dir: string): Promise<number> {
  if (typeof flags.token !== 'string') return usage(platform, '--token is required', certHelp);
  const token = parseJoinToken(platform.crypto, flags.token);
  if (!token.ok) return refused(platform, 'cert request', token.reason);
  const files = nodeFiles(dir);
  const keys = { sign: platform.crypto.signKeyPair(), box: platform.crypto.boxKeyPair() };
  const addresses = typeof flags.address === 'string' ? [flags.address] : [];
  const failed = firstFailure(
    () => described(dir, platform.files.mkdirp(dir)),
    () => writeSecret(platform, files.key, encodeKeyFile(keys)),
    () =>
      writePublic(
        platform,
        files.request,
        createJoinRequest(platform.crypto, token.value, keys, platform.wallClockMs(), addresses),
      ),
  );
  if (failed !== null)
    return refused(
      platform,
      'cert request',
      `${failed}; the token is not used, run this again once ${dir} is writable`,
    );
  platform.stdout(`keys in ${files.key}; join request for ${token.value.body.subject} in ${files.request}\n`);
  return 0;
}

export async function certCommand(platform: Platform, args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined) return usage(platform, 'a cert command is needed (show, request)', certHelp);
  const parsed = parseArgs(rest, {
    'state-dir': 'string',
    dir: { alias: 'state-dir' },
    json: 'boolean',
    token: 'string',
    address: 'string',
    help: 'boolean',
  });
  if (sub === '--help' || sub === '-h' || (parsed.ok && parsed.flags.help === true)) {
    platform.stdout(certHelp);
    return 0;
  }
  if (!parsed.ok) return usage(platform, parsed.error, certHelp);
  const dir = typeof parsed.flags['state-dir'] === 'string' ? parsed.flags['state-dir'] : '/etc/x0/identity';
  switch (sub) {
    case 'show':
      return certShow(platform, parsed.flags, parsed.positionals, dir);
    case 'request':
      return certRequest(platform, parsed.flags, dir);
    default:
      return usage(platform, `unknown cert command '${sub}'`, certHelp);
  }
}
