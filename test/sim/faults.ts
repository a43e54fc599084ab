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
}

const calm: Faults = {
  lossRate: 0, duplicateRate: 0, delayMs: [1, 10], partitionEveryMs: null, crashEveryMs: null, downMs: [0, 0],
  diskMs: [0, 2], membershipEveryMs: null, transferEveryMs: null, compactEvery: 200,
};

export const faultMixes: Readonly<Record<string, Faults>> = {
  calm,
  lossy: { ...calm, lossRate: 0.15, duplicateRate: 0.05, delayMs: [1, 80] },
  partition: { ...calm, lossRate: 0.02, delayMs: [1, 30], partitionEveryMs: 2500 },
  crash: { ...calm, delayMs: [1, 20], crashEveryMs: 2000, downMs: [300, 4000], diskMs: [0, 40] },
  membership: { ...calm, lossRate: 0.05, delayMs: [1, 30], membershipEveryMs: 1200, compactEvery: 40 },
  snapshot: { ...calm, lossRate: 0.05, delayMs: [1, 30], partitionEveryMs: 3000, crashEveryMs: 3500, downMs: [500, 3000], compactEvery: 8 },
  transfer: { ...calm, lossRate: 0.05, delayMs: [1, 30], transferEveryMs: 1500 },
  chaos: {
    lossRate: 0.1, duplicateRate: 0.05, delayMs: [1, 60], partitionEveryMs: 2500, crashEveryMs: 3000, downMs: [300, 3000],
    diskMs: [0, 40], membershipEveryMs: 2000, transferEveryMs: 3000, compactEvery: 20,
  },
};

export const mixNames = Object.keys(faultMixes);

/** What the network and disks do once healed. */
export const healed: Faults = calm;
