// Checks on what the agent asks for, before any helper runs: a bad MAC or TTL from a revocation list or a
// MAPE-K plan becomes a reason code here, not a helper usage error.
import { burstMax, ifnameCharsMax, ratePpsMax, reasonCharsMax, ttlSecondsMax } from './limits.js';
import type { XdpRuleSelector } from './types.js';

/** Lower-case colon form of a MAC written with ':' or '-', or null. */
export function normalizeMac(text: string): string | null {
  if (!/^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/.test(text)) return null;
  return text.toLowerCase().replace(/-/g, ':');
}

/** The helper keeps a reason of a-z 0-9 . _ - (at most 15 characters) with each block. */
export function validReason(reason: string): boolean {
  return reason.length >= 1 && reason.length <= reasonCharsMax && /^[a-z0-9._-]+$/.test(reason);
}

/** Whole seconds in 1..ttlSecondsMax; null means a block without expiry. */
export function validTtl(ttlS: number | null): boolean {
  return ttlS === null || (Number.isInteger(ttlS) && ttlS >= 1 && ttlS <= ttlSecondsMax);
}

/** Linux interface names: 1..15 characters, no '/', whitespace or ':' (and not '.' or '..'). */
export function validIfname(ifname: string): boolean {
  return (
    ifname.length >= 1 &&
    ifname.length <= ifnameCharsMax &&
    !/[\s/:]/.test(ifname) &&
    ifname !== '.' &&
    ifname !== '..' &&
    !ifname.startsWith('-')
  );
}

export function validSelector(selector: XdpRuleSelector): boolean {
  if (selector.match === 'ethertype')
    return Number.isInteger(selector.ethertype) && selector.ethertype >= 0x0600 && selector.ethertype <= 0xffff;
  const { portLo, portHi } = selector;
  return Number.isInteger(portLo) && Number.isInteger(portHi) && portLo >= 1 && portLo <= portHi && portHi <= 65_535;
}

export function validRate(ratePps: number, burst: number | undefined): boolean {
  const rateOk = Number.isInteger(ratePps) && ratePps >= 1 && ratePps <= ratePpsMax;
  return rateOk && (burst === undefined || (Number.isInteger(burst) && burst >= 1 && burst <= burstMax));
}

/** The helper's selector flags for a rule. */
export function selectorArgs(selector: XdpRuleSelector): string[] {
  if (selector.match === 'ethertype') return ['--ethertype', `0x${selector.ethertype.toString(16).padStart(4, '0')}`];
  return [
    '--udp-ports',
    selector.portLo === selector.portHi ? String(selector.portLo) : `${selector.portLo}-${selector.portHi}`,
  ];
}
