// Runs on x0-runtime inside a lab router: reads batman-adv's neighbour table with batctl and prints it as one
// JSON line, so the lab can check that the image's runtime, its libraries and batctl work together. It is
// the lab's probe, not the agent: the agent's own `neighbours` command is checked when the bundle has one.
import * as std from 'qjs:std';

const pipe = std.popen('batctl meshif bat0 neighbors -H 2>&1', 'r');
const text = pipe.readAsString();
const status = pipe.close();
const row = /^\s*(\S+)\s+([0-9a-f]{2}(?::[0-9a-f]{2}){5})\s+([\d.]+)s/;
const neighbours = [];
for (const line of text.split('\n')) {
  const m = row.exec(line);
  if (m !== null) neighbours.push({ iface: m[1], neighbour: m[2], lastSeenMs: Math.round(Number(m[3]) * 1000) });
}
std.out.puts(JSON.stringify({ batctlStatus: status, neighbours }) + '\n');
