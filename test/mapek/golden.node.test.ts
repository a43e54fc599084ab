// Golden traces (etcd-raft's testdata style): each test/mapek/golden/*.txt holds a scenario's commands, a
// line '----', and the trace the simulation (sim.ts) gives for it: probe verdicts, decisions with their
// reasons, executions, outcomes, incidents. They read like documentation of what the MAPE-K core does.
// After an intended change, regenerate them and read the diff:
//   X0_GOLDEN_UPDATE=1 node --import tsx node_modules/uvu/bin.js test/mapek 'golden\.node\.test\.ts$'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatTrace, runScenario } from './sim.js';

const dir = join(import.meta.dirname, 'golden');
const update = process.env.X0_GOLDEN_UPDATE === '1';
const separator = '\n----\n';

const files = readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .sort();

test('there are golden traces for every kind of trouble', () => {
  for (const name of [
    'link-cut',
    'flap',
    'damping',
    'flood',
    'auth',
    'anchor',
    'breaker',
    'component',
    'wedge',
    'steady',
    'peers',
  ]) {
    assert.ok(files.includes(`${name}.txt`), `test/mapek/golden/${name}.txt is missing`);
  }
});

for (const file of files) {
  test(`golden trace ${file}`, () => {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    const at = text.indexOf(separator);
    const commands = at < 0 ? text.trimEnd() : text.slice(0, at);
    const expected = at < 0 ? null : text.slice(at + separator.length).trimEnd();
    const result = runScenario(commands);
    assert.equal(result.violations, [], `${file}: invariants broken`);
    const actual = formatTrace(result.trace);
    if (update || expected === null) {
      writeFileSync(path, `${commands}${separator}${actual}\n`);
      return;
    }
    if (actual !== expected) {
      const a = actual.split('\n');
      const e = expected.split('\n');
      let i = 0;
      while (i < a.length && a[i] === e[i]) i++;
      console.error(
        `\n${file}: first difference at trace line ${i + 1}\n  expected: ${e[i] ?? '(end)'}\n  actual:   ${a[i] ?? '(end)'}\n` +
          `regenerate (then read the diff) with:\n  X0_GOLDEN_UPDATE=1 node --import tsx node_modules/uvu/bin.js test/mapek 'golden\\.node\\.test\\.ts$'\n`,
      );
    }
    assert.is(actual, expected, `${file} differs from its golden trace`);
  });
}

test.run();
