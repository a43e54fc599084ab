// `x0 neighbours`: this node's batman-adv neighbours with their TQ, read through batctl (src/batman). What the
// agent reports over ubus (`peers`) and telemetry; on a router it answers "who do I hear, and how well".
import { BatctlReader, type BatmanReason, type MeshView } from '../batman/batctl.js';
import type { Platform } from '../platform/types.js';
import { parseArgs } from './args.js';

export const neighboursHelp = `usage: x0 neighbours [--meshif IF] [--json] [--batctl PATH]

Prints this node's batman-adv neighbours (batctl meshif IF neighbors) with the TQ batman-adv keeps for each
(its own originator row), and the node's originator address.
  --meshif IF     the batman-adv mesh interface (default bat0)
  --json          one JSON object: { meshif, primary_mac, neighbours: [{ iface, mac, last_seen_ms, tq, best }],
                  originators_total, truncated }
  --batctl PATH   the batctl binary (default: batctl on PATH)
Exit 0 on success, 1 when batman-adv cannot be read (the message says why), 2 on bad arguments.
`;

const advice: Record<BatmanReason, string> = {
  'meshif-invalid': 'the interface name is not a valid Linux interface name',
  'batctl-missing': 'batctl is not installed: opkg install batctl-default (Debian: apt-get install batctl)',
  'batctl-timeout': 'batctl did not answer within its time limit; is the kernel busy or batman-adv stuck?',
  'meshif-absent':
    'no such batman-adv interface: load batman-adv (modprobe batman-adv), add an interface (batctl meshif bat0 interface add IF), or pass --meshif',
  'batctl-failed': 'batctl failed; run it by hand to see why',
  'batctl-incomplete':
    "batctl exited 0 but its originator table lacked the header (the answer was lost or cut); run 'batctl meshif bat0 originators' by hand",
};

export function viewJson(view: MeshView): Record<string, unknown> {
  return {
    meshif: view.meshif,
    primary_mac: view.primaryMac,
    neighbours: view.neighbours.map((n) => ({
      iface: n.iface,
      mac: n.neighbour,
      last_seen_ms: n.lastSeenMs,
      tq: n.tq,
      best: n.best,
    })),
    originators_total: new Set(view.originators.map((o) => o.originator)).size,
    truncated: view.truncated,
  };
}

function viewText(view: MeshView): string {
  const lines = [
    `${view.meshif}: originator ${view.primaryMac ?? '(unknown)'}, ${view.neighbours.length} neighbour(s)${view.truncated ? ' (table cut at the limit)' : ''}`,
  ];
  if (view.neighbours.length > 0) lines.push('  IFACE        NEIGHBOUR          LAST-SEEN   TQ');
  for (const n of view.neighbours) {
    const tq = n.tq === null ? '  -' : String(n.tq).padStart(3);
    lines.push(`  ${n.iface.padEnd(12)} ${n.neighbour}  ${(n.lastSeenMs / 1000).toFixed(3).padStart(8)}s  ${tq}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function neighboursCommand(platform: Platform, args: readonly string[]): Promise<number> {
  const parsed = parseArgs(args, { meshif: 'string', json: 'boolean', batctl: 'string', help: 'boolean' });
  if (!parsed.ok) {
    platform.stderr(`x0 neighbours: ${parsed.error}\n\n${neighboursHelp}`);
    return 2;
  }
  if (parsed.flags.help === true) {
    platform.stdout(neighboursHelp);
    return 0;
  }
  const reader = new BatctlReader(platform, typeof parsed.flags.batctl === 'string' ? parsed.flags.batctl : 'batctl');
  const meshif = typeof parsed.flags.meshif === 'string' ? parsed.flags.meshif : 'bat0';
  const view = await reader.meshView(meshif);
  if (!view.ok && view.reason === 'meshif-invalid') {
    platform.stderr(`x0 neighbours: --meshif '${meshif}': ${advice[view.reason]}\n\n${neighboursHelp}`);
    return 2;
  }
  if (!view.ok) {
    platform.stderr(`x0 neighbours: cannot read ${meshif} (${view.reason}): ${advice[view.reason]}\n`);
    return 1;
  }
  platform.stdout(parsed.flags.json === true ? `${JSON.stringify(viewJson(view.value))}\n` : viewText(view.value));
  return 0;
}
