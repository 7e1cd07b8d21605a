/**
 * wasi_snapshot_preview1 over virtual handles, so that the whole host state can be captured as
 * JSON and re-bound on another machine (see capture/restore).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { WmigError } from '../errors.js';
import type { Backend } from '../vfs/backend.js';
import { HostFs, toFilestat } from '../vfs/hostfs.js';
import { MemFs } from '../vfs/memfs.js';
import { resolveGuestPath, parentOf } from '../vfs/path.js';
import { CLOCK_RESOLUTION_NS, VirtualClock } from './clock.js';
import {
  ADVICE_MAX, ERRNO, EVENTTYPE, FDFLAGS, FDFLAGS_ALL, FILETYPE, FSTFLAGS, LOOKUPFLAGS, OFLAGS,
  RIGHTS, RIGHTS_ALL, RIGHTS_STDIN, RIGHTS_STDOUT, RIGHTS_WRITE, SDFLAGS_ALL, SIZEOF, SUBCLOCKFLAGS, WHENCE,
  encodeDirent, readIovecs, readSubscription, writeEvent, writeFdstat, writeFilestat, writePrestatDir,
  type Event, type Filestat, type Iovec,
} from './defs.js';
import { WasiError, errnoOf, nodeErrorCode } from './errno.js';
import { HandleTable, type DirHandle, type FileHandle, type Handle, type Mount, type StdioHandle } from './handles.js';
import { HOST_STATE_VERSION, parseHostState, type HandleState, type HostState, type MountState } from './state.js';
import { readSome, sleepMs, writeAll } from './stdio.js';
import type { HostCapture, MountSpec, StdioSpec, WasiConfig, WasiFunction, WasiRestoreOptions } from './types.js';

/** Thrown by proc_exit; the engine catches it and ends the run with `code`. */
export class ProcExit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`proc_exit(${code})`);
    this.name = 'ProcExit';
    this.code = code;
  }
}

const DEFAULT_STDIO: StdioSpec = { stdin: 0, stdout: 1, stderr: 2 };
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Everything a host is made of; built fresh by the constructor or from a snapshot by restore. */
interface HostParts {
  args: string[];
  env: [string, string][];
  mounts: Map<string, Mount>;
  table: HandleTable;
  clock: VirtualClock;
}

export class WasiHost {
  readonly imports: Record<string, WasiFunction>;
  private readonly args: string[];
  private readonly env: [string, string][];
  private readonly mounts: Map<string, Mount>;
  private readonly table: HandleTable;
  private readonly clock: VirtualClock;
  private memory: WebAssembly.Memory | undefined;
  /** Views of memory.buffer, re-created whenever memory.grow replaced the buffer. */
  private buffer: ArrayBuffer | undefined;
  private dv = new DataView(new ArrayBuffer(0));
  private u8 = new Uint8Array(0);

  /** `parts` is restore's way in; callers pass only a config. */
  constructor(config: WasiConfig, parts?: HostParts) {
    const p = parts ?? freshParts(config);
    this.args = p.args;
    this.env = p.env;
    this.mounts = p.mounts;
    this.table = p.table;
    this.clock = p.clock;
    this.imports = this.makeImports();
  }

  setMemory(memory: WebAssembly.Memory): void {
    this.memory = memory;
    this.buffer = undefined;
  }

  /** Bytes of stdin the guest has consumed (carried across thaws; for inspect and tests). */
  get stdinOffset(): number {
    const stdin = this.table.entries().find(([, h]) => h.kind === 'stdio' && h.stream === 0);
    return stdin ? (stdin[1] as StdioHandle).offset : 0;
  }

  /** The whole WASI state as JSON plus memfs file blobs. Reads only: the host is unchanged. */
  capture(): HostCapture {
    const files: Uint8Array[] = [];
    const mounts: MountState[] = [...this.mounts.values()].map(({ spec, backend }) => ({
      guestPath: spec.guestPath,
      kind: spec.kind,
      ...(spec.hostPath !== undefined ? { hostPath: spec.hostPath } : {}),
      readOnly: spec.readOnly === true,
      ...(backend instanceof MemFs ? { memfs: backend.serialize(files) } : {}),
    }));
    const handles: HandleState[] = this.table.entries().map(([fd, h]) => {
      const base = { fd, fdflags: h.fdflags, rightsBase: String(h.rightsBase), rightsInheriting: String(h.rightsInheriting) };
      switch (h.kind) {
        case 'stdio':
          return { ...base, kind: 'stdio', stream: h.stream, offset: h.offset };
        case 'preopen':
        case 'dir':
          return { ...base, kind: h.kind, mount: h.mount.spec.guestPath, path: h.rel };
        case 'file':
          return { ...base, kind: 'file', mount: h.mount.spec.guestPath, path: h.rel, offset: h.offset, ino: String(h.ino) };
      }
    });
    const host: HostState = {
      version: HOST_STATE_VERSION,
      args: [...this.args],
      env: this.env.map(([k, v]) => [k, v]),
      mounts,
      handles,
      monotonicNs: String(this.clock.monotonic()),
    };
    return { host, files };
  }

  /**
   * Re-creates a captured host on this machine. Every mount and open file is re-bound here,
   * before the guest runs, so a missing directory or file fails the thaw rather than the guest.
   */
  static restore(host: unknown, files: Uint8Array[], options: WasiRestoreOptions = {}): WasiHost {
    const state = parseHostState(host);
    const stdio = options.stdio ?? DEFAULT_STDIO;
    const overrides = new Map((options.mounts ?? []).map((m) => [m.guestPath, m]));
    for (const g of overrides.keys()) {
      if (!state.mounts.some((m) => m.guestPath === g)) {
        throw new WmigError('REBIND_FAILED', `mount ${g}: the snapshot has no such mount`);
      }
    }
    const mounts = new Map<string, Mount>();
    for (const m of state.mounts) mounts.set(m.guestPath, rebindMount(m, overrides.get(m.guestPath), files));
    const table = new HandleTable();
    try {
      for (const h of state.handles) table.set(h.fd, rebindHandle(h, mounts, stdio));
    } catch (e) {
      table.closeAll();
      throw e;
    }
    const parts = { args: state.args, env: state.env, mounts, table, clock: new VirtualClock(BigInt(state.monotonicNs)) };
    return new WasiHost({ args: state.args, env: state.env, mounts: [...mounts.values()].map((m) => m.spec) }, parts);
  }

  /** Closes the host files this host opened (stdio fds belong to the caller). */
  close(): void {
    this.table.closeAll();
  }

  // ---- guest memory ----

  private view(): void {
    if (this.memory === undefined) throw new Error('WasiHost: setMemory() was not called');
    if (this.buffer !== this.memory.buffer) {
      this.buffer = this.memory.buffer;
      this.dv = new DataView(this.buffer);
      this.u8 = new Uint8Array(this.buffer);
    }
  }

  /** A view of guest memory [ptr, ptr+len); FAULT when out of bounds (subarray would clamp silently). */
  private bytes(ptr: number, len: number): Uint8Array {
    if (ptr + len > this.u8.length) throw new WasiError(ERRNO.FAULT, `memory access out of bounds: ${ptr}+${len}`);
    return this.u8.subarray(ptr, ptr + len);
  }

  private string(ptr: number, len: number): string {
    try {
      return utf8Strict.decode(this.bytes(ptr, len));
    } catch (e) {
      if (e instanceof WasiError) throw e;
      throw new WasiError(ERRNO.ILSEQ, 'path is not UTF-8');
    }
  }

  private iovecs(ptr: number, count: number): Iovec[] {
    this.bytes(ptr, count * SIZEOF.iovec);
    const iovs = readIovecs(this.dv, ptr, count);
    for (const v of iovs) this.bytes(v.buf, v.len);
    return iovs;
  }

  private putU32(ptr: number, v: number): void {
    this.bytes(ptr, 4);
    this.dv.setUint32(ptr, v, true);
  }

  private putU64(ptr: number, v: bigint): void {
    this.bytes(ptr, 8);
    this.dv.setBigUint64(ptr, v, true);
  }

  // ---- handles ----

  private dir(fd: number): DirHandle {
    const h = this.table.get(fd);
    if (h.kind !== 'preopen' && h.kind !== 'dir') throw new WasiError(ERRNO.NOTDIR, `fd ${fd} is not a directory`);
    return h;
  }

  /** A regular file handle; `forDir` is the errno for directories (read wants ISDIR, the rest BADF). */
  private file(fd: number, forDir: number = ERRNO.BADF): FileHandle {
    const h = this.table.get(fd);
    if (h.kind === 'file') return h;
    throw new WasiError(h.kind === 'stdio' ? ERRNO.SPIPE : forDir, `fd ${fd} is not a file`);
  }

  private requireRight(h: Handle, right: bigint): void {
    if ((h.rightsBase & right) === 0n) throw new WasiError(ERRNO.BADF, 'fd lacks the right');
  }

  private writable(mount: Mount): void {
    if (mount.spec.readOnly) throw new WasiError(ERRNO.ROFS, `${mount.spec.guestPath} is read-only`);
  }

  private filestatOf(h: Handle): Filestat {
    switch (h.kind) {
      case 'stdio':
        return toFilestat(fs.fstatSync(h.hostFd, { bigint: true }));
      case 'file':
        return h.io.stat();
      default:
        return h.mount.backend.stat(h.rel, true);
    }
  }

  /** Resolves a guest path argument against directory fd `fd`. */
  private path(fd: number, ptr: number, len: number): { dir: DirHandle; backend: Backend; rel: string; trailingSlash: boolean } {
    const dir = this.dir(fd);
    const { rel, trailingSlash } = resolveGuestPath(dir.rel, this.string(ptr, len));
    return { dir, backend: dir.mount.backend, rel, trailingSlash };
  }

  /** Times for *_set_times: undefined leaves a time alone; both "now" and a value is INVAL. */
  private times(atim: bigint, mtim: bigint, fst: number): [bigint | undefined, bigint | undefined] {
    if ((fst & FSTFLAGS.ATIM && fst & FSTFLAGS.ATIM_NOW) || (fst & FSTFLAGS.MTIM && fst & FSTFLAGS.MTIM_NOW) || fst > 15) {
      throw new WasiError(ERRNO.INVAL, 'bad fstflags');
    }
    const now = this.clock.realtime();
    const pick = (value: bigint, set: number, setNow: number) => (fst & setNow ? now : fst & set ? value : undefined);
    return [pick(atim, FSTFLAGS.ATIM, FSTFLAGS.ATIM_NOW), pick(mtim, FSTFLAGS.MTIM, FSTFLAGS.MTIM_NOW)];
  }

  // ---- I/O ----

  private readv(h: Handle, iovs: Iovec[], position: number | undefined): number {
    if (h.kind === 'stdio') {
      this.requireRight(h, RIGHTS.FD_READ);
      // One read only: a second could block on a pipe or terminal although data was returned.
      const nonblocking = (h.fdflags & FDFLAGS.NONBLOCK) !== 0;
      const n = iovs.length === 1
        ? readSome(h.hostFd, this.bytes(iovs[0]!.buf, iovs[0]!.len), nonblocking)
        : scatter(this.u8, iovs, (tmp) => readSome(h.hostFd, tmp, nonblocking));
      h.offset += n;
      return n;
    }
    if (h.kind !== 'file') throw new WasiError(ERRNO.ISDIR, 'read of a directory');
    this.requireRight(h, RIGHTS.FD_READ);
    const start = position ?? h.offset;
    let total = 0;
    for (const v of iovs) {
      const n = h.io.pread(this.bytes(v.buf, v.len), start + total);
      total += n;
      if (n < v.len) break;
    }
    if (position === undefined) h.offset += total;
    return total;
  }

  private writev(h: Handle, iovs: Iovec[], position: number | undefined): number {
    if (h.kind === 'stdio') {
      this.requireRight(h, RIGHTS.FD_WRITE);
      let total = 0;
      for (const v of iovs) {
        writeAll(h.hostFd, this.bytes(v.buf, v.len));
        total += v.len;
      }
      h.offset += total;
      return total;
    }
    if (h.kind !== 'file') throw new WasiError(ERRNO.BADF, 'write to a directory');
    this.requireRight(h, RIGHTS.FD_WRITE);
    const append = position === undefined && (h.fdflags & FDFLAGS.APPEND) !== 0;
    const start = position ?? (append ? Number(h.io.stat().size) : h.offset);
    let total = 0;
    for (const v of iovs) total += h.io.pwrite(this.bytes(v.buf, v.len), start + total);
    if (position === undefined) h.offset = start + total;
    return total;
  }

  // ---- the imports ----

  private makeImports(): Record<string, WasiFunction> {
    const u = (p: number) => p >>> 0;
    const ok = ERRNO.SUCCESS;

    const putStrings = (list: string[], ptrsPtr: number, bufPtr: number) => {
      let at = u(bufPtr);
      list.forEach((s, i) => {
        const b = utf8.encode(s);
        this.putU32(u(ptrsPtr) + 4 * i, at);
        this.bytes(at, b.length + 1).set(b);
        this.u8[at + b.length] = 0;
        at += b.length + 1;
      });
      return ok;
    };
    const putSizes = (list: string[], countPtr: number, sizePtr: number) => {
      this.putU32(u(countPtr), list.length);
      this.putU32(u(sizePtr), list.reduce((n, s) => n + utf8.encode(s).length + 1, 0));
      return ok;
    };
    const environ = () => this.env.map(([k, v]) => `${k}=${v}`);

    const fns = {
      args_get: (argv: number, buf: number) => putStrings(this.args, argv, buf),
      args_sizes_get: (count: number, size: number) => putSizes(this.args, count, size),
      environ_get: (environPtr: number, buf: number) => putStrings(environ(), environPtr, buf),
      environ_sizes_get: (count: number, size: number) => putSizes(environ(), count, size),

      clock_res_get: (id: number, out: number) => {
        this.clock.now(id); // validates the id
        this.putU64(u(out), CLOCK_RESOLUTION_NS);
        return ok;
      },
      clock_time_get: (id: number, _precision: bigint, out: number) => {
        this.putU64(u(out), this.clock.now(id));
        return ok;
      },

      fd_advise: (fd: number, _offset: bigint, _len: bigint, advice: number) => {
        this.file(fd);
        return advice > ADVICE_MAX ? ERRNO.INVAL : ok; // advice is only a hint
      },
      fd_allocate: (fd: number, offset: bigint, len: bigint) => {
        const h = this.file(fd);
        this.requireRight(h, RIGHTS.FD_WRITE);
        const end = Number(offset + len);
        if (end > Number(h.io.stat().size)) h.io.truncate(end);
        return ok;
      },
      fd_close: (fd: number) => {
        this.table.close(fd);
        return ok;
      },
      fd_datasync: (fd: number) => this.syncFd(fd),
      fd_sync: (fd: number) => this.syncFd(fd),
      fd_fdstat_get: (fd: number, out: number) => {
        const h = this.table.get(fd);
        const filetype = h.kind === 'file' ? FILETYPE.REGULAR_FILE : h.kind === 'stdio' ? this.filestatOf(h).filetype : FILETYPE.DIRECTORY;
        this.bytes(u(out), SIZEOF.fdstat);
        writeFdstat(this.dv, u(out), { filetype, flags: h.fdflags, rightsBase: h.rightsBase, rightsInheriting: h.rightsInheriting });
        return ok;
      },
      fd_fdstat_set_flags: (fd: number, flags: number) => {
        const h = this.table.get(fd);
        if (flags & ~FDFLAGS_ALL) return ERRNO.INVAL;
        h.fdflags = flags;
        return ok;
      },
      fd_fdstat_set_rights: (fd: number, base: bigint, inheriting: bigint) => {
        const h = this.table.get(fd);
        if (base & ~h.rightsBase || inheriting & ~h.rightsInheriting) return ERRNO.NOTCAPABLE;
        h.rightsBase = base;
        h.rightsInheriting = inheriting;
        return ok;
      },
      fd_filestat_get: (fd: number, out: number) => {
        const st = this.filestatOf(this.table.get(fd));
        this.bytes(u(out), SIZEOF.filestat);
        writeFilestat(this.dv, u(out), st);
        return ok;
      },
      fd_filestat_set_size: (fd: number, size: bigint) => {
        const h = this.file(fd, ERRNO.INVAL);
        this.requireRight(h, RIGHTS.FD_WRITE);
        h.io.truncate(Number(size));
        return ok;
      },
      fd_filestat_set_times: (fd: number, atim: bigint, mtim: bigint, fst: number) => {
        const h = this.table.get(fd);
        const [a, m] = this.times(atim, mtim, fst);
        if (h.kind === 'stdio') return ERRNO.BADF;
        this.writable(h.mount);
        if (h.kind === 'file') h.io.setTimes(a, m);
        else h.mount.backend.setTimes(h.rel, true, a, m);
        return ok;
      },
      fd_pread: (fd: number, iovs: number, count: number, offset: bigint, out: number) => {
        const h = this.file(fd, ERRNO.ISDIR);
        this.putU32(u(out), this.readv(h, this.iovecs(u(iovs), count >>> 0), Number(offset)));
        return ok;
      },
      fd_pwrite: (fd: number, iovs: number, count: number, offset: bigint, out: number) => {
        const h = this.file(fd);
        this.putU32(u(out), this.writev(h, this.iovecs(u(iovs), count >>> 0), Number(offset)));
        return ok;
      },
      fd_read: (fd: number, iovs: number, count: number, out: number) => {
        const h = this.table.get(fd);
        this.putU32(u(out), this.readv(h, this.iovecs(u(iovs), count >>> 0), undefined));
        return ok;
      },
      fd_write: (fd: number, iovs: number, count: number, out: number) => {
        const h = this.table.get(fd);
        this.putU32(u(out), this.writev(h, this.iovecs(u(iovs), count >>> 0), undefined));
        return ok;
      },
      fd_prestat_get: (fd: number, out: number) => {
        const h = this.table.get(fd);
        if (h.kind !== 'preopen') return ERRNO.BADF; // wasi-libc scans fds from 3 until BADF
        this.bytes(u(out), SIZEOF.prestat);
        writePrestatDir(this.dv, u(out), utf8.encode(h.mount.spec.guestPath).length);
        return ok;
      },
      fd_prestat_dir_name: (fd: number, ptr: number, len: number) => {
        const h = this.table.get(fd);
        if (h.kind !== 'preopen') return ERRNO.BADF;
        const name = utf8.encode(h.mount.spec.guestPath);
        if ((len >>> 0) < name.length) return ERRNO.NAMETOOLONG;
        this.bytes(u(ptr), name.length).set(name);
        return ok;
      },
      fd_readdir: (fd: number, buf: number, bufLen: number, cookie: bigint, usedPtr: number) => {
        const h = this.dir(fd);
        const { backend } = h.mount;
        const entries = [
          { name: '.', ino: backend.stat(h.rel, true).ino, filetype: FILETYPE.DIRECTORY },
          { name: '..', ino: backend.stat(parentOf(h.rel), true).ino, filetype: FILETYPE.DIRECTORY },
          ...backend.readdir(h.rel),
        ];
        const out = this.bytes(u(buf), bufLen >>> 0);
        let used = 0;
        // The cookie is the index of the next entry; a truncated last entry tells libc to retry with a bigger buffer.
        for (let i = Number(cookie); i < entries.length && used < out.length; i++) {
          const e = entries[i]!;
          const d = encodeDirent(BigInt(i + 1), e.ino, e.filetype, utf8.encode(e.name));
          const n = Math.min(d.length, out.length - used);
          out.set(d.subarray(0, n), used);
          used += n;
        }
        this.putU32(u(usedPtr), used);
        return ok;
      },
      fd_renumber: (from: number, to: number) => {
        this.table.renumber(from, to);
        return ok;
      },
      fd_seek: (fd: number, offset: bigint, whence: number, out: number) => {
        const h = this.file(fd);
        let base: bigint;
        if (whence === WHENCE.SET) base = 0n;
        else if (whence === WHENCE.CUR) base = BigInt(h.offset);
        else if (whence === WHENCE.END) base = h.io.stat().size;
        else return ERRNO.INVAL;
        const next = base + offset;
        if (next < 0n || next > BigInt(Number.MAX_SAFE_INTEGER)) return ERRNO.INVAL;
        h.offset = Number(next);
        this.putU64(u(out), next);
        return ok;
      },
      fd_tell: (fd: number, out: number) => {
        this.putU64(u(out), BigInt(this.file(fd).offset));
        return ok;
      },

      path_create_directory: (fd: number, ptr: number, len: number) => {
        const p = this.path(fd, u(ptr), len >>> 0);
        this.writable(p.dir.mount);
        p.backend.mkdir(p.rel);
        return ok;
      },
      path_filestat_get: (fd: number, flags: number, ptr: number, len: number, out: number) => {
        const p = this.path(fd, u(ptr), len >>> 0);
        const st = p.backend.stat(p.rel, (flags & LOOKUPFLAGS.SYMLINK_FOLLOW) !== 0);
        if (p.trailingSlash && st.filetype !== FILETYPE.DIRECTORY) return ERRNO.NOTDIR;
        this.bytes(u(out), SIZEOF.filestat);
        writeFilestat(this.dv, u(out), st);
        return ok;
      },
      path_filestat_set_times: (fd: number, flags: number, ptr: number, len: number, atim: bigint, mtim: bigint, fst: number) => {
        const p = this.path(fd, u(ptr), len >>> 0);
        const [a, m] = this.times(atim, mtim, fst);
        this.writable(p.dir.mount);
        p.backend.setTimes(p.rel, (flags & LOOKUPFLAGS.SYMLINK_FOLLOW) !== 0, a, m);
        return ok;
      },
      path_link: (oldFd: number, _oldFlags: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number) => {
        const from = this.path(oldFd, u(oldPtr), oldLen >>> 0);
        const to = this.path(newFd, u(newPtr), newLen >>> 0);
        if (from.dir.mount !== to.dir.mount) return ERRNO.XDEV;
        this.writable(to.dir.mount);
        from.backend.link(from.rel, to.rel);
        return ok;
      },
      path_open: (fd: number, dirflags: number, ptr: number, len: number, oflags: number,
        rightsBase: bigint, rightsInheriting: bigint, fdflags: number, out: number) => this.pathOpen(
        fd, dirflags, u(ptr), len >>> 0, oflags, rightsBase, rightsInheriting, fdflags, u(out)),
      path_readlink: (fd: number, ptr: number, len: number, buf: number, bufLen: number, usedPtr: number) => {
        const p = this.path(fd, u(ptr), len >>> 0);
        const target = utf8.encode(p.backend.readlink(p.rel));
        const n = Math.min(target.length, bufLen >>> 0);
        this.bytes(u(buf), n).set(target.subarray(0, n));
        this.putU32(u(usedPtr), n);
        return ok;
      },
      path_remove_directory: (fd: number, ptr: number, len: number) => {
        const p = this.path(fd, u(ptr), len >>> 0);
        this.writable(p.dir.mount);
        p.backend.rmdir(p.rel);
        return ok;
      },
      path_rename: (fd: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number) => {
        const from = this.path(fd, u(oldPtr), oldLen >>> 0);
        const to = this.path(newFd, u(newPtr), newLen >>> 0);
        if (from.dir.mount !== to.dir.mount) return ERRNO.XDEV;
        this.writable(to.dir.mount);
        from.backend.rename(from.rel, to.rel);
        return ok;
      },
      path_symlink: (oldPtr: number, oldLen: number, fd: number, newPtr: number, newLen: number) => {
        const target = this.string(u(oldPtr), oldLen >>> 0);
        const p = this.path(fd, u(newPtr), newLen >>> 0);
        this.writable(p.dir.mount);
        p.backend.symlink(target, p.rel);
        return ok;
      },
      path_unlink_file: (fd: number, ptr: number, len: number) => {
        const p = this.path(fd, u(ptr), len >>> 0);
        this.writable(p.dir.mount);
        if (p.trailingSlash) {
          return p.backend.stat(p.rel, false).filetype === FILETYPE.DIRECTORY ? ERRNO.ISDIR : ERRNO.NOTDIR;
        }
        p.backend.unlink(p.rel);
        return ok;
      },

      poll_oneoff: (inPtr: number, outPtr: number, count: number, neventsPtr: number) =>
        this.pollOneoff(u(inPtr), u(outPtr), count >>> 0, u(neventsPtr)),
      proc_exit: (code: number) => {
        throw new ProcExit(code >>> 0);
      },
      proc_raise: () => ERRNO.NOSYS,
      sched_yield: () => ok,
      random_get: (buf: number, len: number) => {
        crypto.randomFillSync(this.bytes(u(buf), len >>> 0));
        return ok;
      },

      // No socket handles exist yet: a valid fd is not a socket, anything else is BADF.
      sock_accept: (fd: number) => this.notSocket(fd),
      sock_recv: (fd: number) => this.notSocket(fd),
      sock_send: (fd: number) => this.notSocket(fd),
      sock_shutdown: (fd: number, how: number) => {
        this.table.get(fd);
        return how & ~SDFLAGS_ALL ? ERRNO.INVAL : ERRNO.NOTSOCK;
      },
    };

    const imports: Record<string, WasiFunction> = {};
    for (const [name, fn] of Object.entries(fns) as [string, (...args: unknown[]) => number][]) {
      imports[name] = ((...args: unknown[]) => {
        try {
          this.view();
          return fn(...args);
        } catch (e) {
          return errnoOf(e);
        }
      }) as WasiFunction;
    }
    return imports;
  }

  private syncFd(fd: number): number {
    const h = this.table.get(fd);
    if (h.kind === 'file') h.io.sync();
    return ERRNO.SUCCESS;
  }

  private notSocket(fd: number): number {
    this.table.get(fd);
    return ERRNO.NOTSOCK;
  }

  private pathOpen(fd: number, dirflags: number, ptr: number, len: number, oflags: number,
    rightsBase: bigint, rightsInheriting: bigint, fdflags: number, out: number): number {
    const p = this.path(fd, ptr, len);
    if (fdflags & ~FDFLAGS_ALL || oflags & ~15) return ERRNO.INVAL;
    const create = (oflags & OFLAGS.CREAT) !== 0;
    const directory = (oflags & OFLAGS.DIRECTORY) !== 0 || p.trailingSlash;
    if (create && directory) return ERRNO.INVAL;
    const follow = (dirflags & LOOKUPFLAGS.SYMLINK_FOLLOW) !== 0;
    // Rights cannot exceed what the directory passes on.
    const base = rightsBase & p.dir.rightsInheriting;
    const inheriting = rightsInheriting & p.dir.rightsInheriting;
    // O_DIRECTORY opens for listing whatever rights were asked for (POSIX opendir is read-only).
    const access = accessOf(base, fdflags);
    const read = access.read;
    const write = access.write && !directory;
    const truncate = (oflags & OFLAGS.TRUNC) !== 0;
    if (p.dir.mount.spec.readOnly) {
      if (write || truncate) return ERRNO.ROFS;
      if (create && !exists(p.backend, p.rel, follow)) return ERRNO.ROFS;
    }
    const opened = p.backend.open(p.rel, { read, write, create, exclusive: (oflags & OFLAGS.EXCL) !== 0, truncate, directory, follow });
    const common = { mount: p.dir.mount, rel: p.rel, fdflags, rightsBase: base, rightsInheriting: inheriting };
    const h: Handle = opened.kind === 'dir'
      ? { kind: 'dir', ...common }
      : { kind: 'file', ...common, offset: 0, io: opened.io, ino: opened.ino };
    try {
      this.putU32(out, this.table.add(h));
    } catch (e) {
      if (h.kind === 'file') h.io.close();
      throw e;
    }
    return ERRNO.SUCCESS;
  }

  private pollOneoff(inPtr: number, outPtr: number, count: number, neventsPtr: number): number {
    if (count === 0) return ERRNO.INVAL;
    this.bytes(inPtr, count * SIZEOF.subscription);
    this.bytes(outPtr, count * SIZEOF.event);
    const events: Event[] = [];
    const timers: { userdata: bigint; clockId: number; deadline: bigint }[] = [];
    for (let i = 0; i < count; i++) {
      const s = readSubscription(this.dv, inPtr + i * SIZEOF.subscription);
      if (s === null) return ERRNO.INVAL;
      if (s.type === EVENTTYPE.CLOCK) {
        let now: bigint;
        try {
          now = this.clock.now(s.clockId);
        } catch {
          events.push({ userdata: s.userdata, error: ERRNO.INVAL, type: s.type, nbytes: 0n });
          continue;
        }
        const deadline = s.flags & SUBCLOCKFLAGS.ABSTIME ? s.timeout : now + s.timeout;
        timers.push({ userdata: s.userdata, clockId: s.clockId, deadline });
      } else {
        events.push(this.fdReadiness(s.userdata, s.type, s.fd));
      }
    }
    // Files and stdio are always ready, so only a poll of timers alone sleeps.
    if (events.length === 0) {
      const first = timers.reduce((a, b) => (b.deadline - this.clock.now(b.clockId) < a.deadline - this.clock.now(a.clockId) ? b : a));
      for (;;) {
        const left = first.deadline - this.clock.now(first.clockId);
        if (left <= 0n) break;
        sleepMs(Math.max(1, Math.ceil(Number(left) / 1e6)));
      }
    }
    for (const t of timers) {
      if (this.clock.now(t.clockId) >= t.deadline) events.push({ userdata: t.userdata, error: ERRNO.SUCCESS, type: EVENTTYPE.CLOCK, nbytes: 0n });
    }
    events.forEach((e, i) => writeEvent(this.dv, outPtr + i * SIZEOF.event, e));
    this.putU32(neventsPtr, events.length);
    return ERRNO.SUCCESS;
  }

  private fdReadiness(userdata: bigint, type: number, fd: number): Event {
    const event = { userdata, error: ERRNO.SUCCESS, type, nbytes: 0n };
    if (!this.table.has(fd)) return { ...event, error: ERRNO.BADF };
    const h = this.table.get(fd);
    if (type === EVENTTYPE.FD_READ && h.kind === 'file') {
      const left = h.io.stat().size - BigInt(h.offset);
      return { ...event, nbytes: left > 0n ? left : 0n };
    }
    return event;
  }
}

/** Reads into one temporary buffer as large as all iovecs, then copies the bytes read out to them. */
function scatter(mem: Uint8Array, iovs: Iovec[], read: (tmp: Uint8Array) => number): number {
  const tmp = new Uint8Array(iovs.reduce((sum, v) => sum + v.len, 0));
  const n = read(tmp);
  let at = 0;
  for (const v of iovs) {
    if (at >= n) break;
    const take = Math.min(v.len, n - at);
    mem.set(tmp.subarray(at, at + take), v.buf);
    at += take;
  }
  return n;
}

/** The open mode implied by rights (as wasi-libc and Rust std request them) and the append flag. */
function accessOf(rights: bigint, fdflags: number): { read: boolean; write: boolean } {
  return {
    read: (rights & (RIGHTS.FD_READ | RIGHTS.FD_READDIR)) !== 0n,
    write: (rights & RIGHTS_WRITE) !== 0n || (fdflags & FDFLAGS.APPEND) !== 0,
  };
}

function exists(backend: Backend, rel: string, follow: boolean): boolean {
  try {
    backend.stat(rel, follow);
    return true;
  } catch (e) {
    if (errnoOf(e) === ERRNO.NOENT) return false;
    throw e;
  }
}

function stdioHandles(stdio: StdioSpec): StdioHandle[] {
  const fds = [stdio.stdin, stdio.stdout, stdio.stderr];
  return ([0, 1, 2] as const).map((stream) => ({
    kind: 'stdio', stream, hostFd: fds[stream]!, offset: 0, fdflags: 0,
    rightsBase: stream === 0 ? RIGHTS_STDIN : RIGHTS_STDOUT, rightsInheriting: 0n,
  }));
}

function bindHostFs(hostPath: string): HostFs | undefined {
  try {
    return new HostFs(hostPath);
  } catch (e) {
    if (nodeErrorCode(e) === undefined) throw e;
    return undefined;
  }
}

function freshParts(config: WasiConfig): HostParts {
  const table = new HandleTable();
  for (const h of stdioHandles(config.stdio ?? DEFAULT_STDIO)) table.add(h);
  const mounts = new Map<string, Mount>();
  for (const spec of config.mounts) {
    if (mounts.has(spec.guestPath)) throw new WmigError('USAGE', `mount ${spec.guestPath} given twice`);
    let backend: Backend;
    if (spec.kind === 'memory') {
      backend = new MemFs();
    } else {
      const hostFs = spec.hostPath === undefined ? undefined : bindHostFs(spec.hostPath);
      if (hostFs === undefined) throw new WmigError('NO_INPUT', `host directory not found: ${spec.hostPath ?? '(none given)'}`);
      backend = hostFs;
    }
    const mount = { spec: { ...spec }, backend };
    mounts.set(spec.guestPath, mount);
    // Preopens take fds 3, 4, … in mount order.
    table.add({ kind: 'preopen', mount, rel: '', fdflags: 0, rightsBase: RIGHTS_ALL, rightsInheriting: RIGHTS_ALL });
  }
  return { args: [...config.args], env: config.env.map(([k, v]) => [k, v]), mounts, table, clock: new VirtualClock(0n) };
}

function rebindMount(m: MountState, override: MountSpec | undefined, files: Uint8Array[]): Mount {
  if (m.kind === 'memory') {
    if (override !== undefined && override.kind !== 'memory') {
      throw new WmigError('REBIND_FAILED', `mount ${m.guestPath}: it is in-memory in the snapshot and cannot become a host directory`);
    }
    let backend: MemFs;
    try {
      backend = MemFs.deserialize(m.memfs!, files);
    } catch (e) {
      if (e instanceof WasiError) throw new WmigError('CORRUPT_SNAPSHOT', `mount ${m.guestPath}: ${e.message}`);
      throw e;
    }
    return { spec: { guestPath: m.guestPath, kind: 'memory', readOnly: override?.readOnly ?? m.readOnly }, backend };
  }
  if (override !== undefined && override.kind !== 'host') {
    throw new WmigError('REBIND_FAILED', `mount ${m.guestPath}: it is a host directory in the snapshot and cannot become in-memory`);
  }
  const hostPath = override?.hostPath ?? m.hostPath!;
  const backend = bindHostFs(hostPath);
  if (backend === undefined) throw new WmigError('REBIND_FAILED', `mount ${m.guestPath}: host directory ${hostPath} not found`);
  return { spec: { guestPath: m.guestPath, kind: 'host', hostPath, readOnly: override?.readOnly ?? m.readOnly }, backend };
}

function rebindHandle(h: HandleState, mounts: Map<string, Mount>, stdio: StdioSpec): Handle {
  const rights = { fdflags: h.fdflags, rightsBase: BigInt(h.rightsBase), rightsInheriting: BigInt(h.rightsInheriting) };
  if (h.kind === 'stdio') {
    const hostFd = [stdio.stdin, stdio.stdout, stdio.stderr][h.stream]!;
    return { kind: 'stdio', stream: h.stream, hostFd, offset: h.offset, ...rights };
  }
  const mount = mounts.get(h.mount)!;
  const guestPath = h.path === '' ? h.mount : `${h.mount.replace(/\/$/, '')}/${h.path}`;
  const fail = (why: string) => new WmigError('REBIND_FAILED', `fd ${h.fd} (${guestPath}): ${why}`);
  /** Runs a re-binding step; a missing path or other file system error fails the thaw. */
  const attempt = <T>(step: () => T): T => {
    try {
      return step();
    } catch (e) {
      const code = nodeErrorCode(e);
      if (code === 'ENOENT' || (e instanceof WasiError && e.errno === ERRNO.NOENT)) throw fail('not found on this machine');
      if (code !== undefined || e instanceof WasiError) throw fail((e as Error).message);
      throw e;
    }
  };
  if (h.kind !== 'file') {
    if (attempt(() => mount.backend.stat(h.path, true)).filetype !== FILETYPE.DIRECTORY) throw fail('is not a directory on this machine');
    return { kind: h.kind, mount, rel: h.path, ...rights };
  }
  const { read, write } = accessOf(rights.rightsBase, h.fdflags);
  if (write && mount.spec.readOnly) throw fail(`open for writing but mount ${h.mount} is read-only here`);
  const opened = attempt(() => mount.backend.reopen(h.path, BigInt(h.ino), { read, write }));
  if (opened.kind !== 'file') throw fail('is a directory on this machine');
  return { kind: 'file', mount, rel: h.path, offset: h.offset, io: opened.io, ino: opened.ino, ...rights };
}
