// `npm run bench` (mqtt part): QoS 0 / QoS 1 publish rate and QoS 1 latency to a local mosquitto (started
// here on a free loopback port) from x0-runtime (our client, native signing) and from Node (our client, and
// the mqtt npm package), every message a fresh signed COSE_Sign1; memory held with 1,000 queued messages;
// the client's minified bundle size. `--write-docs` updates docs/benchmarks.md (section mqtt).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rollup } from 'rollup';
import { connect } from 'mqtt';
// @ts-expect-error: plain .mjs shared with rollup.config.mjs
import { plugins, onwarn } from '../scripts/rollup-parts.mjs';
import { createNodePlatform } from '../src/platform/node/index.js';
import { Mosquitto, testDir } from '../test/mqtt/lib.js';
import { benchSigner, mqttSuite, type MqttFigures } from './lib/mqtt.js';

const root = new URL('..', import.meta.url).pathname;
const runtime = `${root}build/x0-runtime`;
const messages = Number(process.env.X0_BENCH_MESSAGES ?? 5000);
const writeDocs = process.argv.includes('--write-docs');

async function bundle(input: string, file: string, minify: boolean): Promise<number> {
  const b = await rollup({ input, plugins: plugins({ minify }).filter((p: { name: string }) => p.name !== 'x0-report-size'), onwarn, logLevel: 'silent' });
  const { output } = await b.write({ file, format: 'es' });
  await b.close();
  return Buffer.byteLength(output[0].code);
}

/** The mqtt npm package on Node, same messages (signed with node:crypto), same barrier. */
async function mqttJs(port: number): Promise<{ qos0PerSec: number; qos1PerSec: number; qos1LatencyMsMedian: number }> {
  const platform = createNodePlatform();
  const signer = benchSigner(platform);
  const client = connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5, clean: true });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  const data = (i: number) => ({ statistics: { uptime: i, loadavg: 0.25, memory: { free: 30000 + i, total: 60000 } } });
  const run = async (qos: 0 | 1) => {
    const start = performance.now();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < messages; i++) {
      const m = signer.sign('telemetry', data(i), Date.now(), false);
      pending.push(client.publishAsync(m.topic, Buffer.from(m.payload), { qos }));
    }
    await Promise.all(pending);
    const barrier = signer.sign('telemetry', data(0), Date.now(), false);
    await client.publishAsync(barrier.topic, Buffer.from(barrier.payload), { qos: 1 });
    return (messages * 1000) / (performance.now() - start);
  };
  const qos0PerSec = await run(0);
  const qos1PerSec = await run(1);
  const latencies: number[] = [];
  for (let i = 0; i < 200; i++) {
    const start = performance.now();
    const m = signer.sign('telemetry', data(i), Date.now(), false);
    await client.publishAsync(m.topic, Buffer.from(m.payload), { qos: 1 });
    latencies.push(performance.now() - start);
  }
  latencies.sort((a, b) => a - b);
  await client.endAsync();
  return { qos0PerSec, qos1PerSec, qos1LatencyMsMedian: latencies[100] as number };
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 1 ? n.toFixed(2) : n.toPrecision(2));

async function main(): Promise<void> {
  if (!existsSync(runtime)) throw new Error(`${runtime} is missing; run 'bash scripts/setup.sh'`);
  mkdirSync(`${root}build`, { recursive: true });
  await bundle(`${root}bench/qjs/mqtt.ts`, `${root}build/bench-mqtt.js`, false);
  const clientBytes = await bundle(`${root}src/mqtt/index.ts`, `${root}build/bench-mqtt-client.min.js`, true);
  const broker = await Mosquitto.start(testDir('bench'));
  try {
    console.log(`measuring ${messages} messages per figure against mosquitto on 127.0.0.1:${broker.port}...`);
    const run = spawnSync(runtime, [`${root}build/bench-mqtt.js`], { encoding: 'utf8', env: { ...process.env, X0_BENCH_PORT: String(broker.port), X0_BENCH_MESSAGES: String(messages) }, timeout: 300_000 });
    if (run.status !== 0) throw new Error(`x0-runtime bench failed (${run.status}): ${run.stderr}`);
    const qjs = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as MqttFigures;
    const nodePlatform = createNodePlatform();
    const heapBefore = process.memoryUsage().heapUsed;
    const node = await mqttSuite(nodePlatform, broker.port, messages);
    const heapAfter = process.memoryUsage().heapUsed;
    const js = await mqttJs(broker.port);
    const rows = [
      '| figure | x0-runtime, our client, native signing | Node, our client | Node, mqtt npm package | x0-runtime ÷ Node (ours) |',
      '|---|---:|---:|---:|---:|',
      `| QoS 0 publish rate (signed, msgs/s) | ${fmt(qjs.qos0PerSec)} | ${fmt(node.qos0PerSec)} | ${fmt(js.qos0PerSec)} | ${fmt(qjs.qos0PerSec / node.qos0PerSec)}× |`,
      `| QoS 1 publish rate (signed, msgs/s) | ${fmt(qjs.qos1PerSec)} | ${fmt(node.qos1PerSec)} | ${fmt(js.qos1PerSec)} | ${fmt(qjs.qos1PerSec / node.qos1PerSec)}× |`,
      `| QoS 1 latency publish→PUBACK (median ms) | ${fmt(qjs.qos1LatencyMsMedian)} | ${fmt(node.qos1LatencyMsMedian)} | ${fmt(js.qos1LatencyMsMedian)} | – |`,
      `| payload bytes held, 1,000 queued messages (${qjs.signedBytes} B each) | ${qjs.queuedBytes1000.toLocaleString('en-US')} | ${node.queuedBytes1000.toLocaleString('en-US')} | – | – |`,
    ];
    const goals = [
      `Goals on x0-runtime: QoS 0 ≥ 5,000 msgs/s: ${fmt(qjs.qos0PerSec)} (${qjs.qos0PerSec >= 5000 ? 'met' : 'NOT met'}); QoS 1 ≥ 1,000 msgs/s: ${fmt(qjs.qos1PerSec)} (${qjs.qos1PerSec >= 1000 ? 'met' : 'NOT met'}).`,
      `Client bundle (src/mqtt/index.ts, rollup + terser as the main build): ${clientBytes.toLocaleString('en-US')} B minified (goal ≤ 15 KB = 15,360 B: ${clientBytes <= 15_360 ? 'met' : 'NOT met'}).`,
      `Node heap growth over the Node run (incl. 1,000 queued messages): ${fmt((heapAfter - heapBefore) / 1024)} KiB (indicative; GC-dependent).`,
    ];
    const text = [...rows, '', ...goals].join('\n');
    console.log(`\n${text}\n`);
    if (writeDocs) {
      const docs = `${root}docs/benchmarks.md`;
      const section = `<!-- mqtt:start -->\n## MQTT telemetry uplink\n\nCommand: \`node --import tsx bench/mqtt.bench.ts --write-docs\` (part of \`npm run bench\`), ${messages} messages per figure, mosquitto 2.0 on loopback, 2-core shared dev VM, ${new Date().toISOString().slice(0, 10)}. Each message is a fresh telemetry envelope signed as COSE_Sign1 (Ed25519) before publishing; rates end when a QoS 1 barrier after the burst is acknowledged.\n\n${text}\n<!-- mqtt:end -->`;
      const current = readFileSync(docs, 'utf8');
      writeFileSync(docs, /<!-- mqtt:start -->[\s\S]*<!-- mqtt:end -->/.test(current) ? current.replace(/<!-- mqtt:start -->[\s\S]*<!-- mqtt:end -->/, section) : `${current.trimEnd()}\n\n${section}\n`);
      console.log(`updated ${docs}`);
    }
  } finally {
    await broker.stop();
  }
}

await main();
process.exit(0);
