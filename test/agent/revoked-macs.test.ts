// The revoked nodes' MACs as the agent keeps them in STATE_DIR/revoked-macs (src/agent/revoked-macs.ts): the file
// is local state but read back after a restart, so a cut or hand-edited file yields only well-formed lines.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeRevokedMacs, encodeRevokedMacs, revokedMacsMax } from '../../src/agent/revoked-macs.js';

test('revoked MACs round-trip through the file format, one "<mac> <node>" line each', () => {
  const macs = new Map([
    ['52:54:00:05:03:01', 'node-5'],
    ['52:54:00:05:04:01', 'node-5'],
    ['02:00:00:00:00:21', 'r2.lab'],
  ]);
  const text = encodeRevokedMacs(macs);
  assert.is(text, '52:54:00:05:03:01 node-5\n52:54:00:05:04:01 node-5\n02:00:00:00:00:21 r2.lab\n');
  assert.equal(decodeRevokedMacs(text), macs);
});

test('malformed lines are left out: bad MAC, bad node name, extra fields, a line cut short', () => {
  const text = [
    '52:54:00:05:03:01 node-5',
    '52:54:00:05:03 node-5',
    '52:54:00:05:04:01 ../etc',
    '52:54:00:05:05:01 node-5 extra',
    'AA:54:00:05:06:01 node-5',
    '52:54:00:05:07:01',
    '',
  ].join('\n');
  assert.equal([...decodeRevokedMacs(text)], [['52:54:00:05:03:01', 'node-5']]);
});

test('at most revokedMacsMax lines are read or written', () => {
  const many = new Map<string, string>();
  for (let i = 0; i < 2 * revokedMacsMax; i++) {
    const hex = i.toString(16).padStart(6, '0');
    many.set(`02:00:00:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`, 'node-5');
  }
  const text = encodeRevokedMacs(many);
  assert.is(text.split('\n').length - 1, revokedMacsMax);
  const lines = [...many].map(([mac, node]) => `${mac} ${node}\n`).join('');
  assert.is(decodeRevokedMacs(lines).size, revokedMacsMax);
});

test.run();
