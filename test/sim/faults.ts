// Fault mixes for the Raft simulator: each names how hostile the network, the disks and the operators are
// while faults are on. After `faultsUntilMs` everything heals and the liveness bound starts.

export interface Faults {
  readonly lossRate: number;
  readonly duplicateRate: number;
  /** Per-message delay; a wide range reorders messages. */
  readonly delayMs: readonly [number, number];
  /** How often the partition changes (a new random split, one-way cuts, or healed); null: never. */
  readonly partitionEveryMs: number | null;
  readonly crashEveryMs: number | null;
  readonly downMs: readonly [number, number];
  /** Time an fsync takes; a crash before it completes loses (part of) the write. */
  readonly diskMs: readonly [number, number];
  readonly membershipEveryMs: number | null;
  readonly transferEveryMs: number | null;
  /** A node compacts its log into a snapshot every this many applied entries. */
  readonly compactEvery: number;
  /** Crashes pick a node with a write in flight (between its Ready and the fsync) when there is one. */
  readonly crashTargetsWrites?: boolean;
  /** Chance that a node crashes right after its write is durable and before it sends what waited for it. */
  readonly crashAfterPersistRate?: number;
  /** Overrides of the run's client count and key count (contention: many clients, one key). */
  readonly clients?: number;
  readonly keys?: number;
  /** Entries per append message (1: every entry travels alone, so replication and commit interleave most). */
  readonly appendEntriesMax?: number;
  /** Chance that a node granting a vote crashes right after its Ready's early messages left, before the fsync. */
  readonly crashOnVoteRate?: number;
  /** Plain elections (no PreVote, no CheckQuorum): more candidates per term, so a lost vote matters more. */
  readonly plainElections?: boolean;
}

const calm: Faults = {
  lossRate: 0,
  duplicateRate: 0,
  delayMs: [1, 10],
  partitionEveryMs: null,
  crashEveryMs: null,
  downMs: [0, 0],
  diskMs: [0, 2],
  membershipEveryMs: null,
  transferEveryMs: null,
  compactEvery: 200,
};

export const faultMixes: Readonly<Record<string, Faults>> = {
  calm,
  lossy: { ...calm, lossRate: 0.15, duplicateRate: 0.05, delayMs: [1, 80] },
  partition: { ...calm, lossRate: 0.02, delayMs: [1, 30], partitionEveryMs: 2500 },
  crash: { ...calm, delayMs: [1, 20], crashEveryMs: 2000, downMs: [300, 4000], diskMs: [0, 40] },
  membership: { ...calm, lossRate: 0.05, delayMs: [1, 30], membershipEveryMs: 1200, compactEvery: 40 },
  snapshot: {
    ...calm,
    lossRate: 0.05,
    delayMs: [1, 30],
    partitionEveryMs: 3000,
    crashEveryMs: 3500,
    downMs: [500, 3000],
    compactEvery: 8,
  },
  transfer: { ...calm, lossRate: 0.05, delayMs: [1, 30], transferEveryMs: 1500 },
  // Many clients on one key: every write conflicts, reads race writes, the checker's hardest history.
  contention: {
    ...calm,
    lossRate: 0.05,
    duplicateRate: 0.02,
    delayMs: [1, 40],
    partitionEveryMs: 3000,
    clients: 10,
    keys: 1,
  },
  // One entry per append with loss and reordering, crashes and compaction: commit and replication interleave.
  single: {
    ...calm,
    lossRate: 0.1,
    duplicateRate: 0.05,
    delayMs: [1, 60],
    crashEveryMs: 2500,
    downMs: [200, 2000],
    diskMs: [0, 30],
    compactEvery: 30,
    appendEntriesMax: 1,
  },
  // Crashes aimed at the fsync window, and right after it before the messages that waited for it go out.
  persist: {
    ...calm,
    delayMs: [1, 20],
    crashEveryMs: 700,
    downMs: [50, 600],
    diskMs: [5, 60],
    crashTargetsWrites: true,
    crashAfterPersistRate: 0.02,
  },
  // Plain elections under frequent partitions, crashes aimed at nodes whose granted vote is not yet durable.
  'vote-crash': {
    ...calm,
    delayMs: [1, 60],
    partitionEveryMs: 300,
    downMs: [1, 10],
    diskMs: [5, 40],
    crashOnVoteRate: 0.8,
    plainElections: true,
  },
  // Leadership transfers while the network splits and heals.
  'transfer-partition': { ...calm, lossRate: 0.05, delayMs: [1, 40], partitionEveryMs: 1500, transferEveryMs: 700 },
  chaos: {
    lossRate: 0.1,
    duplicateRate: 0.05,
    delayMs: [1, 60],
    partitionEveryMs: 2500,
    crashEveryMs: 3000,
    downMs: [300, 3000],
    diskMs: [0, 40],
    membershipEveryMs: 2000,
    transferEveryMs: 3000,
    compactEvery: 20,
  },
};

export const mixNames = Object.keys(faultMixes);

/** What the network and disks do once healed. */
export const healed: Faults = calm;
