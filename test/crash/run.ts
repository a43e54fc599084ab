// npm run crash: the crash-consistency test with more kill points than CI (test/crash/crash.node.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWriter, crashPath } from './crash.js';
import { writePaths, type WritePath } from './shared.js';

const help = `Usage: npm run crash -- [--points N] [--seed S] [--path P]...
Kills each write path's writer with SIGKILL at N seeded points (default 200) and checks after each that the
state opens, holds everything acknowledged, is one consistent set and has no temporary file left.
Paths: ${writePaths.join(', ')} (default: all), and ca-cli: the file order \`x0 ca init\` used before issue 16
(one file at a time), which fails. Exit 1 if any invariant failed; each failure names its seed and point.`;

const args = process.argv.slice(2);
let points = 200;
let seed = 1;
const paths: WritePath[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = args[i + 1];
  if (a === '--help' || a === '-h') {
    console.log(help);
    process.exit(0);
  } else if (a === '--points' && value !== undefined && /^\d+$/.test(value)) points = Number(args[++i]);
  else if (a === '--seed' && value !== undefined && /^\d+$/.test(value)) seed = Number(args[++i]);
  else if (a === '--path' && value !== undefined && [...writePaths, 'ca-cli'].includes(value))
    paths.push(args[++i] as WritePath);
  else {
    console.error(`crash: unknown or incomplete option '${a}'\n${help}`);
    process.exit(2);
  }
}

await buildWriter();
const base = mkdtempSync(join(tmpdir(), 'x0-crash-'));
let failed = 0;
console.log(
  `${'path'.padEnd(10)} ${'kill points'.padStart(11)} ${'acked ops'.padStart(10)} ${'seconds'.padStart(8)}  result`,
);
for (const path of paths.length > 0 ? paths : writePaths) {
  const start = Date.now();
  const report = await crashPath(path, base, points, seed);
  const seconds = ((Date.now() - start) / 1000).toFixed(1);
  const result = report.failures.length === 0 ? 'ok' : `FAILED (seed ${seed})`;
  console.log(
    `${path.padEnd(10)} ${String(points).padStart(11)} ${String(report.acked).padStart(10)} ${seconds.padStart(8)}  ${result}`,
  );
  for (const f of report.failures) console.log(`  ${f}`);
  if (report.failures.length > 0) failed++;
}
rmSync(base, { recursive: true, force: true });
process.exit(failed > 0 ? 1 : 0);
