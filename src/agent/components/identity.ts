// The node's identity: key, certificate chain and trust bundle from the state directory (written by enrolment,
// `x0 cert request` + `x0 ca sign`, or renewal). Not enrolled yet is a degraded agent, not a failed one: gossip
// and Raft run, the uplink waits for a certificate to sign with.
import { loadNodeIdentity, nodeFiles } from '../../identity/store.js';
import type { Certificate } from '../../core/identity/cert.js';
import { validateChain } from '../../core/identity/chain.js';
import { nodeId } from '../../core/identity/spiffe.js';
import { degraded, down, up, type Component } from '../component.js';
import type { AgentContext } from '../context.js';
import type { Health } from '../supervisor.js';

/** A certificate with less than this share of its lifetime left is reported (renewal is due at one half). */
const expiringShare = 0.25;

export class IdentityComponent implements Component {
  readonly name = 'identity';
  private state: Health = down('not-started');

  constructor(private readonly ctx: AgentContext) {}

  async start(): Promise<Health> {
    const { platform, config } = this.ctx;
    const loaded = loadNodeIdentity(platform, config.stateDir);
    if (!loaded.ok) {
      this.ctx.identity = null;
      const files = nodeFiles(config.stateDir);
      const next = loaded.reason === 'file-missing'
        ? `not enrolled: no ${files.chain}; enrol with a join token (x0 cert request --token TOKEN --dir ${config.stateDir}, then x0 ca sign on the CA)`
        : `identity in ${config.stateDir} unusable: ${loaded.reason}`;
      this.ctx.journal.record('warn', this.name, 'not-enrolled', { reason: loaded.reason, dir: config.stateDir, next });
      this.state = degraded(loaded.reason === 'file-missing' ? 'not-enrolled' : loaded.reason);
      return this.state;
    }
    const leaf = loaded.value.chain[0] as Certificate;
    if (leaf.name !== config.nodeName || leaf.trustDomain !== config.trustDomain) {
      this.ctx.identity = null;
      this.ctx.journal.record('error', this.name, 'identity-mismatch', { reason: 'identity-mismatch', certificate: `${leaf.name}@${leaf.trustDomain}`, config: `${config.nodeName}@${config.trustDomain}` });
      this.state = degraded('identity-mismatch');
      return this.state;
    }
    const valid = validateChain(platform.crypto, loaded.value.chain, loaded.value.bundle, platform.wallClockMs());
    if (!valid.ok) {
      this.ctx.identity = null;
      this.ctx.journal.record('error', this.name, 'certificate-invalid', { reason: valid.reason, dir: config.stateDir });
      this.state = degraded(valid.reason);
      return this.state;
    }
    this.ctx.identity = loaded.value;
    this.ctx.journal.record('info', this.name, 'loaded', { node: nodeId(leaf.trustDomain, leaf.name), expires: new Date(leaf.notAfterMs).toISOString() });
    this.state = up;
    return this.health();
  }

  stop(): void {
    this.state = down('stopped');
  }

  health(): Health {
    const identity = this.ctx.identity;
    if (identity === null || this.state.state !== 'up') return this.state;
    const leaf = identity.chain[0] as Certificate;
    const now = this.ctx.platform.wallClockMs();
    if (now >= leaf.notAfterMs) return degraded('cert-expired');
    if (leaf.notAfterMs - now < (leaf.notAfterMs - leaf.notBeforeMs) * expiringShare) return degraded('cert-expiring');
    return up;
  }

  metrics(): Record<string, number> {
    const leaf = this.ctx.identity?.chain[0];
    return leaf === undefined ? { enrolled: 0 } : { enrolled: 1, cert_expires_at_s: Math.floor(leaf.notAfterMs / 1000) };
  }
}
