// Follows the mesh's signed revocation list in a file (the CA's ca/revocations.cbor, or a copy) for `x0 watch`
// and `x0 exporter`: read at start and again every pollMs; a newer list that verifies against the trust bundle
// replaces the one in use, anything else is refused by reason, counted and logged, and the list in use stays.
// Polling rather than inotify: the CA replaces the file by rename (writeAtomic), which a watch on the old inode
// would miss, and one small read a second costs nothing. Engine-neutral (platform files and timers).
import type { Counters } from '../core/result.js';
import type { TrustBundle } from '../core/identity/chain.js';
import type { RevocationStore } from '../core/identity/revocation.js';
import { bytesEqual } from '../core/identity/canonical.js';
import type { Platform, TimerHandle } from '../platform/types.js';

/** How often the file is read again; a revocation reaches the consumer within this. */
export const revocationPollMsDefault = 1_000;

export class RevocationFollower {
  private lastBytes: Uint8Array | null = null;
  private missingLogged = false;
  private timer: TimerHandle | null = null;

  constructor(
    private readonly platform: Platform,
    readonly path: string,
    private readonly bundle: TrustBundle,
    private readonly store: RevocationStore,
    private readonly refusals: Counters,
  ) {}

  /** Reads the file once; true when a newer list was taken. */
  poll(): boolean {
    const log = this.platform.logger;
    let bytes: Uint8Array | null;
    try {
      bytes = this.platform.files.read(this.path);
    } catch (error) {
      this.refusals.add('revocation-unreadable');
      log.log('warn', `revocations: cannot read ${this.path}; keeping version ${this.store.version}`, {
        error: String(error),
      });
      return false;
    }
    if (bytes === null) {
      if (!this.missingLogged)
        log.log(
          this.store.version > 0 ? 'warn' : 'info',
          `revocations: no list at ${this.path} ${this.store.version > 0 ? `any more; keeping version ${this.store.version}` : 'yet; following it'}`,
        );
      this.missingLogged = true;
      this.lastBytes = null;
      return false;
    }
    this.missingLogged = false;
    if (this.lastBytes !== null && bytesEqual(this.lastBytes, bytes)) return false;
    this.lastBytes = bytes;
    const offered = this.store.offerBytes(this.platform.crypto, bytes, this.bundle);
    if (!offered.ok) {
      this.refusals.add(offered.reason);
      log.log('warn', `revocations: ${this.path} refused: ${offered.reason}; keeping version ${this.store.version}`, {
        hint:
          offered.reason === 'revocation-stale'
            ? 'the file is not newer than the list in use'
            : "is it the list of this mesh's CA (x0 ca revoke)?",
      });
      return false;
    }
    log.log('info', `revocations: ${this.path} version ${offered.value.version} in use`, {
      nodes: offered.value.nodeIds.length,
      serials: offered.value.serials.length,
    });
    return true;
  }

  /** Polls now and then every pollMs until stop(). */
  start(pollMs = revocationPollMsDefault): void {
    this.poll();
    const again = (): void => {
      this.timer = this.platform.setTimer(pollMs, () => {
        this.poll();
        if (this.timer !== null) again();
      });
    };
    again();
  }

  stop(): void {
    if (this.timer !== null) this.platform.clearTimer(this.timer);
    this.timer = null;
  }
}
