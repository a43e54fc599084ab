// MQTT over TLS against a real mosquitto on loopback, on both engines: Node (node:tls, OpenSSL) in-process and
// x0-runtime (x0:tls, mbedtls) through a bundled probe. Certificates are made here with openssl: a trusted CA
// and a foreign one, a server certificate for broker.test, an expired one, a client certificate. One mosquitto
// serves three TLS listeners (good certificate; expired certificate; client certificate required). Each case
// asserts the outcome line of tls-probe.ts: a QoS 1 round trip through the broker, or the refusal's reason.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import typescript from '@rollup/plugin-typescript';
import { rollup, type Plugin } from 'rollup';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
// @ts-expect-error: plain .mjs shared with rollup.config.mjs, no declarations
import { onwarn, plugins } from '../../scripts/rollup-parts.mjs';
import { createNodePlatform } from '../../src/platform/node/index.js';
import type { TlsOptions } from '../../src/platform/types.js';
import { bundlePath, freePort, root, runtimePath } from '../lib/processes.js';
import { makeMesh, mosquittoPath, requireMosquitto, sleep, start, testDir, waitFor, x0Node, x0Runtime } from './lib.js';
import { tlsProbe } from './tls-probe.js';

const platform = createNodePlatform();

function openssl(dir: string, ...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.error !== undefined) throw new Error(`openssl: ${r.error.message} (apt-get install openssl)`);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** CA NAME: a self-signed CA certificate NAME.pem with its key NAME.key. */
function makeCa(dir: string, name: string): void {
  openssl(dir, 'req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-subj', `/CN=x0 test ${name}`);
  openssl(dir, 'x509', '-in', `${name}.pem`, '-noout'); // parses
}

/** A leaf NAME.pem/NAME.key signed by CA, valid `days` (-1: already expired), with the given extensions. */
function makeLeaf(dir: string, name: string, ca: string, days: number, extensions: string): void {
  writeFileSync(`${dir}/${name}.ext`, extensions);
  openssl(dir, 'req', '-new', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    String(days),
    '-out',
    `${name}.pem`,
    '-extfile',
    `${name}.ext`,
  );
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

interface Broker {
  readonly good: number;
  readonly expired: number;
  readonly clientCert: number;
  stop(): Promise<void>;
}

/** mosquitto with three TLS listeners (each listener's certfile/keyfile/require_certificate are its own). */
async function startBroker(dir: string): Promise<Broker> {
  requireMosquitto();
  const [good, expired, clientCert] = [await freePort(), await freePort(), await freePort()];
  const listener = (port: number, cert: string, requireCert: boolean) => [
    `listener ${port} 127.0.0.1`,
    `cafile ${dir}/ca.pem`,
    `certfile ${dir}/${cert}.pem`,
    `keyfile ${dir}/${cert}.key`,
    `require_certificate ${requireCert}`,
  ];
  writeFileSync(
    `${dir}/mosquitto.conf`,
    [
      'per_listener_settings false',
      'allow_anonymous true',
      'persistence false',
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'log_type error',
      ...listener(good, 'broker', false),
      ...listener(expired, 'expired', false),
      ...listener(clientCert, 'broker', true),
    ].join('\n') + '\n',
  );
  const child = spawn(mosquittoPath, ['-c', `${dir}/mosquitto.conf`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d) => {
    log += d;
  });
  for (let i = 0; i < 100 && !(await portOpen(clientCert)); i++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${log}`);
    await sleep(50);
  }
  return {
    good,
    expired,
    clientCert,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(3000)]);
    },
  };
}

async function bundleProbe(dir: string): Promise<string> {
  const file = `${dir}/tls-probe.js`;
  const bundle = await rollup({
    input: `${root}test/mqtt/fixtures/tls-probe.ts`,
    // The TypeScript program limited to what the probe imports (as lib.ts's bundleClient): seconds, not a minute.
    plugins: (plugins({ minify: false }) as Plugin[])
      .filter((p) => p.name !== 'x0-report-size')
      .map((p) =>
        p.name !== 'typescript'
          ? p
          : typescript({
              tsconfig: `${root}tsconfig.json`,
              include: [
                `${root}src/{core,crypto,mqtt,platform}/**/*.ts`,
                `${root}types/**/*.d.ts`,
                `${root}test/mqtt/tls-probe.ts`,
                `${root}test/mqtt/fixtures/tls-probe.ts`,
              ],
              compilerOptions: { noEmit: false, declaration: false, sourceMap: false },
              outDir: undefined,
              noEmitOnError: false,
            }),
      ),
    onwarn,
  });
  await bundle.write({ file, format: 'es', sourcemap: false, inlineDynamicImports: true });
  await bundle.close();
  return file;
}

/**
 * x0-runtime built with TLS=0 (as scripts/cross.sh builds router targets without --tls), from copies of the
 * QuickJS objects: only our six files compile (a few seconds).
 */
function buildWithoutTls(out: string): string {
  mkdirSync(`${out}/native`, { recursive: true });
  for (const part of ['qjs', 'qjs-patched'])
    cpSync(`${root}build/native/${part}`, `${out}/native/${part}`, { recursive: true, preserveTimestamps: true });
  const r = spawnSync('make', ['-s', '-C', `${root}src/native`, `BUILD=${out}`, 'TLS=0'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make -C src/native TLS=0: ${r.stderr}`);
  return `${out}/x0-runtime`;
}

function probeOnRuntime(bundle: string, port: number, tls: TlsOptions, runtime = runtimePath): string {
  const args = [bundle, String(port), tls.caFile, tls.serverName ?? '127.0.0.1'];
  if (tls.certFile !== undefined && tls.keyFile !== undefined) args.push(tls.certFile, tls.keyFile);
  const r = spawnSync(runtime, args, { encoding: 'utf8', timeout: 15_000 });
  if (r.status !== 0) throw new Error(`x0-runtime exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}

const dir = testDir('tls');
let broker: Broker;
let bundle: string;

test.before(async () => {
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  const server =
    'subjectAltName=DNS:broker.test,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n';
  makeLeaf(dir, 'broker', 'ca', 2, server);
  makeLeaf(dir, 'expired', 'ca', -1, server);
  makeLeaf(dir, 'node', 'ca', 2, 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  [broker, bundle] = await Promise.all([startBroker(dir), bundleProbe(dir)]);
});

test.after(async () => {
  await broker?.stop();
});

const ca = () => `${dir}/ca.pem`;
const cases: ReadonlyArray<{
  readonly name: string;
  readonly port: () => number;
  readonly tls: () => TlsOptions;
  /** A string: exactly; a pattern where the engines differ in how they notice (TLS 1.3 on Node, 1.2 here). */
  readonly outcome: string | RegExp;
}> = [
  {
    name: 'the right CA and server name: a QoS 1 round trip through the broker',
    port: () => broker.good,
    tls: () => ({ caFile: ca(), serverName: 'broker.test' }),
    outcome: 'round-trip ok',
  },
  {
    name: 'a server certificate from another CA is refused: cert-untrusted',
    port: () => broker.good,
    tls: () => ({ caFile: `${dir}/other-ca.pem`, serverName: 'broker.test' }),
    outcome: 'refused connect-cert-untrusted',
  },
  {
    name: 'an expired server certificate is refused: cert-expired',
    port: () => broker.expired,
    tls: () => ({ caFile: ca(), serverName: 'broker.test' }),
    outcome: 'refused connect-cert-expired',
  },
  {
    name: 'a certificate for another name is refused: hostname-mismatch',
    port: () => broker.good,
    tls: () => ({ caFile: ca(), serverName: 'other.test' }),
    outcome: 'refused connect-hostname-mismatch',
  },
  {
    name: "the broker named by its address (no server name): the certificate's IP address name matches",
    port: () => broker.good,
    tls: () => ({ caFile: ca() }),
    outcome: 'round-trip ok',
  },
  {
    name: 'another address than the certificate names is refused: hostname-mismatch',
    port: () => broker.good,
    tls: () => ({ caFile: ca(), serverName: '127.0.0.2' }),
    outcome: 'refused connect-hostname-mismatch',
  },
  {
    name: 'a broker that requires a client certificate accepts ours',
    port: () => broker.clientCert,
    tls: () => ({ caFile: ca(), serverName: 'broker.test', certFile: `${dir}/node.pem`, keyFile: `${dir}/node.key` }),
    outcome: 'round-trip ok',
  },
  {
    name: 'without a client certificate, that broker refuses us',
    port: () => broker.clientCert,
    tls: () => ({ caFile: ca(), serverName: 'broker.test' }),
    outcome: /^refused /,
  },
  {
    name: 'a CA file that holds no certificate is named: tls-ca-invalid',
    port: () => broker.good,
    tls: () => ({ caFile: `${dir}/node.key`, serverName: 'broker.test' }),
    outcome: 'refused connect-tls-ca-invalid',
  },
  {
    name: 'a missing CA file is named: tls-ca-unreadable',
    port: () => broker.good,
    tls: () => ({ caFile: `${dir}/no-such-ca.pem`, serverName: 'broker.test' }),
    outcome: 'refused connect-tls-ca-unreadable',
  },
];

const check = (got: string, want: string | RegExp) =>
  typeof want === 'string' ? assert.is(got, want) : assert.match(got, want);

for (const c of cases) {
  test(`Node (node:tls): ${c.name}`, async () => {
    check(await tlsProbe(platform, c.port(), c.tls()), c.outcome);
  });
  test(`x0-runtime (mbedtls): ${c.name}`, () => {
    check(probeOnRuntime(bundle, c.port(), c.tls()), c.outcome);
  });
}

test('x0-runtime built without TLS (TLS=0): the connection is refused as tls-unavailable', () => {
  const runtime = buildWithoutTls(`${dir}/without-tls`);
  assert.is(
    probeOnRuntime(bundle, broker.good, { caFile: ca(), serverName: 'broker.test' }, runtime),
    'refused connect-tls-unavailable',
  );
});

test('x0 uplink on x0-runtime --tls-ca -> mosquitto -> x0 watch --tls-ca on Node: telemetry verified end to end', async () => {
  assert.ok(existsSync(bundlePath), `${bundlePath} is needed (npm run build; bash scripts/setup.sh does it)`);
  const mesh = makeMesh(dir, 'mesh.test', ['alpha']);
  const tlsFlags = ['--tls-ca', ca(), '--tls-server-name', 'broker.test'];
  const broker_ = ['--broker', `127.0.0.1:${broker.good}`];
  const watch = start(
    x0Node(
      'watch',
      '--bundle',
      mesh.bundlePath,
      ...broker_,
      ...tlsFlags,
      '--expect-nodes',
      '1',
      '--duration-ms',
      '30000',
    ),
  );
  await waitFor(watch, /subscribed to x0\/mesh\.test\/# at mqtts:/, 30_000);
  const uplink = start(
    x0Runtime(
      bundlePath,
      'uplink',
      '--state-dir',
      mesh.nodeDir('alpha'),
      ...broker_,
      ...tlsFlags,
      '--interval',
      '200ms',
      '--count',
      '2',
      '--simulate',
      '1',
    ),
  );
  assert.is(await uplink.done, 0, uplink.stdout + uplink.stderr);
  assert.match(uplink.stdout, /uplink alpha: done: 2 telemetry messages/);
  assert.is(await watch.done, 0, watch.stdout + watch.stderr);
  assert.match(watch.stdout, /verified telemetry from alpha@mesh\.test/);
});

test('x0 uplink on x0-runtime with the wrong CA says what failed and what to check', async () => {
  const mesh = makeMesh(dir, 'mesh.test', ['bravo']);
  const uplink = start(
    x0Runtime(
      bundlePath,
      'uplink',
      '--state-dir',
      mesh.nodeDir('bravo'),
      '--broker',
      `127.0.0.1:${broker.good}`,
      '--tls-ca',
      `${dir}/other-ca.pem`,
      '--tls-server-name',
      'broker.test',
      '--count',
      '1',
      '--run-for',
      '2s',
    ),
  );
  assert.is(await uplink.done, 1, uplink.stdout + uplink.stderr);
  const out = uplink.stdout + uplink.stderr;
  assert.match(out, /not signed by the trusted CA \(connect-cert-untrusted\)/);
  assert.match(out, /--tls-ca/);
});

test.run();
