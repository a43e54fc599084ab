// Plain, JSON-ready views of the mesh document for the CLI, logs and (later) ubus/LuCI, and a short digest
// that two nodes holding the same document print identically.
import type { MeshDoc } from '../core/gossip/mesh-doc.js';
import { encodeCbor } from '../core/wire/cbor.js';
import { toHex } from '../core/wire/hex.js';
import type { Crypto } from '../platform/types.js';

export interface SectionView {
  readonly incarnation: number;
  readonly status: { online: boolean; uptimeS: number; loadMilli: number } | null;
  readonly neighbours: Record<string, { tq: number; rttMs: number }>;
  readonly versions: Record<string, string>;
  readonly counters: Record<string, number>;
}

export interface DocView {
  readonly revocations: { readonly version: number; readonly revoked: readonly string[] };
  readonly sections: Record<string, SectionView>;
}

export function describeDoc(doc: MeshDoc): DocView {
  const sections: Record<string, SectionView> = {};
  for (const id of [...doc.sections.keys()].sort()) {
    const section = doc.sections.get(id);
    const versions: Record<string, string> = {};
    for (const component of section?.versions?.keys() ?? []) versions[component] = doc.version(id, component) as string;
    const counters: Record<string, number> = {};
    for (const name of [...(section?.counters?.keys() ?? [])].sort()) counters[name] = doc.counter(id, name);
    sections[id] = {
      incarnation: doc.incarnation(id),
      status: doc.status(id) ?? null,
      neighbours: Object.fromEntries(doc.neighbours(id)),
      versions,
      counters,
    };
  }
  return { revocations: { version: doc.revocations.version, revoked: [...doc.revoked].sort() }, sections };
}

/** 16 hex digits of SHA-512 over the document's canonical CBOR. */
export function docDigest(crypto: Crypto, doc: MeshDoc): string {
  return toHex(crypto.sha512(encodeCbor(doc.toWire())).subarray(0, 8));
}
