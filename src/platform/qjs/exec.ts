// exec with pipes over qjs:os: os.exec(block: false) with the child's stdin/stdout/stderr on pipes,
// read/write handlers on our ends, waitpid(WNOHANG) polling for the exit, SIGKILL on timeout.
import * as os from 'qjs:os';
import type { ExecOptions, ExecResult } from '../types.js';
import {
  execDrainMs,
  execDrainRoundsMax,
  execOutputBytesDefault,
  execPollMs,
  pipeWriteBytes,
  streamReadBytes,
} from './limits.js';
import { encodeUtf8 } from './utf8.js';
import { BoundedSink } from '../bounded-sink.js';

// qjs:os exports no SIGKILL; it is 9 on every Linux architecture (MIPS included).
const sigkill = 9;

/** Reads a pipe until EOF into a sink; done() stops early (the child is gone and the drain time is up). */
function drainPipe(fd: number, sink: BoundedSink, onEof: () => void): { done(): void } {
  const buffer = new ArrayBuffer(streamReadBytes);
  let open = true;
  const done = () => {
    if (!open) return;
    open = false;
    os.setReadHandler(fd, null);
    os.close(fd);
    onEof();
  };
  os.setReadHandler(fd, () => {
    const n = os.read(fd, buffer, 0, buffer.byteLength);
    if (n <= 0) return done(); // EOF, or an error that ends the stream all the same
    sink.push(new Uint8Array(buffer, 0, n));
  });
  return { done };
}

/** Feeds data to the child's stdin in PIPE_BUF pieces on writability, then closes it. */
function feedPipe(fd: number, data: Uint8Array): void {
  let offset = 0;
  const finish = () => {
    os.setWriteHandler(fd, null);
    os.close(fd);
  };
  if (data.length === 0) return finish();
  os.setWriteHandler(fd, () => {
    const length = Math.min(pipeWriteBytes, data.length - offset);
    const n = os.write(fd, data.buffer as ArrayBuffer, data.byteOffset + offset, length);
    if (n <= 0) return finish(); // EPIPE: the child stopped reading
    offset += n;
    if (offset >= data.length) finish();
  });
}

function decodeStatus(status: number): number | null {
  const signal = status & 0x7f;
  return signal === 0 ? (status >> 8) & 0xff : null;
}

function failure(message: string): ExecResult {
  return {
    code: 127,
    stdout: new Uint8Array(0),
    stderr: encodeUtf8(`${message}\n`),
    timedOut: false,
    truncated: false,
  };
}

function openPipes(): [number, number][] | null {
  const pipes: [number, number][] = [];
  for (let i = 0; i < 3; i++) {
    const pipe = os.pipe();
    if (pipe === null) {
      for (const [r, w] of pipes) {
        os.close(r);
        os.close(w);
      }
      return null;
    }
    pipes.push(pipe);
  }
  return pipes;
}

// Runs argv[0] directly (no shell, found on PATH), stdin fed, output captured up to a cap, killed on timeout.
export function qjsExec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  if (argv.length === 0) return Promise.resolve(failure('exec: empty argv'));
  const pipes = openPipes();
  if (pipes === null) return Promise.resolve(failure('exec: pipe() failed'));
  const [stdinPipe, stdoutPipe, stderrPipe] = pipes as [[number, number], [number, number], [number, number]];
  let pid: number;
  try {
    pid = os.exec(argv, {
      block: false,
      usePath: true,
      stdin: stdinPipe[0],
      stdout: stdoutPipe[1],
      stderr: stderrPipe[1],
    });
  } catch (error) {
    for (const [r, w] of pipes) {
      os.close(r);
      os.close(w);
    }
    return Promise.resolve(failure(`exec: ${String(error)}`));
  }
  // The child has its copies; ours of the child's ends would hide EOF.
  os.close(stdinPipe[0]);
  os.close(stdoutPipe[1]);
  os.close(stderrPipe[1]);
  return new Promise((resolve) => {
    const maxBytes = options.maxOutputBytes ?? execOutputBytesDefault;
    const stdout = new BoundedSink(maxBytes);
    const stderr = new BoundedSink(maxBytes);
    let openPipesLeft = 2;
    let exitCode: number | null | undefined;
    let timedOut = false;
    let drainTimer: number | null = null;
    let drainRounds = 0;
    /** The pipes were closed before their EOF: what the child wrote may be cut (reported as truncated). */
    let cut = false;
    let killTimer: number | null = null;
    const finish = () => {
      if (exitCode === undefined || openPipesLeft > 0) return;
      if (drainTimer !== null) os.clearTimeout(drainTimer);
      if (killTimer !== null) os.clearTimeout(killTimer);
      resolve({
        code: timedOut ? null : exitCode,
        stdout: stdout.bytes(),
        stderr: stderr.bytes(),
        timedOut,
        truncated: stdout.truncated || stderr.truncated || cut,
      });
    };
    const onEof = () => {
      openPipesLeft--;
      finish();
    };
    const readers = [drainPipe(stdoutPipe[0], stdout, onEof), drainPipe(stderrPipe[0], stderr, onEof)];
    const data =
      options.stdin === undefined
        ? new Uint8Array(0)
        : typeof options.stdin === 'string'
          ? encodeUtf8(options.stdin)
          : options.stdin;
    feedPipe(stdinPipe[1], data);
    if (options.timeoutMs !== undefined)
      killTimer = os.setTimeout(() => {
        timedOut = true;
        os.kill(pid, sigkill);
      }, options.timeoutMs);
    const poll = () => {
      const [done, status] = os.waitpid(pid, os.WNOHANG);
      if (done === 0) {
        os.setTimeout(poll, execPollMs);
        return;
      }
      exitCode = done === pid ? decodeStatus(status) : null;
      // The time limit is the child's: once it has exited, reading what it wrote is bounded by the drain below.
      if (killTimer !== null) os.clearTimeout(killTimer);
      killTimer = null;
      // Wait for the pipes' EOF: the loop polls descriptors only when no timer is due, so on a starved router the
      // output may still be unread now (closing at once lost batctl's tables and x0-xdp's answers). A grandchild
      // may hold the pipes open: after execDrainRoundsMax looks, stop reading and report the output as cut.
      const drain = () => {
        drainTimer = null;
        if (openPipesLeft === 0) return;
        if (++drainRounds < execDrainRoundsMax) {
          drainTimer = os.setTimeout(drain, execDrainMs);
          return;
        }
        cut = true;
        for (const reader of readers) reader.done();
      };
      drainTimer = os.setTimeout(drain, execDrainMs);
      finish();
    };
    poll();
  });
}
