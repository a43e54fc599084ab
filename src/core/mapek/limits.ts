// Every bound of the MAPE-K core, with its unit and reason. The core runs on QuickJS on 8/64 MB routers, so
// every map it keeps is capped here; what is over the cap is forgotten (stalest first) and counted.

export const mapekLimits = {
  /** Direct neighbours tracked (batman-adv originators seen on a hard interface); a router rarely has 10. */
  neighboursMax: 64,
  /** Hard interfaces tracked (per-interface flap and link state). */
  ifacesMax: 16,
  /** MACs whose XDP rates and auth failures are tracked; the least recently seen unflagged one is forgotten. */
  macsMax: 256,
  /** Agent components tracked. */
  componentsMax: 32,
  /** Open and recently closed incidents kept (the oldest closed one is forgotten first). */
  incidentsMax: 32,
  /** Outcome statistics entries (symptom/action pairs); the catalogue has about 12, so this is headroom. */
  statsMax: 64,
  /** Circuit breakers (action kind + target). */
  breakersMax: 64,
  /** Damping windows (targets). */
  dampingTargetsMax: 128,
  /** Decisions one tick may return: a mesh in trouble acts on a few targets at a time. */
  decisionsPerTickMax: 8,
  /** Actions per target and damping window, the hard ceiling of the config knob. */
  dampingActionsCeiling: 64,
  /** Transitions remembered per neighbour for flap detection (the config's flapTransitionsMin <= this). */
  flapHistoryMax: 32,
  /** Incidents in the compact summary put in the mesh (gossip) document. */
  summaryIncidentsMax: 4,
  /** Outcome statistics entries in that summary. */
  summaryStatsMax: 16,
  /** Peers whose summaries are adopted; more are ignored and counted. */
  peersMax: 32,
  /** Text values of this node's statistics in its gossip section (the section holds 16 versions in all). */
  meshValuesMax: 2,
  /** Characters per value: the mesh document's bound on a version string. */
  meshValueCharsMax: 64,
  /** Tries (and successes) per statistic taken from a peer; more is refused ('peer-bad-stats'). */
  meshTriesMax: 1_000_000,
  /** Mean time to clear taken from a peer, in ms (an hour: far above any clearTimeoutMs). */
  meshClearMsMax: 3_600_000,
  /** String fields from outside (names, MACs, reasons, ifaces) are cut to this many characters. */
  nameCharsMax: 64,
  /** A `why` line is cut to this many characters. */
  whyCharsMax: 240,
} as const;

export type MapekLimits = typeof mapekLimits;

/** XDP counter samples closer than this are merged with the next one (a rate over a few ms is noise). */
export const rateSampleMsMin = 200;
/** Auth failures are turned into a rate once per this period. */
export const authBucketMs = 1000;
