// Enrolment on an anchor (docs/protocol/identity.md, "Enrolment over the network"): new nodes that hold only a join
// token connect to an anchor on its listen port + 2 and get their certificate from the anchor's issuing key
// (an intermediate made by `x0 ca intermediate`, in STATE_DIR/issuer; the root key stays offline with the
// operator). A token is good once mesh-wide: before an answer leaves, the anchor records the token id in Raft with a
// compare-and-set from absent, so of two anchors redeeming the same token at the same moment exactly one succeeds.
import { decodeEnrolRequest, encodeEnrolAnswer } from '../../core/identity/enrol.js';
import { Registrar } from '../../core/identity/registrar.js';
import { decodeJoinRequest, issueJoinToken } from '../../core/identity/token.js';
import { limits } from '../../core/identity/limits.js';
import { isName } from '../../core/identity/spiffe.js';
import { toHex } from '../../core/wire/hex.js';
import { serveEnrolment, type EnrolService } from '../../identity/enrol.js';
import { caFiles, loadBundle, loadIssuer } from '../../identity/store.js';
import type { Issuer } from '../../core/identity/ca.js';
import type { TrustBundle } from '../../core/identity/chain.js';
import { degraded, down, up, type Component } from '../component.js';
import { enrolPort, type AgentContext } from '../context.js';
import type { Health } from '../supervisor.js';

export const issuerDir = (stateDir: string): string => `${stateDir}/issuer`;
/** The Raft key that marks a token id as redeemed (its value: the node it enrolled). */
export const usedTokenKey = (tokenIdHex: string): string => `enrol/token/${tokenIdHex}`;

export class RegistrarComponent implements Component {
  readonly name = 'registrar';
  private service: EnrolService | null = null;
  /** This anchor's client identity for its Raft writes (idempotent per sequence number). */
  private readonly clientId: number;
  private seq = 0;
  private issuer: Issuer | null = null;
  private bundle: TrustBundle | null = null;
  private issued = 0;
  private refused = 0;
  /** The compare-and-set requests of this registrar, one after the other (markUsed). */
  private casQueue: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: AgentContext) {
    const b = ctx.platform.randomBytes(6);
    this.clientId = b.reduce((n, x) => n * 256 + x, 0) + 1;
  }

  async start(): Promise<Health> {
    const { platform, config, journal } = this.ctx;
    const dir = issuerDir(config.stateDir);
    const issuer = loadIssuer(platform, dir);
    if (typeof issuer === 'string') return degraded(`no-issuer: ${issuer}`);
    const bundle = loadBundle(platform, caFiles(dir).bundle);
    if (!bundle.ok) return degraded(`no-issuer: ${caFiles(dir).bundle}: ${bundle.reason}`);
    this.issuer = issuer;
    this.bundle = bundle.value;
    const listen = { host: config.listen.host, port: enrolPort(config.listen.port) };
    this.service = await serveEnrolment(platform, listen, (request, peer) =>
      this.redeem(request, `${peer.host}:${peer.port}`),
    );
    journal.record('info', this.name, 'started', {
      listen: `${listen.host}:${listen.port}`,
      issuer: issuer.cert.subject,
    });
    return up;
  }

  stop(): void {
    this.service?.close();
    this.service = null;
  }

  health(): Health {
    return this.service === null ? down('not-running') : up;
  }

  metrics(): Record<string, number> {
    return { issued: this.issued, refused: this.refused };
  }

  /** Compare-and-set from absent in Raft, through this anchor's own server (which forwards to the leader); a few
   * tries while there is no leader (an election takes about a second), within the node's 5 s request timeout. */
  private markUsed(key: string, value: string): Promise<{ ok: boolean; prev: string | null } | null> {
    // One request in flight per client id (Raft thesis §6.3 sessions): the store answers a sequence number below
    // the session's latest with kv-stale-seq, which two nodes enrolling at once at this anchor read as token-used.
    const turn = this.casQueue.then(() => this.markUsedNow(key, value));
    this.casQueue = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  private async markUsedNow(key: string, value: string): Promise<{ ok: boolean; prev: string | null } | null> {
    const seq = ++this.seq;
    for (let attempt = 0; attempt < 6; attempt++) {
      const server = this.ctx.raft;
      const reply =
        server === null
          ? null
          : await server.submitLocal(
              { op: 'write', client: this.clientId, seq, command: { op: 'cas', key, expected: null, value } },
              600,
            );
      if (reply !== null && 'write' in reply) return reply.write;
      await new Promise<void>((resolve) => {
        this.ctx.platform.setTimer(150, resolve);
      });
    }
    return null;
  }

  /** A one-time join token for a new node, signed by this anchor's issuing key (redeemable at this anchor). */
  token(
    node: string,
    ttlS: number | null,
  ): { ok: boolean; reason: string | null; token?: string; expires_at?: number } {
    const { platform, journal } = this.ctx;
    if (this.issuer === null) return { ok: false, reason: 'no-issuer' };
    if (!isName(node)) return { ok: false, reason: 'bad-node-name' };
    const ttlMs = ttlS === null ? limits.tokenTtlMsDefault : ttlS * 1000;
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0 || ttlMs > limits.tokenTtlMsMax)
      return { ok: false, reason: 'bad-ttl' };
    const nowMs = platform.wallClockMs();
    const issued = issueJoinToken(platform.crypto, this.issuer, {
      name: node,
      nowMs,
      ttlMs,
      roles: ['member'],
      redeemer: this.issuer.cert.subject,
    });
    journal.record('info', this.name, 'token-issued', { node, ttl_s: Math.round(ttlMs / 1000) });
    return { ok: true, reason: null, token: issued.text, expires_at: Math.floor((nowMs + ttlMs) / 1000) };
  }

  private async redeem(bytes: Uint8Array, from: string): Promise<Uint8Array> {
    const { platform, journal } = this.ctx;
    const refuse = (reason: string): Uint8Array => {
      this.refused++;
      journal.record('warn', this.name, 'refused', { reason, from });
      return encodeEnrolAnswer({ ok: false, reason });
    };
    const request = decodeEnrolRequest(bytes);
    if (!request.ok) return refuse(request.reason);
    const join = decodeJoinRequest(request.value);
    if (!join.ok) return refuse(join.reason);
    // A fresh registrar per request: the mesh-wide used-token set is in Raft, not in this anchor's memory.
    const registrar = new Registrar(platform.crypto, this.issuer as Issuer, this.bundle as TrustBundle);
    const issued = registrar.redeem(request.value, platform.wallClockMs());
    if (!issued.ok) return refuse(issued.reason);
    const node = issued.value.certificate.name;
    // The value names the node and its new key: the same node retrying with the same key (its first answer was
    // lost) is answered again; any other redemption of the token is refused.
    const value = `${node} ${toHex(join.value.signPublicKey)}`;
    const marked = await this.markUsed(usedTokenKey(toHex(join.value.token.tokenId)), value);
    if (marked === null) return refuse('no-quorum');
    if (!marked.ok && marked.prev !== value) return refuse('token-used');
    this.issued++;
    journal.record('info', this.name, 'enrolled', { node, serial: toHex(issued.value.certificate.serial), from });
    return encodeEnrolAnswer({ ok: true, chain: issued.value.chain, bundle: this.bundle as TrustBundle });
  }
}
