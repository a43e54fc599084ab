// Node-only helpers: run the identity commands in-process with captured output, and set up a CA with
// enrolled nodes in a temporary directory.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { createNodePlatform } from '../../src/platform/node/index.js';

export interface Ran {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export async function x0(...args: string[]): Promise<Ran> {
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
  };
  const code = await runCli(platform, args);
  return { code, out, err };
}

export const tempDir = (label: string): string => mkdtempSync(join(tmpdir(), `x0-${label}-`));

export async function must(...args: string[]): Promise<Ran> {
  const ran = await x0(...args);
  if (ran.code !== 0) throw new Error(`x0 ${args.join(' ')} failed (${ran.code}): ${ran.err}`);
  return ran;
}

/** A CA in DIR/ca and one enrolled node per name in DIR/<name> (keys, chain, bundle). */
export async function enrol(
  dir: string,
  trustDomain: string,
  names: readonly string[],
  certTtl = '24h',
  init = true,
): Promise<void> {
  if (init) await must('ca', 'init', '--trust-domain', trustDomain, '--dir', `${dir}/ca`);
  for (const name of names) {
    const token = (
      await must('ca', 'issue-token', '--node', name, '--ttl', '10m', '--cert-ttl', certTtl, '--dir', `${dir}/ca`)
    ).out.trim();
    await must('cert', 'request', '--token', token, '--dir', `${dir}/${name}`);
    await must(
      'ca',
      'sign',
      '--request',
      `${dir}/${name}/join-request.cbor`,
      '--out',
      `${dir}/${name}/node.chain`,
      '--bundle-out',
      `${dir}/${name}/bundle.cbor`,
      '--dir',
      `${dir}/ca`,
    );
  }
}
