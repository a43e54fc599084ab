// `x0 ca ...` and `x0 cert ...`: the operator's side of the mesh identity. Runs on Node and on the router
// through the Platform. Exit codes: 0 ok, 1 refused (the reason is printed), 2 bad arguments.
import type { Platform } from '../platform/types.js';
import { parseArgs, parseHostPort } from './args.js';
import { toHex } from '../core/identity/canonical.js';
import { describeCertificate, isKnownRole, type Certificate } from '../core/identity/cert.js';
import { createRoot } from '../core/identity/ca.js';
import { createTrustBundle, validateChain } from '../core/identity/chain.js';
import { limits } from '../core/identity/limits.js';
import { Registrar } from '../core/identity/registrar.js';
import { encodeRevocationList, signRevocationList } from '../core/identity/revocation.js';
import { isName, isTrustDomain, nodeId } from '../core/identity/spiffe.js';
import { createJoinRequest, issueJoinToken, parseJoinToken } from '../core/identity/token.js';
import { runChannelNode } from '../identity/channel-node.js';
import { caFiles, encodeKeyFile, loadBundle, loadCertificate, loadChain, loadIssuer, loadRevocations, nodeFiles, saveBundle, saveChain, writePublic, writeSecret } from '../identity/store.js';

const caHelp = `usage: x0 ca init --trust-domain DOMAIN [--name NAME] [--ttl DURATION] [--dir DIR] [--force]
       x0 ca issue-token --node NAME [--ttl DURATION] [--roles member,gateway,anchor] [--cert-ttl DURATION] [--dir DIR]
       x0 ca sign --request FILE --out FILE [--renew] [--bundle-out FILE] [--dir DIR]
       x0 ca revoke (--serial HEX | --node NAME) [--dir DIR]

The mesh certificate authority. 'init' creates a root key (0600) and a self-signed certificate in DIR
(default /etc/x0/ca) and refuses to overwrite an existing CA unless --force. 'issue-token' prints a
one-time join token for one node name. 'sign' redeems a join request (or, with --renew, a renewal
request) and writes the node's certificate chain. 'revoke' signs a new revocation list (version + 1).
Durations: 90s, 30m, 24h, 7d. Exit 0 ok, 1 refused, 2 bad arguments.
`;

const certHelp = `usage: x0 cert show [FILE] [--dir DIR] [--json]
       x0 cert request --token TOKEN [--dir DIR] [--address ADDR]

'show' prints a certificate or chain file (default DIR/node.chain, DIR default /etc/x0/identity), human
readable or as JSON. 'request' generates this node's keys locally (DIR/node.key, 0600) and writes a
join request (DIR/join-request.cbor) proving possession of the token and of the new key.
`;

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number | null {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (m === null) return null;
  const value = Number(m[1]) * (units[m[2] as string] as number);
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}

function usage(platform: Platform, message: string, help: string): number {
  platform.stderr(`x0: ${message}\n\n${help}`);
  return 2;
}

function refused(platform: Platform, what: string, reason: string): number {
  platform.stderr(`x0: ${what}: ${reason}\n`);
  return 1;
}

async function caInit(platform: Platform, flags: Record<string, string | boolean>, dir: string): Promise<number> {
  const trustDomain = flags['trust-domain'];
  if (typeof trustDomain !== 'string' || !isTrustDomain(trustDomain)) return usage(platform, '--trust-domain needs a valid SPIFFE trust domain (lowercase letters, digits, . - _)', caHelp);
  const name = typeof flags.name === 'string' ? flags.name : 'root';
  if (!isName(name)) return usage(platform, '--name is not a valid name', caHelp);
  const ttlMs = typeof flags.ttl === 'string' ? parseDuration(flags.ttl) : limits.rootCertTtlMsDefault;
  if (ttlMs === null) return usage(platform, '--ttl needs a duration like 3650d', caHelp);
  const files = caFiles(dir);
  if (platform.files.exists(files.key) && flags.force !== true) return refused(platform, 'ca init', `a CA already exists in ${dir} (use --force to replace it)`);
  platform.files.mkdirp(dir);
  const root = createRoot(platform.crypto, { trustDomain, name, nowMs: platform.wallClockMs(), ttlMs });
  const bundle = createTrustBundle(platform.crypto, trustDomain, [root.issuer.cert]);
  if (!bundle.ok) return refused(platform, 'ca init', bundle.reason);
  writeSecret(platform, files.key, encodeKeyFile({ sign: root.signKeys, box: root.boxKeys }));
  writePublic(platform, files.cert, root.issuer.cert.bytes);
  saveBundle(platform, files.bundle, bundle.value);
  platform.files.remove(files.used);
  platform.stdout(`created CA ${root.issuer.cert.subject} (key id ${toHex(root.issuer.cert.issuerKeyId)}) in ${dir}\n`);
  return 0;
}

async function caIssueToken(platform: Platform, flags: Record<string, string | boolean>, dir: string): Promise<number> {
  const name = flags.node;
  if (typeof name !== 'string' || !isName(name)) return usage(platform, '--node needs a valid node name', caHelp);
  const ttlMs = typeof flags.ttl === 'string' ? parseDuration(flags.ttl) : limits.tokenTtlMsDefault;
  const certTtlMs = typeof flags['cert-ttl'] === 'string' ? parseDuration(flags['cert-ttl']) : limits.nodeCertTtlMsDefault;
  if (ttlMs === null || ttlMs > limits.tokenTtlMsMax) return usage(platform, '--ttl needs a duration up to 30d', caHelp);
  if (certTtlMs === null || certTtlMs > limits.nodeCertTtlMsMax) return usage(platform, '--cert-ttl needs a duration up to 90d', caHelp);
  const roles = typeof flags.roles === 'string' ? flags.roles.split(',').filter((r) => r !== '') : ['member'];
  if (roles.length === 0 || !roles.every(isKnownRole)) return usage(platform, '--roles takes anchor, gateway, member', caHelp);
  const issuer = loadIssuer(platform, dir);
  if (typeof issuer === 'string') return refused(platform, 'ca issue-token', issuer);
  const { text } = issueJoinToken(platform.crypto, issuer, { name, nowMs: platform.wallClockMs(), ttlMs, roles, certTtlMs });
  platform.stdout(`${text}\n`);
  return 0;
}

async function caSign(platform: Platform, flags: Record<string, string | boolean>, dir: string): Promise<number> {
  if (typeof flags.request !== 'string' || typeof flags.out !== 'string') return usage(platform, '--request and --out are required', caHelp);
  const issuer = loadIssuer(platform, dir);
  if (typeof issuer === 'string') return refused(platform, 'ca sign', issuer);
  const files = caFiles(dir);
  const bundle = loadBundle(platform, files.bundle);
  if (!bundle.ok) return refused(platform, 'ca sign', `cannot load ${files.bundle}: ${bundle.reason}`);
  const request = platform.files.read(flags.request);
  if (request === null) return refused(platform, 'ca sign', `${flags.request}: file-missing`);
  const revocations = loadRevocations(platform, files.revocations, bundle.value);
  if (typeof revocations === 'string') return refused(platform, 'ca sign', revocations);
  const registrar = new Registrar(platform.crypto, issuer, bundle.value, revocations);
  const used = platform.files.read(files.used);
  if (used !== null && !registrar.importUsed(used).ok) return refused(platform, 'ca sign', `${files.used}: used-tokens-malformed`);
  const nowMs = platform.wallClockMs();
  const issued = flags.renew === true ? registrar.renew(request, nowMs) : registrar.redeem(request, nowMs);
  if (!issued.ok) return refused(platform, 'ca sign', issued.reason);
  // The used token is on disk before the certificate leaves: a crash cannot make the token usable again.
  writeSecret(platform, files.used, registrar.exportUsed());
  saveChain(platform, flags.out, issued.value.chain);
  if (typeof flags['bundle-out'] === 'string') saveBundle(platform, flags['bundle-out'], bundle.value);
  platform.stdout(`issued ${issued.value.certificate.subject} serial ${toHex(issued.value.certificate.serial)} until ${new Date(issued.value.certificate.notAfterMs).toISOString()}\n`);
  return 0;
}

async function caRevoke(platform: Platform, flags: Record<string, string | boolean>, dir: string): Promise<number> {
  const serial = typeof flags.serial === 'string' ? flags.serial : null;
  const node = typeof flags.node === 'string' ? flags.node : null;
  if ((serial === null) === (node === null)) return usage(platform, 'give one of --serial HEX or --node NAME', caHelp);
  if (serial !== null && !new RegExp(`^[0-9a-f]{${limits.serialBytes * 2}}$`).test(serial)) return usage(platform, '--serial needs 32 hex digits', caHelp);
  if (node !== null && !isName(node)) return usage(platform, '--node needs a valid node name', caHelp);
  const issuer = loadIssuer(platform, dir);
  if (typeof issuer === 'string') return refused(platform, 'ca revoke', issuer);
  const files = caFiles(dir);
  const bundle = loadBundle(platform, files.bundle);
  if (!bundle.ok) return refused(platform, 'ca revoke', bundle.reason);
  const store = loadRevocations(platform, files.revocations, bundle.value);
  if (typeof store === 'string') return refused(platform, 'ca revoke', `${store} (restore it or move it away; a new list would drop every earlier revocation)`);
  const current = store.list;
  const serials = [...(current?.serials ?? []), ...(serial !== null ? [hexBytes(serial)] : [])];
  const nodeIds = [...(current?.nodeIds ?? []), ...(node !== null ? [nodeId(issuer.cert.trustDomain, node)] : [])];
  const list = signRevocationList(platform.crypto, issuer, (current?.version ?? 0) + 1, { issuedAtMs: platform.wallClockMs(), serials, nodeIds });
  writePublic(platform, files.revocations, encodeRevocationList(list));
  platform.stdout(`revocation list version ${list.version}: ${list.serials.length} serials, ${list.nodeIds.length} nodes (${files.revocations})\n`);
  return 0;
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from({ length: hex.length / 2 }, (_, i) => Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16));
}

export async function caCommand(platform: Platform, args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  const parsed = parseArgs(rest, { 'trust-domain': 'string', name: 'string', ttl: 'string', dir: 'string', force: 'boolean', node: 'string', roles: 'string', 'cert-ttl': 'string', request: 'string', out: 'string', renew: 'boolean', 'bundle-out': 'string', serial: 'string', help: 'boolean' });
  if (sub === undefined || sub === '--help' || sub === '-h' || (parsed.ok && parsed.flags.help === true)) {
    platform.stdout(caHelp);
    return 0;
  }
  if (!parsed.ok) return usage(platform, parsed.error, caHelp);
  const dir = typeof parsed.flags.dir === 'string' ? parsed.flags.dir : '/etc/x0/ca';
  switch (sub) {
    case 'init': return caInit(platform, parsed.flags, dir);
    case 'issue-token': return caIssueToken(platform, parsed.flags, dir);
    case 'sign': return caSign(platform, parsed.flags, dir);
    case 'revoke': return caRevoke(platform, parsed.flags, dir);
    default: return usage(platform, `unknown ca command '${sub}'`, caHelp);
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

async function certShow(platform: Platform, flags: Record<string, string | boolean>, positionals: readonly string[], dir: string): Promise<number> {
  const path = positionals[0] ?? nodeFiles(dir).chain;
  const chain = loadChain(platform, path);
  const certs = chain.ok ? chain.value : (() => { const one = loadCertificate(platform, path); return one.ok ? [one.value] : null; })();
  if (certs === null) return refused(platform, 'cert show', `${path}: ${chain.ok ? '' : chain.reason}`);
  const bundle = loadBundle(platform, nodeFiles(dir).bundle);
  const status = bundle.ok && certs[0]?.kind === 'node' ? validateChain(platform.crypto, certs, bundle.value, platform.wallClockMs()) : null;
  const verdict = status === null ? 'not checked (no trust bundle)' : status.ok ? 'valid' : status.reason;
  if (flags.json === true) {
    platform.stdout(`${JSON.stringify({ chain: certs.map((c) => describeCertificate(c, toHex)), status: verdict }, null, 2)}\n`);
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
  platform.files.mkdirp(dir);
  const keys = { sign: platform.crypto.signKeyPair(), box: platform.crypto.boxKeyPair() };
  writeSecret(platform, files.key, encodeKeyFile(keys));
  const addresses = typeof flags.address === 'string' ? [flags.address] : [];
  writePublic(platform, files.request, createJoinRequest(platform.crypto, token.value, keys, platform.wallClockMs(), addresses));
  platform.stdout(`keys in ${files.key}; join request for ${token.value.body.subject} in ${files.request}\n`);
  return 0;
}

export async function certCommand(platform: Platform, args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  const parsed = parseArgs(rest, { dir: 'string', json: 'boolean', token: 'string', address: 'string', help: 'boolean' });
  if (sub === undefined || sub === '--help' || sub === '-h' || (parsed.ok && parsed.flags.help === true)) {
    platform.stdout(certHelp);
    return 0;
  }
  if (!parsed.ok) return usage(platform, parsed.error, certHelp);
  const dir = typeof parsed.flags.dir === 'string' ? parsed.flags.dir : '/etc/x0/identity';
  switch (sub) {
    case 'show': return certShow(platform, parsed.flags, parsed.positionals, dir);
    case 'request': return certRequest(platform, parsed.flags, dir);
    default: return usage(platform, `unknown cert command '${sub}'`, certHelp);
  }
}

const channelHelp = `usage: x0 channel --dir DIR --listen [HOST:]PORT [--transport udp|tcp] [--peer HOST:PORT]...
                  [--send TEXT] [--expect N] [--timeout-ms N] [--linger-ms N]
                  [--renew-from HOST:PORT] [--registrar CA_DIR]

Runs this node's sealed channel over UDP datagrams (default) or TCP streams (one length-prefixed frame
per message) with the identity in DIR (node.key, node.chain, bundle.cbor, optional revocations.cbor):
connects to each --peer, sends TEXT to each once the channel is up, and prints events, received
messages, refusal counters and the half-open state left. Exit 0 when every peer is connected and N
messages arrived (or, with no peer and no --expect, after --timeout-ms); 1 on timeout.
  --renew-from HOST:PORT  renew this node's certificate automatically at half its lifetime from the
                          registrar at that peer (over the sealed channel); the new key (0600) and
                          chain replace DIR/node.key and DIR/node.chain, and every session re-handshakes
  --registrar CA_DIR      serve renewals to authenticated peers with the CA in CA_DIR (ca.key, ca.cert,
                          bundle.cbor, optional revocations.cbor)
`;

export async function channelCommand(platform: Platform, args: readonly string[]): Promise<number> {
  // --peer may repeat: collect its values before the generic parser (which keeps the last).
  const peerTexts = args.flatMap((a, i) => (a === '--peer' && args[i + 1] !== undefined ? [args[i + 1] as string] : []));
  const parsed = parseArgs(args, { dir: 'string', listen: 'string', transport: 'string', peer: 'string', send: 'string', expect: 'string', 'timeout-ms': 'string', 'linger-ms': 'string', 'renew-from': 'string', registrar: 'string', help: 'boolean' });
  if (!parsed.ok) return usage(platform, parsed.error, channelHelp);
  if (parsed.flags.help === true) { platform.stdout(channelHelp); return 0; }
  const listen = parseHostPort(String(parsed.flags.listen ?? ''));
  const peers = peerTexts.map(parseHostPort);
  const expect = Number(parsed.flags.expect ?? 0);
  const timeoutMs = Number(parsed.flags['timeout-ms'] ?? 10_000);
  const lingerMs = Number(parsed.flags['linger-ms'] ?? 300);
  if (typeof parsed.flags.dir !== 'string' || listen === null || peers.some((p) => p === null)) return usage(platform, '--dir and --listen are required; --peer needs HOST:PORT', channelHelp);
  if (!Number.isInteger(expect) || expect < 0 || !(timeoutMs > 0) || !(lingerMs >= 0)) return usage(platform, '--expect, --timeout-ms, --linger-ms need numbers', channelHelp);
  const transport = parsed.flags.transport ?? 'udp';
  if (transport !== 'udp' && transport !== 'tcp') return usage(platform, '--transport is udp or tcp', channelHelp);
  const renewFrom = typeof parsed.flags['renew-from'] === 'string' ? parseHostPort(parsed.flags['renew-from']) : null;
  if (parsed.flags['renew-from'] !== undefined && renewFrom === null) return usage(platform, '--renew-from needs HOST:PORT', channelHelp);
  const registrarDir = typeof parsed.flags.registrar === 'string' ? parsed.flags.registrar : null;
  const result = await runChannelNode(platform, {
    dir: parsed.flags.dir, transport, listen, peers: peers as { host: string; port: number }[], messages: typeof parsed.flags.send === 'string' ? [parsed.flags.send] : [],
    expect, timeoutMs, tickMs: 20, lingerMs, renewFrom, registrarDir,
  });
  if (typeof result === 'string') return refused(platform, 'channel', result);
  const counters = Object.entries(result.counters).map(([k, v]) => `${k}=${v}`).join(' ');
  const { initiators, responders, sessions } = result.pending;
  platform.stdout(`done ok=${result.ok} established=${result.established.length} received=${result.received.length} pending initiators=${initiators} responders=${responders} sessions=${sessions}${counters ? ` refused ${counters}` : ''}\n`);
  return result.ok ? 0 : 1;
}
