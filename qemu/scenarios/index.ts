// The scenarios `lab.ts test` knows. Without names it runs the default set (what CI runs); opt-in ones
// are run by name (`lab.ts test ring8`).
import type { Scenario } from '../lib/scenario.js';
import { agent, agentZeroTrust } from './agent.js';
import { armMesh } from './arm.js';
import { failover } from './failover.js';
import { heal } from './heal.js';
import { healMore } from './heal-more.js';
import { impair } from './impair.js';
import { smoke } from './smoke.js';
import { mesh, ring8, star } from './topologies.js';
import { xdp } from './xdp.js';

export const scenarios: readonly Scenario[] = [
  smoke,
  failover,
  mesh,
  star,
  impair,
  xdp,
  agent,
  agentZeroTrust,
  heal,
  healMore,
  ring8,
  armMesh,
];
export const defaultScenarios: readonly string[] = [
  'smoke',
  'failover',
  'mesh',
  'star',
  'impair',
  'xdp',
  'agent',
  'heal',
  'heal-more',
  'arm',
];
