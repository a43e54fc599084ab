// Mutants of the Raft core: each is one small edit that breaks a rule of the protocol, applied to a copy of the
// tree under build/mutants/<name>/ (the working tree is never touched). `npm run mutate` (bench/mutate.ts) runs
// the simulator's seeds and the named scenarios against each; test/sim/watchdog.node.test.ts uses 'core-loops'
// to show that the simulator's watchdog names a seed whose core never returns. Node only.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../lib/processes.js';

export interface Mutant {
  readonly name: string;
  /** The rule it breaks, as the kill table in docs/protocol/raft.md states it. */
  readonly rule: string;
  readonly file: string;
  /** Exact text in `file` (once) and what replaces it. */
  readonly find: string;
  readonly replace: string;
}

export const mutants: readonly Mutant[] = [
  {
    name: 'leader-ignores-higher-term',
    rule: 'a leader that sees a later term steps down (§5.1)',
    file: 'src/core/raft/raft.ts',
    find: '    if (m.term > this.term && !this.stepHigherTerm(m)) return;',
    replace: "    if (m.term > this.term && (this.role === 'leader' || !this.stepHigherTerm(m))) return;",
  },
  {
    name: 'prevote-raises-term',
    rule: 'a pre-candidate keeps its term and vote (§9.6)',
    file: 'src/core/raft/raft.ts',
    find: "    this.role = 'pre-candidate';\n  }",
    replace: "    this.role = 'pre-candidate';\n    this.term++;\n    this.vote = 0;\n  }",
  },
  {
    name: 'commit-earlier-term',
    rule: 'a leader counts replicas only for entries of its own term (§5.4.2, Figure 8)',
    file: 'src/core/raft/raft.ts',
    find: '    if (this.log.term(index) !== this.term && this.config.unsafe?.commitPreviousTerm !== true) return false;',
    replace: '',
  },
  {
    name: 'vote-before-persist',
    rule: 'a vote is sent only once it is durable (Figure 2: persist before answering)',
    file: 'src/core/raft/types.ts',
    find: "  return m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap';",
    replace: "  return m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap' || m.type === 'vote-resp';",
  },
  {
    name: 'skip-vote-log-check',
    rule: 'a vote goes only to a candidate whose log is at least as up to date (§5.4.1)',
    file: 'src/core/raft/raft.ts',
    find: '    const upToDate = this.config.unsafe?.skipVoteLogCheck === true || this.log.isUpToDate(m.lastIndex, m.lastTerm);',
    replace: '    const upToDate = true;',
  },
  {
    name: 'read-without-quorum',
    rule: 'a ReadIndex read waits for a heartbeat quorum that confirms leadership (thesis §6.4)',
    file: 'src/core/raft/raft.ts',
    find: '    if (this.log.conf().voters.length === 1) {',
    replace: '    if (true) {',
  },
  {
    name: 'core-loops',
    rule: 'every loop in the core is bounded (the fast-backtracking scan forgets to step back)',
    file: 'src/core/raft/log.ts',
    find: '      if (t <= term) return i;\n      i--;',
    replace: '      if (t <= term) return i;',
  },
];

/** Copies what the simulator and the scenarios need to build/mutants/<name>/ and applies the mutant there. */
export function materialize(mutant: Mutant): string {
  const dir = join(root, 'build', 'mutants', mutant.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'test'), { recursive: true });
  cpSync(join(root, 'src'), join(dir, 'src'), { recursive: true, filter: (from) => !from.includes('/native/') });
  for (const sub of ['sim', 'raft', 'lib'])
    cpSync(join(root, 'test', sub), join(dir, 'test', sub), { recursive: true });
  for (const file of ['package.json', 'tsconfig.json'])
    if (existsSync(join(root, file))) cpSync(join(root, file), join(dir, file));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  const path = join(dir, mutant.file);
  const text = readFileSync(path, 'utf8');
  const at = text.indexOf(mutant.find);
  if (at < 0 || text.indexOf(mutant.find, at + 1) >= 0) {
    throw new Error(
      `mutant ${mutant.name} no longer applies: its text is ${at < 0 ? 'not' : 'more than once'} in ${mutant.file}; update test/sim/mutants.ts`,
    );
  }
  writeFileSync(path, text.slice(0, at) + mutant.replace + text.slice(at + mutant.find.length));
  return dir;
}
