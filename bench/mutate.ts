// `npm run mutate`: mutation testing of the Raft core against the simulator (not in CI: minutes, not seconds).
// Each mutant of test/sim/mutants.ts is applied to a copy of the tree (build/mutants/<name>/), then run against
// the simulator's seeds (the CI groups: 3-node and 5-node clusters, every fault mix) and against the named
// scenarios (scripted tests that target one rule each). A mutant is killed when a seed or a scenario fails.
// Prints the kill table that docs/protocol/raft.md records; exit 1 if any mutant survives everything.
import { parseArgs } from '../src/cli/args.js';
import { materialize, mutants, type Mutant } from '../test/sim/mutants.js';
import { run } from '../test/lib/processes.js';

/** A group stops after this many failing seeds: one kills the mutant, a few show it is no fluke. */
const failuresPerGroup = 3;

/** Wall time one scenario file may take (each takes seconds unmutated). */
const scenarioMsMax = 60_000;
const scenarios = [
  'test/sim/figure8.test.ts',
  'test/sim/persist-order.test.ts',
  'test/raft/raft.test.ts',
  'test/raft/hostile.test.ts',
];

const help = `usage: npm run mutate -- [--seeds N] [--mutant NAME] [--watchdog-ms MS]

Applies each mutant of the Raft core (test/sim/mutants.ts: ${mutants.map((m) => m.name).join(', ')}) to a copy
of the tree in build/mutants/, runs the simulator on N seeds per group (default 1000: the CI's 3-node and 5-node
groups, ${'`--mix all`'}, each stopping after ${failuresPerGroup} failing seeds) with a wall-clock watchdog of MS per
seed (default 10000), then the scenarios
(${scenarios.join(', ')}), and prints the kill table.
Exit 0 when every mutant is killed, 1 when one survives, 2 on bad usage.
`;

interface Kill {
  readonly mutant: Mutant;
  readonly seeds: number;
  readonly simFailed: number;
  readonly firstFailure: string | null;
  readonly scenariosFailed: string[];
  readonly wallMs: number;
}

const groups = (first: number, seeds: number, watchdogMs: number): string[][] =>
  [
    ['--seed', String(first), '--seeds', String(seeds), '--nodes', '3', '--faults-ms', '10000', '--settle-ms', '10000'],
    [
      '--seed',
      String(first + 500_000),
      '--seeds',
      String(seeds),
      '--nodes',
      '5',
      '--faults-ms',
      '8000',
      '--settle-ms',
      '10000',
    ],
  ].map((g) => [
    ...g,
    '--mix',
    'all',
    '--quiet',
    '--watchdog-ms',
    String(watchdogMs),
    '--max-failures',
    String(failuresPerGroup),
  ]);

async function kill(mutant: Mutant, seeds: number, watchdogMs: number): Promise<Kill> {
  const started = Date.now();
  const dir = materialize(mutant);
  const sims = await Promise.all(
    groups(1, seeds, watchdogMs).map((args) =>
      run(['node', '--import', 'tsx', `${dir}/test/sim/cli.ts`, ...args], 3_600_000),
    ),
  );
  let simFailed = 0;
  let firstFailure: string | null = null;
  for (const sim of sims) {
    const summary = /^(\d+) passed, (\d+) failed/m.exec(sim.stdout);
    simFailed += summary === null ? seeds : Number(summary[2]);
    const failure = /^seed \d+ FAILED .*\n {2}reproduce: .*$/m.exec(sim.stdout);
    if (firstFailure === null && failure !== null)
      firstFailure = failure[0].replace(/\n\s+reproduce: (.*)$/, ' (reproduce: `$1`)');
    if (summary === null && firstFailure === null)
      firstFailure = `simulator did not finish: ${sim.stderr.split('\n')[0]}`;
  }
  const scenariosFailed: string[] = [];
  for (const file of scenarios) {
    const result = await run(
      [
        'node',
        '--import',
        'tsx',
        `${dir}/node_modules/uvu/bin.js`,
        `${dir}/${file.slice(0, file.lastIndexOf('/'))}`,
        file.slice(file.lastIndexOf('/') + 1),
      ],
      scenarioMsMax,
    );
    // A scenario still running after scenarioMsMax hangs (the unmutated ones take seconds): killed as well.
    if (result.code === null) scenariosFailed.push(`${file} (hung: stopped after ${scenarioMsMax / 1000} s)`);
    else if (result.code !== 0) scenariosFailed.push(file);
  }
  return { mutant, seeds: 2 * seeds, simFailed, firstFailure, scenariosFailed, wallMs: Date.now() - started };
}

function row(k: Kill): string {
  const sim =
    k.simFailed > 0
      ? `killed (${k.simFailed} failing seeds before the groups stopped); first: ${k.firstFailure}`
      : `survived ${k.seeds} seeds`;
  const named = (f: string): string => {
    const at = f.indexOf(' (');
    return at < 0 ? `\`${f}\`` : `\`${f.slice(0, at)}\`${f.slice(at)}`;
  };
  const scen = k.scenariosFailed.length > 0 ? `killed by ${k.scenariosFailed.map(named).join(', ')}` : 'survived';
  return `| \`${k.mutant.name}\` | ${k.mutant.rule} | ${sim} | ${scen} |`;
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv, { seeds: 'string', mutant: 'string', 'watchdog-ms': 'string', help: 'boolean' });
  if (!parsed.ok) return usage(parsed.error);
  if (parsed.flags.help === true) {
    process.stdout.write(help);
    return 0;
  }
  const seeds = parsed.flags.seeds === undefined ? 1000 : Number(parsed.flags.seeds);
  const watchdogMs = parsed.flags['watchdog-ms'] === undefined ? 10_000 : Number(parsed.flags['watchdog-ms']);
  if (!Number.isSafeInteger(seeds) || seeds < 1 || !Number.isSafeInteger(watchdogMs) || watchdogMs < 100)
    return usage('--seeds and --watchdog-ms take positive integers (--watchdog-ms >= 100)');
  const chosen =
    typeof parsed.flags.mutant === 'string' ? mutants.filter((m) => m.name === parsed.flags.mutant) : mutants;
  if (chosen.length === 0)
    return usage(`no mutant '${String(parsed.flags.mutant)}' (${mutants.map((m) => m.name).join(', ')})`);
  const kills: Kill[] = [];
  for (const mutant of chosen) {
    const k = await kill(mutant, seeds, watchdogMs);
    process.stderr.write(
      `mutate: ${mutant.name}: ${k.simFailed} failing seeds, scenarios failing: ${k.scenariosFailed.join(', ') || 'none'} (${(k.wallMs / 1000).toFixed(0)} s)\n`,
    );
    kills.push(k);
  }
  process.stdout.write(
    `| mutant | rule it breaks | simulator (${2 * seeds} seeds: 3- and 5-node groups, every mix) | named scenarios |\n|---|---|---|---|\n`,
  );
  for (const k of kills) process.stdout.write(`${row(k)}\n`);
  const survivors = kills.filter((k) => k.simFailed === 0 && k.scenariosFailed.length === 0);
  process.stdout.write(
    `${kills.length - survivors.length} of ${kills.length} mutants killed${survivors.length > 0 ? `; surviving: ${survivors.map((k) => k.mutant.name).join(', ')}` : ''}\n`,
  );
  return survivors.length === 0 ? 0 : 1;
}

function usage(message: string): number {
  process.stderr.write(`mutate: ${message}\n\n${help}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`mutate: ${(error as Error)?.message ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
