// Files over qjs:os (negative errno returns) and x0:fs (fsync, fchmod, errno names). Failures other than
// "does not exist" where the interface allows it throw an Error whose `code` is the errno name.
import * as os from 'qjs:os';
import * as fsx from 'x0:fs';
import type { Files } from '../types.js';
import { fileChunkBytes, fileReadBytesMax, pathDepthMax } from './limits.js';
import { encodeUtf8, decodeUtf8 } from './utf8.js';

export class FileError extends Error {
  constructor(
    readonly code: string,
    operation: string,
    path: string,
  ) {
    super(`${code}: ${operation} ${path}`);
    this.name = 'FileError';
  }
}

const enoent = 'ENOENT';

function check(result: number, operation: string, path: string): number {
  if (result < 0) throw new FileError(fsx.errnoName(result), operation, path);
  return result;
}

function checkX0(result: fsx.X0Error | null, operation: string, path: string): void {
  if (result !== null) throw new FileError(result.error, operation, path);
}

function dirname(path: string): string {
  const slash = path.lastIndexOf('/');
  if (slash < 0) return '.';
  return slash === 0 ? '/' : path.slice(0, slash);
}

function writeAll(fd: number, data: Uint8Array, path: string): void {
  // os.write takes an ArrayBuffer window, not a view.
  let offset = 0;
  while (offset < data.length) {
    const n = check(
      os.write(fd, data.buffer as ArrayBuffer, data.byteOffset + offset, data.length - offset),
      'write',
      path,
    );
    if (n === 0) throw new FileError('EIO', 'write (no progress)', path);
    offset += n;
  }
}

function withFd<T>(fd: number, body: () => T): T {
  try {
    return body();
  } finally {
    os.close(fd);
  }
}

function readFd(fd: number, path: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const chunk = new Uint8Array(fileChunkBytes);
    const n = check(os.read(fd, chunk.buffer, 0, chunk.length), 'read', path);
    if (n === 0) break;
    total += n;
    if (total > fileReadBytesMax) throw new FileError('EFBIG', `read (over ${fileReadBytesMax} bytes)`, path);
    chunks.push(chunk.subarray(0, n));
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function read(path: string): Uint8Array | null {
  const fd = os.open(path, os.O_RDONLY);
  if (fd < 0 && fsx.errnoName(fd) === enoent) return null;
  check(fd, 'open', path);
  return withFd(fd, () => readFd(fd, path));
}

function syncDirectory(dir: string): void {
  const fd = check(os.open(dir, os.O_RDONLY), 'open', dir);
  withFd(fd, () => checkX0(fsx.fsync(fd), 'fsync', dir));
}

let tempCounter = 0;

// Temp file + fsync + rename + fsync(dir): a reader (or a reboot) sees the old or the new content, never a torn one.
function writeAtomic(path: string, data: Uint8Array | string, mode = 0o644): void {
  const bytes = typeof data === 'string' ? encodeUtf8(data) : data;
  const temp = `${path}.tmp-${os.getpid()}-${tempCounter++}`;
  const fd = check(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), 'open', temp);
  try {
    withFd(fd, () => {
      writeAll(fd, bytes, temp);
      checkX0(fsx.fchmod(fd, mode), 'fchmod', temp); // open()'s mode went through the umask
      checkX0(fsx.fsync(fd), 'fsync', temp);
    });
    check(os.rename(temp, path), 'rename', path);
  } catch (error) {
    os.remove(temp);
    throw error;
  }
  syncDirectory(dirname(path));
}

function append(path: string, data: Uint8Array): void {
  const fd = check(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644), 'open', path);
  withFd(fd, () => {
    writeAll(fd, data, path);
    checkX0(fsx.fsync(fd), 'fsync', path);
  });
}

function list(dir: string): string[] {
  const [names, err] = os.readdir(dir);
  if (err !== 0) {
    if (fsx.errnoName(err) === enoent) return [];
    throw new FileError(fsx.errnoName(err), 'readdir', dir);
  }
  return names.filter((name) => name !== '.' && name !== '..').sort();
}

function remove(path: string): void {
  const result = os.remove(path);
  if (result < 0 && fsx.errnoName(result) !== enoent) check(result, 'remove', path);
}

function isDirectory(path: string): boolean {
  const [stat, err] = os.stat(path);
  return err === 0 && (stat.mode & os.S_IFMT) === os.S_IFDIR;
}

function mkdirp(path: string): void {
  const parts = path.split('/');
  if (parts.length > pathDepthMax)
    throw new FileError('ENAMETOOLONG', `mkdirp (over ${pathDepthMax} components)`, path);
  let prefix = path.startsWith('/') ? '' : '.';
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    prefix = `${prefix}/${part}`;
    const result = os.mkdir(prefix, 0o755);
    if (result >= 0) continue;
    const errno = fsx.errnoName(result);
    if (errno === 'EEXIST' && isDirectory(prefix)) continue;
    // A file in the way: what mkdir -p (and Node) report for it.
    if (errno === 'EEXIST') throw new FileError('ENOTDIR', 'mkdir', prefix);
    check(result, 'mkdir', prefix);
  }
}

function exists(path: string): boolean {
  return os.stat(path)[1] === 0;
}

/** Runs a write; null when it worked, the errno name when the system refused it (a bug still throws). */
function errnoOf(write: () => void): string | null {
  try {
    write();
    return null;
  } catch (error) {
    if (error instanceof FileError) return error.code;
    throw error;
  }
}

export const qjsFiles: Files = {
  read,
  readText: (path) => {
    const bytes = read(path);
    return bytes === null ? null : decodeUtf8(bytes, false);
  },
  writeAtomic: (path, data, mode) => errnoOf(() => writeAtomic(path, data, mode)),
  append: (path, data) => errnoOf(() => append(path, data)),
  list,
  remove: (path) => errnoOf(() => remove(path)),
  mkdirp: (path) => errnoOf(() => mkdirp(path)),
  exists,
};
