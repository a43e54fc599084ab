// Revoked nodes' MACs, kept in STATE_DIR/revoked-macs so that the XDP blocks come back after an agent restart or a
// reboot (bpffs is a tmpfs: a reboot empties the pinned blocklist). What a node announced (its MACs) leaves the mesh
// document with its section once it is revoked, so after a restart nothing else says which MACs were its. One line
// per MAC, "<mac> <node>"; written by the gossip component when it learns a revoked node's MAC, read by the XDP
// component at start and kept only for nodes that the persisted revocation list (checked against the trust bundle)
// names: a stale line of a node no longer revoked, or a file from another mesh, blocks nothing.
import type { TrustBundle } from '../core/identity/chain.js';
import { isName } from '../core/identity/spiffe.js';
import { revokedNames } from '../gossip/identity-revocations.js';
import { discoveryLimits, isMac } from '../batman/discovery.js';
import { loadRevocations, nodeFiles } from '../identity/store.js';
import type { FileErrno, Platform } from '../platform/types.js';
import type { AgentContext } from './context.js';

/** Lines kept: every remembered announcement's MACs (announcementsMax × announcedMacsMax, plus the originator). */
export const revokedMacsMax = discoveryLimits.announcementsMax * (discoveryLimits.announcedMacsMax + 1);
/** A longer file is not read (a line is a MAC of 17 characters, a space, a node name and a newline). */
export const revokedMacsFileBytesMax = revokedMacsMax * 90;

export const revokedMacsPath = (stateDir: string): string => `${stateDir}/revoked-macs`;

export function encodeRevokedMacs(macs: ReadonlyMap<string, string>): string {
  return [...macs]
    .slice(0, revokedMacsMax)
    .map(([mac, node]) => `${mac} ${node}\n`)
    .join('');
}

/** The inverse of encodeRevokedMacs; a malformed line is left out (the file may be cut or edited by hand). */
export function decodeRevokedMacs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n').slice(0, revokedMacsMax)) {
    const [mac, node, extra] = line.trim().split(' ');
    if (mac !== undefined && node !== undefined && extra === undefined && isMac(mac) && isName(node))
      out.set(mac, node);
  }
  return out;
}

export function saveRevokedMacs(
  platform: Platform,
  stateDir: string,
  macs: ReadonlyMap<string, string>,
): FileErrno | null {
  return platform.files.writeAtomic(revokedMacsPath(stateDir), encodeRevokedMacs(macs), 0o644);
}

/**
 * The MACs to block from what this node persisted: the lines of STATE_DIR/revoked-macs whose node the persisted
 * revocation list (STATE_DIR/revocations.cbor, checked against `bundle`) names; or why none could be taken.
 */
export function persistedRevokedMacs(
  platform: Platform,
  stateDir: string,
  bundle: TrustBundle,
): { ok: true; value: Map<string, string> } | { ok: false; reason: string } {
  const store = loadRevocations(platform, nodeFiles(stateDir).revocations, bundle);
  if (typeof store === 'string') return { ok: false, reason: store };
  const list = store.list;
  if (list === null) return { ok: true, value: new Map() };
  const text = platform.files.readText(revokedMacsPath(stateDir));
  if (text === null) return { ok: true, value: new Map() };
  if (text.length > revokedMacsFileBytesMax)
    return {
      ok: false,
      reason: `${revokedMacsPath(stateDir)} is ${text.length} bytes (at most ${revokedMacsFileBytesMax}): remove it, gossip writes it again`,
    };
  const names = revokedNames(list, bundle.trustDomain);
  const macs = decodeRevokedMacs(text);
  for (const [mac, node] of macs) if (!names.has(node)) macs.delete(mac);
  return { ok: true, value: macs };
}

/**
 * Adds what this node persisted to ctx.revokedMacs (the gossip and XDP components each do at start: whichever runs
 * first after a restart); the number added, or why none could be. Needs the identity (the list is checked with it).
 */
export function restoreRevokedMacs(ctx: AgentContext): { ok: true; value: number } | { ok: false; reason: string } {
  const bundle = ctx.identity?.bundle;
  if (bundle === undefined) return { ok: false, reason: 'not-enrolled' };
  const persisted = persistedRevokedMacs(ctx.platform, ctx.config.stateDir, bundle);
  if (!persisted.ok) return persisted;
  let added = 0;
  for (const [mac, node] of persisted.value) {
    if (ctx.revokedMacs.has(mac)) continue;
    ctx.revokedMacs.set(mac, node);
    added++;
  }
  return { ok: true, value: added };
}
