// Remote watches: a client asks a node for the changes under a prefix; the node pushes each change it applies
// as a reply datagram carrying the watch's request id. UDP, so delivery is at most once: a client that must
// not miss anything re-reads with list after a gap in `index`. A watch lapses unless renewed (the same
// request again) within watchLeaseTicks; at most kvWatchersMax are kept.
import { kvWatchersMax } from '../core/raft/limits.js';
import type { KvEvent } from '../core/raft/kv.js';
import type { HostPort } from '../platform/types.js';
import { watchLeaseTicks } from './limits.js';

interface RemoteWatch {
  readonly to: HostPort;
  readonly id: number;
  readonly prefix: string;
  expiresAtTick: number;
}

export class RemoteWatchers {
  private readonly watches = new Map<string, RemoteWatch>();
  private tickNow = 0;

  constructor(private readonly push: (to: HostPort, id: number, event: KvEvent) => void) {}

  get size(): number {
    return this.watches.size;
  }

  /** Adds or renews a watch; false when the table is full. */
  watch(to: HostPort, id: number, prefix: string): boolean {
    const key = `${to.host}:${to.port}/${id}`;
    const existing = this.watches.get(key);
    if (existing === undefined && this.watches.size >= kvWatchersMax) return false;
    this.watches.set(key, existing ?? { to, id, prefix, expiresAtTick: 0 });
    (this.watches.get(key) as RemoteWatch).expiresAtTick = this.tickNow + watchLeaseTicks;
    return true;
  }

  tick(): void {
    this.tickNow++;
    for (const [key, w] of this.watches) if (w.expiresAtTick <= this.tickNow) this.watches.delete(key);
  }

  /** Called for every change applied on this node. */
  changed(event: KvEvent): void {
    for (const w of this.watches.values()) if (event.key.startsWith(w.prefix)) this.push(w.to, w.id, event);
  }
}
