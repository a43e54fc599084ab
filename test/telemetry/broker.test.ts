// Issue 14 item 9: what the uplink says when the broker cannot be reached, and how x0-runtime (no DNS
// resolver) finds a broker named by host name. Engine-neutral and pure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeBrokerFailure, isNumericHost, lookupHostsFile } from '../../src/telemetry/broker.js';

test('each way of failing is named in words an operator can act on', () => {
  const cases: [string, string, 4 | 5, RegExp][] = [
    ['connect-ECONNREFUSED', '127.0.0.1', 4, /^connection refused$/],
    ['connect-ENOTFOUND', 'broker.lan', 4, /^name not resolved$/],
    ['connect-EAI_AGAIN', 'broker.lan', 4, /^name not resolved$/],
    // x0:net refuses a non-numeric address with EINVAL: for a name, that is "not resolved".
    ['connect-EINVAL', 'broker.lan', 4, /^name not resolved$/],
    ['connect-EINVAL', '10.0.0.1', 4, /^connect-EINVAL$/],
    ['connect-timeout', '10.0.0.1', 4, /^timeout$/],
    ['connect-ETIMEDOUT', '10.0.0.1', 4, /^timeout$/],
    ['connect-EHOSTUNREACH', '10.0.0.1', 4, /^host unreachable$/],
    ['connack-timeout', '10.0.0.1', 4, /^timeout waiting for CONNACK$/],
    ['protocol-version-refused', '10.0.0.1', 5, /^broker refused MQTT 5/],
    ['connack-refused-5', '10.0.0.1', 4, /^broker refused the credentials$/],
    ['connack-refused-2', '10.0.0.1', 4, /CONNACK code 2/],
  ];
  for (const [reason, host, version, what] of cases)
    assert.match(describeBrokerFailure(reason, host, version).what, what, reason);
  assert.match(describeBrokerFailure('protocol-version-refused', 'h', 5).hint, /--mqtt 3\.1\.1/);
  assert.match(describeBrokerFailure('connect-ENOTFOUND', 'broker.lan', 4).hint, /broker\.lan/);
});

test('TLS refusals are named with what to check (the same reason codes on mbedtls and node:tls)', () => {
  const cases: [string, RegExp, RegExp][] = [
    ['connect-cert-untrusted', /not signed by the trusted CA/, /--tls-ca/],
    ['connect-cert-expired', /has expired/, /renew/],
    ['connect-cert-not-yet-valid', /not valid yet/, /clock/],
    ['connect-hostname-mismatch', /does not name the server name/, /--tls-server-name/],
    ['connect-handshake-failed', /handshake failed/, /8883/],
    ['connect-tls-unavailable', /no TLS/, /TLS=0/],
    ['connect-tls-ca-unreadable', /CA file cannot be read/, /--tls-ca/],
    ['connect-tls-ca-invalid', /holds no certificate/, /PEM/],
  ];
  for (const [reason, what, hint] of cases) {
    const failure = describeBrokerFailure(reason, '10.0.0.1', 4);
    assert.match(failure.what, what, reason);
    assert.match(failure.hint, hint, reason);
  }
});

test('/etc/hosts lookup: first matching line, aliases, case, comments; numeric hosts recognised', () => {
  const hosts =
    '# comment broker\n127.0.0.1 localhost\n\n192.168.1.2  Broker.lan broker  # the mesh broker\nbad-line broker\n10.0.0.9 broker\n';
  assert.is(lookupHostsFile(hosts, 'broker'), '192.168.1.2');
  assert.is(lookupHostsFile(hosts, 'BROKER.LAN'), '192.168.1.2');
  assert.is(lookupHostsFile(hosts, 'comment'), null);
  assert.is(lookupHostsFile(hosts, 'nosuch'), null);
  assert.ok(isNumericHost('10.1.2.3') && isNumericHost('::1') && isNumericHost('fd00::1'));
  assert.not.ok(isNumericHost('broker.lan') || isNumericHost('localhost'));
});

test.run();
