// The agent's reader of batman-adv: runs `batctl meshif IF neighbors|originators -H` through the platform's
// exec and parses the tables (tables.ts). batctl is how OpenWrt's own tools read batman-adv; a failure here is
// an operating error (no module, no mesh interface, batctl missing): a counted reason, never a crash.
import { Counters, fail, ok, type Result } from '../core/result.js';
import { fromUtf8 } from '../core/wire/hex.js';
import type { ExecResult, Platform } from '../platform/types.js';
import { batctlOutputBytesMax, batctlTimeoutMs, batmanRowsMax, hardInterfacesMax } from './limits.js';
import { isMac } from './discovery.js';
import {
  neighbourLinks,
  parseNeighbours,
  parseOriginators,
  parsePrimaryMac,
  type NeighbourLink,
  type Originator,
} from './tables.js';

const sysNet = '/sys/class/net';

/** The interface names of sysfs `lower_IF` links in a mesh interface's directory, valid names only, sorted. */
export function lowerInterfaces(entries: readonly string[]): string[] {
  return entries
    .filter((e) => e.startsWith('lower_'))
    .map((e) => e.slice('lower_'.length))
    .filter((name) => meshifPattern.test(name) && name !== '.' && name !== '..')
    .sort();
}

export type BatmanReason =
  | 'meshif-invalid'
  | 'batctl-missing'
  | 'batctl-timeout'
  | 'meshif-absent'
  | 'batctl-failed'
  | 'batctl-incomplete';

export interface MeshView {
  readonly meshif: string;
  /** The primary interface's MAC: this node's originator address; null when batctl did not print it. */
  readonly primaryMac: string | null;
  readonly neighbours: readonly NeighbourLink[];
  readonly originators: readonly Originator[];
  /** This node's own interfaces under the mesh interface (sysfs `lower_*`), with their MACs: what it announces. */
  readonly interfaces: readonly HardInterface[];
  /** A table had more rows than batmanRowsMax (or than the output cap) and was cut. */
  readonly truncated: boolean;
}

export interface HardInterface {
  readonly name: string;
  readonly mac: string;
}

// IFNAMSIZ is 16 with the NUL; batctl gets the name as one argv entry, never through a shell.
const meshifPattern = /^[A-Za-z0-9._-]{1,15}$/;
// What batctl prints when batman-adv is not loaded or the interface is not a batman-adv one.
const absentPattern = /not present or not a batman-adv interface|batman-adv module has not been loaded|No such device/i;

export class BatctlReader {
  readonly counters = new Counters();

  constructor(
    private readonly platform: Platform,
    readonly batctlPath = 'batctl',
  ) {}

  async meshView(meshif = 'bat0'): Promise<Result<MeshView, BatmanReason>> {
    if (!meshifPattern.test(meshif)) return this.refuse('meshif-invalid');
    const neighbours = await this.table(meshif, 'neighbors');
    if (!neighbours.ok) return neighbours;
    const originators = await this.table(meshif, 'originators');
    if (!originators.ok) return originators;
    // batctl prints the originator table's header on every success: without it the answer was lost on the way (an
    // exit 0 with no output), and an empty table must not pass for "no neighbours" (the caller keeps its last view).
    if (parsePrimaryMac(originators.value.header) === null) return this.refuse('batctl-incomplete');
    const neighbourRows = parseNeighbours(neighbours.value.text, batmanRowsMax + 1);
    const originatorRows = parseOriginators(originators.value.text, batmanRowsMax + 1);
    const truncated =
      neighbours.value.truncated ||
      originators.value.truncated ||
      neighbourRows.length > batmanRowsMax ||
      originatorRows.length > batmanRowsMax;
    if (truncated) this.counters.add('table-truncated');
    const kept = originatorRows.slice(0, batmanRowsMax);
    return ok({
      meshif,
      primaryMac: parsePrimaryMac(originators.value.header),
      neighbours: neighbourLinks(neighbourRows.slice(0, batmanRowsMax), kept),
      originators: kept,
      interfaces: this.hardInterfaces(meshif),
      truncated,
    });
  }

  /**
   * The interfaces batman-adv runs on under meshif, from sysfs: the kernel links each one to its mesh interface
   * (`/sys/class/net/bat0/lower_eth1`), and each has its MAC in `/sys/class/net/eth1/address`. Bounded.
   */
  hardInterfaces(meshif: string): HardInterface[] {
    if (!meshifPattern.test(meshif)) return [];
    const out: HardInterface[] = [];
    for (const entry of lowerInterfaces(this.platform.files.list(`${sysNet}/${meshif}`))) {
      if (out.length >= hardInterfacesMax) break;
      const mac = (this.platform.files.readText(`${sysNet}/${entry}/address`) ?? '').trim().toLowerCase();
      if (isMac(mac)) out.push({ name: entry, mac });
    }
    return out;
  }

  private async table(
    meshif: string,
    name: 'neighbors' | 'originators',
  ): Promise<Result<{ text: string; header: string; truncated: boolean }, BatmanReason>> {
    // The header (-H off) carries the primary MAC for originators; the neighbour table is read without it.
    const argv =
      name === 'neighbors'
        ? [this.batctlPath, 'meshif', meshif, name, '-H']
        : [this.batctlPath, 'meshif', meshif, name];
    let result: ExecResult;
    try {
      result = await this.platform.exec(argv, { timeoutMs: batctlTimeoutMs, maxOutputBytes: batctlOutputBytesMax });
    } catch {
      return this.refuse('batctl-missing');
    }
    const stdout = fromUtf8(result.stdout);
    const stderr = fromUtf8(result.stderr);
    const failure = classify(result, `${stdout}\n${stderr}`);
    if (failure !== null) return this.refuse(failure);
    const firstLine = stdout.slice(0, Math.max(0, stdout.indexOf('\n')));
    return ok({ text: stdout, header: firstLine, truncated: result.truncated });
  }

  private refuse(reason: BatmanReason): { readonly ok: false; readonly reason: BatmanReason } {
    this.counters.add(reason);
    return fail(reason);
  }
}

/** null when batctl answered with a table; else why it did not. */
export function classify(result: ExecResult, text: string): BatmanReason | null {
  if (result.timedOut) return 'batctl-timeout';
  if (result.code === 127) return 'batctl-missing';
  if (absentPattern.test(text)) return 'meshif-absent';
  if (result.code !== 0) return 'batctl-failed';
  return null;
}
