// Issue 21 item 6 (part): one CLI vocabulary. `x0` alone prints help and exits 2; `x0 --version`; every
// subcommand's --help exits 0, starts with its usage and states its exit codes (0, 2 and what else); and a
// table of bad invocations each exits with the right code and a message that names the option, file or
// command and what to do. In-process through runCli (fast), with the Node-only commands registered as
// src/entry/node.ts registers them, and the real entry's command list checked against it once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerCommand, runCli } from '../../src/cli/main.js';
import { cmdCommand, exporterCommand, watchCommand } from '../../src/cli/telemetry.node.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { root, run } from '../lib/processes.js';

registerCommand('watch', 'verify and show the mesh telemetry from an MQTT broker (Node)', watchCommand);
registerCommand('exporter', 'serve verified telemetry as Prometheus metrics (Node)', exporterCommand);
registerCommand('cmd', 'operator keys and signed commands to nodes (Node)', cmdCommand);

async function x0(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const platform = {
    ...createNodePlatform({ argv: [] }),
    stdout: (t: string) => {
      out += t;
    },
    stderr: (t: string) => {
      err += t;
    },
    exit: (code: number): never => {
      throw new Error(`exit ${code}`);
    },
  };
  const code = await runCli(platform, args);
  return { code, out, err };
}

const commandsOf = (help: string): string[] =>
  [...help.matchAll(/^ {2}([a-z][a-z-]*) {2,}/gm)].map((m) => m[1] as string).sort();

test('x0 alone: help on stderr, exit 2; x0 --help: exit 0; x0 --version and x0 version agree', async () => {
  const alone = await x0();
  assert.is(alone.code, 2);
  assert.match(alone.err, /^x0: a command is needed\n\nusage: x0 COMMAND/);
  assert.is(alone.out, '');
  const help = await x0('--help');
  assert.is(help.code, 0);
  assert.match(help.out, /Exit codes \(every command\): 0 success, 1 failure .*, 2 bad arguments/);
  const version = await x0('--version');
  assert.is(version.code, 0);
  assert.match(version.out, /^x0tta6bl4 \d+\.\d+\.\d+ \(node, /);
  assert.equal(await x0('version'), version);
  assert.is((await x0('version', 'extra')).code, 2);
});

test('the real Node entry offers exactly the commands this test covers', async () => {
  const real = await run([process.execPath, '--import', 'tsx', `${root}src/entry/node.ts`, '--help'], 30_000);
  assert.is(real.code, 0, real.stderr);
  assert.equal(commandsOf(real.stdout), commandsOf((await x0('--help')).out));
});

test('every subcommand: --help exits 0 with its usage and its exit codes', async () => {
  const names = commandsOf((await x0('--help')).out);
  assert.ok(names.length >= 14, names.join(' '));
  for (const name of names) {
    // x0 xdp --help also runs the helper for its own help; without it installed that part fails (exit 1).
    const r = await x0(name, '--help');
    if (name !== 'xdp') assert.is(r.code, 0, `${name}: ${r.err}`);
    assert.match(r.out, new RegExp(`^usage: x0 ${name}\\b`), `${name}: starts with its usage`);
    assert.match(r.out, /\bExit (codes?:?\s*)?(0|the helper)/i, `${name}: states its exit codes`);
    assert.match(r.out, /\b2 (on )?bad (arguments|usage)\b/, `${name}: 2 is bad arguments`);
  }
});

test("each command's own commands: --help exits 0 with the usage and the exit codes", async () => {
  const nested = [
    ['raft', 'serve'],
    ['raft', 'status'],
    ['gossip', 'run'],
    ['gossip', 'show'],
    ['ca', 'init'],
    ['ca', 'sign'],
    ['cert', 'request'],
    ['cmd', 'send'],
  ];
  for (const args of nested) {
    const r = await x0(...args, '--help');
    assert.is(r.code, 0, `${args.join(' ')}: ${r.err}`);
    assert.match(r.out, new RegExp(`^usage: x0 ${args[0]}\\b`), `${args.join(' ')}: starts with its usage`);
    assert.match(r.out, /\b2 (on )?bad (arguments|usage)\b/, `${args.join(' ')}: 2 is bad usage`);
  }
});

test('an old spelling still works, is warned about once per run, and the new one is not warned about', async () => {
  const old = await x0(
    'gossip',
    'run',
    '--plain',
    '--name',
    'a',
    '--listen',
    ':1',
    '--peer',
    'b@:2',
    '--timeout-ms',
    '5',
    '--tick-ms',
    '5',
    '--timeout-ms',
    '7',
  );
  assert.is(old.code, 2, 'the value reached the new flag: --tick 5ms is out of range');
  assert.match(old.err, /--tick is 10ms to 10s/);
  assert.is(old.err.match(/--timeout-ms is deprecated; use --timeout 5ms/g)?.length, 1, old.err);
  assert.match(old.err, /--tick-ms is deprecated; use --tick 5ms \(docs\/cli\.md\)/);
  const again = await x0('gossip', 'run', '--plain', '--timeout-ms', '5');
  assert.match(again.err, /--timeout-ms is deprecated/, 'warned again in the next run');
  const current = await x0(
    'gossip',
    'run',
    '--plain',
    '--name',
    'a',
    '--listen',
    ':1',
    '--peer',
    'b@:2',
    '--tick',
    '5ms',
  );
  assert.not.match(current.err, /deprecated/);
});

const dir = mkdtempSync(join(tmpdir(), 'x0-cli-'));
/** args, exit code, what stderr must say (naming the option, file or command). */
const bad: [string[], number, RegExp][] = [
  [['nosuch'], 2, /unknown command 'nosuch'/],
  [['ca'], 2, /a ca command is needed \(init, issue-token, sign, revoke/],
  [['ca', 'frob'], 2, /unknown ca command 'frob'/],
  [['ca', 'init'], 2, /--trust-domain needs a valid SPIFFE trust domain/],
  [['cert'], 2, /a cert command is needed \(show, request\)/],
  [['cert', 'request'], 2, /--token is required/],
  [['cert', 'show', `${dir}/missing.chain`], 1, /missing\.chain: file-missing/],
  [['gossip'], 2, /a gossip command is needed \(run, show\)/],
  [['gossip', 'frob'], 2, /unknown subcommand 'frob'/],
  [['hello'], 2, /--name is required/],
  [['channel'], 2, /--state-dir and --listen are required/],
  [['neighbours', '--bogus'], 2, /unknown option --bogus/],
  [['agent', '--run-for-ms', 'soon'], 2, /--run-for 'soon' is not a duration \(a number with a unit: 500ms/],
  [['agent', '--run-for', '30'], 2, /--run-for '30' is not a duration/],
  [
    ['agent', '--check', '--config', `${dir}/missing.conf`],
    2,
    /missing\.conf: cannot read the configuration file.*--config PATH/,
  ],
  [['uplink'], 2, /--state-dir DIR .* or --config PATH is required/],
  [['uplink', '--dir', dir, '--bogus'], 2, /unknown option --bogus/],
  [['uplink', '--dir', dir, '--mqtt', '4'], 2, /--mqtt is 5 or 3\.1\.1/],
  [['uplink', '--dir', dir, '--keepalive-s', '0'], 2, /--keepalive '0s' is not a duration/],
  [['uplink', '--state-dir', dir, '--keepalive', '1500ms'], 2, /--keepalive needs whole seconds/],
  [
    ['uplink', '--state-dir', dir, '--config', `${dir}/x0.conf`],
    2,
    /--state-dir and --config: give the setting in .*x0\.conf or as flags, not both/,
  ],
  [['uplink', '--config', `${dir}/missing.conf`], 2, /missing\.conf: cannot read the configuration file/],
  [
    ['uplink', '--dir', dir, '--broker', 'nohost'],
    2,
    /--broker \(option 'broker': 'nohost' is not allowed \(HOST:PORT/,
  ],
  [
    ['uplink', '--dir', `${dir}/none`],
    1,
    /cannot start \(identity: not-enrolled\): .*\/none\/node\.chain is missing.*x0 cert request/,
  ],
  [
    ['gossip', 'run', '--name', 'a', '--listen', ':1', '--peer', 'b@:2', '--state-dir', `${dir}/none`],
    1,
    /x0 gossip: cannot start \(identity: not-enrolled\): .*\/none\/node\.chain is missing.*--plain/,
  ],
  [
    ['gossip', 'run', '--plain', '--name', 'a', '--listen', ':1', '--peer', 'b@:2', '--timeout', '30'],
    2,
    /--timeout '30' is not a duration/,
  ],
  [['gossip', 'show', '--state-dir', dir, '--revocations', 'x'], 2, /--revocations is for run --plain/],
  [['raft', 'serve', '--id', '1', '--state-dir', dir], 2, /--id is for 'serve --plain'/],
  [
    ['raft', 'serve', '--name', 'a', '--listen', '127.0.0.1:7', '--state-dir', dir],
    2,
    /--anchor NAME@HOST:PORT,\.\.\. is required/,
  ],
  [
    ['raft', 'serve', '--plain', '--id', '1', '--peers', '1=127.0.0.1:7'],
    2,
    /give --state-dir DIR \(Raft data in DIR\/raft\) or --data DIR/,
  ],
  [
    ['hello', '--name', 'a', '--listen', '1', '--peer', '2', '--interval', '5ms'],
    2,
    /--interval must be at least 10ms/,
  ],
  [['watch'], 2, /give --trust FILE \(the mesh trust bundle\) or --ca-dir DIR/],
  [['watch', '--bundle', `${dir}/missing.cbor`], 2, /cannot load the trust bundle .*missing\.cbor/],
  [['exporter', '--listen', 'x'], 2, /--listen and --broker need HOST:PORT/],
  [['cmd'], 2, /a cmd command is needed \(keygen, send\)/],
  [['cmd', 'frob'], 2, /unknown cmd command 'frob'/],
  [['cmd', 'send', '--mesh', 'm'], 2, /--key, --mesh, --node and --name are required/],
  [
    ['cmd', 'send', '--key', `${dir}/missing.key`, '--mesh', 'm', '--node', 'n', '--name', 'ping'],
    1,
    /missing\.key does not hold an operator key.*x0 cmd keygen/,
  ],
  [
    ['cmd', 'send', '--key', `${dir}/missing.key`, '--mesh', 'm', '--node', 'n', '--name', 'reboot'],
    2,
    /--name 'reboot' is not a command nodes run \(ping, publish-now\)/,
  ],
  [['ca', 'sign', '--request', 'r'], 2, /--request and --out are required/],
  [
    ['ca', 'sign', '--request', 'r', '--out', 'o', '--ca-dir', `${dir}/noca`],
    1,
    /noca\/ca\.key: file-missing \(is --ca-dir .*noca the CA directory\? 'x0 ca init/,
  ],
  [['version', '--bogus'], 2, /x0 version takes no arguments/],
];

test('bad invocations: the right exit code and a message naming what is wrong', async () => {
  for (const [args, code, message] of bad) {
    const r = await x0(...args);
    assert.is(r.code, code, `x0 ${args.join(' ')}: ${r.err}`);
    assert.match(r.err, message, `x0 ${args.join(' ')}`);
    // An invalid configuration file is exit 2 too, but reported one line per error, without the usage.
    const configError =
      (args[0] === 'agent' && args.includes('--check')) || (args.includes('--config') && !args.includes('--state-dir'));
    if (code === 2 && !configError) assert.match(r.err, /\n\nusage: /, `x0 ${args.join(' ')}: usage follows`);
  }
});

test('ca sign that cannot deliver leaves the token usable; a used token says how to get a new one', async () => {
  const ca = `${dir}/sign-ca`;
  const node = `${dir}/sign-node`;
  assert.is((await x0('ca', 'init', '--trust-domain', 'mesh.test', '--ca-dir', ca)).code, 0);
  const token = (await x0('ca', 'issue-token', '--node', 'alpha', '--ca-dir', ca)).out.trim();
  assert.is((await x0('cert', 'request', '--token', token, '--state-dir', node)).code, 0);
  const request = `${node}/join-request.cbor`;
  const nowhere = await x0('ca', 'sign', '--request', request, '--out', `${dir}/absent/node.chain`, '--ca-dir', ca);
  assert.is(nowhere.code, 1);
  assert.match(nowhere.err, /absent \(the directory of --out\) does not exist; the token was not used/);
  const noBundle = await x0(
    'ca',
    'sign',
    '--request',
    request,
    '--out',
    `${node}/node.chain`,
    '--bundle-out',
    `${dir}/absent/b.cbor`,
    '--ca-dir',
    ca,
  );
  assert.is(noBundle.code, 1);
  assert.match(noBundle.err, /cannot write the trust bundle: .*absent\/b\.cbor.*the token was not used/);
  const signed = await x0('ca', 'sign', '--request', request, '--out', `${node}/node.chain`, '--ca-dir', ca);
  assert.is(signed.code, 0, `the token was still good: ${signed.err}`);
  assert.ok(existsSync(`${node}/bundle.cbor`), 'the bundle went beside --out by default');
  const reused = await x0('ca', 'sign', '--request', request, '--out', `${node}/node.chain`, '--ca-dir', ca);
  assert.is(reused.code, 1);
  assert.match(
    reused.err,
    /join-request\.cbor: token-used \(a join token is good for one certificate: issue a new one with 'x0 ca issue-token --node NAME --ca-dir .*sign-ca', then run 'x0 cert request --token NEW_TOKEN'/,
  );
});

test.run();
