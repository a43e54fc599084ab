// `x0 gossip ...`: run the agent's gossip component alone over the sealed link (src/agent/single.ts; flags or the
// UCI file), or with --plain a bare gossip node over unauthenticated UDP (lab, tests, benchmarks); and show a
// node's persisted mesh document. Exit codes: 0 ok, 1 did not converge in time or refused, 2 bad arguments.
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
import { loadChain, nodeFiles } from '../identity/store.js';
import type { FlagOptions } from '../agent/single.js';
import { exitCodesHelp, parseArgs, parseHostPort, type FlagSpec } from './args.js';
import { loadConfig, start } from './component.js';

const help = `usage: x0 gossip run [--config PATH | --name NAME --listen [HOST:]PORT --peer NAME@[HOST:]PORT[,...]
                     --state-dir DIR [--trust-domain DOMAIN]] [RUN OPTIONS]
       x0 gossip run --plain --name NAME --listen [HOST:]PORT --peer NAME@[HOST:]PORT[,...] [--state-dir DIR]
                     [--members NAME,...] [--tick DURATION] [--trust FILE [--revocations FILE]] [RUN OPTIONS]
       x0 gossip show --state-dir DIR [--trust FILE] [--json]
RUN OPTIONS: [--status online|offline] [--versions COMPONENT=VERSION,...] [--counters NAME=INT,...]
             [--neighbours NAME=TQ,...] [--until-converged [--expect NAME,...] [--linger DURATION]]
             [--timeout DURATION] [--run-for DURATION] [--json]

'run' starts the agent's gossip component alone (the same code 'x0 agent' runs): the mesh document (delta
CRDTs: status, neighbour table, component versions, counters, the signed revocation list) spread by
push-pull anti-entropy to the peers over the sealed link, so it needs this node's certificate in the state
directory (node.key, node.chain, bundle.cbor: 'x0 cert request' + 'x0 ca sign', or an agent's join_token);
peers are taken only with a certificate of this mesh for their name. Settings come from --config (the
agent's UCI file) or from the flags: --name (default: the certificate's name), --listen (the sealed link's
port), --peer (static peers), --state-dir (the document is kept in DIR/gossip), --trust-domain (default: the
certificate's). With --plain, a bare gossip node over unauthenticated UDP (lab, tests, benchmarks: any
host that can send to the port can join) that persists in --state-dir itself.
It writes the given values into its own section, then runs until stopped, for --run-for, or with
--until-converged until every peer's digest equals its own and the document holds a section of every
--expect node (default: itself and its peers), lingers --linger (default 3 rounds) so its peers see the
same, prints the document's digest and exits. Datagrams from addresses that are not peers are refused.
  --state-dir DIR      persist the document there (snapshot + delta log; survives restarts; writes batched:
                       at most ${3600_000 / limits.persistFlushMs} appends and ${3600_000 / limits.snapshotIntervalMs} snapshots per hour, plus one per start)
  --members NAME,...   (--plain) nodes whose deltas are accepted (default: this node and its peers)
  --tick D             (--plain) tick period (default 100ms; a gossip round is ${limits.roundTicks} ticks)
  --trust FILE         (--plain, show) the identity CA's bundle (x0 ca init): revocation lists signed by its
                       roots are taken. Old spelling: --trust-bundle
  --revocations FILE   (--plain) a revocation list written by 'x0 ca revoke', offered to the mesh at start
                       (the sealed node takes STATE_DIR/revocations.cbor, as the agent does)
  --timeout D          give up --until-converged after D (default 30s)
  --json               print the document (and counters) as JSON on exit
Durations take a unit (500ms, 10s, 5m); the old --tick-ms, --timeout-ms, --linger-ms, --run-for-ms N still work.
'show' prints the document persisted in DIR (DIR/gossip when there is one; no network).
${exitCodesHelp('1 also when not converged before --timeout, the certificate is missing or unusable, or a value is refused')}`;

const spec = {
  config: 'string',
  plain: 'boolean',
  name: 'string',
  listen: 'string',
  peer: 'string',
  'state-dir': 'string',
  'trust-domain': 'string',
  members: 'string',
  tick: 'duration',
  'tick-ms': { alias: 'tick', unit: 'ms' },
  status: 'string',
  versions: 'string',
  counters: 'string',
  neighbours: 'string',
  trust: 'string',
  'trust-bundle': { alias: 'trust' },
  revocations: 'string',
  'until-converged': 'boolean',
  expect: 'string',
  linger: 'duration',
  'linger-ms': { alias: 'linger', unit: 'ms' },
  timeout: 'duration',
  'timeout-ms': { alias: 'timeout', unit: 'ms' },
  'run-for': 'duration',
  'run-for-ms': { alias: 'run-for', unit: 'ms' },
  json: 'boolean',
  help: 'boolean',
} as const satisfies FlagSpec;

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

function revocationSetup(
  platform: Platform,
  flags: Flags,
): { check: RevocationCheck; offer: Parameters<GossipNode['offerRevocations']>[0] | null } | string {
  const bundlePath = flags.trust;
  if (typeof bundlePath !== 'string')
    return flags.revocations === undefined
      ? { check: noRevocationAuthority, offer: null }
      : '--revocations needs --trust';
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
  readonly peers: readonly string[];
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
  // Each peer's digest equalled ours at least once: a sealed node's own section changes every few seconds (its
  // uptime, as the agent publishes it), so "all equal at one instant" may never be seen while they converge.
  const seen = new Set<string>();
  const complete = () => {
    for (const p of plan.peers) if (node.engine.isSyncedWith(p)) seen.add(p);
    return seen.size === plan.peers.length && plan.expect.every((id) => node.doc.sections.has(id));
  };
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

interface Values {
  readonly versions: Array<[string, string]>;
  readonly counters: Array<[string, string]>;
  readonly neighbours: Array<[string, string]>;
}

/** What both kinds of node take: the values written into the own section, and the run's timing. */
function runOptions(
  platform: Platform,
  flags: Flags,
  tickMs: number,
): { values: Values; timing: Omit<RunPlan, 'expect' | 'peers'> } | number {
  const versions = pairs(flags.versions, (v) => v.length <= limits.stringCharsMax);
  const counters = pairs(flags.counters, (v) => /^[+-]?\d{1,12}$/.test(v));
  const neighbours = pairs(flags.neighbours, (v) => /^\d{1,3}$/.test(v) && Number(v) <= 255);
  if (typeof versions === 'string') return usage(platform, `--versions entry '${versions}' is not COMPONENT=VERSION`);
  if (typeof counters === 'string') return usage(platform, `--counters entry '${counters}' is not NAME=INTEGER`);
  if (typeof neighbours === 'string')
    return usage(platform, `--neighbours entry '${neighbours}' is not NAME=TQ (0-255)`);
  if (flags.status !== undefined && flags.status !== 'online' && flags.status !== 'offline')
    return usage(platform, '--status is online or offline');
  const timeoutMs = Number(flags.timeout ?? 30_000);
  const runForMs = flags['run-for'] === undefined ? null : Number(flags['run-for']);
  const lingerMs = Number(flags.linger ?? 3 * limits.roundTicks * tickMs);
  return { values: { versions, counters, neighbours }, timing: { tickMs, timeoutMs, lingerMs, runForMs } };
}

async function runPlain(platform: Platform, flags: Flags): Promise<number> {
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
  const tickMs = Number(flags.tick ?? 100);
  if (tickMs < 10 || tickMs > 10_000) return usage(platform, '--tick is 10ms to 10s');
  const options = runOptions(platform, flags, tickMs);
  if (typeof options === 'number') return options;
  const revocations = revocationSetup(platform, flags);
  if (typeof revocations === 'string') return usage(platform, revocations);
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
  const offered = revocations.offer === null ? null : node.offerRevocations(revocations.offer);
  if (offered !== null) {
    node.close();
    platform.stderr(`x0 gossip: refused: ${offered} (--revocations)\n`);
    return 1;
  }
  const names = peers.map((p) => p.name);
  const code = await runNode(platform, node, name, names, flags, options);
  node.close();
  return code;
}

/** Flags -> the agent's options for a sealed gossip node; name and trust domain default to the certificate's. */
function sealedOptions(platform: Platform, flags: Flags): FlagOptions | string {
  const dir = flags['state-dir'];
  if (typeof dir !== 'string') return '--state-dir DIR is required (the node identity and the document live there)';
  if (typeof flags.listen !== 'string') return '--listen [HOST:]PORT is required (the sealed link listens there)';
  const chain = loadChain(platform, nodeFiles(dir).chain);
  const leaf = chain.ok ? chain.value[0] : undefined;
  const name = typeof flags.name === 'string' ? flags.name : leaf?.name;
  const domain = typeof flags['trust-domain'] === 'string' ? flags['trust-domain'] : leaf?.trustDomain;
  const listen = parseHostPort(flags.listen);
  const peers = list(flags.peer);
  if (peers.length === 0) return 'give at least one --peer NAME@[HOST:]PORT';
  return [
    { option: 'agent.state_dir', flag: '--state-dir', value: dir },
    { option: 'agent.role', flag: '--name', value: 'node' },
    ...(name === undefined ? [] : [{ option: 'agent.node_name', flag: '--name', value: name }]),
    ...(domain === undefined ? [] : [{ option: 'agent.trust_domain', flag: '--trust-domain', value: domain }]),
    {
      option: 'agent.listen',
      flag: '--listen',
      value: listen === null ? flags.listen : `${listen.host}:${listen.port}`,
    },
    ...peers.map((p) => {
      const at = p.indexOf('@');
      const address = at > 0 ? parseHostPort(p.slice(at + 1)) : null;
      const value = address === null ? p : `${p.slice(0, at)}@${address.host}:${address.port}`;
      return { option: 'agent.static_peer', flag: '--peer', value };
    }),
  ];
}

const plainOnly = ['members', 'tick', 'trust', 'revocations'] as const;

async function runSealed(platform: Platform, flags: Flags): Promise<number> {
  const misplaced = plainOnly.find((f) => flags[f] !== undefined);
  if (misplaced !== undefined)
    return usage(
      platform,
      `--${misplaced} is for --plain nodes: the sealed node takes its members from its peers, its trust bundle and revocation list from the state directory`,
    );
  const options = runOptions(platform, flags, 100);
  if (typeof options === 'number') return options;
  let built: FlagOptions | string = [];
  const config = loadConfig(
    platform,
    'gossip',
    flags,
    ['name', 'listen', 'peer', 'state-dir', 'trust-domain'],
    () => {
      built = sealedOptions(platform, flags);
      return typeof built === 'string' ? [] : built;
    },
    help,
  );
  if (typeof built === 'string') return usage(platform, built);
  if (typeof config === 'number') return config;
  const run = await start(
    platform,
    'gossip',
    config,
    'gossip',
    {},
    '; for a lab without certificates: x0 gossip run --plain',
  );
  if (typeof run === 'number') return run;
  const node = run.ctx.gossip as GossipNode;
  const names = [...config.anchors, ...config.staticPeers].map((p) => p.name).filter((n) => n !== config.nodeName);
  const code = await runNode(platform, node, config.nodeName, names, flags, options);
  run.stop();
  return code;
}

async function runNode(
  platform: Platform,
  node: GossipNode,
  name: string,
  peers: readonly string[],
  flags: Flags,
  options: { values: Values; timing: Omit<RunPlan, 'expect' | 'peers'> },
): Promise<number> {
  const { versions, counters, neighbours } = options.values;
  const refused = writeInitial(node, flags, versions, counters, neighbours);
  if (refused !== null) {
    platform.stderr(`x0 gossip: refused: ${refused} (--versions, --counters, --neighbours, --status)\n`);
    return 1;
  }
  const expect = list(flags.expect).length > 0 ? list(flags.expect) : [name, ...peers];
  const plan: RunPlan = { ...options.timing, expect, peers };
  const done = await waitFor(platform, node, plan, flags['until-converged'] === true);
  report(
    platform,
    node,
    name,
    done ? (flags['until-converged'] === true ? 'converged' : 'stopped') : 'not converged',
    flags.json === true,
  );
  if (!done)
    platform.stderr(
      `x0 gossip: ${name} did not converge within ${plan.timeoutMs} ms (missing sections: ${expect.filter((id) => !node.doc.sections.has(id)).join(', ') || 'none'}; peers not in sync: ${
        peers.filter((p) => !node.engine.isSyncedWith(p)).join(', ') || 'none'
      }); are the peers running, reachable and enrolled in this mesh?\n`,
    );
  return done ? 0 : 1;
}

function show(platform: Platform, flags: Flags): number {
  const dir = flags['state-dir'];
  if (typeof dir !== 'string') return usage(platform, 'show needs --state-dir DIR');
  if (flags.revocations !== undefined) return usage(platform, '--revocations is for run --plain, not show');
  const { revocations: _offerIgnored, ...withoutOffer } = flags;
  const revocations = revocationSetup(platform, withoutOffer);
  if (typeof revocations === 'string') return usage(platform, revocations);
  // A sealed node (and the agent) keeps its document in STATE_DIR/gossip; a --plain node in DIR itself.
  const docDir = platform.files.exists(`${dir}/gossip`) ? `${dir}/gossip` : dir;
  const loaded = new StateStore(platform.files, docDir).load();
  if (loaded.header === null) {
    platform.stderr(
      `x0 gossip: no snapshot in ${docDir}${loaded.problems.length > 0 ? ` (${loaded.problems.join(', ')})` : ''}\n`,
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
      return parsed.flags.plain === true ? runPlain(platform, parsed.flags) : runSealed(platform, parsed.flags);
    case 'show':
      return show(platform, parsed.flags);
    default:
      return usage(platform, `unknown subcommand '${sub}' (run, show)`);
  }
}
