// Runs `x0 ubus ...` on Node for tests and debugging, until the lead wires ubusCommand into src/cli/main.ts:
// `node --import tsx src/cli/ubus-main.node.ts call x0tta6bl4 status --socket /tmp/ubus.sock`.
import { createNodePlatform } from '../platform/node/index.js';
import { ubusCommand } from './ubus.js';

const platform = createNodePlatform();
process.exitCode = await ubusCommand(platform, [...platform.argv]);
