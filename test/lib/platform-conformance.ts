// One behavioural suite for every Platform adapter (Node, QuickJS-ng): what the core relies on.
// Engine-neutral: it only uses the Platform it is given. Each adapter's test file calls it with a scratch dir.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ByteStream, Platform, StreamTarget } from '../../src/platform/types.js';
import { fromUtf8, utf8 } from '../../src/core/wire/hex.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function withTimeout<T>(platform: Platform, promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = platform.setTimer(ms, () => reject(new Error(`timed out after ${ms} ms: ${what}`)));
    promise.then(
      (value) => {
        platform.clearTimer(timer);
        resolve(value);
      },
      (error) => {
        platform.clearTimer(timer);
        reject(error);
      },
    );
  });
}

async function streamEcho(
  platform: Platform,
  server: StreamTarget,
  client: (local: { host: string; port: number }) => StreamTarget,
  size: number,
): Promise<number> {
  const listener = await platform.net.listen(server, (stream: ByteStream) => ({
    onData: (chunk) => stream.write(chunk),
    onClose: () => stream.close(),
  }));
  const done = deferred<number>();
  let received = 0;
  const payload = new Uint8Array(size).map((_, i) => i & 0xff);
  let mismatch = -1;
  const stream = await platform.net.connect(client(listener.local), {
    onData: (chunk) => {
      for (let i = 0; i < chunk.length; i++)
        if (chunk[i] !== ((received + i) & 0xff) && mismatch < 0) mismatch = received + i;
      received += chunk.length;
      if (received >= size) done.resolve(received);
    },
    onClose: () => done.resolve(received),
  });
  stream.write(payload);
  const got = await withTimeout(platform, done.promise, 5000, 'stream echo');
  stream.close();
  listener.close();
  assert.is(mismatch, -1, `echoed byte ${mismatch} differs`);
  return got;
}

export function definePlatformConformance(name: string, platform: Platform, scratchDir: string): void {
  const t = suite(`platform ${name}`);

  t('monotonic clock does not go backwards and timers fire in order', async () => {
    const a = platform.monotonicMs();
    const order: number[] = [];
    const done = deferred<void>();
    platform.setTimer(30, () => {
      order.push(2);
      done.resolve();
    });
    platform.setTimer(5, () => order.push(1));
    const cancelled = platform.setTimer(10, () => order.push(99));
    platform.clearTimer(cancelled);
    await done.promise;
    assert.equal(order, [1, 2]);
    // Milliseconds, not some other unit: a 30 ms timer takes 25 ms to a second of monotonic time.
    const elapsedMs = platform.monotonicMs() - a;
    assert.ok(elapsedMs >= 25 && elapsedMs < 1000, `30 ms timer measured as ${elapsedMs} ms`);
    assert.ok(platform.wallClockMs() > 1_600_000_000_000);
  });

  t('random bytes and crypto are wired', () => {
    assert.is(platform.randomBytes(16).length, 16);
    const keys = platform.crypto.signKeyPair();
    const message = utf8('platform');
    assert.ok(platform.crypto.verify(message, platform.crypto.sign(message, keys.secretKey), keys.publicKey));
  });

  t('files: atomic write, read, append, list, remove', () => {
    const dir = `${scratchDir}/files/sub`;
    platform.files.mkdirp(dir);
    assert.is(platform.files.read(`${dir}/missing`), null);
    assert.is(platform.files.readText(`${dir}/missing`), null);
    platform.files.writeAtomic(`${dir}/b.txt`, 'first');
    platform.files.writeAtomic(`${dir}/b.txt`, 'second');
    platform.files.writeAtomic(`${dir}/a.bin`, new Uint8Array([1, 2, 3]), 0o600);
    platform.files.append(`${dir}/a.bin`, new Uint8Array([4]));
    assert.is(platform.files.readText(`${dir}/b.txt`), 'second');
    assert.equal(Array.from(platform.files.read(`${dir}/a.bin`) ?? []), [1, 2, 3, 4]);
    assert.equal(platform.files.list(dir), ['a.bin', 'b.txt']);
    assert.ok(platform.files.exists(`${dir}/a.bin`));
    platform.files.remove(`${dir}/a.bin`);
    assert.not.ok(platform.files.exists(`${dir}/a.bin`));
    assert.equal(platform.files.list(`${scratchDir}/no-such-dir`), []);
  });

  t('files: a refused write is an errno name returned, never a throw; removing what is not there succeeds', () => {
    const dir = `${scratchDir}/files/refused`;
    assert.is(platform.files.mkdirp(dir), null);
    assert.is(platform.files.writeAtomic(`${dir}/ok.txt`, 'x'), null);
    assert.is(platform.files.append(`${dir}/ok.txt`, new Uint8Array([1])), null);
    assert.is(platform.files.writeAtomic(`${dir}/no-such-dir/f`, 'x'), 'ENOENT');
    assert.is(platform.files.append(`${dir}/no-such-dir/f`, new Uint8Array([1])), 'ENOENT');
    assert.is(platform.files.mkdirp(`${dir}/ok.txt/sub`), 'ENOTDIR', 'a file in the way');
    assert.is(platform.files.remove(`${dir}/never-was`), null);
    assert.equal(platform.files.list(dir), ['ok.txt'], 'a failed atomic write leaves no temporary file behind');
    assert.is(platform.files.remove(`${dir}/ok.txt`), null);
  });

  t('exec: exit code, stdout, stdin, timeout', async () => {
    const echo = await platform.exec(['/bin/echo', 'hello', 'world']);
    assert.is(echo.code, 0);
    assert.is(fromUtf8(echo.stdout), 'hello world\n');
    const cat = await platform.exec(['/bin/cat'], { stdin: 'piped' });
    assert.is(fromUtf8(cat.stdout), 'piped');
    const fail = await platform.exec(['/bin/sh', '-c', 'echo oops >&2; exit 3']);
    assert.is(fail.code, 3);
    assert.is(fromUtf8(fail.stderr), 'oops\n');
    const slow = await platform.exec(['/bin/sleep', '5'], { timeoutMs: 200 });
    assert.ok(slow.timedOut);
    assert.is(slow.code, null);
    const capped = await platform.exec(['/bin/sh', '-c', 'head -c 5000 /dev/zero'], { maxOutputBytes: 1000 });
    assert.is(capped.stdout.length, 1000);
    assert.ok(capped.truncated);
  });

  t(
    'spawn: a child that keeps running answers line by line, writes are bounded, it ends by kill or by itself',
    async () => {
      const spawn = platform.spawn;
      assert.ok(spawn !== undefined, 'the platform can spawn');
      if (spawn === undefined) return;
      // A child that answers each line until stdin ends: the shape of `x0-xdp serve`.
      let out = '';
      let waiting: { want: number; resolve: () => void } | null = null;
      const exited = deferred<number | null>();
      const child = spawn(['/bin/sh', '-c', 'while read -r line; do echo "got $line"; echo oops >&2; done; exit 3'], {
        onStdout: (chunk) => {
          out += fromUtf8(chunk);
          if (waiting !== null && out.split('\n').length - 1 >= waiting.want) waiting.resolve();
        },
        onExit: (code) => exited.resolve(code),
      });
      const lines = (want: number) =>
        withTimeout(
          platform,
          new Promise<void>((resolve) => {
            waiting = { want, resolve };
            if (out.split('\n').length - 1 >= want) resolve();
          }),
          5000,
          `${want} answer lines`,
        );
      assert.ok(child.write('one\n'));
      await lines(1);
      assert.ok(child.write('two\nthree\n'));
      await lines(3);
      assert.is(out, 'got one\ngot two\ngot three\n', 'answers in order; stderr is not mixed in');
      assert.not.ok(child.write(`${'x'.repeat(4096)}\n`), 'a write over PIPE_BUF is refused whole');
      assert.ok(child.write(`${'y'.repeat(4095)}\n`), 'PIPE_BUF exactly is written');
      await lines(4);
      child.kill();
      assert.is(await withTimeout(platform, exited.promise, 5000, 'exit after kill'), null, 'killed: no exit code');
      assert.not.ok(child.write('late\n'), 'nothing is written to a child that is gone');
      child.kill();

      const ended = deferred<number | null>();
      const own = spawn(['/bin/sh', '-c', 'read -r line; echo "bye $line"; exit 3'], {
        onStdout: () => {},
        onExit: (code) => ended.resolve(code),
      });
      own.write('now\n');
      assert.is(await withTimeout(platform, ended.promise, 5000, 'its own exit'), 3, 'its own exit code');

      const missing = deferred<number | null>();
      spawn(['/nonexistent/x0-helper'], { onStdout: () => {}, onExit: (code) => missing.resolve(code) });
      const code = await withTimeout(platform, missing.promise, 5000, 'a program that is not there');
      assert.ok(code === 127 || code === null, `a program that is not there ends at once (${String(code)})`);
    },
  );

  t('udp: datagrams both ways on loopback', async () => {
    const got = deferred<string>();
    const server = await platform.net.udpBind(
      { host: '127.0.0.1', port: 0 },
      {
        onMessage: (data, from) => {
          server.send(data, from);
        },
      },
    );
    const client = await platform.net.udpBind(
      { host: '127.0.0.1', port: 0 },
      { onMessage: (data) => got.resolve(fromUtf8(data)) },
    );
    assert.ok(server.local.port > 0);
    assert.is(client.send(utf8('ping over udp'), server.local), null);
    assert.is(await withTimeout(platform, got.promise, 3000, 'udp echo'), 'ping over udp');
    client.close();
    server.close();
  });

  t('tcp: 256 KiB echoed intact through the write queue', async () => {
    const size = 256 * 1024;
    const got = await streamEcho(
      platform,
      { kind: 'tcp', host: '127.0.0.1', port: 0 },
      (local) => ({ kind: 'tcp', host: '127.0.0.1', port: local.port }),
      size,
    );
    assert.is(got, size);
  });

  t('unix stream: echo round trip', async () => {
    const path = `${scratchDir}/echo-${Math.floor(platform.monotonicMs())}.sock`;
    const got = await streamEcho(platform, { kind: 'unix', path }, () => ({ kind: 'unix', path }), 4096);
    assert.is(got, 4096);
    platform.files.remove(path);
  });

  t('connect to a closed port fails with an errno name', async () => {
    const probe = await platform.net.udpBind({ host: '127.0.0.1', port: 0 }, { onMessage: () => {} });
    const port = probe.local.port; // a port nobody listens on with TCP
    probe.close();
    let message = '';
    try {
      await platform.net.connect({ kind: 'tcp', host: '127.0.0.1', port }, { onData: () => {}, onClose: () => {} });
    } catch (error) {
      message = (error as Error).message;
    }
    assert.is(message, 'ECONNREFUSED');
    let unixMessage = '';
    try {
      await platform.net.connect(
        { kind: 'unix', path: `${scratchDir}/nobody.sock` },
        { onData: () => {}, onClose: () => {} },
      );
    } catch (error) {
      unixMessage = (error as Error).message;
    }
    assert.is(unixMessage, 'ENOENT');
  });

  t('peer close is reported to the stream handler', async () => {
    const closed = deferred<string | null>();
    const listener = await platform.net.listen({ kind: 'tcp', host: '127.0.0.1', port: 0 }, (stream) => {
      stream.close();
      return { onData: () => {}, onClose: () => {} };
    });
    await platform.net.connect(
      { kind: 'tcp', host: '127.0.0.1', port: listener.local.port },
      { onData: () => {}, onClose: (reason) => closed.resolve(reason) },
    );
    assert.is(await withTimeout(platform, closed.promise, 3000, 'close'), null);
    listener.close();
  });

  t.run();
}
