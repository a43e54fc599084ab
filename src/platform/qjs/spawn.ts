// A long-running child over qjs:os (Platform.spawn): os.exec(block: false) with stdin and stdout on pipes and
// stderr on /dev/null, a read handler on stdout, writes of at most PIPE_BUF, and the exit found with
// waitpid(WNOHANG) once stdout ends (or after kill()).
import * as os from 'qjs:os';
import type { Child, ChildHandlers } from '../types.js';
import { pipeWriteBytes, spawnReapMs, spawnReapRoundsMax, streamReadBytes } from './limits.js';
import { encodeUtf8 } from './utf8.js';

// qjs:os exports no SIGKILL; it is 9 on every Linux architecture (MIPS included).
const sigkill = 9;

function decodeStatus(status: number): number | null {
  const signal = status & 0x7f;
  return signal === 0 ? (status >> 8) & 0xff : null;
}

export function qjsSpawn(argv: readonly string[], handlers: ChildHandlers): Child {
  let exited = false;
  const exit = (code: number | null) => {
    if (exited) return;
    exited = true;
    handlers.onExit(code);
  };
  const gone: Child = { write: () => false, kill: () => {} };
  const notStarted = () => {
    os.setTimeout(() => exit(127), 0);
    return gone;
  };
  if (argv.length === 0) return notStarted();
  const stdinPipe = os.pipe();
  const stdoutPipe = os.pipe();
  const devNull = os.open('/dev/null', os.O_WRONLY);
  const closeAll = () => {
    for (const fd of [...(stdinPipe ?? []), ...(stdoutPipe ?? []), devNull]) if (fd >= 0) os.close(fd);
  };
  if (stdinPipe === null || stdoutPipe === null || devNull < 0) {
    closeAll();
    return notStarted();
  }
  let pid: number;
  try {
    pid = os.exec(argv, { block: false, usePath: true, stdin: stdinPipe[0], stdout: stdoutPipe[1], stderr: devNull });
  } catch {
    closeAll();
    return notStarted();
  }
  // The child has its copies; ours of its ends would hide EOF.
  os.close(stdinPipe[0]);
  os.close(stdoutPipe[1]);
  os.close(devNull);
  let stdinFd = stdinPipe[1];
  let stdoutFd = stdoutPipe[0];
  let reaping = false;
  const closeStdin = () => {
    if (stdinFd < 0) return;
    os.close(stdinFd);
    stdinFd = -1;
  };
  const closeStdout = () => {
    if (stdoutFd < 0) return;
    os.setReadHandler(stdoutFd, null);
    os.close(stdoutFd);
    stdoutFd = -1;
  };
  // Looks for the exit; a child that closed stdout but lives on is killed after spawnReapRoundsMax looks.
  const reap = () => {
    if (reaping) return;
    reaping = true;
    let rounds = 0;
    const look = () => {
      const [done, status] = os.waitpid(pid, os.WNOHANG);
      if (done === pid) {
        closeStdin();
        closeStdout();
        return exit(decodeStatus(status));
      }
      if (done < 0) {
        closeStdin();
        closeStdout();
        return exit(null);
      }
      if (++rounds === spawnReapRoundsMax) os.kill(pid, sigkill);
      os.setTimeout(look, spawnReapMs);
    };
    look();
  };
  const buffer = new ArrayBuffer(streamReadBytes);
  os.setReadHandler(stdoutFd, () => {
    const n = os.read(stdoutFd, buffer, 0, buffer.byteLength);
    if (n <= 0) {
      closeStdout();
      return reap();
    }
    handlers.onStdout(new Uint8Array(buffer.slice(0, n)));
  });
  return {
    write(text: string): boolean {
      if (stdinFd < 0 || exited) return false;
      const bytes = encodeUtf8(text);
      if (bytes.length > pipeWriteBytes) return false;
      return os.write(stdinFd, bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length) === bytes.length;
    },
    kill(): void {
      if (exited) return;
      // The signal first: closing stdin first let a child that exits at end of input end by itself (its own exit
      // code) before the signal came (seen in the conformance test on 2 cores).
      os.kill(pid, sigkill);
      closeStdin();
      closeStdout();
      reap();
    },
  };
}
