// platform.files in memory, counting writes and bytes (the flash-wear figures), with a way to tear the last
// append as a power cut mid-write would. Engine-neutral.
import type { Files } from '../../src/platform/types.js';

export class MemFiles implements Files {
  readonly data = new Map<string, Uint8Array>();
  writes = 0;
  bytesWritten = 0;
  /** Every write fails with this errno while set (a full or read-only flash). */
  failWith: string | null = null;

  read(path: string): Uint8Array | null {
    const bytes = this.data.get(path);
    return bytes === undefined ? null : new Uint8Array(bytes);
  }

  readText(path: string): string | null {
    const bytes = this.read(path);
    return bytes === null ? null : new TextDecoder().decode(bytes);
  }

  writeAtomic(path: string, data: Uint8Array | string): string | null {
    if (this.failWith !== null) return this.failWith;
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data);
    this.data.set(path, bytes);
    this.writes += 1;
    this.bytesWritten += bytes.length;
    return null;
  }

  append(path: string, data: Uint8Array): string | null {
    if (this.failWith !== null) return this.failWith;
    const old = this.data.get(path) ?? new Uint8Array(0);
    const out = new Uint8Array(old.length + data.length);
    out.set(old);
    out.set(data, old.length);
    this.data.set(path, out);
    this.writes += 1;
    this.bytesWritten += data.length;
    return null;
  }

  list(dir: string): string[] {
    const prefix = `${dir}/`;
    return [...this.data.keys()]
      .filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/'))
      .map((p) => p.slice(prefix.length))
      .sort();
  }

  remove(path: string): string | null {
    if (this.failWith !== null) return this.failWith;
    this.data.delete(path);
    return null;
  }

  mkdirp(): string | null {
    return this.failWith;
  }

  exists(path: string): boolean {
    return this.data.has(path);
  }

  /** Drops the last `bytes` of a file (a torn append). */
  tear(path: string, bytes: number): void {
    const old = this.data.get(path);
    if (old !== undefined) this.data.set(path, old.subarray(0, Math.max(0, old.length - bytes)));
  }
}
