// Impairment: two routers on one link; netem delay and loss on the link (both directions) must show in
// ping, and clearing them must bring the clean link back.
import type { Scenario, ScenarioContext } from '../lib/scenario.js';
import { delay } from '../lib/vm.js';

const delayMs = 40;
const lossPercent = 50;

export const impair: Scenario = {
  name: 'impair',
  summary: `2 nodes: ${delayMs} ms delay, then ${lossPercent}% loss each way on the link; clear`,
  nodes: 2,
  topology: 'line',
  edges: [[1, 2]],
  async run(ctx) {
    const { lab } = ctx;
    await lab.waitFor(
      'the two nodes to see each other',
      async () => (await lab.missingOriginators()).size === 0 || null,
      60_000,
    );
    await lab.waitFor(
      'a ping reply',
      async () => (await lab.exec(1, 'ping -c 1 -W 1 10.77.0.2')).rc === 0 || null,
      30_000,
    );
    const before = await ping(ctx, 10);
    ctx.check(
      'clean-link',
      before.lossPercent === 0,
      `10 pings: ${before.lossPercent}% loss, RTT min ${before.minMs} ms`,
    );

    await lab.impair(1, 2, { delayMs, lossPercent: 0 });
    const slow = await ping(ctx, 10);
    ctx.check(
      'delay-applied',
      slow.minMs >= 2 * delayMs && slow.minMs < 2 * delayMs + 200,
      `RTT min ${slow.minMs} ms with ${delayMs} ms each way`,
    );
    ctx.measure('rtt_with_delay_min', slow.minMs, 'ms', `netem delay ${delayMs} ms each way`);

    await lab.clearImpairment(1, 2);

    await lab.impair(1, 2, { delayMs: 0, lossPercent });
    const lossy = await ping(ctx, 60);
    // Each ping needs both directions: expected loss 1 - 0.5 * 0.5 = 75 %; the bounds are > 6 sigma wide.
    ctx.check(
      'loss-applied',
      lossy.lossPercent >= 40 && lossy.lossPercent <= 98,
      `60 pings: ${lossy.lossPercent}% lost (${lossPercent}% each way)`,
    );
    ctx.measure('ping_loss_with_50pct_each_way', lossy.lossPercent, '%', '60 pings at 100 ms');

    await lab.clearImpairment(1, 2);
    await delay(1000);
    const after = await ping(ctx, 10);
    ctx.check(
      'cleared',
      after.lossPercent === 0 && after.minMs < delayMs,
      `10 pings: ${after.lossPercent}% loss, RTT min ${after.minMs} ms`,
    );
  },
};

async function ping(ctx: ScenarioContext, count: number): Promise<{ lossPercent: number; minMs: number }> {
  const r = await ctx.lab.exec(1, `ping -c ${count} -i 0.1 -W 2 10.77.0.2`, 60_000);
  const loss = /(\d+)% packet loss/.exec(r.out);
  const min = /min\/avg\/max = ([\d.]+)\//.exec(r.out);
  return { lossPercent: loss ? Number(loss[1]) : 100, minMs: min ? Number(min[1]) : -1 };
}
