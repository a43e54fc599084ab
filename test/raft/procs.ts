// Node-only helpers that run real Raft nodes as processes (`x0 raft serve`) on loopback, on Node or on
// x0-runtime with the shipped bundle, and talk to them with the real UDP client. Used by the three-process
// test and by bench/raft.bench.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { RaftClient } from '../../src/raft/client.js';
import type { NodeStatus } from '../../src/raft/protocol.js';
import { bundlePath, freePort, root, runtimePath } from '../lib/processes.js';

export type Engine = 'node' | 'qjs';

export interface ProcNode {
  readonly id: number;
  readonly dataDir: string;
  child: ChildProcess | null;
  output: string;
}

export class ProcCluster {
  readonly nodes: ProcNode[] = [];
  readonly platform = { ...createNodePlatform({ argv: [] }), stdout: () => {}, stderr: () => {} };
  private dir = '';
  peers = new Map<number, { host: string; port: number }>();

  /** voters: the founding voters (all nodes when absent); the others start outside the configuration. */
  constructor(
    readonly engine: Engine,
    readonly size: number,
    readonly voters: readonly number[] | null = null,
  ) {}

  get peersArg(): string {
    return [...this.peers].map(([id, a]) => `${id}=${a.host}:${a.port}`).join(',');
  }

  async start(): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), `x0-raft-${this.engine}-`));
    for (let id = 1; id <= this.size; id++) {
      this.peers.set(id, { host: '127.0.0.1', port: await freePort() });
      this.nodes.push({ id, dataDir: join(this.dir, `node${id}`), child: null, output: '' });
    }
    for (const node of this.nodes) this.launch(node);
  }

  argv(node: ProcNode): string[] {
    const voters = this.voters === null ? [] : ['--voters', this.voters.join(',')];
    const args = [
      'raft',
      'serve',
      '--plain',
      '--id',
      String(node.id),
      '--peers',
      this.peersArg,
      '--data',
      node.dataDir,
      ...voters,
    ];
    return this.engine === 'node'
      ? ['node', '--import', 'tsx', `${root}src/entry/node.ts`, ...args]
      : [runtimePath, bundlePath, ...args];
  }

  launch(node: ProcNode): void {
    const [cmd, ...args] = this.argv(node);
    const child = spawn(cmd as string, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    node.child = child;
    node.output = '';
    child.stdout?.on('data', (chunk) => {
      node.output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      node.output += chunk;
    });
  }

  /** SIGKILL: no shutdown path runs, like a power cut for everything not yet fsynced. */
  async kill(node: ProcNode): Promise<void> {
    const child = node.child;
    if (child === null || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
    node.child = null;
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) await this.kill(node);
    rmSync(this.dir, { recursive: true, force: true });
  }

  async client(): Promise<RaftClient> {
    return RaftClient.open(this.platform, this.peers, { attemptTimeoutMs: 500, attempts: 40 });
  }

  async status(client: RaftClient, id: number): Promise<NodeStatus | null> {
    const result = await client.status(id);
    return result.ok ? result.value : null;
  }

  /** Waits until a running node reports itself leader (and returns it), or throws after timeoutMs. */
  async waitForLeader(client: RaftClient, timeoutMs: number, exclude: readonly number[] = []): Promise<NodeStatus> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      for (const node of this.nodes) {
        if (node.child === null || exclude.includes(node.id)) continue;
        const status = await this.status(client, node.id);
        if (status?.role === 'leader') return status;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(
      `no leader within ${timeoutMs} ms; outputs:\n${this.nodes.map((n) => `[${n.id}] ${n.output}`).join('\n')}`,
    );
  }

  /** Waits until node id has applied at least `index`. */
  async waitForApplied(client: RaftClient, id: number, index: number, timeoutMs: number): Promise<NodeStatus> {
    const until = Date.now() + timeoutMs;
    let last: NodeStatus | null = null;
    while (Date.now() < until) {
      last = await this.status(client, id);
      if (last !== null && last.applied >= index) return last;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`node ${id} did not apply ${index} within ${timeoutMs} ms (last status ${JSON.stringify(last)})`);
  }
}
