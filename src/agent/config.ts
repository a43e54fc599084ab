// The agent's configuration: /etc/config/x0tta6bl4 (UCI) -> a typed AgentConfig, or every error at once, each
// naming the file, line, section, option, the bad value and what is allowed. Pure (no I/O): the caller reads
// the file and prints the errors (one line each) and exits 2. Every option is documented in docs/config.md;
// keep the two in step. describeChanges() says which differences a reload applies and which need a restart.
import { parseUci, type UciEntry, type UciFile, type UciSection } from '../core/uci/parse.js';
import { limits as identityLimits } from '../core/identity/limits.js';
import { isName, isTrustDomain } from '../core/identity/spiffe.js';
import { tokenPrefix } from '../core/identity/token.js';
import { livenessLimits } from '../core/mapek/liveness.js';
import { defaultMapekConfig } from '../core/mapek/types.js';
import { parseLinkAddress } from '../batman/discovery.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface PeerRef {
  readonly name: string;
  readonly address: HostPort;
}

export type Role = 'anchor' | 'node';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface UplinkConfig {
  readonly enabled: boolean;
  readonly broker: HostPort | null;
  readonly topicPrefix: string;
  readonly intervalMs: number;
  readonly qos: 0 | 1;
  /** MQTT protocol level: 4 is 3.1.1, 5 is MQTT 5. */
  readonly protocol: 4 | 5;
  /** MQTT over TLS (option tls '1'); null: plain TCP. */
  readonly tls: UplinkTlsConfig | null;
}

export interface UplinkTlsConfig {
  /** CA certificates the broker's certificate must chain to (PEM). */
  readonly caFile: string;
  /** The node's client certificate and key (PEM), both or neither. */
  readonly certFile: string | null;
  readonly keyFile: string | null;
  /** The name the broker's certificate must hold (and SNI); null: the broker option's host. */
  readonly serverName: string | null;
}

/** Self-healing (MAPE-K, docs/mapek.md): the liveness probe of each direct batman-adv neighbour and the actions. */
export interface MapekSectionConfig {
  readonly enabled: boolean;
  readonly probeIntervalMs: number;
  readonly detectMultiplier: number;
  /** Without mesh_interface: probe the configured anchors and static peers over UDP (their address, port + 3). */
  readonly probePeers: boolean;
  /** Frames per second from one MAC below which nothing is a flood (MapekConfig.floodPpsMin). */
  readonly floodPpsMin: number;
}

export const mapekDefaults: MapekSectionConfig = {
  enabled: true,
  probeIntervalMs: 100,
  detectMultiplier: 3,
  probePeers: false,
  floodPpsMin: defaultMapekConfig().floodPpsMin,
};

/** flood_pps_min: above the rate limit the loop applies (a limit at or above the floor would contain nothing). */
export const floodPpsMinRange = { min: defaultMapekConfig().rateLimitPps + 1, max: 1_000_000 } as const;

export interface XdpConfig {
  readonly enabled: boolean;
  readonly interfaces: readonly string[];
}

export interface AgentConfig {
  readonly path: string;
  readonly enabled: boolean;
  /** Default: the hostname; must pass src/core/identity/spiffe.ts isName. */
  readonly nodeName: string;
  readonly role: Role;
  readonly stateDir: string;
  readonly trustDomain: string;
  readonly joinToken: string | null;
  /** null: no batman-adv (peers come from static_peer). */
  readonly meshInterface: string | null;
  readonly batctl: string;
  readonly ubusSocket: string;
  readonly listen: HostPort;
  /** Where other nodes reach this node's sealed link on the mesh (announced in gossip); null: `listen` if specific. */
  readonly announce: HostPort | null;
  /** The anchors (Raft voters). */
  readonly anchors: readonly PeerRef[];
  readonly staticPeers: readonly PeerRef[];
  readonly logLevel: LogLevel;
  readonly uplink: UplinkConfig;
  readonly xdp: XdpConfig;
  readonly mapek: MapekSectionConfig;
}

export type ConfigErrorReason =
  | 'syntax'
  | 'unknown-section-type'
  | 'unknown-option'
  | 'not-a-list'
  | 'bad-value'
  | 'out-of-range'
  | 'bad-address'
  | 'missing-section'
  | 'missing-option'
  | 'duplicate-section'
  | 'duplicate-option'
  | 'duplicate-name'
  | 'too-many-items'
  | 'inconsistent';

export interface ConfigError {
  readonly reason: ConfigErrorReason;
  readonly path: string;
  readonly line: number;
  /** The section's name (or uci's `@type[n]` for an anonymous one); null for a file-level error. */
  readonly section: string | null;
  readonly option: string | null;
  readonly value: string | null;
  /** What would be accepted, e.g. 'anchor | node'; null when not a choice of values. */
  readonly allowed: string | null;
  /** The whole one-line report: `PATH:LINE: section 'main' option 'role': 'boss' is not allowed (anchor | node)`. */
  readonly message: string;
}

export type ConfigResult =
  | { readonly ok: true; readonly value: AgentConfig }
  | { readonly ok: false; readonly errors: readonly ConfigError[] };

/** Bounds on what the file may ask for, each with its unit. */
export const configLimits = {
  /** Raft voters: 3 or 5 in practice; more makes every commit slower. */
  anchorsMax: 9,
  /** Static peers (the agent's budget is measured with 50). */
  staticPeersMax: 256,
  /** XDP attaches per interface. */
  xdpInterfacesMax: 16,
  /** Linux IFNAMSIZ - 1. */
  interfaceCharsMax: 15,
  /** PATH_MAX would allow more; a router's paths are short. */
  pathCharsMax: 255,
  /** RFC 1035 §2.3.4. */
  hostCharsMax: 253,
  topicPrefixCharsMax: 64,
  intervalMsMin: 1000,
  intervalMsMax: 3600_000,
  tokenCharsMax: identityLimits.tokenCharsMax,
} as const;

export const defaults = {
  enabled: true,
  stateDir: '/etc/x0tta6bl4',
  trustDomain: 'mesh.x0',
  batctl: 'batctl',
  ubusSocket: '/var/run/ubus/ubus.sock',
  listen: { host: '0.0.0.0', port: 7400 },
  logLevel: 'info',
  uplink: { enabled: false, broker: null, topicPrefix: 'x0', intervalMs: 10_000, qos: 0, protocol: 4, tls: null },
  xdp: { enabled: false, interfaces: [] },
} as const satisfies Partial<Omit<AgentConfig, 'uplink' | 'xdp'>> & { uplink: UplinkConfig; xdp: XdpConfig };

// ---- value parsers: text -> value, or what is allowed ----

type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: ConfigErrorReason; readonly allowed: string; readonly problem: string };

const good = <T>(value: T): Parsed<T> => ({ ok: true, value });
const notAllowed = (
  allowed: string,
  reason: ConfigErrorReason = 'bad-value',
  problem = 'is not allowed',
): Parsed<never> => ({ ok: false, reason, allowed, problem });

const choice =
  <T extends string>(values: readonly T[]) =>
  (text: string): Parsed<T> =>
    (values as readonly string[]).includes(text) ? good(text as T) : notAllowed(values.join(' | '));

const booleanTexts: Record<string, boolean> = {
  '1': true,
  yes: true,
  on: true,
  true: true,
  enabled: true,
  '0': false,
  no: false,
  off: false,
  false: false,
  disabled: false,
};
const parseBoolean = (text: string): Parsed<boolean> => {
  const value = booleanTexts[text];
  return value === undefined ? notAllowed('0 | 1 | no | yes | off | on | false | true') : good(value);
};

const parseNodeName = (text: string): Parsed<string> =>
  isName(text)
    ? good(text)
    : notAllowed(
        `letters, digits, '.', '_', '-', starting with a letter or digit, at most ${identityLimits.nameCharsMax} characters`,
      );

const parseTrustDomain = (text: string): Parsed<string> =>
  isTrustDomain(text)
    ? good(text)
    : notAllowed(`lowercase letters, digits, '.', '_', '-', at most ${identityLimits.trustDomainCharsMax} characters`);

const parseAbsolutePath = (text: string): Parsed<string> =>
  text.startsWith('/') && text.length <= configLimits.pathCharsMax && !/[\s\0]/.test(text)
    ? good(text)
    : notAllowed(`an absolute path without spaces, at most ${configLimits.pathCharsMax} characters`);

/** A program name looked up in PATH, or an absolute path. */
const parseCommand = (text: string): Parsed<string> =>
  text.length <= configLimits.pathCharsMax &&
  (/^[A-Za-z0-9._+-]+$/.test(text) || (text.startsWith('/') && !/[\s\0]/.test(text)))
    ? good(text)
    : notAllowed('a program name or an absolute path, without spaces');

const parseInterface = (text: string): Parsed<string> =>
  text.length <= configLimits.interfaceCharsMax && /^[A-Za-z0-9_.@:-]+$/.test(text) && text !== '.' && text !== '..'
    ? good(text)
    : notAllowed(
        `a network interface name (letters, digits, '.', '_', '-', ':', '@'), at most ${configLimits.interfaceCharsMax} characters`,
      );

const parseJoinToken = (text: string): Parsed<string> =>
  text.startsWith(tokenPrefix) &&
  text.length <= configLimits.tokenCharsMax &&
  /^[A-Za-z0-9_-]+$/.test(text.slice(tokenPrefix.length))
    ? good(text)
    : notAllowed(
        `a join token from 'x0 ca issue-token' (${tokenPrefix}..., at most ${configLimits.tokenCharsMax} characters)`,
      );

const parseTopicPrefix = (text: string): Parsed<string> =>
  text.length <= configLimits.topicPrefixCharsMax && /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(text)
    ? good(text)
    : notAllowed(
        `MQTT topic levels of letters, digits, '.', '_', '-' separated by '/', no wildcards, at most ${configLimits.topicPrefixCharsMax} characters`,
      );

const durationUnitsMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000 };
const parseInterval = (text: string): Parsed<number> => {
  const match = /^(\d{1,9})(ms|s|m|h)?$/.exec(text);
  const range = `${configLimits.intervalMsMin / 1000}s..${configLimits.intervalMsMax / 3600_000}h`;
  if (match === null) return notAllowed(`a duration: 500ms | 10s | 5m | 1h, a bare number is seconds, within ${range}`);
  const ms = Number(match[1]) * (durationUnitsMs[match[2] ?? 's'] ?? 1000);
  if (ms < configLimits.intervalMsMin || ms > configLimits.intervalMsMax)
    return notAllowed(range, 'out-of-range', 'is out of range');
  return good(ms);
};

const parseQos = (text: string): Parsed<0 | 1> =>
  text === '0' ? good(0) : text === '1' ? good(1) : notAllowed('0 | 1');
const parseProtocol = (text: string): Parsed<4 | 5> =>
  text === '3.1.1' || text === '4' ? good(4) : text === '5' ? good(5) : notAllowed('3.1.1 | 5');

const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const hostLabel = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const hexGroup = /^[0-9A-Fa-f]{1,4}$/;

/** RFC 4291 §2.2 text forms: eight groups, or fewer around one '::', the last two may be an IPv4 address. */
function isIpv6(text: string): boolean {
  if (text.length > 45) return false;
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = halves.map((half) => (half === '' ? [] : half.split(':')));
  const all = groups.flat();
  const last = all[all.length - 1];
  const ipv4Tail = last !== undefined && last.includes('.');
  if (ipv4Tail && !ipv4.test(last)) return false;
  const hex = ipv4Tail ? all.slice(0, -1) : all;
  if (!hex.every((group) => hexGroup.test(group))) return false;
  const width = hex.length + (ipv4Tail ? 2 : 0);
  return halves.length === 2 ? width <= 7 : width === 8;
}

function isHost(host: string): boolean {
  if (host.length === 0 || host.length > configLimits.hostCharsMax) return false;
  if (/^[\d.]+$/.test(host)) return ipv4.test(host);
  return host.split('.').every((label) => hostLabel.test(label));
}

const hostPortAllowed = 'HOST:PORT with an IPv4 address, a host name or [IPv6], and a port 1..65535';

const parseHostPort = (text: string): Parsed<HostPort> => {
  const match = /^(\[([^\]]*)\]|[^:[\]]*):(\d{1,5})$/.exec(text);
  if (match === null) return notAllowed(hostPortAllowed, 'bad-address');
  const bracketed = match[2];
  const host = bracketed ?? match[1] ?? '';
  const port = Number(match[3]);
  const hostOk = bracketed !== undefined ? isIpv6(bracketed) : isHost(host);
  if (!hostOk) return notAllowed(hostPortAllowed, 'bad-address');
  if (port < 1 || port > 65535) return notAllowed('a port 1..65535', 'out-of-range', 'has a port out of range');
  return good({ host, port });
};

const parseAnnounce = (text: string): Parsed<HostPort> => {
  const address = parseLinkAddress(text);
  return address !== null
    ? good(address)
    : notAllowed(
        'IPv4 A.B.C.D:PORT or [IPv6]:PORT (an address others reach, not a host name or 0.0.0.0)',
        'bad-address',
      );
};

const parsePeerRef = (text: string): Parsed<PeerRef> => {
  const at = text.indexOf('@');
  const allowed = `NAME@HOST:PORT (a node name, then ${hostPortAllowed})`;
  if (at === -1) return notAllowed(allowed, 'bad-address');
  const name = text.slice(0, at);
  if (!isName(name)) return notAllowed(allowed, 'bad-value');
  const address = parseHostPort(text.slice(at + 1));
  return address.ok ? good({ name, address: address.value }) : notAllowed(allowed, address.reason, address.problem);
};

// ---- the schema ----

export type SectionType = 'agent' | 'uplink' | 'xdp' | 'mapek';

/** Every section type and its options, in documentation order (docs/config.md has a table row for each). */
export const configOptions: Readonly<Record<SectionType, readonly string[]>> = {
  agent: [
    'enabled',
    'node_name',
    'role',
    'state_dir',
    'trust_domain',
    'join_token',
    'mesh_interface',
    'batctl',
    'ubus_socket',
    'listen',
    'announce',
    'anchor',
    'static_peer',
    'log_level',
  ],
  uplink: [
    'enabled',
    'broker',
    'topic_prefix',
    'interval',
    'qos',
    'protocol',
    'tls',
    'ca_file',
    'cert_file',
    'key_file',
    'server_name',
  ],
  xdp: ['enabled', 'interface'],
  mapek: ['enabled', 'probe_interval', 'detect_multiplier', 'probe_peers', 'flood_pps_min'],
};
/** Options that take several values (`list NAME 'VALUE'` lines; one `option` line is one value, as in uci). */
const listOptions = new Set(['anchor', 'static_peer', 'interface']);
const sectionTypes = Object.keys(configOptions) as SectionType[];

// ---- the reader: collects errors, returns defaults in their place so every error is found in one pass ----

interface Context {
  readonly path: string;
  readonly errors: ConfigError[];
}

function report(context: Context, error: Omit<ConfigError, 'path' | 'message'>, problem: string): void {
  const where = [
    error.section === null ? '' : `section '${error.section}'`,
    error.option === null ? '' : `option '${error.option}'`,
  ]
    .filter((part) => part !== '')
    .join(' ');
  const prefix = `${context.path}:${error.line}: ${where === '' ? '' : `${where}: `}`;
  const value = error.value === null ? '' : `'${error.value}' `;
  const allowed = error.allowed === null ? '' : ` (${error.allowed})`;
  context.errors.push({ ...error, path: context.path, message: `${prefix}${value}${problem}${allowed}` });
}

class SectionReader {
  private readonly byName = new Map<string, UciEntry[]>();

  constructor(
    private readonly context: Context,
    readonly type: SectionType,
    readonly label: string,
    readonly line: number,
    section: UciSection | null,
  ) {
    for (const entry of section?.entries ?? []) this.collect(entry);
  }

  private collect(entry: UciEntry): void {
    const known = configOptions[this.type];
    if (!known.includes(entry.name)) {
      const allowed = known.join(' | ');
      this.fail(
        entry.line,
        entry.name,
        null,
        { reason: 'unknown-option', allowed },
        `unknown in a section of type '${this.type}'`,
      );
      return;
    }
    if (entry.kind === 'list' && !listOptions.has(entry.name)) {
      this.fail(
        entry.line,
        entry.name,
        entry.value,
        { reason: 'not-a-list', allowed: null },
        `is given with 'list', but '${entry.name}' takes one value: write option ${entry.name} '...'`,
      );
      return;
    }
    const prior = this.byName.get(entry.name);
    if (prior !== undefined && !listOptions.has(entry.name)) {
      const first = prior[0] as UciEntry;
      this.fail(
        entry.line,
        entry.name,
        entry.value,
        { reason: 'duplicate-option', allowed: null },
        `sets it a second time (first on line ${first.line}); keep one`,
      );
      return;
    }
    if (prior === undefined) this.byName.set(entry.name, [entry]);
    else prior.push(entry);
  }

  fail(
    line: number,
    option: string | null,
    value: string | null,
    what: { reason: ConfigErrorReason; allowed: string | null },
    problem: string,
  ): void {
    report(
      this.context,
      { reason: what.reason, line, section: this.label, option, value, allowed: what.allowed },
      problem,
    );
  }

  /** Whether any statement gives the option a non-empty value (valid or not). */
  hasValue(name: string): boolean {
    return (this.byName.get(name) ?? []).some((entry) => entry.value !== '');
  }

  /** The option's value; '' (uci's "unset") and a missing option both give the fallback. */
  scalar<T>(name: string, parse: (text: string) => Parsed<T>, fallback: T): T {
    const entry = this.byName.get(name)?.[0];
    if (entry === undefined || entry.value === '') return fallback;
    const parsed = parse(entry.value);
    if (parsed.ok) return parsed.value;
    this.fail(entry.line, name, entry.value, parsed, parsed.problem);
    return fallback;
  }

  /** The option's raw entry, for required-option checks. */
  entry(name: string): UciEntry | undefined {
    return this.byName.get(name)?.[0];
  }

  list<T>(name: string, parse: (text: string) => Parsed<T>, itemsMax: number, key: (item: T) => string): T[] {
    const out: T[] = [];
    const seen = new Map<string, number>();
    for (const entry of this.byName.get(name) ?? []) {
      if (entry.value === '') continue;
      if (out.length >= itemsMax) {
        this.fail(
          entry.line,
          name,
          entry.value,
          { reason: 'too-many-items', allowed: `at most ${itemsMax}` },
          `is one item too many`,
        );
        break;
      }
      const parsed = parse(entry.value);
      if (!parsed.ok) {
        this.fail(entry.line, name, entry.value, parsed, parsed.problem);
        continue;
      }
      const id = key(parsed.value);
      const firstLine = seen.get(id);
      if (firstLine !== undefined) {
        this.fail(
          entry.line,
          name,
          entry.value,
          { reason: 'duplicate-name', allowed: null },
          `repeats '${id}' (already on line ${firstLine}); names are unique`,
        );
        continue;
      }
      seen.set(id, entry.line);
      out.push(parsed.value);
    }
    return out;
  }
}

// ---- sections ----

function findSections(file: UciFile, context: Context): Map<SectionType, { section: UciSection; label: string }> {
  const found = new Map<SectionType, { section: UciSection; label: string }>();
  const counts = new Map<string, number>();
  const names = new Map<string, number>();
  for (const section of file.sections) {
    const index = counts.get(section.type) ?? 0;
    counts.set(section.type, index + 1);
    const label = section.name ?? `@${section.type}[${index}]`;
    if (!(sectionTypes as readonly string[]).includes(section.type)) {
      report(
        context,
        {
          reason: 'unknown-section-type',
          line: section.line,
          section: label,
          option: null,
          value: section.type,
          allowed: sectionTypes.join(' | '),
        },
        'is not a section type of x0tta6bl4',
      );
      continue;
    }
    const firstLine = section.name === null ? undefined : names.get(section.name);
    const prior = found.get(section.type as SectionType);
    if (firstLine !== undefined || prior !== undefined) {
      const line = firstLine ?? prior?.section.line ?? 0;
      report(
        context,
        { reason: 'duplicate-section', line: section.line, section: label, option: null, value: null, allowed: null },
        `is a second section of type '${section.type}' (first on line ${line}); keep one`,
      );
      continue;
    }
    if (section.name !== null) names.set(section.name, section.line);
    found.set(section.type as SectionType, { section, label });
  }
  return found;
}

const parseServerName = (text: string): Parsed<string> =>
  text.length <= configLimits.hostCharsMax && text.split('.').every((label) => hostLabel.test(label))
    ? good(text)
    : notAllowed(`a DNS name the broker's certificate holds, at most ${configLimits.hostCharsMax} characters`);

/** tls '1' needs ca_file; cert_file and key_file go together; the files are read at each connection. */
function readUplinkTls(reader: SectionReader): UplinkTlsConfig | null {
  const on = reader.scalar('tls', parseBoolean, false);
  const caFile = reader.scalar<string | null>('ca_file', parseAbsolutePath, null);
  const certFile = reader.scalar<string | null>('cert_file', parseAbsolutePath, null);
  const keyFile = reader.scalar<string | null>('key_file', parseAbsolutePath, null);
  const serverName = reader.scalar<string | null>('server_name', parseServerName, null);
  if (!on) return null;
  if (!reader.hasValue('ca_file'))
    reader.fail(
      reader.entry('tls')?.line ?? reader.line,
      'ca_file',
      null,
      { reason: 'missing-option', allowed: 'an absolute path to a PEM file' },
      "required when tls is '1': the CA that signed the broker's certificate",
    );
  if (reader.hasValue('cert_file') !== reader.hasValue('key_file')) {
    const given = reader.hasValue('cert_file') ? 'cert_file' : 'key_file';
    reader.fail(
      reader.entry(given)?.line ?? reader.line,
      given === 'cert_file' ? 'key_file' : 'cert_file',
      null,
      { reason: 'inconsistent', allowed: null },
      `is required with ${given}: a client certificate and its key go together`,
    );
  }
  return { caFile: caFile ?? '', certFile, keyFile, serverName };
}

function readUplink(reader: SectionReader, checkMissing: boolean): UplinkConfig {
  const enabled = reader.scalar('enabled', parseBoolean, defaults.uplink.enabled);
  const broker = reader.scalar<HostPort | null>('broker', parseHostPort, null);
  const uplink: UplinkConfig = {
    enabled,
    broker,
    topicPrefix: reader.scalar('topic_prefix', parseTopicPrefix, defaults.uplink.topicPrefix),
    intervalMs: reader.scalar('interval', parseInterval, defaults.uplink.intervalMs),
    qos: reader.scalar('qos', parseQos, defaults.uplink.qos),
    protocol: reader.scalar('protocol', parseProtocol, defaults.uplink.protocol),
    tls: readUplinkTls(reader),
  };
  if (checkMissing && enabled && !reader.hasValue('broker')) {
    reader.fail(
      reader.entry('broker')?.line ?? reader.line,
      'broker',
      null,
      { reason: 'missing-option', allowed: 'HOST:PORT' },
      'required when the uplink is enabled',
    );
  }
  return uplink;
}

function readXdp(reader: SectionReader, checkMissing: boolean): XdpConfig {
  const enabled = reader.scalar('enabled', parseBoolean, defaults.xdp.enabled);
  const interfaces = reader.list('interface', parseInterface, configLimits.xdpInterfacesMax, (name) => name);
  if (checkMissing && enabled && !reader.hasValue('interface')) {
    reader.fail(
      reader.line,
      'interface',
      null,
      { reason: 'missing-option', allowed: "list interface 'IFNAME'" },
      'required when XDP is enabled',
    );
  }
  return { enabled, interfaces };
}

// The probe's bounds are the liveness core's (src/core/mapek/liveness.ts).
const probeIntervalMsMin = livenessLimits.intervalMsMin;
const probeIntervalMsMax = livenessLimits.intervalMsMax;
const parseProbeInterval = (text: string): Parsed<number> => {
  const match = /^(\d{1,6})(ms|s)?$/.exec(text);
  const range = `${probeIntervalMsMin}ms..${probeIntervalMsMax / 1000}s`;
  if (match === null) return notAllowed(`a duration: 100ms | 1s, a bare number is milliseconds, within ${range}`);
  const ms = Number(match[1]) * (match[2] === 's' ? 1000 : 1);
  return ms < probeIntervalMsMin || ms > probeIntervalMsMax
    ? notAllowed(range, 'out-of-range', 'is out of range')
    : good(ms);
};
const parseDetectMultiplier = (text: string): Parsed<number> => {
  const n = /^\d{1,3}$/.test(text) ? Number(text) : Number.NaN;
  const { detectMultiplierMin: lo, detectMultiplierMax: hi } = livenessLimits;
  return n >= lo && n <= hi
    ? good(n)
    : notAllowed(`an integer ${lo}..${hi} (missed probe intervals that make a link dead)`);
};

const parseFloodPpsMin = (text: string): Parsed<number> => {
  const n = /^\d{1,7}$/.test(text) ? Number(text) : Number.NaN;
  const { min, max } = floodPpsMinRange;
  return n >= min && n <= max
    ? good(n)
    : notAllowed(`an integer ${min}..${max} (frames per second from one MAC; above the ${min - 1}/s rate limit)`);
};

function readMapek(reader: SectionReader): MapekSectionConfig {
  return {
    enabled: reader.scalar('enabled', parseBoolean, mapekDefaults.enabled),
    probeIntervalMs: reader.scalar('probe_interval', parseProbeInterval, mapekDefaults.probeIntervalMs),
    detectMultiplier: reader.scalar('detect_multiplier', parseDetectMultiplier, mapekDefaults.detectMultiplier),
    probePeers: reader.scalar('probe_peers', parseBoolean, mapekDefaults.probePeers),
    floodPpsMin: reader.scalar('flood_pps_min', parseFloodPpsMin, mapekDefaults.floodPpsMin),
  };
}

const missingAgent = (path: string): ConfigError => ({
  reason: 'missing-section',
  path,
  line: 1,
  section: null,
  option: null,
  value: null,
  allowed: null,
  message: `${path}:1: no 'agent' section; add: config agent 'main' (with at least option role 'anchor' or 'node')`,
});

export interface ValidateOptions {
  /** The file's path, for error messages and AgentConfig.path. */
  readonly path: string;
  /** The default node name. */
  readonly hostname: string;
}

/** Turns a parsed UCI file into the agent's configuration, or every error found. Pure. */
export function validateConfig(parsed: UciFile, options: ValidateOptions): ConfigResult {
  const context: Context = { path: options.path, errors: [] };
  for (const error of parsed.errors) {
    report(
      context,
      { reason: 'syntax', line: error.line, section: null, option: null, value: null, allowed: null },
      error.message,
    );
  }
  // After a syntax error, a missing option may only be the error's echo (an open quote ate it): not reported.
  const checkMissing = parsed.errors.length === 0;
  const sections = findSections(parsed, context);
  const agentFound = sections.get('agent');
  if (agentFound === undefined) {
    if (checkMissing) context.errors.push(missingAgent(options.path));
    return { ok: false, errors: context.errors };
  }
  const reader = (type: SectionType): SectionReader => {
    const found = sections.get(type);
    return new SectionReader(context, type, found?.label ?? type, found?.section.line ?? 1, found?.section ?? null);
  };
  const agent = reader('agent');
  const config = readAgent(agent, options, checkMissing, {
    uplink: readUplink(reader('uplink'), checkMissing),
    xdp: readXdp(reader('xdp'), checkMissing),
    mapek: readMapek(reader('mapek')),
  });
  if (context.errors.length === 0) return { ok: true, value: config };
  return { ok: false, errors: [...context.errors].sort((a, b) => a.line - b.line) };
}

function readAgent(
  agent: SectionReader,
  options: ValidateOptions,
  checkMissing: boolean,
  rest: { uplink: UplinkConfig; xdp: XdpConfig; mapek: MapekSectionConfig },
): AgentConfig {
  const nodeName = agent.scalar('node_name', parseNodeName, options.hostname);
  if ((agent.entry('node_name')?.value ?? '') === '' && !isName(options.hostname)) {
    agent.fail(
      agent.entry('node_name')?.line ?? agent.line,
      'node_name',
      null,
      { reason: 'missing-option', allowed: null },
      `required: the hostname '${options.hostname}' is not a valid node name (letters, digits, '.', '_', '-')`,
    );
  }
  const roleEntry = agent.entry('role');
  if (checkMissing && (roleEntry === undefined || roleEntry.value === '')) {
    agent.fail(
      roleEntry?.line ?? agent.line,
      'role',
      null,
      { reason: 'missing-option', allowed: 'anchor | node' },
      'required',
    );
  }
  const role = agent.scalar<Role>('role', choice<Role>(['anchor', 'node']), 'node');
  const peerKey = (peer: PeerRef): string => peer.name;
  const anchors = agent.list('anchor', parsePeerRef, configLimits.anchorsMax, peerKey);
  const config: AgentConfig = {
    path: options.path,
    enabled: agent.scalar('enabled', parseBoolean, defaults.enabled),
    nodeName,
    role,
    stateDir: agent.scalar('state_dir', parseAbsolutePath, defaults.stateDir),
    trustDomain: agent.scalar('trust_domain', parseTrustDomain, defaults.trustDomain),
    joinToken: agent.scalar<string | null>('join_token', parseJoinToken, null),
    meshInterface: agent.scalar<string | null>('mesh_interface', parseInterface, null),
    batctl: agent.scalar('batctl', parseCommand, defaults.batctl),
    ubusSocket: agent.scalar('ubus_socket', parseAbsolutePath, defaults.ubusSocket),
    listen: agent.scalar('listen', parseHostPort, defaults.listen),
    announce: agent.scalar<HostPort | null>('announce', parseAnnounce, null),
    anchors,
    staticPeers: agent.list('static_peer', parsePeerRef, configLimits.staticPeersMax, peerKey),
    logLevel: agent.scalar<LogLevel>(
      'log_level',
      choice<LogLevel>(['debug', 'info', 'warn', 'error']),
      defaults.logLevel,
    ),
    ...rest,
  };
  if (role === 'anchor' && anchors.length > 0 && !anchors.some((anchor) => anchor.name === nodeName)) {
    const line = agent.entry('anchor')?.line ?? agent.line;
    agent.fail(
      line,
      'anchor',
      null,
      { reason: 'inconsistent', allowed: null },
      `does not name this node '${nodeName}', whose role is anchor: add list anchor '${nodeName}@HOST:PORT' or set option role 'node'`,
    );
  }
  return config;
}

/** Parses and validates a config file's text. */
export function loadConfigText(text: string, path: string, hostname: string): ConfigResult {
  return validateConfig(parseUci(text), { path, hostname });
}

// ---- reload ----

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Each field, the UCI option it comes from, and whether a running agent applies a change without a restart. */
const changeTable: ReadonlyArray<readonly [keyof AgentConfig, string, boolean]> = [
  ['enabled', 'agent.enabled', false],
  ['nodeName', 'agent.node_name', false],
  ['role', 'agent.role', false],
  ['stateDir', 'agent.state_dir', false],
  ['trustDomain', 'agent.trust_domain', false],
  ['joinToken', 'agent.join_token', false],
  ['meshInterface', 'agent.mesh_interface', false],
  ['batctl', 'agent.batctl', false],
  ['ubusSocket', 'agent.ubus_socket', false],
  ['listen', 'agent.listen', false],
  ['announce', 'agent.announce', true],
  ['anchors', 'agent.anchor', false],
  ['staticPeers', 'agent.static_peer', true],
  ['logLevel', 'agent.log_level', true],
];

const uplinkFields: ReadonlyArray<readonly [keyof UplinkConfig, string]> = [
  ['enabled', 'uplink.enabled'],
  ['broker', 'uplink.broker'],
  ['topicPrefix', 'uplink.topic_prefix'],
  ['intervalMs', 'uplink.interval'],
  ['qos', 'uplink.qos'],
  ['protocol', 'uplink.protocol'],
  ['tls', 'uplink.tls'],
];

/** What changed between two configs, as UCI `type.option` names: applied on reload, or needing a restart. */
export function describeChanges(
  before: AgentConfig,
  after: AgentConfig,
): { applied: string[]; needsRestart: string[] } {
  const applied: string[] = [];
  const needsRestart: string[] = [];
  for (const [field, name, reloadable] of changeTable) {
    if (!sameJson(before[field], after[field])) (reloadable ? applied : needsRestart).push(name);
  }
  for (const [field, name] of uplinkFields)
    if (!sameJson(before.uplink[field], after.uplink[field])) applied.push(name);
  if (before.xdp.enabled !== after.xdp.enabled) applied.push('xdp.enabled');
  if (!sameJson(before.xdp.interfaces, after.xdp.interfaces)) applied.push('xdp.interface');
  // The component is built at start or not at all: switching it on or off takes a restart of the agent.
  if (before.mapek.enabled !== after.mapek.enabled) needsRestart.push('mapek.enabled');
  if (before.mapek.probeIntervalMs !== after.mapek.probeIntervalMs) applied.push('mapek.probe_interval');
  if (before.mapek.detectMultiplier !== after.mapek.detectMultiplier) applied.push('mapek.detect_multiplier');
  if (before.mapek.probePeers !== after.mapek.probePeers) applied.push('mapek.probe_peers');
  if (before.mapek.floodPpsMin !== after.mapek.floodPpsMin) applied.push('mapek.flood_pps_min');
  return { applied, needsRestart };
}
