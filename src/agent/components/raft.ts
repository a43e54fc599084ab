// Raft on the anchors: they are the voters (ids 1..N in the order of the configured `anchor` list, the same on
// every node) and hold the authoritative state in the replicated KV store. Other nodes do not run Raft; they learn
// the leader through gossip (the anchors write it into their own sections).
import type { SealedLink } from '../../channel/link.js';
import { RaftServer } from '../../raft/server.js';
import { overLink } from './link.js';
import { degraded, down, up, type Component } from '../component.js';
import { effectiveAnchors, raftPort, type AgentContext } from '../context.js';
import type { Health } from '../supervisor.js';

const tickMs = 100;
/** 10 ticks of 100 ms: a leader is elected about a second after a quorum of anchors is up. */
const electionTicks = 10;

export function raftIdOf(ctx: AgentContext): number {
  return effectiveAnchors(ctx.config).findIndex((a) => a.name === ctx.config.nodeName) + 1;
}

export class RaftComponent implements Component {
  readonly name = 'raft';
  private server: RaftServer | null = null;
  private link: SealedLink | null = null;
  private leaderChanges = 0;

  constructor(private readonly ctx: AgentContext) {}

  async start(): Promise<Health> {
    const { platform, config, journal } = this.ctx;
    const link = this.ctx.link;
    if (link === null) return down('no-link');
    this.link = link;
    const id = raftIdOf(this.ctx);
    const anchors = effectiveAnchors(config);
    const peers = new Map(
      anchors.map((a, i) => [i + 1, { host: a.address.host, port: raftPort(a.address.port) }] as const),
    );
    const started = await RaftServer.start(overLink(platform, link, 'raft'), {
      id,
      peers,
      dataDir: `${config.stateDir}/raft`,
      tickMs,
      electionTicks,
      heartbeatTicks: 1,
      onRole: (status) => {
        this.leaderChanges++;
        journal.record('info', this.name, 'role', {
          role: status.role,
          term: status.term,
          leader: anchors[status.lead - 1]?.name ?? 'none',
        });
      },
    });
    if (!started.ok) {
      journal.record('error', this.name, 'start-failed', {
        reason: started.reason,
        detail: started.detail,
        dir: `${config.stateDir}/raft`,
      });
      return down(started.reason);
    }
    this.server = started.value;
    this.ctx.raft = this.server;
    journal.record('info', this.name, 'started', {
      id,
      voters: anchors.map((a) => a.name).join(','),
      listen: `${config.listen.host}:${raftPort(config.listen.port)}`,
    });
    return this.health();
  }

  stop(): void {
    this.server?.stop();
    this.server = null;
    this.ctx.raft = null;
  }

  health(): Health {
    if (this.server === null) return down('not-running');
    if (this.ctx.link !== this.link) return down('link-restarted');
    return this.server.status().lead === 0 ? degraded('no-leader') : up;
  }

  metrics(): Record<string, number> {
    const s = this.server?.status();
    if (s === undefined) return {};
    return {
      term: s.term,
      commit_index: s.commit,
      applied_index: s.applied,
      leader_changes: this.leaderChanges,
      is_leader: s.role === 'leader' ? 1 : 0,
    };
  }
}
