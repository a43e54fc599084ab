// SPIFFE IDs (SPIFFE ID specification §2): `spiffe://<trust-domain>/<path>`. The trust domain is lowercase
// letters, digits, '.', '-', '_'; path segments are letters, digits, '.', '-', '_', never empty, '.' or '..';
// no trailing slash, query, fragment, port, user info or percent-encoding. Our nodes are
// `spiffe://<td>/node/<name>`, our CAs `spiffe://<td>/ca/<name>`.
import { limits } from './limits.js';
import { fail, ok, type Result } from './result.js';

export type SpiffeReason =
  | 'spiffe-empty'
  | 'spiffe-too-long'
  | 'spiffe-bad-scheme'
  | 'spiffe-bad-trust-domain'
  | 'spiffe-bad-path';

export interface SpiffeId {
  readonly trustDomain: string;
  /** Path segments, e.g. ['node', 'r1']; [] for the trust domain's own ID. */
  readonly segments: readonly string[];
}

const scheme = 'spiffe://';
const trustDomainChars = /^[a-z0-9._-]+$/;
const segmentChars = /^[A-Za-z0-9._-]+$/;

export function isTrustDomain(text: string): boolean {
  return text.length > 0 && text.length <= limits.trustDomainCharsMax && trustDomainChars.test(text);
}

function isSegment(segment: string): boolean {
  return segment !== '.' && segment !== '..' && segmentChars.test(segment);
}

export function parseSpiffeId(text: string): Result<SpiffeId, SpiffeReason> {
  if (text.length === 0) return fail('spiffe-empty');
  if (text.length > limits.spiffeIdCharsMax) return fail('spiffe-too-long');
  if (!text.startsWith(scheme)) return fail('spiffe-bad-scheme');
  const rest = text.slice(scheme.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
  if (!isTrustDomain(trustDomain)) return fail('spiffe-bad-trust-domain');
  if (slash === -1) return ok({ trustDomain, segments: [] });
  const segments = rest.slice(slash + 1).split('/');
  for (const segment of segments) if (!isSegment(segment)) return fail('spiffe-bad-path');
  return ok({ trustDomain, segments });
}

/** A name usable as the last segment of a node or CA ID: a hostname-like label. */
export function isName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= limits.nameCharsMax &&
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) &&
    isSegment(name)
  );
}

export const nodeId = (trustDomain: string, name: string): string => `${scheme}${trustDomain}/node/${name}`;
export const caId = (trustDomain: string, name: string): string => `${scheme}${trustDomain}/ca/${name}`;

export type SubjectKind = 'node' | 'ca';

/** Parses one of our subjects: exactly two segments, the first 'node' or 'ca', the second a name. */
export function parseSubject(
  text: string,
): Result<{ readonly trustDomain: string; readonly kind: SubjectKind; readonly name: string }, SpiffeReason> {
  const parsed = parseSpiffeId(text);
  if (!parsed.ok) return parsed;
  const [kind, name, ...extra] = parsed.value.segments;
  if ((kind !== 'node' && kind !== 'ca') || name === undefined || extra.length > 0 || !isName(name))
    return fail('spiffe-bad-path');
  return ok({ trustDomain: parsed.value.trustDomain, kind, name });
}
