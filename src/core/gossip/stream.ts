// A stream is one incarnation of a node: `${nodeId}~${incarnation}`. Every delta, dot and timestamp a node
// writes is named by its current stream. A node starts a new incarnation at each start (persisted before
// first use), so it never reuses a sequence number or a dot it may have lost with unflushed state; its
// section is rebased into the new incarnation, which replaces the old one everywhere (see mesh-doc.ts).
import { isId, isNat } from './check.js';
import { hlcAcceptLimitMs } from './hlc.js';
import { limits } from './limits.js';

export function streamId(nodeId: string, incarnation: number): string {
  return `${nodeId}~${incarnation}`;
}

/** The node id and incarnation of a stream, or null when `stream` is not one. */
export function parseStream(stream: unknown): { readonly node: string; readonly incarnation: number } | null {
  if (!isId(stream)) return null;
  const at = stream.lastIndexOf('~');
  if (at <= 0) return null;
  const digits = stream.slice(at + 1);
  const incarnation = Number(digits);
  if (!isNat(incarnation) || incarnation === 0 || incarnation > limits.incarnationMax || String(incarnation) !== digits)
    return null;
  return { node: stream.slice(0, at), incarnation };
}

/**
 * The highest incarnation a peer may claim at this wall clock reading: the clock's horizon (hlcAcceptLimitMs)
 * in seconds plus incarnationRestartsMax, within the incarnation space.
 */
export function incarnationAcceptLimit(wallMs: number): number {
  const clockS = Math.floor(hlcAcceptLimitMs(wallMs) / 1000);
  return Math.min(limits.incarnationMax - 1, clockS + limits.incarnationRestartsMax);
}

/** The node id of a stream, or null when `stream` is not one. */
export function streamNode(stream: unknown): string | null {
  return parseStream(stream)?.node ?? null;
}
