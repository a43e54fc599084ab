// Runs inside x0-runtime (bundled by bench/mqtt.bench.ts): our MQTT client with native signing.
import '../../src/platform/qjs/polyfills.js';
import * as std from 'qjs:std';
import { createQjsPlatform } from '../../src/platform/qjs/index.js';
import { mqttSuite } from '../lib/mqtt.js';

const platform = createQjsPlatform();
const figures = await mqttSuite(
  platform,
  Number(std.getenv('X0_BENCH_PORT')),
  Number(std.getenv('X0_BENCH_MESSAGES') ?? '5000'),
);
std.out.puts(`${JSON.stringify(figures)}\n`);
std.exit(0);
