// The x0-xdp session's mechanics on one engine's real processes (Node and x0-runtime each run it): a shell
// child that talks serve's line protocol (a first line, then one line per request) and misbehaves on request:
// hangs, dies, writes an endless line, answers in pieces, or is an older helper that does not serve. What x0-xdp
// serve itself answers is tested against the real helper (helper.node.test.ts, run.sh's `serve`).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Platform } from '../../src/platform/types.js';
import { HelperSession } from '../../src/xdp/session.js';
import { sessionQueueMax } from '../../src/xdp/limits.js';

const serve = `echo '{"ok":true,"command":"serve","version":"test"}'
while IFS= read -r line; do
  case "$line" in
    hang) exec sleep 30 ;;
    die) exit 1 ;;
    big) head -c 1100000 /dev/zero | tr '\\0' a ;;
    slow*) sleep 0.2; printf '{"ok":true,"line":"%s"}\\n' "$line" ;;
    split*) printf '{"ok":true,'; sleep 0.05; printf '"line":"%s"}\\n' "$line" ;;
    *) printf '{"ok":true,"line":"%s"}\\n' "$line" ;;
  esac
done`;
const older = `echo '{"ok":false,"error":"usage","exit":2,"message":"unknown command serve"}'; exit 2`;

export function defineSessionSuite(name: string, platform: Platform): void {
  const t = suite(`xdp session ${name}`);
  const session = (script: string) => new HelperSession(platform, ['/bin/sh', '-c', script]);
  const line = (answer: Awaited<ReturnType<HelperSession['request']>>) =>
    answer.ok ? answer.line : `${answer.reason}: ${answer.message}`;

  t(
    'one child answers requests in order, lines in pieces or several at once, queued requests each theirs',
    async () => {
      const s = session(serve);
      assert.is(line(await s.request('a', 5000)), '{"ok":true,"line":"a"}');
      const answers = await Promise.all(['split-b', 'c', 'split-d', 'e'].map((r) => s.request(r, 5000)));
      assert.equal(answers.map(line), [
        '{"ok":true,"line":"split-b"}',
        '{"ok":true,"line":"c"}',
        '{"ok":true,"line":"split-d"}',
        '{"ok":true,"line":"e"}',
      ]);
      assert.is(s.starts, 1);
      s.close();
    },
  );

  t('a hung child is killed at the timeout, a dead one noticed; the next request starts another', async () => {
    const s = session(serve);
    // Started first: under CPU emulation a child may take longer than the short timeout below to say it serves.
    assert.is(line(await s.request('w', 10_000)), '{"ok":true,"line":"w"}');
    assert.is(line(await s.request('hang', 300)), "helper-timeout: x0-xdp serve did not answer 'hang' in time");
    assert.is(line(await s.request('f', 5000)), '{"ok":true,"line":"f"}');
    assert.match(line(await s.request('die', 5000)), /^helper-killed: x0-xdp serve exited \(1\)/);
    assert.is(line(await s.request('g', 5000)), '{"ok":true,"line":"g"}');
    assert.is(s.starts, 3);
    s.close();
  });

  t('bounded: an endless line, a line with a newline, a full queue', async () => {
    const s = session(serve);
    assert.match(line(await s.request('big', 10_000)), /^helper-output-truncated:/);
    assert.match(line(await s.request('two\nlines', 5000)), /^usage:/);
    assert.is(line(await s.request('x', 5000)), '{"ok":true,"line":"x"}', 'a new child, ready');
    const many = Array.from({ length: sessionQueueMax + 2 }, (_, i) => s.request(`slow${i}`, 20_000));
    const answers = (await Promise.all(many)).map(line);
    assert.is(answers.filter((a) => a.startsWith('helper-busy')).length, 1, 'one over the queue and the one in flight');
    assert.is(answers.filter((a) => a.startsWith('{"ok":true')).length, sessionQueueMax + 1);
    s.close();
  });

  t('an older helper (no serve) makes the session unsupported; close fails what waits', async () => {
    const s = session(older);
    const answers = await Promise.all([s.request('a', 5000), s.request('b', 5000)]);
    assert.equal(
      answers.map((a) => (a.ok ? 'ok' : a.reason)),
      ['unsupported', 'unsupported'],
    );
    assert.ok(s.unsupported);
    assert.is(s.starts, 1, 'not started again');
    const c = session(serve);
    const waiting = [c.request('hang', 20_000), c.request('h', 20_000)];
    // Let the first reach the child, then close.
    await new Promise<void>((resolve) => platform.setTimer(300, resolve));
    c.close();
    assert.equal(
      (await Promise.all(waiting)).map((a) => (a.ok ? 'ok' : a.reason)),
      ['helper-killed', 'helper-killed'],
    );
  });

  t.run();
}
