// Small helpers for the MAPE-K unit tests: a core with a counter for trace ids, observation builders.
import { Mapek } from '../../src/core/mapek/mapek.js';
import {
  type Decision,
  defaultMapekConfig,
  type KnowledgeSnapshot,
  type MapekConfig,
  type Observation,
} from '../../src/core/mapek/types.js';

export const macA = '02:00:00:00:00:0a';
export const macB = '02:00:00:00:00:0b';
export const macC = '02:00:00:00:00:0c';

/** Trace ids 000…01, 000…02, … (valid W3C trace ids, deterministic). */
export function hexCounter(): () => string {
  let i = 0;
  return () => (++i).toString(16).padStart(32, '0');
}

export function config(over: Partial<MapekConfig> = {}): MapekConfig {
  return { ...defaultMapekConfig(), ...over };
}

export function core(over: Partial<MapekConfig> = {}, knowledge?: KnowledgeSnapshot): Mapek {
  return new Mapek(config(over), hexCounter(), knowledge);
}

export const nb = (atMs: number, neighbour: string, iface: string, alive: boolean): Observation => ({
  kind: 'neighbour',
  atMs,
  neighbour,
  iface,
  alive,
  rttMs: alive ? 2 : null,
  tq: alive ? 250 : null,
});

/** n1's Raft observation: leading (or following n2) in term 3, degraded or not, with the edge's why if given. */
export const raftObs = (atMs: number, selfDegraded: boolean, role = 'leader', degradedWhy?: string): Observation => ({
  kind: 'raft',
  atMs,
  self: 'n1',
  role,
  leader: role === 'leader' ? 'n1' : 'n2',
  term: 3,
  selfDegraded,
  ...(degradedWhy === undefined ? {} : { degradedWhy }),
});

/** Two point-to-point links, eth-a to macA and eth-b to macB, both alive, observed every 100 ms until `untilMs`. */
export function twoLinks(
  m: Mapek,
  fromMs: number,
  untilMs: number,
  aliveA: (t: number) => boolean = () => true,
): Decision[] {
  const out: Decision[] = [];
  for (let t = fromMs; t <= untilMs; t += 100) {
    m.observe(nb(t, macA, 'eth-a', aliveA(t)));
    m.observe(nb(t, macB, 'eth-b', true));
    out.push(...m.tick(t));
  }
  return out;
}

/** Every decision gets an ok outcome right away (the executor always works). */
export function okAll(m: Mapek, ds: readonly Decision[], atMs: number): void {
  for (const d of ds) m.outcome({ traceId: d.traceId, ok: true, reason: null, atMs });
}

export const kinds = (ds: readonly Decision[]): string[] => ds.map((d) => `${d.action.kind}@${d.target}`);
