// The parts of QuickJS-ng 0.17's qjs:std and qjs:os that x0tta6bl4 uses (see quickjs-libc.c for the rest).
// Convention of qjs:os: calls return a negative errno on failure (or [value, errno] pairs), never throw
// for operating errors.

declare module 'qjs:std' {
  export interface FILE {
    puts(text: string): void;
    printf(format: string, ...args: unknown[]): number;
    flush(): void;
    close(): number;
    write(buffer: ArrayBuffer, position: number, length: number): number;
    read(buffer: ArrayBuffer, position: number, length: number): number;
    getline(): string | null;
    readAsString(maxSize?: number): string;
    fileno(): number;
  }
  export const out: FILE;
  export const err: FILE;
  const stdinFile: FILE;
  export { stdinFile as in };
  export function exit(code: number): never;
  export function getenv(name: string): string | undefined;
  export function setenv(name: string, value: string): void;
  export function unsetenv(name: string): void;
  export function getenviron(): Record<string, string>;
  /** null when the file cannot be read. */
  export function loadFile(filename: string, options?: { binary?: false }): string | null;
  export function loadFile(filename: string, options: { binary: true }): Uint8Array | null;
  export function strerror(errno: number): string;
  export function gc(): void;
  export function evalScript(source: string, options?: { backtrace_barrier?: boolean }): unknown;
  export function open(filename: string, flags: string, errorObj?: { errno?: number }): FILE | null;
  export function fdopen(fd: number, flags: string, errorObj?: { errno?: number }): FILE | null;
}

declare module 'qjs:os' {
  export const O_RDONLY: number;
  export const O_WRONLY: number;
  export const O_RDWR: number;
  export const O_APPEND: number;
  export const O_CREAT: number;
  export const O_EXCL: number;
  export const O_TRUNC: number;
  export const S_IFMT: number;
  export const S_IFREG: number;
  export const S_IFDIR: number;
  export const S_IFLNK: number;
  export const WNOHANG: number;
  export const SIGINT: number;
  export const SIGTERM: number;
  export const SIGPIPE: number;
  export const SIGCHLD: number;

  /** fd, or a negative errno. */
  export function open(filename: string, flags: number, mode?: number): number;
  /** 0, or a negative errno. */
  export function close(fd: number): number;
  /** Bytes read/written, or a negative errno. Only ArrayBuffers (not views) are accepted. */
  export function read(fd: number, buffer: ArrayBuffer, offset: number, length: number): number;
  export function write(fd: number, buffer: ArrayBuffer, offset: number, length: number): number;
  export function seek(fd: number, offset: number, whence: number): number;
  export function remove(filename: string): number;
  export function rename(oldname: string, newname: string): number;
  export function mkdir(path: string, mode?: number): number;
  /** [names (with . and ..), errno]. */
  export function readdir(path: string): [string[], number];
  export interface Stat {
    dev: number;
    ino: number;
    mode: number;
    nlink: number;
    uid: number;
    gid: number;
    rdev: number;
    size: number;
    blocks: number;
    atime: number;
    mtime: number;
    ctime: number;
  }
  export function stat(path: string): [Stat, number];
  export function lstat(path: string): [Stat, number];
  export function realpath(path: string): [string, number];
  export function getcwd(): [string, number];
  export function chdir(path: string): number;
  export function mkdtemp(template?: string): [string, number];

  /** null removes the handler. The handler runs from the event loop when fd is readable/writable. */
  export function setReadHandler(fd: number, handler: (() => void) | null): void;
  export function setWriteHandler(fd: number, handler: (() => void) | null): void;
  export function signal(signal: number, handler: (() => void) | null | undefined): void;

  export type TimerId = number;
  export function setTimeout(callback: () => void, delayMs: number): TimerId;
  export function clearTimeout(id: TimerId): void;
  export function setInterval(callback: () => void, delayMs: number): TimerId;
  export function clearInterval(id: TimerId): void;
  export function sleepAsync(delayMs: number): Promise<void>;
  export function sleep(delayMs: number): void;
  /** Monotonic milliseconds (with a fractional part). */
  export function now(): number;

  export interface ExecOptions {
    /** Wait for the child (default true); false returns its pid. */
    block?: boolean;
    usePath?: boolean;
    file?: string;
    cwd?: string;
    stdin?: number;
    stdout?: number;
    stderr?: number;
    env?: Record<string, string>;
    uid?: number;
    gid?: number;
  }
  /** Exit code (block: true; negative signal number when killed), or the pid (block: false). */
  export function exec(argv: readonly string[], options?: ExecOptions): number;
  /** [pid or negative errno, status]. */
  export function waitpid(pid: number, options: number): [number, number];
  /** [readFd, writeFd], or null when pipe() failed. */
  export function pipe(): [number, number] | null;
  export function kill(pid: number, signal: number): number;
  export function getpid(): number;
  export function dup(fd: number): number;
  export function dup2(oldfd: number, newfd: number): number;
  export function isatty(fd: number): boolean;
}

// Globals QuickJS-ng's qjs.c / js_std_add_helpers provide.
declare var scriptArgs: string[] | undefined;
declare function print(...args: unknown[]): void;
