// The node's identity: key, certificate chain and trust bundle from the state directory (written by enrolment,
// `x0 cert request` + `x0 ca sign`, or renewal). Not enrolled and no join token is a degraded agent, not a failed
// one: gossip and Raft run, the uplink waits for a certificate to sign with. With a join token in the config, the
// node enrols over the network at an anchor (registrar.ts) and keeps retrying (with the supervisor's backoff)
// until one answers; a token the mesh has already used is reported with what to do, and not retried.
import { acceptEnrolment, decodeEnrolAnswer, encodeEnrolRequest } from '../../core/identity/enrol.js';
import { createJoinRequest, parseJoinToken } from '../../core/identity/token.js';
import { requestEnrolment } from '../../identity/enrol.js';
import { loadNodeIdentity, nodeFiles, saveNodeIdentity } from '../../identity/store.js';
import type { Certificate } from '../../core/identity/cert.js';
import { validateChain } from '../../core/identity/chain.js';
import { nodeId } from '../../core/identity/spiffe.js';
import { degraded, down, up, type Component } from '../component.js';
import { effectiveAnchors, enrolPort, type AgentContext } from '../context.js';
import type { Health } from '../supervisor.js';
import type { KeyPair } from '../../platform/types.js';

/** A certificate with less than this share of its lifetime left is reported (renewal is due at one half). */
const expiringShare = 0.25;

export class IdentityComponent implements Component {
  readonly name = 'identity';
  private state: Health = down('not-started');
  private enrolKeys: { readonly sign: KeyPair; readonly box: KeyPair } | null = null;

  /** onEnrolled: told once a certificate was obtained over the network (the agent restarts what needs it). */
  constructor(
    private readonly ctx: AgentContext,
    private readonly onEnrolled: () => void = () => {},
  ) {}

  async start(): Promise<Health> {
    const { platform, config } = this.ctx;
    let loaded = loadNodeIdentity(platform, config.stateDir);
    if (!loaded.ok && loaded.reason === 'file-missing' && config.joinToken !== null) {
      const enrolled = await this.enrol(config.joinToken);
      if (enrolled.state !== 'up') return (this.state = enrolled);
      loaded = loadNodeIdentity(platform, config.stateDir);
      if (loaded.ok) this.onEnrolled();
    }
    if (!loaded.ok) {
      this.ctx.identity = null;
      const files = nodeFiles(config.stateDir);
      const next =
        loaded.reason === 'file-missing'
          ? `not enrolled: no ${files.chain}; enrol with a join token (x0 cert request --token TOKEN --state-dir ${config.stateDir}, then x0 ca sign on the CA)`
          : `identity in ${config.stateDir} unusable: ${loaded.reason}`;
      this.ctx.journal.record('warn', this.name, 'not-enrolled', { reason: loaded.reason, dir: config.stateDir, next });
      this.state = degraded(loaded.reason === 'file-missing' ? 'not-enrolled' : loaded.reason);
      return this.state;
    }
    const leaf = loaded.value.chain[0] as Certificate;
    if (leaf.name !== config.nodeName || leaf.trustDomain !== config.trustDomain) {
      this.ctx.identity = null;
      this.ctx.journal.record('error', this.name, 'identity-mismatch', {
        reason: 'identity-mismatch',
        certificate: `${leaf.name}@${leaf.trustDomain}`,
        config: `${config.nodeName}@${config.trustDomain}`,
      });
      this.state = degraded('identity-mismatch');
      return this.state;
    }
    const valid = validateChain(platform.crypto, loaded.value.chain, loaded.value.bundle, platform.wallClockMs());
    if (!valid.ok) {
      this.ctx.identity = null;
      this.ctx.journal.record('error', this.name, 'certificate-invalid', {
        reason: valid.reason,
        dir: config.stateDir,
      });
      this.state = degraded(valid.reason);
      return this.state;
    }
    this.ctx.identity = loaded.value;
    this.ctx.journal.record('info', this.name, 'loaded', {
      node: nodeId(leaf.trustDomain, leaf.name),
      expires: new Date(leaf.notAfterMs).toISOString(),
    });
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

  /** One round over the anchors with this node's join token; up once one of them issued a certificate. */
  private async enrol(tokenText: string): Promise<Health> {
    const { platform, config, journal } = this.ctx;
    const token = parseJoinToken(platform.crypto, tokenText);
    if (!token.ok) {
      journal.record('error', this.name, 'token-unusable', {
        reason: token.reason,
        option: 'agent.join_token',
        next: 'ask the operator for a new token (x0 ca issue-token --node NAME)',
      });
      return degraded(token.reason);
    }
    const anchors = effectiveAnchors(config).filter((a) => a.name !== config.nodeName);
    if (anchors.length === 0) return degraded('no-anchor-to-enrol-at');
    // The same keys on every attempt: an anchor that recorded the token for them answers a retry again.
    const keys =
      this.enrolKeys ?? (this.enrolKeys = { sign: platform.crypto.signKeyPair(), box: platform.crypto.boxKeyPair() });
    const request = encodeEnrolRequest(createJoinRequest(platform.crypto, token.value, keys, platform.wallClockMs()));
    let last = 'no-answer';
    for (const anchor of anchors) {
      const at = { host: anchor.address.host, port: enrolPort(anchor.address.port) };
      const answered = await requestEnrolment(platform, at, request);
      if (!answered.ok) {
        last = `${anchor.name}:${answered.reason}`;
        continue;
      }
      const answer = decodeEnrolAnswer(platform.crypto, answered.value);
      if (!answer.ok) {
        last = `${anchor.name}:${answer.reason}`;
        continue;
      }
      if (!answer.value.ok) {
        last = `${anchor.name}:${answer.value.reason}`;
        if (answer.value.reason === 'token-used' || answer.value.reason === 'token-expired') {
          journal.record('error', this.name, 'enrolment-refused', {
            reason: answer.value.reason,
            anchor: anchor.name,
            next: `the token cannot be used again: ask the operator for a new one (x0 ca issue-token --node ${config.nodeName}) and put it in option join_token`,
          });
          return degraded(answer.value.reason);
        }
        continue;
      }
      const accepted = acceptEnrolment(
        platform.crypto,
        answer.value,
        { token: token.value, signPublicKey: keys.sign.publicKey },
        platform.wallClockMs(),
      );
      if (!accepted.ok) {
        last = `${anchor.name}:${accepted.reason}`;
        journal.record('warn', this.name, 'enrolment-answer-refused', { reason: accepted.reason, anchor: anchor.name });
        continue;
      }
      const mkdir = platform.files.mkdirp(config.stateDir);
      const failed =
        mkdir !== null
          ? `cannot write ${config.stateDir}: ${mkdir}`
          : // One set: the bundle is written before the chain, so a stop between them never leaves a chain without it.
            saveNodeIdentity(platform, config.stateDir, keys, accepted.value.chain, accepted.value.bundle);
      if (failed !== null) {
        journal.record('error', this.name, 'enrolment-not-stored', {
          reason: failed,
          next: `make ${config.stateDir} writable; the agent asks again`,
        });
        return down('state-dir-not-writable');
      }
      journal.record('info', this.name, 'enrolled', {
        anchor: anchor.name,
        expires: new Date((accepted.value.chain[0] as Certificate).notAfterMs).toISOString(),
      });
      return up;
    }
    journal.record('warn', this.name, 'enrolment-failed', {
      reason: last,
      anchors: anchors.map((a) => a.name).join(','),
    });
    return down(`enrolment-failed:${last}`);
  }

  metrics(): Record<string, number> {
    const leaf = this.ctx.identity?.chain[0];
    return leaf === undefined
      ? { enrolled: 0 }
      : { enrolled: 1, cert_expires_at_s: Math.floor(leaf.notAfterMs / 1000) };
  }
}
