// What the writer and the checker agree on.
/** The wall clock the writers stamp with (fixed: the checks compare values, not times). */
export const wallMs = 1_800_000_000_000;
/** Write paths the crash test kills; ca-cli is the order `x0 ca init` used before issue 16 (not in CI). */
export const writePaths = ['raft', 'gossip', 'identity', 'ca', 'knowledge'] as const;
export type WritePath = (typeof writePaths)[number] | 'ca-cli';
