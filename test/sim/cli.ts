// `npm run sim -- --seed N [--seeds K] [--nodes 5] [--mix chaos|all] ...`: runs the Raft simulator and prints
// one line per seed; a failing seed prints the one command that reproduces it. Exit 1 on any failure.
//
// Seeds run in a worker thread watched from the main thread: a seed that takes more than --watchdog-ms of wall
// time (a core that loops forever, a simulator that never returns) is stopped, reported as FAILED with its
// reproduce command, and the run goes on with the next seed in a fresh worker.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { parseArgs } from '../../src/cli/args.js';
import { mixNames } from './faults.js';
import { reproduceCommand, runSim, simDefaults, type SimOptions, type SimReport } from './cluster.js';

const watchdogMsDefault = 60_000;
/** A worker thread does not inherit `--import tsx` on Node 20: it registers tsx itself, then loads this file. */
const workerBoot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;

const help = `usage: npm run sim -- [--seed N] [--seeds K] [--nodes N] [--mix NAME|all] [--faults-ms MS] [--settle-ms MS]
                    [--clients N] [--keys N] [--lin-steps N] [--watchdog-ms MS] [--max-failures N]
                    [--unsafe commit-previous-term|skip-vote-log-check|stale-reads] [--quiet] [--trace]

Runs a deterministic simulation of a Raft KV cluster (virtual time, one seed) under a fault mix, checking
election safety, log matching, leader completeness, state machine safety, term adoption and PreVote after every
step, linearizability of the client history and liveness once the faults heal. --seeds K runs seeds N..N+K-1;
--mix all cycles the mixes by seed. Mixes: ${mixNames.join(', ')}.
A seed fails when the linearizability checker cannot finish a key within --lin-steps search steps (never
counted as a pass), when virtual time stops advancing, or when it runs longer than --watchdog-ms of wall time
(default ${watchdogMsDefault}: a core that loops forever); each failure prints the command that reproduces it.
--max-failures N stops the run after N failing seeds (the summary then counts only the seeds that ran).
--unsafe breaks a safety rule on purpose (a violation is expected).
`;

interface Plan {
  readonly base: Omit<SimOptions, 'seed' | 'mix' | 'trace'>;
  readonly mix: string;
  readonly trace: boolean;
  readonly first: number;
  readonly count: number;
}

type FromWorker =
  | { readonly kind: 'start'; readonly seed: number }
  | { readonly kind: 'trace'; readonly text: string }
  | { readonly kind: 'done'; readonly seed: number; readonly report: SimReport };

const optionsFor = (plan: Plan, seed: number): SimOptions => ({
  ...plan.base,
  seed,
  mix: plan.mix === 'all' ? (mixNames[seed % mixNames.length] as string) : plan.mix,
});

function parse(
  argv: readonly string[],
): { plan: Plan; quiet: boolean; watchdogMs: number; maxFailures: number } | number {
  const parsed = parseArgs(argv, {
    seed: 'string',
    seeds: 'string',
    nodes: 'string',
    mix: 'string',
    'faults-ms': 'string',
    'settle-ms': 'string',
    clients: 'string',
    keys: 'string',
    'lin-steps': 'string',
    'watchdog-ms': 'string',
    'max-failures': 'string',
    unsafe: 'string',
    quiet: 'boolean',
    trace: 'boolean',
    help: 'boolean',
  });
  if (!parsed.ok) return usage(parsed.error);
  const f = parsed.flags;
  if (f.help === true) {
    process.stdout.write(help);
    return 0;
  }
  const num = (name: string, fallback: number): number => (f[name] === undefined ? fallback : Number(f[name]));
  const mix = typeof f.mix === 'string' ? f.mix : simDefaults.mix;
  if (mix !== 'all' && !mixNames.includes(mix)) return usage(`--mix must be one of ${mixNames.join(', ')}, all`);
  const unsafe = f.unsafe;
  if (unsafe !== undefined && !['commit-previous-term', 'skip-vote-log-check', 'stale-reads'].includes(String(unsafe)))
    return usage('--unsafe takes commit-previous-term, skip-vote-log-check or stale-reads');
  const { mix: _mix, ...defaults } = simDefaults;
  const base = {
    ...defaults,
    nodes: num('nodes', simDefaults.nodes),
    faultsUntilMs: num('faults-ms', simDefaults.faultsUntilMs),
    settleMs: num('settle-ms', simDefaults.settleMs),
    clients: num('clients', simDefaults.clients),
    keys: num('keys', simDefaults.keys),
    ...(f['lin-steps'] !== undefined ? { linStepsMax: num('lin-steps', 0) } : {}),
    ...(unsafe === 'commit-previous-term' ? { unsafe: { commitPreviousTerm: true } } : {}),
    ...(unsafe === 'skip-vote-log-check' ? { unsafe: { skipVoteLogCheck: true } } : {}),
    ...(unsafe === 'stale-reads' ? { staleReads: true } : {}),
  };
  const first = num('seed', 1);
  const count = num('seeds', 1);
  const watchdogMs = num('watchdog-ms', watchdogMsDefault);
  const maxFailures = num('max-failures', Number.MAX_SAFE_INTEGER);
  for (const n of [
    first,
    count,
    base.nodes,
    base.faultsUntilMs,
    base.settleMs,
    base.clients,
    base.keys,
    base.linStepsMax ?? 1,
    watchdogMs,
    maxFailures,
  ]) {
    if (!Number.isSafeInteger(n) || n < 0) return usage('numbers must be non-negative integers');
  }
  if (base.nodes < 1 || base.nodes > 9) return usage('--nodes must be 1..9');
  if (watchdogMs < 100) return usage('--watchdog-ms must be at least 100');
  return {
    plan: { base, mix, trace: f.trace === true, first, count },
    quiet: f.quiet === true,
    watchdogMs,
    maxFailures,
  };
}

/** The worker: runs the seeds in order, telling the main thread when each starts and ends. */
function workerMain(plan: Plan): void {
  const port = parentPort as NonNullable<typeof parentPort>;
  // Trace lines go through the message port (in order with the result), in batches.
  let lines: string[] = [];
  const flush = (): void => {
    if (lines.length > 0) port.postMessage({ kind: 'trace', text: `${lines.join('\n')}\n` } satisfies FromWorker);
    lines = [];
  };
  const trace = plan.trace
    ? {
        trace: (line: string) => {
          if (lines.push(line) >= 1000) flush();
        },
      }
    : {};
  for (let seed = plan.first; seed < plan.first + plan.count; seed++) {
    port.postMessage({ kind: 'start', seed } satisfies FromWorker);
    const report = runSim({ ...optionsFor(plan, seed), ...trace });
    flush();
    port.postMessage({ kind: 'done', seed, report } satisfies FromWorker);
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parse(argv);
  if (typeof parsed === 'number') return parsed;
  const { plan, quiet, watchdogMs, maxFailures } = parsed;
  const started = Date.now();
  let failed = 0;
  let simulatedMs = 0;
  const end = plan.first + plan.count;
  let next = plan.first;
  while (next < end && failed < maxFailures) {
    // One worker per stretch of seeds; a hung seed ends its worker and the next stretch starts after it.
    const hung = await new Promise<number | null>((resolve, reject) => {
      const worker = new Worker(workerBoot, { eval: true, workerData: { ...plan, first: next, count: end - next } });
      let timer: ReturnType<typeof setTimeout> | null = null;
      worker.on('message', (message: FromWorker) => {
        if (message.kind === 'trace') {
          process.stdout.write(message.text);
          return;
        }
        if (timer !== null) clearTimeout(timer);
        if (message.kind === 'start') {
          timer = setTimeout(() => {
            void worker.terminate();
            resolve(message.seed);
          }, watchdogMs);
          return;
        }
        next = message.seed + 1;
        const options = optionsFor(plan, message.seed);
        const report = message.report;
        simulatedMs += report.simulatedMs * options.nodes;
        if (!report.ok) {
          failed++;
          if (failed >= maxFailures) void worker.terminate();
          process.stdout.write(
            `seed ${message.seed} FAILED (${options.mix}): ${report.failure}\n  reproduce: ${reproduceCommand(options)}\n`,
          );
        } else if (!quiet) {
          process.stdout.write(
            `seed ${message.seed} ok (${options.mix}): ${report.operations} ops, commit ${report.committed}, ${report.leaders} elections, ${report.crashes} crashes, ${report.snapshotsInstalled} snapshots, ${report.events} events, linearizability ${report.linearizability}\n`,
          );
        }
      });
      worker.on('error', reject);
      worker.on('exit', () => {
        if (timer !== null) clearTimeout(timer);
        resolve(null);
      });
    });
    if (hung === null) break;
    failed++;
    next = hung + 1;
    const options = optionsFor(plan, hung);
    process.stdout.write(
      `seed ${hung} FAILED (${options.mix}): watchdog: still running after ${watchdogMs} ms of wall time (the core or the simulator loops without advancing)\n  reproduce: ${reproduceCommand(options)}\n`,
    );
  }
  const wallMs = Date.now() - started;
  const ran = next - plan.first;
  process.stdout.write(
    `${ran - failed} passed, ${failed} failed (${ran} seeds in ${wallMs} ms; ${(simulatedMs / Math.max(1, wallMs)).toFixed(0)} simulated node-seconds per wall second)\n`,
  );
  return failed === 0 ? 0 : 1;
}

function usage(message: string): number {
  process.stderr.write(`sim: ${message}\n\n${help}`);
  return 2;
}

if (isMainThread) {
  // `npm run sim -- --trace | head`: a reader that went away ends the run quietly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`sim: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 70;
    },
  );
} else {
  workerMain(workerData as Plan);
}
