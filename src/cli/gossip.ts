// `x0 gossip ...`: run a gossip node over UDP (for demos, tests and operators), and show a node's persisted
// mesh document. Exit codes: 0 ok, 1 did not converge in time or refused, 2 bad arguments.
import { isKey } from '../core/gossip/check.js';
import { limits } from '../core/gossip/limits.js';
import type { RevocationCheck } from '../core/gossip/mesh-doc.js';
import { Gossip } from '../core/gossip/gossip.js';
import { MeshDoc } from '../core/gossip/mesh-doc.js';
import { loadBundle } from '../identity/store.js';
import { describeDoc, docDigest } from '../gossip/describe.js';
import {
  identityRevocations,
  noRevocationAuthority,
  signedDocFromIdentityList,
} from '../gossip/identity-revocations.js';
import { GossipNode, type PeerAddress } from '../gossip/node.js';
import { restoreInto, StateStore } from '../gossip/store.js';
import type { Platform } from '../platform/types.js';
import { parseArgs, parseHostPort } from './args.js';

const help = `usage: x0 gossip run --name NAME --listen [HOST:]PORT --peer NAME@[HOST:]PORT[,NAME@[HOST:]PORT...]
                     [--state-dir DIR] [--members NAME,...] [--tick-ms N]
                     [--status online|offline] [--versions COMPONENT=VERSION,...] [--counters NAME=INT,...]
                     [--neighbours NAME=TQ,...] [--trust-bundle FILE [--revocations FILE]]
                     [--until-converged [--expect NAME,...] [--linger-ms N]] [--timeout-ms N] [--run-for-ms N] [--json]
       x0 gossip show --state-dir DIR [--trust-bundle FILE] [--json]

'run' starts a mesh-state gossip node: delta CRDTs (status, neighbour table, component versions, counters,
the signed revocation list) spread by push-pull anti-entropy over UDP to the given peers. It writes the
given values into its own section, then runs until stopped, for --run-for-ms, or with --until-converged
until every peer's digest equals its own and the document holds a section of every --expect node (default:
itself and its peers), lingers --linger-ms (default 3 rounds) so its peers see the same, prints the
document's digest and exits. Datagrams from addresses that are not peers are refused.
  --state-dir DIR      persist the document there (snapshot + delta log; survives restarts; writes batched:
                       at most ${3600_000 / limits.persistFlushMs} appends and ${3600_000 / limits.snapshotIntervalMs} snapshots per hour, plus one per start)
  --members NAME,...   nodes whose deltas are accepted (default: this node and its peers)
  --tick-ms N          tick period (default 100; a gossip round is ${limits.roundTicks} ticks)
  --trust-bundle FILE  the identity CA's bundle (x0 ca init): revocation lists signed by its roots are taken
  --revocations FILE   a revocation list written by 'x0 ca revoke', offered to the mesh at start
  --json               print the document (and counters) as JSON on exit
'show' prints the document persisted in DIR (no network).
Exit 0 ok, 1 not converged before --timeout-ms (default 30000) or refused, 2 bad arguments.
`;

const spec = {
  name: 'string',
  listen: 'string',
  peer: 'string',
  'state-dir': 'string',
  members: 'string',
  'tick-ms': 'string',
  status: 'string',
  versions: 'string',
  counters: 'string',
  neighbours: 'string',
  'trust-bundle': 'string',
  revocations: 'string',
  'until-converged': 'boolean',
  expect: 'string',
  'linger-ms': 'string',
  'timeout-ms': 'string',
  'run-for-ms': 'string',
  json: 'boolean',
  help: 'boolean',
} as const;

type Flags = Readonly<Record<string, string | boolean>>;

const nodeName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const isNodeName = (name: string) => nodeName.test(name) && name.length <= limits.nodeIdCharsMax;

function usage(platform: Platform, message: string): number {
  platform.stderr(`x0 gossip: ${message}\n\n${help}`);
  return 2;
}

function list(flag: string | boolean | undefined): string[] {
  return typeof flag === 'string'
    ? flag
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    : [];
}

function parsePeers(flag: string | boolean | undefined): PeerAddress[] | string {
  const peers: PeerAddress[] = [];
  for (const entry of list(flag)) {
    const at = entry.indexOf('@');
    const name = entry.slice(0, at);
    const address = at > 0 ? parseHostPort(entry.slice(at + 1)) : null;
    if (at <= 0 || !isNodeName(name) || address === null || address.port === 0)
      return `--peer '${entry}' is not NAME@[HOST:]PORT`;
    peers.push({ name, address });
  }
  if (peers.length > limits.peersMax) return `at most ${limits.peersMax} peers`;
  return peers;
}

/** KEY=VALUE pairs; null (with the offending entry) when one is malformed. */
function pairs(flag: string | boolean | undefined, value: (v: string) => boolean): Array<[string, string]> | string {
  const out: Array<[string, string]> = [];
  for (const entry of list(flag)) {
    const eq = entry.indexOf('=');
    if (eq <= 0 || !isKey(entry.slice(0, eq)) || !value(entry.slice(eq + 1))) return entry;
    out.push([entry.slice(0, eq), entry.slice(eq + 1)]);
  }
  return out;
}

function positiveMs(flags: Flags, name: string, fallback: number): number | null {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

function revocationSetup(
  platform: Platform,
  flags: Flags,
): { check: RevocationCheck; offer: Parameters<GossipNode['offerRevocations']>[0] | null } | string {
  const bundlePath = flags['trust-bundle'];
  if (typeof bundlePath !== 'string')
    return flags.revocations === undefined
      ? { check: noRevocationAuthority, offer: null }
      : '--revocations needs --trust-bundle';
  const bundle = loadBundle(platform, bundlePath);
  if (!bundle.ok) return `cannot load ${bundlePath}: ${bundle.reason}`;
  const check = identityRevocations(platform.crypto, bundle.value);
  const listPath = flags.revocations;
  if (typeof listPath !== 'string') return { check, offer: null };
  const bytes = platform.files.read(listPath);
  if (bytes === null) return `cannot read ${listPath}`;
  const doc = signedDocFromIdentityList(platform.crypto, bytes, bundle.value);
  return doc.ok ? { check, offer: doc.value } : `${listPath}: ${doc.reason}`;
}

interface RunPlan {
  readonly tickMs: number;
  readonly timeoutMs: number;
  readonly lingerMs: number;
  readonly runForMs: number | null;
  readonly expect: readonly string[];
}

function writeInitial(
  node: GossipNode,
  flags: Flags,
  versions: Array<[string, string]>,
  counters: Array<[string, string]>,
  neighbours: Array<[string, string]>,
): string | null {
  const results = [
    node.setStatus({ online: flags.status !== 'offline', uptimeS: 0, loadMilli: 0 }),
    ...versions.map(([c, v]) => node.setVersion(c, v)),
    ...counters.map(([n, v]) => node.addToCounter(n, Number(v))),
    ...neighbours.map(([n, tq]) => node.setNeighbour(n, { tq: Number(tq), rttMs: 0 })),
  ];
  const refused = results.find((r) => !r.ok);
  return refused !== undefined && !refused.ok ? refused.reason : null;
}

function sleep(platform: Platform, ms: number): Promise<void> {
  return new Promise((resolve) => {
    platform.setTimer(ms, resolve);
  });
}

/** Polls until converged (then lingers), the timeout, or --run-for-ms; true when the wait succeeded. */
async function waitFor(platform: Platform, node: GossipNode, plan: RunPlan, untilConverged: boolean): Promise<boolean> {
  const start = platform.monotonicMs();
  const elapsed = () => platform.monotonicMs() - start;
  const complete = () => node.isSynced() && plan.expect.every((id) => node.doc.sections.has(id));
  if (!untilConverged) {
    // Without --run-for-ms: run until the process is stopped.
    while (plan.runForMs === null || elapsed() < plan.runForMs) await sleep(platform, plan.tickMs);
    return true;
  }
  while (!complete()) {
    if (elapsed() >= plan.timeoutMs) return false;
    await sleep(platform, plan.tickMs);
  }
  const lingerUntil = elapsed() + plan.lingerMs;
  while (elapsed() < lingerUntil) await sleep(platform, plan.tickMs);
  return complete();
}

function report(platform: Platform, node: GossipNode, name: string, outcome: string, json: boolean): void {
  const refused = Object.entries(node.allCounters())
    .filter(([k]) => k.startsWith('refused:'))
    .map(([k, v]) => `${k.slice(8)}=${v}`);
  platform.stdout(
    `[${name}] ${outcome}: ${node.doc.sections.size} sections, incarnation ${node.engine.incarnation}, root ${node.engine.vv.root().toString(16)}, doc ${docDigest(platform.crypto, node.doc)}${refused.length > 0 ? `, refused ${refused.join(' ')}` : ''}\n`,
  );
  if (json)
    platform.stdout(`${JSON.stringify({ node: name, doc: describeDoc(node.doc), counters: node.allCounters() })}\n`);
}

async function run(platform: Platform, flags: Flags): Promise<number> {
  const name = flags.name;
  if (typeof name !== 'string' || !isNodeName(name))
    return usage(platform, `--name needs a node name (letters, digits, . _ -; up to ${limits.nodeIdCharsMax})`);
  const listen = typeof flags.listen === 'string' ? parseHostPort(flags.listen) : null;
  if (listen === null) return usage(platform, '--listen needs [HOST:]PORT');
  const peers = parsePeers(flags.peer);
  if (typeof peers === 'string') return usage(platform, peers);
  if (peers.length === 0) return usage(platform, 'give at least one --peer NAME@[HOST:]PORT');
  const members = list(flags.members);
  if (!members.every(isNodeName)) return usage(platform, '--members takes node names');
  const versions = pairs(flags.versions, (v) => v.length <= limits.stringCharsMax);
  const counters = pairs(flags.counters, (v) => /^[+-]?\d{1,12}$/.test(v));
  const neighbours = pairs(flags.neighbours, (v) => /^\d{1,3}$/.test(v) && Number(v) <= 255);
  if (typeof versions === 'string') return usage(platform, `--versions entry '${versions}' is not COMPONENT=VERSION`);
  if (typeof counters === 'string') return usage(platform, `--counters entry '${counters}' is not NAME=INTEGER`);
  if (typeof neighbours === 'string')
    return usage(platform, `--neighbours entry '${neighbours}' is not NAME=TQ (0-255)`);
  if (flags.status !== undefined && flags.status !== 'online' && flags.status !== 'offline')
    return usage(platform, '--status is online or offline');
  const tickMs = positiveMs(flags, 'tick-ms', 100);
  const timeoutMs = positiveMs(flags, 'timeout-ms', 30_000);
  const runFor = flags['run-for-ms'] === undefined ? null : positiveMs(flags, 'run-for-ms', 0);
  if (tickMs === null || tickMs < 10 || tickMs > 10_000) return usage(platform, '--tick-ms is 10 to 10000');
  const lingerMs = positiveMs(flags, 'linger-ms', 3 * limits.roundTicks * tickMs);
  if (timeoutMs === null || lingerMs === null || (flags['run-for-ms'] !== undefined && runFor === null))
    return usage(platform, '--timeout-ms, --linger-ms and --run-for-ms take a positive number of milliseconds');
  const revocations = revocationSetup(platform, flags);
  if (typeof revocations === 'string') return usage(platform, revocations);
  const expect = list(flags.expect).length > 0 ? list(flags.expect) : [name, ...peers.map((p) => p.name)];
  const stateDir = typeof flags['state-dir'] === 'string' ? flags['state-dir'] : null;
  let node: GossipNode;
  try {
    node = await GossipNode.open(platform, {
      nodeId: name,
      listen,
      peers,
      members: members.length > 0 ? members : undefined,
      stateDir,
      revocationCheck: revocations.check,
      tickMs,
    });
  } catch (error) {
    platform.stderr(
      `x0 gossip: cannot start (listening on ${listen.host}:${listen.port}${stateDir === null ? '' : `, state in ${stateDir}`}): ${(error as Error).message}\n`,
    );
    return 1;
  }
  const refused = writeInitial(node, flags, versions, counters, neighbours);
  const offered = revocations.offer === null ? null : node.offerRevocations(revocations.offer);
  if (refused !== null || offered !== null) {
    node.close();
    platform.stderr(`x0 gossip: refused: ${refused ?? offered}\n`);
    return 1;
  }
  const plan: RunPlan = { tickMs, timeoutMs, lingerMs, runForMs: runFor, expect };
  const done = await waitFor(platform, node, plan, flags['until-converged'] === true);
  node.close();
  report(
    platform,
    node,
    name,
    done ? (flags['until-converged'] === true ? 'converged' : 'stopped') : 'not converged',
    flags.json === true,
  );
  if (!done)
    platform.stderr(
      `x0 gossip: ${name} did not converge within ${timeoutMs} ms (missing sections: ${expect.filter((id) => !node.doc.sections.has(id)).join(', ') || 'none'}; peers not in sync: ${
        peers
          .filter((p) => !node.engine.isSyncedWith(p.name))
          .map((p) => p.name)
          .join(', ') || 'none'
      })\n`,
    );
  return done ? 0 : 1;
}

function show(platform: Platform, flags: Flags): number {
  const dir = flags['state-dir'];
  if (typeof dir !== 'string') return usage(platform, 'show needs --state-dir DIR');
  const { revocations: _offerIgnored, ...withoutOffer } = flags;
  const revocations = revocationSetup(platform, withoutOffer);
  if (typeof revocations === 'string') return usage(platform, revocations);
  const loaded = new StateStore(platform.files, dir).load();
  if (loaded.header === null) {
    platform.stderr(
      `x0 gossip: no snapshot in ${dir}${loaded.problems.length > 0 ? ` (${loaded.problems.join(', ')})` : ''}\n`,
    );
    return 1;
  }
  const engine = new Gossip({
    nodeId: loaded.header.nodeId,
    incarnation: loaded.header.incarnation + 1,
    doc: new MeshDoc(revocations.check),
    membership: () => 'member',
    random: () => 0,
  });
  const problems = restoreInto(engine, loaded);
  const view = describeDoc(engine.doc);
  if (flags.json === true)
    platform.stdout(
      `${JSON.stringify({ node: loaded.header.nodeId, incarnation: loaded.header.incarnation, records: loaded.records.length, problems, doc: view })}\n`,
    );
  else
    platform.stdout(
      `${loaded.header.nodeId} (incarnation ${loaded.header.incarnation}): ${engine.doc.sections.size} sections, ${loaded.records.length} log records${problems.length > 0 ? `, ${problems.join(', ')}` : ''}, doc ${docDigest(platform.crypto, engine.doc)}\n`,
    );
  return 0;
}

export async function gossipCommand(platform: Platform, args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined) return usage(platform, 'a gossip command is needed (run, show)');
  const parsed = parseArgs(rest, spec);
  if (sub === '--help' || sub === '-h' || (parsed.ok && parsed.flags.help === true)) {
    platform.stdout(help);
    return 0;
  }
  if (!parsed.ok) return usage(platform, parsed.error);
  if (parsed.positionals.length > 0) return usage(platform, `unexpected argument '${parsed.positionals[0]}'`);
  switch (sub) {
    case 'run':
      return run(platform, parsed.flags);
    case 'show':
      return show(platform, parsed.flags);
    default:
      return usage(platform, `unknown subcommand '${sub}' (run, show)`);
  }
}
