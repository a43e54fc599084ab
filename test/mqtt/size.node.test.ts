// Size budget of the router's MQTT client (issue 8: ≤ 15 KB minified), like test/build's bundle budget: the
// client (src/mqtt/index.ts: codec, state machine, offline queue, connection) bundled and minified as the main
// build does it. Raise the budget only on purpose, with the feature that needs it, and say why.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bundleClient, clientBytesMax } from './lib.js';

let code = '';

test.before(async () => {
  code = await bundleClient();
});

test('the MQTT client stays within 15 KB minified', () => {
  const bytes = Buffer.byteLength(code);
  assert.ok(bytes <= clientBytesMax, `src/mqtt/index.ts bundles to ${bytes} bytes minified, budget ${clientBytesMax}`);
});

test('the broker half and the names for people stay out of the client', () => {
  // decodeConnect's reason and a property name: codec-broker.ts only.
  for (const marker of [
    'protocol-unsupported',
    'connect-flags-invalid',
    'payloadFormatIndicator',
    'sessionExpiryInterval',
  ]) {
    assert.not.ok(
      code.includes(marker),
      `'${marker}' is in the client bundle: a broker-side or debug-only piece leaked in`,
    );
  }
  // Nothing to import on the router but what the bundle carries.
  assert.not.match(code, /^import /m);
});

test.run();
