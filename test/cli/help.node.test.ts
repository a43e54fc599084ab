// Issue 21 item 6 (part): one CLI vocabulary. `x0` alone prints help and exits 2; `x0 --version`; every
// subcommand's --help exits 0, starts with its usage and states its exit codes (0, 2 and what else); and a
// table of bad invocations each exits with the right code and a message that names the option, file or
// command and what to do. In-process through runCli (fast), with the Node-only commands registered as
// src/entry/node.ts registers them, and the real entry's command list checked against it once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
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
  [['channel'], 2, /--dir and --listen are required/],
  [['neighbours', '--bogus'], 2, /unknown option --bogus/],
  [['agent', '--run-for-ms', 'soon'], 2, /--run-for-ms must be a positive whole number/],
  [
    ['agent', '--check', '--config', `${dir}/missing.conf`],
    2,
    /missing\.conf: cannot read the configuration file.*--config PATH/,
  ],
  [['uplink'], 2, /--dir is required/],
  [['uplink', '--dir', dir, '--bogus'], 2, /unknown option --bogus/],
  [['uplink', '--dir', dir, '--mqtt', '4'], 2, /--mqtt is 5 or 3\.1\.1/],
  [['uplink', '--dir', dir, '--keepalive-s', '0'], 2, /--keepalive-s needs whole seconds/],
  [['uplink', '--dir', dir, '--broker', 'nohost'], 2, /--broker needs HOST:PORT/],
  [['uplink', '--dir', `${dir}/none`], 1, /cannot load the identity in .*\/none: .*x0 cert request/],
  [['watch'], 2, /give --bundle FILE or --dir DIR/],
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
  [['version', '--bogus'], 2, /x0 version takes no arguments/],
];

test('bad invocations: the right exit code and a message naming what is wrong', async () => {
  for (const [args, code, message] of bad) {
    const r = await x0(...args);
    assert.is(r.code, code, `x0 ${args.join(' ')}: ${r.err}`);
    assert.match(r.err, message, `x0 ${args.join(' ')}`);
    // An invalid configuration file is exit 2 too, but reported one line per error, without the usage.
    const configError = args[0] === 'agent' && args.includes('--check');
    if (code === 2 && !configError) assert.match(r.err, /\n\nusage: /, `x0 ${args.join(' ')}: usage follows`);
  }
});

test.run();
