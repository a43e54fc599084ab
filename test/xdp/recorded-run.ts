// One run of the real x0-xdp as test/xdp/run.sh recorded it (see recorded.ts).
export interface RecordedRun {
  readonly name: string;
  /** Arguments after the helper's path and --json. */
  readonly args: readonly string[];
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}
