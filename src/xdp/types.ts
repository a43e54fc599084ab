// What the x0-xdp helper reports, as the agent sees it (camelCase; the helper's JSON is snake_case). The JSON
// format itself is described in docs/xdp.md.

/** Failures, as stable reason codes. The first group is the helper's own (its JSON "error", one per exit
 * code); the second is the binding's (the helper could not be run or answered something unusable); the
 * third is input the binding refused before running anything. */
export type XdpReason =
  | 'failed'
  | 'usage'
  | 'not-permitted'
  | 'bpffs-not-mounted'
  | 'unknown-interface'
  | 'verifier-rejected'
  | 'interface-busy'
  | 'not-loaded'
  | 'bpf-unavailable'
  | 'map-full'
  | 'mode-unsupported'
  | 'locked'
  | 'helper-not-found'
  | 'helper-timeout'
  | 'helper-killed'
  | 'helper-output-truncated'
  /** x0-xdp serve: sessionQueueMax requests already waited for the helper; this one was not sent. */
  | 'helper-busy'
  | 'helper-bad-json'
  | 'helper-bad-shape'
  | 'bad-mac'
  | 'bad-reason'
  | 'bad-ttl'
  | 'bad-interface'
  | 'bad-mode'
  | 'bad-rule';

/** Helper exit code -> reason (bpf/README.md lists the exit codes). */
export const helperReasons: readonly XdpReason[] = [
  'failed',
  'failed',
  'usage',
  'not-permitted',
  'bpffs-not-mounted',
  'unknown-interface',
  'verifier-rejected',
  'interface-busy',
  'not-loaded',
  'bpf-unavailable',
  'map-full',
  'mode-unsupported',
  'locked',
];

export interface XdpFailure {
  readonly reason: XdpReason;
  readonly message: string;
  /** Present for 'verifier-rejected': the start of the kernel's verifier log. */
  readonly verifierLog?: string;
}

export type XdpMode = 'native' | 'generic' | 'auto';

export interface XdpAttachResult {
  readonly ifname: string;
  readonly ifindex: number;
  /** What the kernel reports: native, generic (or offload / multi on exotic hardware). */
  readonly mode: string;
  readonly progId: number;
  readonly linkId: number;
  /** True when our program was attached already (attach is idempotent). */
  readonly already: boolean;
}

/** One `x0-xdp block` run: every MAC it blocked, each with whether it was blocked before. */
export interface XdpBlockResult {
  readonly macs: readonly { readonly mac: string; readonly already: boolean }[];
  readonly reason: string;
  readonly ttlS: number | null;
}

export interface XdpTotals {
  readonly packets: number;
  readonly bytes: number;
  readonly passed: number;
  readonly droppedBlocked: number;
  readonly droppedRate: number;
  readonly batmanPackets: number;
  readonly malformed: number;
  readonly countersFull: number;
  readonly blocksExpired: number;
}

export interface XdpSourceStats {
  readonly mac: string;
  readonly packets: number;
  readonly bytes: number;
  readonly drops: number;
  readonly droppedBlocked: number;
  readonly droppedRate: number;
  readonly batmanPackets: number;
  /** Milliseconds since the last frame from this source (coarse clock, ~4 ms resolution). */
  readonly idleMs: number;
}

export interface XdpStats {
  readonly totals: XdpTotals;
  readonly sources: readonly XdpSourceStats[];
  readonly sourcesMax: number;
}

export type XdpRuleSelector =
  | { readonly match: 'ethertype'; readonly ethertype: number }
  | { readonly match: 'udp-dport'; readonly portLo: number; readonly portHi: number };

export type XdpLimit = XdpRuleSelector & {
  readonly index: number;
  readonly ratePps: number;
  readonly burst: number;
  readonly matched: number;
  readonly dropped: number;
};

export interface XdpInterface {
  readonly ifname: string;
  readonly ifindex: number;
  readonly mode: string;
  readonly progId: number;
  readonly linkId: number;
  /** defunct: the interface went away; the next attach or detach removes the pin. */
  readonly state: 'attached' | 'defunct';
}

export interface XdpBlockEntry {
  readonly mac: string;
  readonly reason: string;
  readonly drops: number;
  readonly ageS: number;
  /** Seconds left, null for a block without expiry. */
  readonly ttlS: number | null;
}

export interface XdpMapFill {
  readonly entries: number;
  readonly maxEntries: number;
}

export interface XdpStatus {
  readonly version: string;
  readonly pinDir: string;
  readonly loaded: boolean;
  /** runCount/runTimeNs grow only while BPF run-time statistics are on (kernel.bpf_stats_enabled). */
  readonly program: {
    readonly id: number;
    readonly name: string;
    readonly tag: string;
    readonly runCount: number;
    readonly runTimeNs: number;
  } | null;
  readonly interfaces: readonly XdpInterface[];
  readonly blocklist: readonly XdpBlockEntry[];
  readonly blocklistExpired: number;
  readonly limits: readonly XdpLimit[];
  readonly maps: Readonly<Record<string, XdpMapFill>>;
}
