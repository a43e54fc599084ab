// `x0 raft ...`: run the agent's Raft component alone over the sealed link (src/agent/single.ts), or with --plain a
// bare Raft KV node over unauthenticated UDP (lab, tests, benchmarks); talk to a --plain cluster
// (put/get/del/cas/list/status), manage it (transfer, add-learner, promote, remove), measure it (bench).
import type { Platform } from '../platform/types.js';
import type { NodeId } from '../core/raft/types.js';
import type { KvCommand } from '../core/raft/kv.js';
import { tickMsDefault } from '../core/raft/limits.js';
import { RaftServer, type ServerReason } from '../raft/server.js';
import { RaftClient } from '../raft/client.js';
import type { AdminAction, NodeStatus } from '../raft/protocol.js';
import { writeLoad } from '../raft/load.js';
import { loadChain, nodeFiles } from '../identity/store.js';
import type { FlagOptions } from '../agent/single.js';
import { exitCodesHelp, parseArgs, parseHostPort, type FlagSpec } from './args.js';
import { loadConfig, start, stopped } from './component.js';
import { raftOpsCommand, raftOpsText, raftOpsUsage } from './raft-ops.js';

const help = `usage: x0 raft serve [--config PATH | --name NAME --listen HOST:PORT --anchor NAME@HOST:PORT,...
                      --state-dir DIR [--trust-domain DOMAIN]] [--run-for DURATION]
       x0 raft serve --plain --id N --peers ID=HOST:PORT,... (--state-dir DIR | --data DIR) [--tick DURATION]
                     [--election-ticks N] [--heartbeat-ticks N] [--voters ID,...] [--run-for DURATION]
       x0 raft put|get|del|cas|list|watch|status|transfer|add-learner|promote|remove --peers ID=HOST:PORT,... ARGS...
       x0 raft bench --peers ID=HOST:PORT,... [--writes N] [--clients N] [--value-bytes N]
${raftOpsUsage}
A replicated key-value store on Raft (PreVote, CheckQuorum, ReadIndex reads, snapshots, learners).
  serve                     run the agent's Raft component alone (the same code an anchor's 'x0 agent' runs):
                            this anchor of the voters --anchor (the agent's option anchor; this node among
                            them) over the sealed link, so it needs this node's certificate in --state-dir
                            (node.key, node.chain, bundle.cbor: 'x0 cert request' + 'x0 ca sign'); its log
                            and snapshots go to STATE_DIR/raft. Settings come from --config (the agent's UCI
                            file; role anchor) or the flags (--name and --trust-domain default to the
                            certificate's). Role changes are logged on stderr. Runs until SIGTERM or --run-for.
  serve --plain             a bare node over unauthenticated UDP (lab, tests, benchmarks; the commands below
                            talk to these): node --id of the cluster --peers (the founding voters, unless
                            --voters), keeping its log and snapshots in STATE_DIR/raft (or in --data DIR);
                            prints role changes. A node joining later is started with the founders' --voters,
                            then added with add-learner
  put KEY VALUE             write (prints {"ok":true,"prev":...})
  get KEY                   linearizable read (prints the value as JSON, null when absent)
  del KEY                   delete
  cas KEY EXPECTED VALUE    compare-and-set; EXPECTED '-' means "absent"
  list PREFIX               keys under PREFIX (JSON pairs)
  watch PREFIX [ID]         print each change under PREFIX as node ID (default the first) applies it, one JSON
                            line per change (at most once: UDP), for --run-for or until killed
  status [ID]               a node's view (JSON): role, term, leader, commit, configuration
  transfer ID               ask the leader to hand leadership to ID
  add-learner ID            add node ID (in --peers, started with the same --voters) as a non-voting learner
  promote ID                make learner ID a voter (refused until it has caught up)
  remove ID                 remove a voter or learner (not the leader: transfer first); one change at a time
  bench                     --writes puts from --clients concurrent clients: commits/s, p50/p99 latency (JSON)
${raftOpsText}The client commands speak to --plain nodes; an agent's Raft is read with 'ubus call x0tta6bl4 raft'.
Defaults suit a wireless mesh: --tick ${tickMsDefault}ms, election after 10-20 ticks, heartbeat every tick.
Durations take a unit (100ms, 3s); the old --tick-ms and --run-for-ms N still work.
${exitCodesHelp('1 also when the cluster cannot be reached or refuses, or serve cannot start (no certificate, the data directory cannot be opened or holds a damaged log, the address cannot be bound: one line naming the file or address and what to do)')}`;

function usage(platform: Platform, message: string): number {
  platform.stderr(`x0 raft: ${message}\n\n${help}`);
  return 2;
}

export function parsePeers(text: string): Map<NodeId, { host: string; port: number }> | null {
  const peers = new Map<NodeId, { host: string; port: number }>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const id = Number(part.slice(0, eq));
    const address = parseHostPort(part.slice(eq + 1));
    if (
      eq <= 0 ||
      !Number.isInteger(id) ||
      id <= 0 ||
      id > 0xffff ||
      address === null ||
      address.port === 0 ||
      peers.has(id)
    )
      return null;
    peers.set(id, address);
  }
  return peers.size > 0 ? peers : null;
}

const flagSpec = {
  config: 'string',
  plain: 'boolean',
  name: 'string',
  listen: 'string',
  anchor: 'string',
  'trust-domain': 'string',
  id: 'string',
  peers: 'string',
  'state-dir': 'string',
  data: 'string',
  tick: 'duration',
  'tick-ms': { alias: 'tick', unit: 'ms' },
  'election-ticks': 'string',
  'heartbeat-ticks': 'string',
  voters: 'string',
  'run-for': 'duration',
  'run-for-ms': { alias: 'run-for', unit: 'ms' },
  writes: 'string',
  clients: 'string',
  'value-bytes': 'string',
  out: 'string',
  force: 'boolean',
  yes: 'boolean',
  help: 'boolean',
} as const satisfies FlagSpec;

export async function raftCommand(platform: Platform, args: readonly string[]): Promise<number> {
  const parsed = parseArgs(args, flagSpec);
  if (!parsed.ok) return usage(platform, parsed.error);
  const [sub, ...rest] = parsed.positionals;
  if (parsed.flags.help === true || sub === undefined) {
    platform.stdout(help);
    return sub === undefined && parsed.flags.help !== true ? 2 : 0;
  }
  const offline = await raftOpsCommand(platform, sub, rest, parsed.flags, help);
  if (offline !== null) return offline;
  if (sub === 'serve' && parsed.flags.plain !== true) return serveSealed(platform, parsed.flags);
  const peers = typeof parsed.flags.peers === 'string' ? parsePeers(parsed.flags.peers) : null;
  if (peers === null)
    return usage(platform, '--peers ID=HOST:PORT,... is required (ids 1..65535, distinct, ports > 0)');
  const flags = parsed.flags as Record<string, string | boolean | undefined>;
  if (sub === 'serve') return serve(platform, peers, flags);
  if (sub === 'bench') return bench(platform, peers, flags);
  return clientCommand(platform, peers, sub, rest, flags);
}

function num(flags: Record<string, string | boolean | undefined>, name: string, fallback: number): number {
  const v = flags[name];
  return v === undefined ? fallback : Number(v);
}

async function serve(
  platform: Platform,
  peers: Map<NodeId, { host: string; port: number }>,
  flags: Record<string, string | boolean | undefined>,
): Promise<number> {
  const id = num(flags, 'id', NaN);
  // --state-dir is a node's state directory everywhere (its Raft data in DIR/raft, as the agent keeps it);
  // --data names the Raft data directory itself.
  const stateDir = flags['state-dir'];
  const data = typeof stateDir === 'string' && stateDir !== '' ? `${stateDir}/raft` : flags.data;
  if (!peers.has(id)) return usage(platform, '--id must be one of the --peers ids');
  if (typeof data !== 'string' || data.length === 0 || (stateDir !== undefined && flags.data !== undefined))
    return usage(platform, 'give --state-dir DIR (Raft data in DIR/raft) or --data DIR (the Raft data directory)');
  const tickMs = num(flags, 'tick', tickMsDefault);
  const electionTicks = num(flags, 'election-ticks', 10);
  const heartbeatTicks = num(flags, 'heartbeat-ticks', 1);
  const runForMs = flags['run-for'] === undefined ? null : num(flags, 'run-for', NaN);
  if (!Number.isInteger(electionTicks) || !Number.isInteger(heartbeatTicks))
    return usage(platform, '--election-ticks and --heartbeat-ticks must be positive integers');
  const voters = typeof flags.voters === 'string' ? flags.voters.split(',').map(Number) : undefined;
  if (voters !== undefined && !voters.every((v) => peers.has(v)))
    return usage(platform, '--voters must list --peers ids');
  const onRole = (s: NodeStatus): void =>
    platform.stdout(
      s.role === 'leader'
        ? `raft: node ${s.id} is leader of term ${s.term}\n`
        : `raft: node ${s.id} is ${s.role} in term ${s.term} (leader ${s.lead || 'unknown'})\n`,
    );
  const started = await RaftServer.start(platform, {
    id,
    peers,
    ...(voters ? { voters } : {}),
    dataDir: data,
    tickMs,
    electionTicks,
    heartbeatTicks,
    onRole,
  });
  if (!started.ok) {
    // One line: what failed, where, the errno name or reason, and what to do next. No stack: not a bug.
    platform.stderr(`x0 raft serve: ${started.detail}${startHints[started.reason](id, data, started.detail)}\n`);
    return started.reason === 'server-bad-config' ? 2 : 1;
  }
  const s = started.value.status();
  platform.stdout(
    `raft: node ${id} serving on ${peers.get(id)?.host}:${peers.get(id)?.port} (data ${data}, term ${s.term}, commit ${s.commit}, ${s.keys} keys from snapshot)\n`,
  );
  await new Promise<void>((resolve) => {
    if (runForMs !== null) platform.setTimer(runForMs, resolve);
  });
  started.value.stop();
  return 0;
}

/** Flags -> the agent's options for this anchor; name and trust domain default to the certificate's. */
function sealedOptions(platform: Platform, flags: Record<string, string | boolean | undefined>): FlagOptions | string {
  const dir = flags['state-dir'];
  if (typeof dir !== 'string') return '--state-dir DIR is required (the node identity and STATE_DIR/raft live there)';
  if (typeof flags.listen !== 'string') return '--listen HOST:PORT is required (the sealed link listens there)';
  if (typeof flags.anchor !== 'string')
    return '--anchor NAME@HOST:PORT,... is required (the voters, this node among them)';
  const chain = loadChain(platform, nodeFiles(dir).chain);
  const leaf = chain.ok ? chain.value[0] : undefined;
  const name = typeof flags.name === 'string' ? flags.name : leaf?.name;
  const domain = typeof flags['trust-domain'] === 'string' ? flags['trust-domain'] : leaf?.trustDomain;
  return [
    { option: 'agent.state_dir', flag: '--state-dir', value: dir },
    { option: 'agent.role', flag: '--anchor', value: 'anchor' },
    ...(name === undefined ? [] : [{ option: 'agent.node_name', flag: '--name', value: name }]),
    ...(domain === undefined ? [] : [{ option: 'agent.trust_domain', flag: '--trust-domain', value: domain }]),
    { option: 'agent.listen', flag: '--listen', value: flags.listen },
    ...flags.anchor
      .split(',')
      .filter((a) => a !== '')
      .map((value) => ({ option: 'agent.anchor', flag: '--anchor', value })),
  ];
}

const plainOnly = ['id', 'peers', 'voters', 'tick', 'election-ticks', 'heartbeat-ticks'] as const;

/** `serve` without --plain: the agent's Raft component alone, over the sealed link. */
async function serveSealed(platform: Platform, flags: Record<string, string | boolean | undefined>): Promise<number> {
  const misplaced = plainOnly.find((f) => flags[f] !== undefined);
  if (misplaced !== undefined)
    return usage(platform, `--${misplaced} is for 'serve --plain'; the sealed node takes its voters from --anchor`);
  let built: FlagOptions | string = [];
  const config = loadConfig(
    platform,
    'raft serve',
    flags as Record<string, string | boolean>,
    ['name', 'listen', 'anchor', 'state-dir', 'trust-domain'],
    () => {
      built = sealedOptions(platform, flags);
      return typeof built === 'string' ? [] : built;
    },
    help,
  );
  if (typeof built === 'string') return usage(platform, built);
  if (typeof config === 'number') return config;
  if (config.role !== 'anchor') {
    platform.stderr(
      `x0 raft serve: ${config.path}: node '${config.nodeName}' has role ${config.role}; only anchors run Raft (option role 'anchor')\n`,
    );
    return 2;
  }
  const run = await start(
    platform,
    'raft serve',
    config,
    'raft',
    {},
    '; for a lab without certificates: x0 raft serve --plain',
  );
  if (typeof run === 'number') return run;
  const s = run.ctx.raft?.status();
  platform.stdout(
    `raft: ${config.nodeName} serving over the sealed link on ${config.listen.host}:${config.listen.port} (state ${config.stateDir}/raft, term ${s?.term ?? 0}, commit ${s?.commit ?? 0})\n`,
  );
  await stopped(platform, flags['run-for'] === undefined ? null : Number(flags['run-for']));
  run.stop();
  return 0;
}

const startHints: Record<ServerReason, (id: NodeId, data: string, detail: string) => string> = {
  'server-bad-config': () => ' (--election-ticks must be >= 2 x --heartbeat-ticks)',
  'server-no-address': () => ' (--id must be one of the --peers ids)',
  'server-bind-failed': () => ' (another process on that port, or an address this host does not have? check --peers)',
  'storage-failed': (id, data, detail) =>
    detail.includes(' refused (')
      ? `. A damaged log is not repaired in place: move ${data} aside, remove node ${id} (x0 raft remove ${id}), start it empty and add it back (add-learner, promote)`
      : ' (--state-dir or --data must be a directory this user can create and write)',
};

function command(sub: string, rest: readonly string[]): KvCommand | 'bad' | null {
  const [a, b, c] = rest;
  if (sub === 'put')
    return a !== undefined && b !== undefined && rest.length === 2 ? { op: 'put', key: a, value: b } : 'bad';
  if (sub === 'del') return a !== undefined && rest.length === 1 ? { op: 'del', key: a } : 'bad';
  if (sub === 'cas')
    return a !== undefined && b !== undefined && c !== undefined && rest.length === 3
      ? { op: 'cas', key: a, expected: b === '-' ? null : b, value: c }
      : 'bad';
  return null;
}

async function watchCommand(
  platform: Platform,
  peers: Map<NodeId, { host: string; port: number }>,
  rest: readonly string[],
  flags: Record<string, string | boolean | undefined>,
): Promise<number> {
  const at = rest[1] === undefined ? ([...peers.keys()][0] as number) : Number(rest[1]);
  const runForMs = flags['run-for'] === undefined ? null : num(flags, 'run-for', NaN);
  if (rest.length < 1 || rest.length > 2 || !peers.has(at))
    return usage(platform, 'watch takes PREFIX and optionally a node id from --peers');
  const client = await RaftClient.open(platform, peers);
  const watching = await client.watch(at, rest[0] as string, (event) => platform.stdout(`${JSON.stringify(event)}\n`));
  if (!watching.ok) {
    client.close();
    platform.stderr(`x0 raft watch: ${watching.reason} (is node ${at} running and reachable?)\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    if (runForMs !== null) platform.setTimer(runForMs, resolve);
  });
  watching.value.stop();
  client.close();
  return 0;
}

async function clientCommand(
  platform: Platform,
  peers: Map<NodeId, { host: string; port: number }>,
  sub: string,
  rest: readonly string[],
  flags: Record<string, string | boolean | undefined>,
): Promise<number> {
  const write = command(sub, rest);
  if (write === 'bad') return usage(platform, `wrong arguments for '${sub}'`);
  if (sub === 'watch') return watchCommand(platform, peers, rest, flags);
  const admin: Record<string, AdminAction> = {
    transfer: 'transfer',
    'add-learner': 'add-learner',
    promote: 'add-voter',
    remove: 'remove',
  };
  if (write === null && !['get', 'list', 'status'].includes(sub) && admin[sub] === undefined)
    return usage(platform, `unknown subcommand '${sub}'`);
  if (admin[sub] !== undefined && !(rest.length === 1 && peers.has(Number(rest[0]))))
    return usage(platform, `${sub} takes one node id from --peers`);
  const client = await RaftClient.open(platform, peers);
  try {
    const result =
      write !== null
        ? await client.write(write)
        : sub === 'get'
          ? rest.length === 1
            ? await client.get(rest[0] as string)
            : null
          : sub === 'list'
            ? rest.length <= 1
              ? await client.list(rest[0] ?? '', 1000)
              : null
            : sub === 'status'
              ? await client.status(rest[0] === undefined ? ([...peers.keys()][0] as number) : Number(rest[0]))
              : await client.admin(admin[sub] as AdminAction, Number(rest[0]));
    if (result === null) return usage(platform, `wrong arguments for '${sub}'`);
    if (!result.ok) {
      platform.stderr(`x0 raft ${sub}: ${result.reason} (is a quorum of --peers running and reachable?)\n`);
      return 1;
    }
    platform.stdout(`${JSON.stringify(result.value)}\n`);
    return 0;
  } finally {
    client.close();
  }
}

async function bench(
  platform: Platform,
  peers: Map<NodeId, { host: string; port: number }>,
  flags: Record<string, string | boolean | undefined>,
): Promise<number> {
  const writes = num(flags, 'writes', 2000);
  const clients = num(flags, 'clients', 32);
  const valueBytes = num(flags, 'value-bytes', 64);
  if (![writes, clients, valueBytes].every((n) => Number.isInteger(n) && n > 0) || clients > 256)
    return usage(platform, '--writes, --clients (<= 256) and --value-bytes must be positive integers');
  const conns = await Promise.all(
    Array.from({ length: clients }, () => RaftClient.open(platform, peers, { attemptTimeoutMs: 1000, attempts: 10 })),
  );
  const f = await writeLoad(conns, writes, valueBytes, () => platform.monotonicMs());
  for (const c of conns) c.close();
  const round = (n: number): number => Math.round(n * 10) / 10;
  platform.stdout(
    `${JSON.stringify({ writes, failed: f.failed, elapsedMs: Math.round(f.elapsedMs), commitsPerSec: Math.round(f.commitsPerSec), p50Ms: round(f.p50Ms), p99Ms: round(f.p99Ms) })}\n`,
  );
  return f.failed === 0 ? 0 : 1;
}
