// The mesh view of a node's knowledge: what each symptom/action pair did on this node (tries, successes, mean
// time to clear), written as short text values into the node's own gossip section (a version string of the mesh
// document holds at most 64 characters), read back by every other node for its planner (Mapek.adoptPeerValues),
// which weighs them below its own record (knowledge.ts `merged`). The text is outside input on the reading side:
// every entry, code and number is checked and bounded, and a refusal is a reason the caller counts.
//
//   value  = entry *(" " entry)                       at most meshValueCharsMax characters
//   entry  = symptom "." action "=" tries "/" successes "/" clearMs    e.g. "fl.is=3/3/1200"
import { fail, ok, type Result } from '../result.js';
import { mapekLimits } from './limits.js';
import type { ActionKind, OutcomeStats, Symptom } from './types.js';

const symptomCodes: Readonly<Record<Symptom, string>> = {
  'neighbour-dead': 'nd',
  'neighbour-alive': 'na',
  'link-flapping': 'lf',
  'link-calm': 'lc',
  flood: 'fl',
  'flood-stopped': 'fs',
  'auth-failing': 'af',
  'auth-calm': 'ac',
  'anchor-degraded': 'ad',
  'component-down': 'cd',
  'breaker-open': 'bo',
};
const actionCodes: Readonly<Record<ActionKind, string>> = {
  'link-down': 'ld',
  'link-up': 'lu',
  retune: 'rt',
  'restore-tuning': 'rs',
  'rate-limit': 'rl',
  isolate: 'is',
  lift: 'li',
  'transfer-leadership': 'tl',
  'restart-component': 'rc',
  'bounce-interface': 'bi',
};
const symptomOf = new Map(Object.entries(symptomCodes).map(([k, v]) => [v, k as Symptom]));
const actionOf = new Map(Object.entries(actionCodes).map(([k, v]) => [v, k as ActionKind]));

/** Digits are bounded by the pattern before any number is made of them (7 digits: below meshClearMsMax * 3). */
const entryRe = /^([a-z]{2})\.([a-z]{2})=(\d{1,7})\/(\d{1,7})\/(\d{1,7})$/;

/**
 * Our statistics as at most meshValuesMax values of at most meshValueCharsMax characters, most-tried first (the
 * caller's order); numbers are clamped to what a peer accepts. `left`: entries that did not fit.
 */
export function encodeMeshStats(stats: Readonly<Record<string, OutcomeStats>>): { values: string[]; left: number } {
  const values: string[] = [];
  let current = '';
  let left = 0;
  for (const [key, s] of Object.entries(stats)) {
    const [symptom, action] = key.split('/') as [Symptom, ActionKind];
    const sc = symptomCodes[symptom];
    const ac = actionCodes[action];
    if (sc === undefined || ac === undefined) {
      left++;
      continue;
    }
    const tries = Math.min(s.tries, mapekLimits.meshTriesMax);
    const successes = Math.min(s.successes, tries);
    const clearMs = Math.min(Math.round(s.clearMsMean), mapekLimits.meshClearMsMax);
    const entry = `${sc}.${ac}=${tries}/${successes}/${clearMs}`;
    if (current !== '' && current.length + 1 + entry.length <= mapekLimits.meshValueCharsMax) {
      current = `${current} ${entry}`;
      continue;
    }
    if (current !== '') values.push(current);
    if (values.length >= mapekLimits.meshValuesMax) {
      current = '';
      left++;
      continue;
    }
    current = entry;
  }
  if (current !== '') values.push(current);
  return { values, left };
}

/**
 * A peer's values (outside input) back to statistics keyed `symptom/action`. Absent values (undefined) are
 * skipped; anything malformed refuses the whole set with a reason: a half-read record could mislead the planner.
 */
export function decodeMeshStats(values: readonly unknown[]): Result<Record<string, OutcomeStats>, string> {
  if (values.length > mapekLimits.meshValuesMax) return fail('peer-text-too-many');
  const out: Record<string, OutcomeStats> = {};
  for (const value of values) {
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length > mapekLimits.meshValueCharsMax) return fail('peer-text-too-long');
    if (value === '') continue;
    for (const entry of value.split(' ')) {
      const m = entryRe.exec(entry);
      if (m === null) return fail('peer-text-bad-entry');
      const symptom = symptomOf.get(m[1] as string);
      const action = actionOf.get(m[2] as string);
      if (symptom === undefined || action === undefined) return fail('peer-text-unknown-code');
      const tries = Number(m[3]);
      const successes = Number(m[4]);
      const clearMsMean = Number(m[5]);
      if (tries > mapekLimits.meshTriesMax || successes > tries || clearMsMean > mapekLimits.meshClearMsMax)
        return fail('peer-text-out-of-range');
      const key = `${symptom}/${action}`;
      if (out[key] !== undefined) return fail('peer-text-duplicate');
      out[key] = { tries, successes, clearMsMean };
    }
  }
  return ok(out);
}
