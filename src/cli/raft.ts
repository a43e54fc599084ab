// `x0 raft ...`: run a Raft KV node, talk to a cluster (put/get/del/cas/list/status), manage it (transfer,
// add-learner, promote, remove), measure it (bench).
import type { Platform } from '../platform/types.js';
import type { NodeId } from '../core/raft/types.js';
import type { KvCommand } from '../core/raft/kv.js';
import { tickMsDefault } from '../core/raft/limits.js';
import { RaftServer, type ServerReason } from '../raft/server.js';
import { RaftClient } from '../raft/client.js';
import type { AdminAction, NodeStatus } from '../raft/protocol.js';
import { writeLoad } from '../raft/load.js';
import { parseArgs, parseHostPort } from './args.js';

const help = `usage: x0 raft serve --id N --peers ID=HOST:PORT,... --data DIR [--tick-ms MS] [--election-ticks N]
                     [--heartbeat-ticks N] [--voters ID,...] [--run-for-ms MS]
       x0 raft put|get|del|cas|list|watch|status|transfer|add-learner|promote|remove --peers ID=HOST:PORT,... ARGS...
       x0 raft bench --peers ID=HOST:PORT,... [--writes N] [--clients N] [--value-bytes N]

A replicated key-value store on Raft (PreVote, CheckQuorum, ReadIndex reads, snapshots, learners).
  serve                     run node --id of the cluster --peers (the founding voters, unless --voters), keeping
                            its log and snapshots in --data; prints role changes; runs until killed. A node
                            joining later is started with the founders' --voters, then added with add-learner
  put KEY VALUE             write (prints {"ok":true,"prev":...})
  get KEY                   linearizable read (prints the value as JSON, null when absent)
  del KEY                   delete
  cas KEY EXPECTED VALUE    compare-and-set; EXPECTED '-' means "absent"
  list PREFIX               keys under PREFIX (JSON pairs)
  watch PREFIX [ID]         print each change under PREFIX as node ID (default the first) applies it, one JSON
                            line per change (at most once: UDP), for --run-for-ms or until killed
  status [ID]               a node's view (JSON): role, term, leader, commit, configuration
  transfer ID               ask the leader to hand leadership to ID
  add-learner ID            add node ID (in --peers, started with the same --voters) as a non-voting learner
  promote ID                make learner ID a voter (refused until it has caught up)
  remove ID                 remove a voter or learner (not the leader: transfer first); one change at a time
  bench                     --writes puts from --clients concurrent clients: commits/s, p50/p99 latency (JSON)
Defaults suit a wireless mesh: --tick-ms ${tickMsDefault}, election after 10-20 ticks, heartbeat every tick.
Exit 0 on success, 1 when the cluster cannot be reached or refuses, or serve cannot start (its --data directory
cannot be opened or holds a damaged log, its address cannot be bound: one line naming the path or address and
the errno or reason), 2 on bad usage.
`;

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
  id: 'string',
  peers: 'string',
  data: 'string',
  'tick-ms': 'string',
  'election-ticks': 'string',
  'heartbeat-ticks': 'string',
  voters: 'string',
  'run-for-ms': 'string',
  writes: 'string',
  clients: 'string',
  'value-bytes': 'string',
  help: 'boolean',
} as const;

export async function raftCommand(platform: Platform, args: readonly string[]): Promise<number> {
  const parsed = parseArgs(args, flagSpec);
  if (!parsed.ok) return usage(platform, parsed.error);
  const [sub, ...rest] = parsed.positionals;
  if (parsed.flags.help === true || sub === undefined) {
    platform.stdout(help);
    return sub === undefined && parsed.flags.help !== true ? 2 : 0;
  }
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
  const data = flags.data;
  if (!peers.has(id)) return usage(platform, '--id must be one of the --peers ids');
  if (typeof data !== 'string' || data.length === 0) return usage(platform, '--data DIR is required');
  const tickMs = num(flags, 'tick-ms', tickMsDefault);
  const electionTicks = num(flags, 'election-ticks', 10);
  const heartbeatTicks = num(flags, 'heartbeat-ticks', 1);
  const runForMs = flags['run-for-ms'] === undefined ? null : num(flags, 'run-for-ms', NaN);
  if (!(tickMs >= 1) || !Number.isInteger(electionTicks) || !Number.isInteger(heartbeatTicks))
    return usage(platform, '--tick-ms, --election-ticks and --heartbeat-ticks must be positive integers');
  if (runForMs !== null && !(runForMs > 0)) return usage(platform, '--run-for-ms must be positive');
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

const startHints: Record<ServerReason, (id: NodeId, data: string, detail: string) => string> = {
  'server-bad-config': () => ' (--election-ticks must be >= 2 x --heartbeat-ticks)',
  'server-no-address': () => ' (--id must be one of the --peers ids)',
  'server-bind-failed': () => ' (another process on that port, or an address this host does not have? check --peers)',
  'storage-failed': (id, data, detail) =>
    detail.includes(' refused (')
      ? `. A damaged log is not repaired in place: move ${data} aside, remove node ${id} (x0 raft remove ${id}), start it empty and add it back (add-learner, promote)`
      : ' (--data must be a directory this user can create and write)',
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
  const runForMs = flags['run-for-ms'] === undefined ? null : num(flags, 'run-for-ms', NaN);
  if (rest.length < 1 || rest.length > 2 || !peers.has(at))
    return usage(platform, 'watch takes PREFIX and optionally a node id from --peers');
  if (runForMs !== null && !(runForMs > 0)) return usage(platform, '--run-for-ms must be positive');
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
