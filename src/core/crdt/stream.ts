// A stream is one incarnation of a node: `${nodeId}~${incarnation}`. Every delta, dot and timestamp a node
// writes is named by its current stream, so a restarted node never reuses a sequence number or a dot it may
// have lost with unflushed state (the incarnation is persisted before first use).
import { isId, isNat } from './check.js';

export function streamId(nodeId: string, incarnation: number): string {
  return `${nodeId}~${incarnation}`;
}

/** The node id of a stream, or null when `stream` is not one. */
export function streamNode(stream: unknown): string | null {
  if (!isId(stream)) return null;
  const at = stream.lastIndexOf('~');
  if (at <= 0) return null;
  const incarnation = Number(stream.slice(at + 1));
  return isNat(incarnation) && String(incarnation) === stream.slice(at + 1) ? stream.slice(0, at) : null;
}
