// validateConfig / loadConfigText: the agent's UCI file -> AgentConfig, or one line per error naming file, line,
// section, option, value and what is allowed. Engine-neutral (Node and x0-runtime). The shipped files
// themselves are checked in config-file.node.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  configLimits,
  describeChanges,
  loadConfigText,
  type AgentConfig,
  type ConfigError,
  type ConfigErrorReason,
} from '../../src/agent/config.js';

const path = '/etc/config/x0tta6bl4';

// The contract's default file (docs/config.md), with one anchor and one static peer filled in.
const defaultText = `config agent 'main'
	option enabled '1'
	option node_name ''            # default: hostname
	option role 'node'             # anchor | node
	option state_dir '/etc/x0tta6bl4'
	option trust_domain 'mesh.x0'
	option join_token ''
	option mesh_interface 'bat0'
	option listen '0.0.0.0:7400'
	list anchor 'anchor-1@10.77.0.1:7400'   # the anchors (Raft voters)
	list static_peer 'r2@[fd00::2]:7400'
	option log_level 'info'        # debug | info | warn | error
config uplink 'uplink'
	option enabled '0'
	option broker ''               # HOST:PORT
	option topic_prefix 'x0'
	option interval '10s'
	option qos '0'
	option protocol '3.1.1'        # 3.1.1 | 5
config xdp 'xdp'
	option enabled '0'
	list interface 'eth1'
`;

function valid(text: string, hostname = 'r1'): AgentConfig {
  const result = loadConfigText(text, path, hostname);
  if (!result.ok) throw new Error(`expected a valid config, got:\n${result.errors.map((e) => e.message).join('\n')}`);
  return result.value;
}

function errors(text: string, hostname = 'r1'): readonly ConfigError[] {
  const result = loadConfigText(text, path, hostname);
  assert.is(result.ok, false, `expected errors for:\n${text}`);
  return result.ok ? [] : result.errors;
}

/** Exactly one error, with this line, reason and message. */
function oneError(text: string, line: number, reason: ConfigErrorReason, message: string): ConfigError {
  const found = errors(text);
  assert.equal(
    found.map((e) => e.message),
    [message],
  );
  assert.is(found[0]?.line, line);
  assert.is(found[0]?.reason, reason);
  return found[0] as ConfigError;
}

/** The default file with one line replaced (or added after `config agent 'main'` when `from` is null). */
const edit = (from: string | null, to: string): string => {
  if (from === null) return defaultText.replace("config agent 'main'\n", `config agent 'main'\n${to}\n`);
  assert.ok(defaultText.includes(from), from);
  return defaultText.replace(from, to);
};

test('the default file gives the typed config with every default', () => {
  assert.equal(valid(defaultText), {
    path,
    enabled: true,
    nodeName: 'r1',
    role: 'node',
    stateDir: '/etc/x0tta6bl4',
    trustDomain: 'mesh.x0',
    joinToken: null,
    meshInterface: 'bat0',
    batctl: 'batctl',
    ubusSocket: '/var/run/ubus/ubus.sock',
    listen: { host: '0.0.0.0', port: 7400 },
    announce: null,
    anchors: [{ name: 'anchor-1', address: { host: '10.77.0.1', port: 7400 } }],
    staticPeers: [{ name: 'r2', address: { host: 'fd00::2', port: 7400 } }],
    logLevel: 'info',
    uplink: { enabled: false, broker: null, topicPrefix: 'x0', intervalMs: 10_000, qos: 0, protocol: 4, tls: null },
    xdp: { enabled: false, interfaces: ['eth1'] },
    mapek: { enabled: true, probeIntervalMs: 100, detectMultiplier: 3, probePeers: false, floodPpsMin: 2000 },
  });
});

test('a minimal file: only the role; everything else defaults, no uplink or xdp section needed', () => {
  const config = valid("config agent 'main'\n\toption role 'anchor'\n", 'OpenWrt');
  assert.is(config.nodeName, 'OpenWrt');
  assert.is(config.role, 'anchor');
  assert.is(config.meshInterface, null);
  assert.equal(config.anchors, []);
  assert.equal(config.uplink, {
    enabled: false,
    broker: null,
    topicPrefix: 'x0',
    intervalMs: 10_000,
    qos: 0,
    protocol: 4,
    tls: null,
  });
  assert.equal(config.xdp, { enabled: false, interfaces: [] });
  assert.equal(config.mapek, {
    enabled: true,
    probeIntervalMs: 100,
    detectMultiplier: 3,
    probePeers: false,
    floodPpsMin: 2000,
  });
});

test('values: node name, booleans, durations, protocol, addresses, token, interfaces', () => {
  const config = valid(`config agent
	option role anchor
	option node_name 'anchor-1'
	option enabled 'yes'
	option join_token 'x0jt1.AbC-_09'
	option batctl '/usr/sbin/batctl'
	option ubus_socket '/tmp/ubus.sock'
	option listen '[::]:1'
	option anchor 'anchor-1@mesh-a.lan:65535'
	option log_level debug
config uplink
	option enabled 'on'
	option broker 'broker.lan:1883'
	option topic_prefix 'x0/site-1'
	option interval '1m'
	option qos 1
	option protocol 5
config xdp
	option enabled 1
	list interface 'eth1'
	list interface 'lan1.10'
`);
  assert.is(config.nodeName, 'anchor-1');
  assert.is(config.enabled, true);
  assert.is(config.joinToken, 'x0jt1.AbC-_09');
  assert.is(config.batctl, '/usr/sbin/batctl');
  assert.equal(config.listen, { host: '::', port: 1 });
  assert.equal(config.anchors, [{ name: 'anchor-1', address: { host: 'mesh-a.lan', port: 65535 } }]);
  assert.equal(config.uplink, {
    enabled: true,
    broker: { host: 'broker.lan', port: 1883 },
    topicPrefix: 'x0/site-1',
    intervalMs: 60_000,
    qos: 1,
    protocol: 5,
    tls: null,
  });
  assert.equal(config.xdp, { enabled: true, interfaces: ['eth1', 'lan1.10'] });
  for (const host of ['::', '::1', 'fd00::2', '1:2:3:4:5:6:7:8', '::ffff:10.0.0.1', 'fe80::1:2']) {
    assert.equal(
      valid(edit("option listen '0.0.0.0:7400'", `option listen '[${host}]:7400'`)).listen,
      { host, port: 7400 },
      host,
    );
  }
  const durations: Array<[string, number]> = [
    ['1s', 1000],
    ['1500ms', 1500],
    ['10', 10_000],
    ['5m', 300_000],
    ['1h', 3600_000],
  ];
  for (const [text, ms] of durations)
    assert.is(valid(edit("option interval '10s'", `option interval '${text}'`)).uplink.intervalMs, ms, text);
});

test('uplink TLS: tls, ca_file, cert_file, key_file, server_name; ca_file required, cert and key together', () => {
  const uplink = (lines: string) =>
    `config agent 'main'\n\toption role 'node'\nconfig uplink 'uplink'\n\toption enabled '1'\n\toption broker '10.0.0.9:8883'\n${lines}`;
  assert.equal(
    valid(
      uplink(
        "\toption tls '1'\n\toption ca_file '/etc/x0tta6bl4/broker-ca.pem'\n\toption cert_file '/etc/x0tta6bl4/node.pem'\n\toption key_file '/etc/x0tta6bl4/node.key'\n\toption server_name 'broker.example.net'\n",
      ),
    ).uplink.tls,
    {
      caFile: '/etc/x0tta6bl4/broker-ca.pem',
      certFile: '/etc/x0tta6bl4/node.pem',
      keyFile: '/etc/x0tta6bl4/node.key',
      serverName: 'broker.example.net',
    },
  );
  assert.equal(valid(uplink("\toption tls '1'\n\toption ca_file '/ca.pem'\n")).uplink.tls, {
    caFile: '/ca.pem',
    certFile: null,
    keyFile: null,
    serverName: null,
  });
  // tls '0' (the default): the file options may stay, TLS is off.
  assert.is(valid(uplink("\toption tls '0'\n\toption ca_file '/ca.pem'\n")).uplink.tls, null);
  const one = (lines: string) => errors(uplink(lines)).map((e) => `${e.reason}: ${e.message}`);
  assert.equal(one("\toption tls '1'\n"), [
    `missing-option: ${path}:6: section 'uplink' option 'ca_file': required when tls is '1': the CA that signed the broker's certificate (an absolute path to a PEM file)`,
  ]);
  assert.equal(one("\toption tls '1'\n\toption ca_file '/ca.pem'\n\toption cert_file '/node.pem'\n"), [
    `inconsistent: ${path}:8: section 'uplink' option 'key_file': is required with cert_file: a client certificate and its key go together`,
  ]);
  assert.equal(one("\toption tls '1'\n\toption ca_file 'ca.pem'\n"), [
    `bad-value: ${path}:7: section 'uplink' option 'ca_file': 'ca.pem' is not allowed (an absolute path without spaces, at most 255 characters)`,
  ]);
  assert.equal(one("\toption tls '1'\n\toption ca_file '/ca.pem'\n\toption server_name 'not a name'\n"), [
    `bad-value: ${path}:8: section 'uplink' option 'server_name': 'not a name' is not allowed (a DNS name the broker's certificate holds, at most 253 characters)`,
  ]);
});

test('unknown option: its line, and the options that exist', () => {
  oneError(
    edit(null, "\toption colour 'blue'"),
    2,
    'unknown-option',
    `${path}:2: section 'main' option 'colour': unknown in a section of type 'agent' (enabled | node_name | role | state_dir | trust_domain | join_token | mesh_interface | batctl | ubus_socket | listen | announce | anchor | static_peer | log_level)`,
  );
});

test('unknown section type', () => {
  oneError(
    `${defaultText}config firewall 'fw'\n`,
    23,
    'unknown-section-type',
    `${path}:23: section 'fw': 'firewall' is not a section type of x0tta6bl4 (agent | uplink | xdp | mapek)`,
  );
});

test('wrong type: a choice, a boolean, a number, a duration, a list given for one value', () => {
  oneError(
    edit("option role 'node'", "option role 'boss'"),
    4,
    'bad-value',
    `${path}:4: section 'main' option 'role': 'boss' is not allowed (anchor | node)`,
  );
  oneError(
    edit("option enabled '1'", "option enabled 'maybe'"),
    2,
    'bad-value',
    `${path}:2: section 'main' option 'enabled': 'maybe' is not allowed (0 | 1 | no | yes | off | on | false | true)`,
  );
  oneError(
    edit("option qos '0'", "option qos 'high'"),
    18,
    'bad-value',
    `${path}:18: section 'uplink' option 'qos': 'high' is not allowed (0 | 1)`,
  );
  oneError(
    edit("option protocol '3.1.1'", "option protocol '3'"),
    19,
    'bad-value',
    `${path}:19: section 'uplink' option 'protocol': '3' is not allowed (3.1.1 | 5)`,
  );
  oneError(
    edit("option interval '10s'", "option interval 'soon'"),
    17,
    'bad-value',
    `${path}:17: section 'uplink' option 'interval': 'soon' is not allowed (a duration: 500ms | 10s | 5m | 1h, a bare number is seconds, within 1s..1h)`,
  );
  oneError(
    edit("option log_level 'info'", "list log_level 'info'"),
    12,
    'not-a-list',
    `${path}:12: section 'main' option 'log_level': 'info' is given with 'list', but 'log_level' takes one value: write option log_level '...'`,
  );
  oneError(
    edit("option state_dir '/etc/x0tta6bl4'", "option state_dir 'x0'"),
    5,
    'bad-value',
    `${path}:5: section 'main' option 'state_dir': 'x0' is not allowed (an absolute path without spaces, at most 255 characters)`,
  );
  oneError(
    edit("option trust_domain 'mesh.x0'", "option trust_domain 'Mesh'"),
    6,
    'bad-value',
    `${path}:6: section 'main' option 'trust_domain': 'Mesh' is not allowed (lowercase letters, digits, '.', '_', '-', at most 255 characters)`,
  );
  oneError(
    edit("option node_name ''            # default: hostname", "option node_name 'a/b'"),
    3,
    'bad-value',
    `${path}:3: section 'main' option 'node_name': 'a/b' is not allowed (letters, digits, '.', '_', '-', starting with a letter or digit, at most 63 characters)`,
  );
  oneError(
    edit("option join_token ''", "option join_token 'secret'"),
    7,
    'bad-value',
    `${path}:7: section 'main' option 'join_token': 'secret' is not allowed (a join token from 'x0 ca issue-token' (x0jt1...., at most 1024 characters))`,
  );
  oneError(
    edit("list interface 'eth1'", "list interface 'a-very-long-interface'"),
    22,
    'bad-value',
    `${path}:22: section 'xdp' option 'interface': 'a-very-long-interface' is not allowed (a network interface name (letters, digits, '.', '_', '-', ':', '@'), at most 15 characters)`,
  );
});

test('out of range: interval and port bounds', () => {
  oneError(
    edit("option interval '10s'", "option interval '999ms'"),
    17,
    'out-of-range',
    `${path}:17: section 'uplink' option 'interval': '999ms' is out of range (1s..1h)`,
  );
  oneError(
    edit("option interval '10s'", "option interval '61m'"),
    17,
    'out-of-range',
    `${path}:17: section 'uplink' option 'interval': '61m' is out of range (1s..1h)`,
  );
  oneError(
    edit("option listen '0.0.0.0:7400'", "option listen '0.0.0.0:65536'"),
    9,
    'out-of-range',
    `${path}:9: section 'main' option 'listen': '0.0.0.0:65536' has a port out of range (a port 1..65535)`,
  );
  oneError(
    edit("option listen '0.0.0.0:7400'", "option listen '0.0.0.0:0'"),
    9,
    'out-of-range',
    `${path}:9: section 'main' option 'listen': '0.0.0.0:0' has a port out of range (a port 1..65535)`,
  );
});

test('bad HOST:PORT: no port, bad host, bad IPv4, unbracketed IPv6, peer without a name', () => {
  const allowed = 'HOST:PORT with an IPv4 address, a host name or [IPv6], and a port 1..65535';
  for (const bad of [
    'broker.lan',
    'bad_host:1883',
    '10.0.0.256:1883',
    'fd00::1:1883',
    ':1883',
    '[zz::1]:1883',
    '[:::1]:1883',
    '[1:2:3:4:5:6:7]:1883',
    '[1::2::3]:1883',
    '[::ffff:1.2.3]:1883',
  ]) {
    oneError(
      edit("option broker ''               # HOST:PORT", `option broker '${bad}'`),
      15,
      'bad-address',
      `${path}:15: section 'uplink' option 'broker': '${bad}' is not allowed (${allowed})`,
    );
  }
  const peerAllowed = `NAME@HOST:PORT (a node name, then ${allowed})`;
  oneError(
    edit("list static_peer 'r2@[fd00::2]:7400'", "list static_peer '10.0.0.2:7400'"),
    11,
    'bad-address',
    `${path}:11: section 'main' option 'static_peer': '10.0.0.2:7400' is not allowed (${peerAllowed})`,
  );
  oneError(
    edit("list static_peer 'r2@[fd00::2]:7400'", "list static_peer '-r2@10.0.0.2:7400'"),
    11,
    'bad-value',
    `${path}:11: section 'main' option 'static_peer': '-r2@10.0.0.2:7400' is not allowed (${peerAllowed})`,
  );
});

test('missing required option: role; broker when the uplink is on; interfaces when XDP is on; a usable node name', () => {
  oneError(
    defaultText.replace("\toption role 'node'             # anchor | node\n", ''),
    1,
    'missing-option',
    `${path}:1: section 'main' option 'role': required (anchor | node)`,
  );
  oneError(
    edit("option role 'node'", "option role ''"),
    4,
    'missing-option',
    `${path}:4: section 'main' option 'role': required (anchor | node)`,
  );
  oneError(
    edit("option enabled '0'\n\toption broker", "option enabled '1'\n\toption broker"),
    15,
    'missing-option',
    `${path}:15: section 'uplink' option 'broker': required when the uplink is enabled (HOST:PORT)`,
  );
  oneError(
    edit("option enabled '0'\n\tlist interface 'eth1'", "option enabled '1'"),
    20,
    'missing-option',
    `${path}:20: section 'xdp' option 'interface': required when XDP is enabled (list interface 'IFNAME')`,
  );
  oneError(
    edit("option enabled '0'\n\tlist interface 'eth1'", "option enabled '1'\n\tlist interface ''"),
    20,
    'missing-option',
    `${path}:20: section 'xdp' option 'interface': required when XDP is enabled (list interface 'IFNAME')`,
  );
  const found = errors(defaultText, 'my router');
  assert.equal(
    found.map((e) => e.message),
    [
      `${path}:3: section 'main' option 'node_name': required: the hostname 'my router' is not a valid node name (letters, digits, '.', '_', '-')`,
    ],
  );
  oneError(
    '# nothing here\n',
    1,
    'missing-section',
    `${path}:1: no 'agent' section; add: config agent 'main' (with at least option role 'anchor' or 'node')`,
  );
});

test('bad quoting: one syntax error on the line where the quote opens, and no echo of what it swallowed', () => {
  oneError(
    edit("option role 'node'", "option role 'node"),
    4,
    'syntax',
    `${path}:4: a quote is probably missing on this line: this statement's quoted text runs on to line 22, where a ' quote is never closed`,
  );
  oneError(
    edit("list interface 'eth1'", "list interface 'eth1"),
    22,
    'syntax',
    `${path}:22: the ' quote opened on this line is never closed (the file ends first)`,
  );
  oneError(
    edit("option listen '0.0.0.0:7400'", 'option listen 0.0.0.0 7400'),
    9,
    'syntax',
    `${path}:9: '7400' is one argument too many for option NAME 'VALUE'; quote a value that contains spaces`,
  );
  oneError(
    edit("option log_level 'info'", "option log-level 'info'"),
    12,
    'syntax',
    `${path}:12: option name 'log-level' may only contain letters, digits and '_'`,
  );
});

test('duplicates: section, option, peer name, interface', () => {
  oneError(
    `${defaultText}config agent 'other'\n\toption role 'node'\n`,
    23,
    'duplicate-section',
    `${path}:23: section 'other': is a second section of type 'agent' (first on line 1); keep one`,
  );
  oneError(
    `${defaultText}config xdp 'xdp'\n`,
    23,
    'duplicate-section',
    `${path}:23: section 'xdp': is a second section of type 'xdp' (first on line 20); keep one`,
  );
  oneError(
    edit("option log_level 'info'", "option log_level 'info'\n\toption log_level 'debug'"),
    13,
    'duplicate-option',
    `${path}:13: section 'main' option 'log_level': 'debug' sets it a second time (first on line 12); keep one`,
  );
  oneError(
    edit(
      "list static_peer 'r2@[fd00::2]:7400'",
      "list static_peer 'r2@[fd00::2]:7400'\n\tlist static_peer 'r2@10.0.0.9:7400'",
    ),
    12,
    'duplicate-name',
    `${path}:12: section 'main' option 'static_peer': 'r2@10.0.0.9:7400' repeats 'r2' (already on line 11); names are unique`,
  );
  oneError(
    edit("list interface 'eth1'", "list interface 'eth1'\n\tlist interface 'eth1'"),
    23,
    'duplicate-name',
    `${path}:23: section 'xdp' option 'interface': 'eth1' repeats 'eth1' (already on line 22); names are unique`,
  );
});

test('an anchor must be among the anchors it lists', () => {
  oneError(
    edit("option role 'node'", "option role 'anchor'"),
    10,
    'inconsistent',
    `${path}:10: section 'main' option 'anchor': does not name this node 'r1', whose role is anchor: add list anchor 'r1@HOST:PORT' or set option role 'node'`,
  );
  assert.is(valid(edit("option role 'node'", "option role 'anchor'"), 'anchor-1').role, 'anchor');
});

test('bounded lists: anchors and static peers', () => {
  const anchors = Array.from(
    { length: configLimits.anchorsMax + 1 },
    (_, i) => `\tlist anchor 'a${i}@10.0.0.${i + 1}:7400'`,
  ).join('\n');
  const found = errors(`config agent 'main'\n\toption role 'node'\n${anchors}\n`);
  assert.equal(
    found.map((e) => [e.line, e.reason]),
    [[configLimits.anchorsMax + 3, 'too-many-items']],
  );
  const peers = Array.from(
    { length: configLimits.staticPeersMax },
    (_, i) => `\tlist static_peer 'p${i}@10.0.${i >> 8}.${i & 255}:7400'`,
  ).join('\n');
  assert.is(
    valid(`config agent 'main'\n\toption role 'node'\n${peers}\n`).staticPeers.length,
    configLimits.staticPeersMax,
  );
});

test('every error is reported at once, sorted by line', () => {
  const found = errors(`config agent 'main'
	option role 'boss'
	option colour blue
config uplink
	option qos 2
config xdp
	option enabled 'sometimes'
`);
  assert.equal(
    found.map((e) => [e.line, e.section, e.option, e.value]),
    [
      [2, 'main', 'role', 'boss'],
      [3, 'main', 'colour', null],
      [5, '@uplink[0]', 'qos', '2'],
      [7, '@xdp[0]', 'enabled', 'sometimes'],
    ],
  );
  assert.equal(
    found.map((e) => e.allowed),
    ['anchor | node', found[1]?.allowed, '0 | 1', '0 | 1 | no | yes | off | on | false | true'],
  );
});

test('describeChanges: log level, uplink, xdp and static peers apply on reload; the rest needs a restart', () => {
  const before = valid(defaultText);
  assert.equal(describeChanges(before, valid(defaultText)), { applied: [], needsRestart: [] });
  const after = valid(
    defaultText
      .replace("option log_level 'info'", "option log_level 'debug'")
      .replace("option role 'node'", "option role 'anchor'")
      .replace("list anchor 'anchor-1@10.77.0.1:7400'", "list anchor 'r1@10.77.0.1:7400'")
      .replace("list static_peer 'r2@[fd00::2]:7400'", "list static_peer 'r3@10.0.0.3:7400'")
      .replace("option enabled '0'\n\toption broker ''", "option enabled '1'\n\toption broker '10.0.0.1:1883'")
      .replace("list interface 'eth1'", "list interface 'eth2'"),
  );
  assert.equal(describeChanges(before, after), {
    applied: ['agent.static_peer', 'agent.log_level', 'uplink.enabled', 'uplink.broker', 'xdp.interface'],
    needsRestart: ['agent.role', 'agent.anchor'],
  });
});

test("the mapek section: durations in ms or s, the detect multiplier within BFD's byte, and what a reload does", () => {
  const base = "config agent 'main'\n\toption role 'node'\n";
  const good = loadConfigText(
    `${base}config mapek 'mapek'\n\toption enabled '0'\n\toption probe_interval '1s'\n\toption detect_multiplier '5'\n\toption probe_peers '1'\n\toption flood_pps_min '1000'\n`,
    path,
    'r1',
  );
  assert.ok(good.ok);
  if (good.ok)
    assert.equal(good.value.mapek, {
      enabled: false,
      probeIntervalMs: 1000,
      detectMultiplier: 5,
      probePeers: true,
      floodPpsMin: 1000,
    });
  const plain = loadConfigText(base, path, 'r1');
  assert.ok(plain.ok && plain.value.mapek.floodPpsMin === 2000, 'flood_pps_min defaults to the core default');
  const bare = loadConfigText(`${base}config mapek 'mapek'\n\toption probe_interval '50'\n`, path, 'r1');
  assert.ok(bare.ok && bare.value.mapek.probeIntervalMs === 50, 'a bare number is milliseconds');
  for (const [option, value] of [
    ['probe_interval', '5ms'],
    ['probe_interval', '11s'],
    ['detect_multiplier', '1'],
    ['detect_multiplier', '256'],
    ['enabled', 'maybe'],
    ['probe_peers', '2'],
    ['flood_pps_min', '500'],
    ['flood_pps_min', '1000001'],
    ['flood_pps_min', '1e4'],
  ]) {
    const bad = loadConfigText(`${base}config mapek 'mapek'\n\toption ${option} '${value}'\n`, path, 'r1');
    assert.ok(!bad.ok, `${option} ${value} refused`);
    if (!bad.ok) assert.match(bad.errors[0]!.message, new RegExp(`section 'mapek' option '${option}': '${value}'`));
  }
  const on = loadConfigText(base, path, 'r1');
  const off = loadConfigText(
    `${base}config mapek 'mapek'\n\toption enabled '0'\n\toption probe_interval '200ms'\n`,
    path,
    'r1',
  );
  assert.ok(on.ok && off.ok);
  if (on.ok && off.ok) {
    const changes = describeChanges(on.value, off.value);
    assert.ok(changes.needsRestart.includes('mapek.enabled'));
    assert.ok(changes.applied.includes('mapek.probe_interval'));
    assert.ok(!changes.applied.includes('mapek.probe_peers'), 'probe_peers unchanged');
  }
});

test.run();
