/**
 * The physical write of fd_write on stdout and stderr, done by a node:wasi instance: it goes from
 * JavaScript straight into uvwasi (one writev for all the iovecs) and skips node:fs's own layer,
 * ~100 ns per call (bench/README-calls.md). Only the write is delegated: the handle table still
 * decides which host fd a guest fd is, and the caller still owns the offset, the errors and the
 * rest of a short write. Whatever node:wasi does not write — an fd it was not given, an error, a
 * bad `out` pointer — the caller writes through node:fs as before, so the guest sees no difference.
 */
import { fstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { WASI } from 'node:wasi';
import type { GuestMemory } from './memory.js';

type FdWrite = (fd: number, iovs: number, count: number, out: number) => number;

/** node:wasi warns that it is experimental when first loaded: for wmig it is an implementation detail. */
function loadNodeWasi(): typeof WASI | undefined {
  const emitWarning = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return (createRequire(import.meta.url)('node:wasi') as typeof import('node:wasi')).WASI;
  } catch {
    return undefined; // a Node.js built without WASI
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** uvwasi's setup fails (Node.js throws) on an fd that is not open: one such fd must not cost the others. */
function isOpen(hostFd: number): boolean {
  try {
    fstatSync(hostFd);
    return true;
  } catch {
    return false;
  }
}

export class NativeStdio {
  readonly #fdWrite: FdWrite;
  /** node:wasi's fds 0, 1 and 2 are these host fds. */
  readonly #hostFds: number[];

  private constructor(fdWrite: FdWrite, hostFds: number[]) {
    this.#fdWrite = fdWrite;
    this.#hostFds = hostFds;
  }

  /** A writer for `hostFds` (the stdio handles' host fds) in `memory`; undefined when none can be used. */
  static create(memory: WebAssembly.Memory, hostFds: number[]): NativeStdio | undefined {
    const fds = [...new Set(hostFds)].filter(isOpen).slice(0, 3);
    if (fds.length === 0) return undefined;
    const NodeWasi = loadNodeWasi();
    if (NodeWasi === undefined) return undefined;
    // Its three stdio fds are ours (repeated when fewer): no other fd of the process is in its table.
    const stdio = [0, 1, 2].map((i) => fds[Math.min(i, fds.length - 1)]!);
    try {
      const wasi = new NodeWasi({ version: 'preview1', args: [], env: {}, stdin: stdio[0], stdout: stdio[1], stderr: stdio[2], returnOnExit: true });
      wasi.initialize({ exports: { memory } } as unknown as WebAssembly.Instance);
      return new NativeStdio(wasi.wasiImport.fd_write as FdWrite, stdio);
    } catch {
      return undefined; // an fd uvwasi cannot set up, a shared memory: node:fs writes everything
    }
  }

  /**
   * Writes the `count` iovecs at `iovs` (checked by the caller) to `hostFd` with one writev and
   * returns the bytes written, or 0 when it wrote nothing: then the caller writes them all. The
   * 4 bytes at `out` are node:wasi's to fill in, and are put back: the caller stores the total.
   */
  write(mem: GuestMemory, hostFd: number, iovs: number, count: number, out: number): number {
    const fd = this.#hostFds.indexOf(hostFd);
    if (fd < 0 || out + 4 > mem.u8.length) return 0; // a bad `out` must fault after the write, as it did
    const saved = mem.dv.getUint32(out, true);
    // A failed writev wrote nothing (EAGAIN on a non-blocking pipe, EPIPE…): the caller's retry starts clean.
    if (this.#fdWrite(fd, iovs, count, out) !== 0) return 0;
    const written = mem.dv.getUint32(out, true);
    mem.dv.setUint32(out, saved, true);
    return written;
  }
}
