// The Node twin's entry: `node --import tsx src/entry/node.ts COMMAND ...`.
import { registerCommand, runCli } from '../cli/main.js';
import { cmdCommand, exporterCommand, watchCommand } from '../cli/telemetry.node.js';
import { createNodePlatform } from '../platform/node/index.js';

// Node-only consumers (mqtt.js, node:http): registered here so the router bundle never includes them.
registerCommand('watch', 'verify and show the mesh telemetry from an MQTT broker (Node)', watchCommand);
registerCommand('exporter', 'serve verified telemetry as Prometheus metrics (Node)', exporterCommand);
registerCommand('cmd', 'operator keys and signed commands to nodes (Node)', cmdCommand);

const platform = createNodePlatform();
process.exitCode = await runCli(platform, platform.argv);
