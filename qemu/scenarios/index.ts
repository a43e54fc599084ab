// The scenarios `lab.ts test` knows. Without names it runs the default set (what CI runs); opt-in ones
// are run by name (`lab.ts test ring8`).
import type { Scenario } from '../lib/scenario.js';
import { agent } from './agent.js';
import { failover } from './failover.js';
import { heal } from './heal.js';
import { impair } from './impair.js';
import { smoke } from './smoke.js';
import { mesh, ring8, star } from './topologies.js';
import { xdp } from './xdp.js';

export const scenarios: readonly Scenario[] = [smoke, failover, mesh, star, impair, xdp, agent, heal, ring8];
export const defaultScenarios: readonly string[] = [
  'smoke',
  'failover',
  'mesh',
  'star',
  'impair',
  'xdp',
  'agent',
  'heal',
];
