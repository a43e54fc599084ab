// The Node twin's entry: `node --import tsx src/entry/node.ts COMMAND ...`.
import { runCli } from '../cli/main.js';
import { createNodePlatform } from '../platform/node/index.js';

const platform = createNodePlatform();
process.exitCode = await runCli(platform, platform.argv);
