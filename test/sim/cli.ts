// `npm run sim -- --seed N [--seeds K] [--nodes 5] [--mix chaos|all] ...`: runs the Raft simulator and prints
// one line per seed; a failing seed prints the one command that reproduces it. Exit 1 on any failure.
import { parseArgs } from '../../src/cli/args.js';
import { mixNames } from './faults.js';
import { reproduceCommand, runSim, simDefaults, type SimOptions } from './cluster.js';

const help = `usage: npm run sim -- [--seed N] [--seeds K] [--nodes N] [--mix NAME|all] [--faults-ms MS] [--settle-ms MS]
                    [--clients N] [--keys N] [--unsafe commit-previous-term|skip-vote-log-check|stale-reads] [--quiet] [--trace]

Runs a deterministic simulation of a Raft KV cluster (virtual time, one seed) under a fault mix, checking
election safety, log matching, leader completeness and state machine safety after every step, linearizability
of the client history and liveness once the faults heal. --seeds K runs seeds N..N+K-1; --mix all cycles the
mixes by seed. Mixes: ${mixNames.join(', ')}. --unsafe breaks a safety rule on purpose (a violation is expected).
`;

function main(argv: readonly string[]): number {
  const parsed = parseArgs(argv, {
    seed: 'string', seeds: 'string', nodes: 'string', mix: 'string', 'faults-ms': 'string', 'settle-ms': 'string',
    clients: 'string', keys: 'string', unsafe: 'string', quiet: 'boolean', trace: 'boolean', help: 'boolean',
  });
  if (!parsed.ok) return usage(parsed.error);
  const f = parsed.flags;
  if (f.help === true) {
    process.stdout.write(help);
    return 0;
  }
  const num = (name: string, fallback: number): number => (f[name] === undefined ? fallback : Number(f[name]));
  const first = num('seed', 1);
  const count = num('seeds', 1);
  const mix = typeof f.mix === 'string' ? f.mix : simDefaults.mix;
  if (mix !== 'all' && !mixNames.includes(mix)) return usage(`--mix must be one of ${mixNames.join(', ')}, all`);
  const unsafe = f.unsafe;
  if (unsafe !== undefined && !['commit-previous-term', 'skip-vote-log-check', 'stale-reads'].includes(String(unsafe))) return usage('--unsafe takes commit-previous-term, skip-vote-log-check or stale-reads');
  const base = {
    ...simDefaults,
    nodes: num('nodes', simDefaults.nodes), faultsUntilMs: num('faults-ms', simDefaults.faultsUntilMs), settleMs: num('settle-ms', simDefaults.settleMs),
    clients: num('clients', simDefaults.clients), keys: num('keys', simDefaults.keys),
    ...(unsafe === 'commit-previous-term' ? { unsafe: { commitPreviousTerm: true } } : {}),
    ...(unsafe === 'skip-vote-log-check' ? { unsafe: { skipVoteLogCheck: true } } : {}),
    ...(unsafe === 'stale-reads' ? { staleReads: true } : {}),
    ...(f.trace === true ? { trace: (line: string) => { process.stdout.write(`${line}\n`); } } : {}),
  };
  for (const n of [first, count, base.nodes, base.faultsUntilMs, base.settleMs, base.clients, base.keys]) {
    if (!Number.isSafeInteger(n) || n < 0) return usage('numbers must be non-negative integers');
  }
  if (base.nodes < 1 || base.nodes > 9) return usage('--nodes must be 1..9');
  let failed = 0;
  const started = Date.now();
  let simulatedMs = 0;
  for (let seed = first; seed < first + count; seed++) {
    const options: SimOptions = { ...base, seed, mix: mix === 'all' ? (mixNames[seed % mixNames.length] as string) : mix };
    const report = runSim(options);
    simulatedMs += report.simulatedMs * options.nodes;
    if (!report.ok) {
      failed++;
      process.stdout.write(`seed ${seed} FAILED (${options.mix}): ${report.failure}\n  reproduce: ${reproduceCommand(options)}\n`);
    } else if (f.quiet !== true) {
      process.stdout.write(`seed ${seed} ok (${options.mix}): ${report.operations} ops, commit ${report.committed}, ${report.leaders} elections, ${report.crashes} crashes, ${report.snapshotsInstalled} snapshots, ${report.events} events, linearizability ${report.linearizability}\n`);
    }
  }
  const wallMs = Date.now() - started;
  process.stdout.write(`${count - failed} passed, ${failed} failed (${count} seeds in ${wallMs} ms; ${(simulatedMs / Math.max(1, wallMs)).toFixed(0)} simulated node-seconds per wall second)\n`);
  return failed === 0 ? 0 : 1;
}

function usage(message: string): number {
  process.stderr.write(`sim: ${message}\n\n${help}`);
  return 2;
}

process.exitCode = main(process.argv.slice(2));
