// The agent's budgets (issue 14): `x0 agent` on x0-runtime from bytecode, as a router runs it, with 0, 10 and 50
// static peers on loopback (the peers are UDP sockets of this process that answer nothing: the agent gossips at
// them, counts them silent and keeps running). Measured per run: time from spawn to the agent's own `agent ready`
// line (every component has started once), resident memory (VmRSS, and its growth per peer), and CPU while idle
// (utime + stime over a 20 s window after a 10 s settle, as a share of one core).
// Usage: node --import tsx bench/agent.bench.ts [--runs N] [--idle-s N]
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enrol, ubusdPath } from '../test/agent/lib.js';
import { root, runtimePath } from '../test/lib/processes.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const runs = option('--runs', 3);
const idleS = option('--idle-s', 20);
const bytecode = join(root, 'build/x0tta6bl4.jsbc');
const ticksPerS = 100; // CLK_TCK on Linux
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function procStat(pid: number): { rssKb: number; cpuTicks: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return { rssKb, cpuTicks: Number(fields[11]) + Number(fields[12]) };
}

async function once(dir: string, peers: number): Promise<{ readyMs: number; rssKb: number; idleCpu: number }> {
  const sockets: dgram.Socket[] = [];
  const base = 30_000 + Math.floor(Math.random() * 20_000);
  for (let i = 0; i < peers; i++) {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => {
      s.once('error', () => resolve());
      s.bind(base + 10 * (i + 1), '127.0.0.1', resolve);
    });
    sockets.push(s);
  }
  const config = join(dir, 'bench.uci');
  writeFileSync(
    config,
    `config agent 'main'
	option node_name 'bench'
	option role 'anchor'
	option state_dir '${dir}/bench/state'
	option trust_domain 'bench.x0'
	option listen '127.0.0.1:${base}'
	option ubus_socket '${dir}/ubus.sock'
${Array.from({ length: peers }, (_, i) => `\tlist static_peer 'p${i}@127.0.0.1:${base + 10 * (i + 1)}'\n`).join('')}`,
  );
  rmSync(join(dir, 'bench/state/gossip'), { recursive: true, force: true });
  rmSync(join(dir, 'bench/state/raft'), { recursive: true, force: true });
  const t0 = performance.now();
  const agent = spawn(runtimePath, [bytecode, 'agent', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  let readyMs = -1;
  agent.stderr.on('data', (c) => {
    log += c;
    if (readyMs < 0 && / agent ready /.test(log)) readyMs = performance.now() - t0;
  });
  for (let i = 0; i < 100 && readyMs < 0; i++) await sleep(50);
  if (readyMs < 0) throw new Error(`agent not ready in 5 s:\n${log}`);
  await sleep(10_000);
  const a = procStat(agent.pid as number);
  await sleep(idleS * 1000);
  const b = procStat(agent.pid as number);
  agent.kill('SIGTERM');
  for (const s of sockets) s.close();
  await new Promise((r) => agent.once('close', r));
  return { readyMs, rssKb: b.rssKb, idleCpu: (b.cpuTicks - a.cpuTicks) / ticksPerS / idleS };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  if (!existsSync(bytecode))
    throw new Error(
      `${bytecode} is missing: run bash scripts/start.sh once, or x0-runtime --compile dist/x0tta6bl4.js -o ${bytecode}`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'x0-agent-bench-'));
  const ubusd = spawn(ubusdPath, ['-s', join(dir, 'ubus.sock')], {
    stdio: 'ignore',
    env: { ...process.env, LD_LIBRARY_PATH: join(root, 'build/openwrt/prefix/lib') },
  });
  try {
    await enrol(dir, 'bench.x0', ['bench']);
    console.log(
      `x0 agent on x0-runtime (bytecode), lone anchor with its own ubusd; ${runs} runs per row, idle window ${idleS} s`,
    );
    console.log('| static peers | ready ms (median, min-max) | RSS KB (median) | idle CPU % of one core (median) |');
    console.log('|---:|---:|---:|---:|');
    const rss: Record<number, number> = {};
    for (const peers of [0, 10, 50]) {
      const results = [];
      for (let r = 0; r < runs; r++) results.push(await once(dir, peers));
      const ready = results.map((x) => x.readyMs);
      rss[peers] = median(results.map((x) => x.rssKb));
      console.log(
        `| ${peers} | ${median(ready).toFixed(0)} (${Math.min(...ready).toFixed(0)}-${Math.max(...ready).toFixed(0)}) | ${rss[peers]} | ${(100 * median(results.map((x) => x.idleCpu))).toFixed(2)} |`,
      );
    }
    console.log(
      `RSS growth per peer: ${(((rss[50] as number) - (rss[0] as number)) / 50).toFixed(1)} KB (0 -> 50 peers); budgets: RSS <= 8192 KB with 50 peers, idle CPU < 1 %, ready < 1000 ms`,
    );
  } finally {
    ubusd.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
