// What both adapters do before a TLS handshake: read the CA, certificate and key files named by TlsOptions
// (bounded) and settle the server name, turning a missing or unreadable file into the reason code the
// Platform interface names. Engine-neutral: the adapter passes its own file reader.
import type { TlsOptions } from './types.js';

/** Largest CA, certificate or key file read (Debian's whole ca-certificates.crt is about 200 KB). */
export const tlsFileBytesMax = 1024 * 1024;

export interface TlsMaterial {
  readonly ca: Uint8Array;
  readonly cert?: Uint8Array;
  readonly key?: Uint8Array;
  readonly serverName: string;
}

/** reads a file: its bytes, null when it does not exist; may throw for other failures. */
export type ReadFile = (path: string) => Uint8Array | null;

function readBounded(read: ReadFile, path: string): Uint8Array | null {
  try {
    const bytes = read(path);
    return bytes === null || bytes.length === 0 || bytes.length > tlsFileBytesMax ? null : bytes;
  } catch {
    return null;
  }
}

export function loadTlsMaterial(
  read: ReadFile,
  tls: TlsOptions,
  host: string,
): { readonly ok: true; readonly value: TlsMaterial } | { readonly ok: false; readonly reason: string } {
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) return { ok: false, reason: 'tls-key-unreadable' };
  const ca = readBounded(read, tls.caFile);
  if (ca === null) return { ok: false, reason: 'tls-ca-unreadable' };
  const serverName = tls.serverName ?? host;
  if (tls.certFile === undefined || tls.keyFile === undefined) return { ok: true, value: { ca, serverName } };
  const cert = readBounded(read, tls.certFile);
  if (cert === null) return { ok: false, reason: 'tls-cert-unreadable' };
  const key = readBounded(read, tls.keyFile);
  if (key === null) return { ok: false, reason: 'tls-key-unreadable' };
  return { ok: true, value: { ca, cert, key, serverName } };
}
