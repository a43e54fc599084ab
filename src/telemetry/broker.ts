// Where the uplink's broker is and why reaching it failed, in words an operator can act on.
// Engine-neutral. x0-runtime has no DNS resolver (x0:net connects to numeric addresses only), so on the
// router a broker named by host name is looked up in /etc/hosts; Node resolves names itself.
import { fail, ok, type Result } from '../core/result.js';
import type { Platform } from '../platform/types.js';

/** Bytes of /etc/hosts read (a router's is a few hundred; anything past this is ignored). */
export const hostsFileBytesMax = 64 * 1024;
export const hostsFilePath = '/etc/hosts';

export function isNumericHost(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || (host.includes(':') && /^[0-9a-fA-F:.]+$/.test(host));
}

/** The first address /etc/hosts gives for name (case-insensitive, comments ignored), or null. Pure. */
export function lookupHostsFile(text: string, name: string): string | null {
  const wanted = name.toLowerCase();
  for (const line of text.slice(0, hostsFileBytesMax).split('\n')) {
    const fields = (line.split('#')[0] as string).trim().split(/\s+/);
    const address = fields[0];
    if (address === undefined || !isNumericHost(address)) continue;
    if (fields.slice(1).some((alias) => alias.toLowerCase() === wanted)) return address;
  }
  return null;
}

/**
 * The host to hand to platform.net.connect: numeric addresses and localhost as they are; on x0-runtime a
 * name from /etc/hosts or the reason it cannot be reached ('name-not-resolved'); on Node the name itself.
 */
export function resolveBrokerHost(platform: Platform, host: string): Result<string, string> {
  if (isNumericHost(host) || host === 'localhost' || platform.name === 'node') return ok(host);
  const hosts = platform.files.readText(hostsFilePath);
  const address = hosts === null ? null : lookupHostsFile(hosts, host);
  if (address !== null) return ok(address);
  return fail(
    `broker host '${host}' not resolved: x0-runtime has no DNS resolver; it connects to numeric addresses, ` +
      `localhost and names listed in ${hostsFilePath}. Give --broker as an IP address (or add the name to ${hostsFilePath})`,
  );
}

// TLS refusals (platform.net's reason codes, the same on x0-runtime's mbedtls and on Node's OpenSSL).
const tlsFailures: Record<string, { readonly what: string; readonly hint: string }> = {
  'cert-untrusted': {
    what: "the broker's certificate is not signed by the trusted CA",
    hint: "check --tls-ca / uplink.ca_file: it must hold the CA that signed the broker's certificate",
  },
  'cert-expired': {
    what: "the broker's certificate has expired",
    hint: "renew the broker's certificate (or check this node's clock)",
  },
  'cert-not-yet-valid': {
    what: "the broker's certificate is not valid yet",
    hint: "this node's clock is probably behind (no NTP yet?): check 'date'",
  },
  'hostname-mismatch': {
    what: "the broker's certificate does not name the server name",
    hint: 'set --tls-server-name / uplink.server_name to a name the certificate holds (its DNS names)',
  },
  'handshake-failed': {
    what: 'the TLS handshake failed',
    hint: "is it a TLS port (8883)? does the broker want a client certificate (--tls-cert/--tls-key)? see the broker's log",
  },
  'handshake-timeout': { what: 'the TLS handshake timed out', hint: 'is it a TLS port (8883)?' },
  'tls-unavailable': {
    what: 'this x0-runtime has no TLS',
    hint: 'it was built without mbedtls (TLS=0): install a build with TLS, or use a plain broker port',
  },
  'tls-ca-unreadable': { what: 'the CA file cannot be read', hint: 'check the path given as --tls-ca / ca_file' },
  'tls-cert-unreadable': {
    what: 'the client certificate or its key cannot be read',
    hint: 'check --tls-cert and --tls-key (cert_file, key_file): both or neither',
  },
  'tls-key-unreadable': {
    what: 'the client key cannot be read',
    hint: 'check --tls-cert and --tls-key (cert_file, key_file): both or neither',
  },
  'tls-ca-invalid': { what: 'the CA file holds no certificate', hint: 'it must be PEM (-----BEGIN CERTIFICATE-----)' },
  'tls-cert-invalid': { what: 'the client certificate is not valid PEM', hint: 'check --tls-cert / cert_file' },
  'tls-key-invalid': {
    what: 'the client key is not valid or does not match the certificate',
    hint: 'check --tls-key / key_file (unencrypted PEM)',
  },
};

/** What a client reason code ('connect-ECONNREFUSED', 'connack-timeout', ...) means, and what to do next. */
export function describeBrokerFailure(
  reason: string,
  host: string,
  version: 4 | 5,
): { readonly what: string; readonly hint: string } {
  const errno = reason.startsWith('connect-') ? reason.slice('connect-'.length) : '';
  if (errno === 'ECONNREFUSED')
    return { what: 'connection refused', hint: 'nothing listens there: is the broker running, is the port right?' };
  if (
    errno === 'ENOTFOUND' ||
    errno === 'EAI_AGAIN' ||
    errno === 'EAI_NONAME' ||
    (errno === 'EINVAL' && !isNumericHost(host))
  ) {
    return { what: 'name not resolved', hint: `check the host name '${host}' (DNS, /etc/hosts) or give an IP address` };
  }
  if (reason === 'connect-timeout' || errno === 'ETIMEDOUT')
    return {
      what: 'timeout',
      hint: "no answer from the broker's address: a firewall, a wrong address or a host that is down",
    };
  if (errno === 'EHOSTUNREACH' || errno === 'ENETUNREACH')
    return { what: 'host unreachable', hint: "no route to the broker: check the address and this node's network" };
  const tls = tlsFailures[errno];
  if (tls !== undefined) return tls;
  if (reason === 'connack-timeout')
    return {
      what: 'timeout waiting for CONNACK',
      hint: 'something listens there but does not answer MQTT: is it an MQTT broker (not TLS-only)?',
    };
  if (reason === 'protocol-version-refused') {
    return {
      what: `broker refused MQTT ${version === 5 ? '5' : '3.1.1'} (unsupported protocol version)`,
      hint: version === 5 ? 'use --mqtt 3.1.1' : 'the broker speaks neither version we do',
    };
  }
  if (
    reason === 'connack-refused-4' ||
    reason === 'connack-refused-5' ||
    reason === 'connack-refused-134' ||
    reason === 'connack-refused-135'
  ) {
    return { what: 'broker refused the credentials', hint: "check --username/--password and the broker's ACL" };
  }
  if (reason.startsWith('connack-refused-'))
    return {
      what: `broker refused the connection (CONNACK code ${reason.slice('connack-refused-'.length)})`,
      hint: "see the broker's log",
    };
  return { what: reason, hint: "see the broker's log" };
}
