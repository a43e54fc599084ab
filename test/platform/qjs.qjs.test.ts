// Inside x0-runtime only: the QuickJS-ng adapter passes the same behavioural suite as the Node one.
import { createQjsPlatform } from '../../src/platform/qjs/index.js';
import { definePlatformConformance } from '../lib/platform-conformance.js';
import { toHex } from '../../src/core/wire/hex.js';

const platform = createQjsPlatform();
const scratch = `/tmp/x0-qjs-platform-${toHex(platform.randomBytes(6))}`;
platform.files.mkdirp(scratch);
definePlatformConformance('qjs', platform, scratch);
