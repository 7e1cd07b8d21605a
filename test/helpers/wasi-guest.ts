/** A fake guest for tests that drive WasiHost directly through its imports, with a bare WebAssembly.Memory. */
import { expect } from 'vitest';
import { ERRNO, RIGHTS, RIGHTS_ALL } from '../../runtime/wasi/defs.js';
import type { WasiHost } from '../../runtime/wasi/host.js';

export const READ_RIGHTS = RIGHTS_ALL & ~(RIGHTS.FD_WRITE | RIGHTS.FD_ALLOCATE | RIGHTS.FD_FILESTAT_SET_SIZE | RIGHTS.FD_DATASYNC);
export const enc = new TextEncoder();
export const dec = new TextDecoder();

/** A fake guest: scratch memory regions and typed wrappers around the raw imports. */
export class Guest {
  readonly memory = new WebAssembly.Memory({ initial: 2 });
  constructor(readonly host: WasiHost) {
    host.setMemory(this.memory);
  }
  get dv() {
    return new DataView(this.memory.buffer);
  }
  get u8() {
    return new Uint8Array(this.memory.buffer);
  }
  call(name: string, ...args: (number | bigint)[]): number {
    const fn = this.host.imports[name] as unknown as (...a: (number | bigint)[]) => number;
    return fn(...args);
  }
  /** Writes a string at 1024 (paths), or `at`; returns [ptr, len]. */
  str(s: string, at = 1024): [number, number] {
    const b = enc.encode(s);
    this.u8.set(b, at);
    return [at, b.length];
  }
  ok(name: string, ...args: (number | bigint)[]): void {
    expect(this.call(name, ...args), name).toBe(ERRNO.SUCCESS);
  }
  open(dirfd: number, p: string, oflags = 0, opts: { rights?: bigint; fdflags?: number; follow?: boolean } = {}): number {
    const errno = this.tryOpen(dirfd, p, oflags, opts);
    expect(errno, `path_open ${p}`).toBe(ERRNO.SUCCESS);
    return this.dv.getUint32(16, true);
  }
  tryOpen(dirfd: number, p: string, oflags = 0, opts: { rights?: bigint; fdflags?: number; follow?: boolean } = {}): number {
    return this.call('path_open', dirfd, opts.follow === false ? 0 : 1, ...this.str(p), oflags,
      opts.rights ?? RIGHTS_ALL, RIGHTS_ALL, opts.fdflags ?? 0, 16);
  }
  write(fd: number, data: string): number {
    const b = enc.encode(data);
    this.u8.set(b, 8192);
    this.dv.setUint32(64, 8192, true);
    this.dv.setUint32(68, b.length, true);
    const errno = this.call('fd_write', fd, 64, 1, 16);
    return errno === ERRNO.SUCCESS ? this.dv.getUint32(16, true) : -errno;
  }
  /** Reads up to n bytes through two iovecs (exercises scatter). */
  read(fd: number, n: number): string {
    const half = n >> 1;
    this.dv.setUint32(64, 8192, true);
    this.dv.setUint32(68, half, true);
    this.dv.setUint32(72, 8192 + half, true);
    this.dv.setUint32(76, n - half, true);
    this.ok('fd_read', fd, 64, 2, 16);
    return dec.decode(this.u8.subarray(8192, 8192 + this.dv.getUint32(16, true)));
  }
  seek(fd: number, offset: bigint, whence: number): bigint {
    this.ok('fd_seek', fd, offset, whence, 16);
    return this.dv.getBigUint64(16, true);
  }
  tell(fd: number): bigint {
    this.ok('fd_tell', fd, 16);
    return this.dv.getBigUint64(16, true);
  }
  filestat(fd: number): { filetype: number; size: bigint; ino: bigint } {
    this.ok('fd_filestat_get', fd, 256);
    return { filetype: this.dv.getUint8(256 + 16), size: this.dv.getBigUint64(256 + 32, true), ino: this.dv.getBigUint64(256 + 8, true) };
  }
  fdstat(fd: number): { filetype: number; flags: number; rightsBase: bigint } {
    this.ok('fd_fdstat_get', fd, 256);
    return { filetype: this.dv.getUint8(256), flags: this.dv.getUint16(258, true), rightsBase: this.dv.getBigUint64(264, true) };
  }
  /** All entries, fetched with a small buffer so cookies and truncation are exercised. */
  readdir(fd: number, bufLen = 40): { name: string; type: number }[] {
    return this.dirents(fd, bufLen).map(({ name, type }) => ({ name, type }));
  }
  dirents(fd: number, bufLen = 40): { name: string; type: number; ino: bigint }[] {
    const out: { name: string; type: number; ino: bigint }[] = [];
    let cookie = 0n;
    for (;;) {
      this.ok('fd_readdir', fd, 4096, bufLen, cookie, 16);
      const used = this.dv.getUint32(16, true);
      let at = 0;
      let progressed = false;
      while (at + 24 <= used) {
        const namlen = this.dv.getUint32(4096 + at + 16, true);
        if (at + 24 + namlen > used) break; // truncated: re-read from its cookie
        out.push({
          name: dec.decode(this.u8.subarray(4096 + at + 24, 4096 + at + 24 + namlen)),
          type: this.dv.getUint8(4096 + at + 20),
          ino: this.dv.getBigUint64(4096 + at + 8, true),
        });
        cookie = this.dv.getBigUint64(4096 + at, true);
        at += 24 + namlen;
        progressed = true;
      }
      if (used < bufLen && at === used) return out;
      if (!progressed) bufLen *= 2;
    }
  }
  pathCall(name: string, fd: number, p: string): number {
    return this.call(name, fd, ...this.str(p));
  }
}
