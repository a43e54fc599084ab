// The router's entry: bundled into dist/x0tta6bl4.js and run by x0-runtime.
import '../platform/qjs/polyfills.js';
import { runCli } from '../cli/main.js';
import { createQjsPlatform } from '../platform/qjs/index.js';

const platform = createQjsPlatform();
platform.exit(await runCli(platform, platform.argv));
