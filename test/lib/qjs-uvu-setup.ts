// Loaded first in the QuickJS-ng test bundle: gives uvu the little of `process` it uses, so that it
// reports like on Node (progress on stdout, failures in process.exitCode), and defers its auto-run
// so that the bundle's entry runs every file's tests once, in order.
import * as std from 'qjs:std';

const start = performance.now();
const shim = {
  env: {} as Record<string, string>,
  argv: [] as string[],
  exitCode: 0,
  stdout: {
    write: (text: string) => {
      std.out.puts(text);
      std.out.flush();
      return true;
    },
    isTTY: false,
  },
  hrtime(previous?: [number, number]): [number, number] {
    const ns = Math.round((performance.now() - start) * 1e6);
    const now: [number, number] = [Math.floor(ns / 1e9), ns % 1e9];
    if (previous === undefined) return now;
    let seconds = now[0] - previous[0];
    let nanos = now[1] - previous[1];
    if (nanos < 0) {
      seconds -= 1;
      nanos += 1e9;
    }
    return [seconds, nanos];
  },
  on() {
    return shim;
  },
  exit(code: number) {
    std.exit(code);
  },
};
const g = globalThis as Record<string, unknown>;
g.process = shim;
g.UVU_DEFER = 1;
g.UVU_QUEUE = [];
