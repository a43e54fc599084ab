// The shipped config files and the documentation against src/agent/config.ts: the router's default file and
// the LuCI test's file validate, OpenWrt's real `uci` reads the default file as parseUci does, and
// docs/config.md has a row for every option of every section and no other.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configOptions, loadConfigText } from '../../src/agent/config.js';
import { parseUci } from '../../src/core/uci/parse.js';
import { formatUci, resolveUci } from '../../src/core/uci/resolve.js';
import { root } from '../lib/processes.js';

const defaultFile = join(root, 'rootfs/etc/config/x0tta6bl4');
const prefix = join(root, 'build/openwrt/prefix');

function load(path: string, hostname: string) {
  const result = loadConfigText(readFileSync(path, 'utf8'), path, hostname);
  assert.ok(result.ok, result.ok ? '' : result.errors.map((e) => e.message).join('\n'));
  return result.ok ? result.value : undefined;
}

test('the router default file (rootfs/etc/config/x0tta6bl4) is valid and means the documented defaults', () => {
  const config = load(defaultFile, 'x0-a1b2c3');
  assert.is(config?.nodeName, 'x0-a1b2c3');
  assert.is(config?.role, 'node');
  assert.is(config?.stateDir, '/etc/x0tta6bl4');
  assert.is(config?.trustDomain, 'mesh.x0');
  assert.is(config?.logLevel, 'info');
  assert.is(config?.uplink.enabled, false);
  assert.is(config?.uplink.protocol, 4);
  assert.is(config?.xdp.enabled, false);
});

test("the LuCI test's file (test/luci/x0tta6bl4.config) is valid", () => {
  assert.is(load(join(root, 'test/luci/x0tta6bl4.config'), 'OpenWrt')?.role, 'anchor');
});

test("OpenWrt's uci reads the default file as parseUci does", () => {
  if (!existsSync(join(prefix, 'bin/uci'))) {
    const built = spawnSync('bash', [join(root, 'scripts/openwrt-tools.sh'), 'uci'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 600_000,
    });
    assert.is(built.status, 0, `bash scripts/openwrt-tools.sh uci failed:\n${built.stderr}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'x0-config-'));
  try {
    copyFileSync(defaultFile, join(dir, 'x0tta6bl4'));
    const real = spawnSync(join(prefix, 'bin/uci'), ['-c', dir, 'export', 'x0tta6bl4'], {
      encoding: 'utf8',
      env: { ...process.env, LD_LIBRARY_PATH: join(prefix, 'lib') },
    });
    assert.is(real.status, 0, real.stderr);
    const parsed = parseUci(readFileSync(defaultFile, 'utf8'));
    assert.is(formatUci('x0tta6bl4', resolveUci(parsed)), real.stdout);
    const show = spawnSync(join(prefix, 'bin/uci'), ['-c', dir, 'get', 'x0tta6bl4.main.role'], {
      encoding: 'utf8',
      env: { ...process.env, LD_LIBRARY_PATH: join(prefix, 'lib') },
    });
    assert.is(show.stdout.trim(), 'node');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** docs/config.md: the option names in the first column of each "## Section `TYPE`" table. */
function documentedOptions(): Record<string, string[]> {
  const text = readFileSync(join(root, 'docs/config.md'), 'utf8');
  const out: Record<string, string[]> = {};
  for (const part of text.split(/^## Section `/m).slice(1)) {
    const type = part.slice(0, part.indexOf('`'));
    out[type] = [...part.matchAll(/^\| `([a-z_]+)` \|/gm)].map((match) => match[1] as string);
  }
  return out;
}

test('docs/config.md documents every option of every section, in the schema order, and nothing else', () => {
  assert.equal(documentedOptions(), configOptions);
});

test.run();
