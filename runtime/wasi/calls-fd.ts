/** fd_* calls: reads, writes, seeks, metadata, directory listing. */
import { type CallTable, type HostContext, u32 } from './context.js';
import {
  ADVICE_MAX, ERRNO, FDFLAGS, FDFLAGS_ALL, FILETYPE, SIZEOF, WHENCE,
  writeFdstat, writeFilestat, writePrestatDir,
} from './defs.js';
import { WasiError } from './errno.js';
import type { FileHandle, Handle, StdioHandle } from './handles.js';
import { putDirents } from './dirents.js';
import { gather, iovecsLength, scatter, type GuestMemory } from './memory.js';
import { NEEDS, checkRights } from './rights.js';
import { readStdin } from './stdin.js';
import { writeAll, writevAll } from './stdio.js';

const utf8 = new TextEncoder();

/** Reads into the `count` iovecs at `iovs` at `position`, or at the offset (moving it on), until a read comes up short. */
function readFile(mem: GuestMemory, h: FileHandle, iovs: number, count: number, position: number | undefined): number {
  const start = position ?? h.offset;
  let total = 0;
  for (let i = 0; i < count; i++) {
    const len = mem.iovecLen(iovs, i);
    const n = h.io.pread(mem.u8, mem.iovecBuf(iovs, i), len, start + total); // checkIovecs() checked the bounds
    total += n;
    if (n < len) break;
  }
  if (position === undefined) h.offset += total;
  if (total > 0 && h.mayBeDirectory) h.mayBeDirectory = false; // a directory gives no bytes
  return total;
}

/** Writes the `count` iovecs at `iovs` at `position`, or at the offset (the end with APPEND), moving it on. */
function writeFile(mem: GuestMemory, h: FileHandle, iovs: number, count: number, position: number | undefined): number {
  const append = position === undefined && (h.fdflags & FDFLAGS.APPEND) !== 0;
  const start = position ?? (append ? Number(h.io.stat().size) : h.offset);
  let total = 0;
  for (let i = 0; i < count; i++) total += h.io.pwrite(mem.u8, mem.iovecBuf(iovs, i), mem.iovecLen(iovs, i), start + total);
  if (position === undefined) h.offset = start + total;
  return total;
}

/** fd_read on any handle, into iovecs that checkIovecs() checked. */
function read(cx: HostContext, h: Handle, iovs: number, count: number): number {
  if (h.kind !== 'file') return readStream(cx, h, iovs, count);
  checkRights(h, NEEDS.fd_read);
  return readFile(cx.mem, h, iovs, count, undefined);
}

/**
 * read() on stdin or a socket, or its error for a listener or directory: apart, so that the file
 * path stays small enough for V8 to inline whole (it stops inlining past a size budget).
 */
function readStream(cx: HostContext, h: Handle, iovs: number, count: number): number {
  if (h.kind !== 'stdio' && h.kind !== 'socket') {
    throw new WasiError(h.kind === 'listener' ? ERRNO.NOTCONN : ERRNO.ISDIR, `fd_read on a ${h.kind}`);
  }
  checkRights(h, NEEDS.fd_read);
  // One read only: a second could block on a pipe or terminal although data was returned.
  if (h.kind === 'stdio') return scatter(cx.mem.u8, cx.mem.iovecs(iovs, count), (tmp) => readStdin(cx, h, tmp));
  return scatter(cx.mem.u8, cx.mem.iovecs(iovs, count), (tmp) => cx.sockets!.recv(cx, h, tmp));
}

/** fd_write on any handle, from iovecs that checkIovecs() checked. */
function write(cx: HostContext, h: Handle, iovs: number, count: number): number {
  const { output } = cx;
  if (h.kind === 'stdio' && output?.buffers(h.stream)) {
    checkRights(h, NEEDS.fd_write);
    const taken = output.append(h.stream, cx.mem, iovs, count);
    h.offset += taken;
    return taken;
  }
  output?.flush(); // what the guest wrote behind before comes first
  if (h.kind !== 'stdio' && h.kind !== 'file') return writeOther(cx, h, iovs, count);
  checkRights(h, NEEDS.fd_write);
  return h.kind === 'stdio' ? writeStdio(cx, h, iovs, count) : writeFile(cx.mem, h, iovs, count, undefined);
}

function writeStdio(cx: HostContext, h: StdioHandle, iovs: number, count: number): number {
  const { mem } = cx;
  let total: number;
  if (count === 1) {
    total = mem.iovecLen(iovs, 0);
    writeAll(h.hostFd, mem.u8, mem.iovecBuf(iovs, 0), total);
  } else {
    const list = mem.iovecs(iovs, count);
    total = iovecsLength(list);
    writevAll(h.hostFd, list.map((v) => mem.u8.subarray(v.buf, v.buf + v.len)));
  }
  h.offset += total;
  return total;
}

/** write() on a socket, or its error for a listener or directory: apart, as readStream. */
function writeOther(cx: HostContext, h: Handle, iovs: number, count: number): number {
  if (h.kind !== 'socket') throw new WasiError(h.kind === 'listener' ? ERRNO.NOTCONN : ERRNO.BADF, `fd_write on a ${h.kind}`);
  checkRights(h, NEEDS.fd_write);
  const list = cx.mem.iovecs(iovs, count);
  return cx.sockets!.send(cx, h, iovecsLength(list), (n) => gather(cx.mem.u8, list, n));
}

function filetypeOf(cx: HostContext, h: Handle): number {
  switch (h.kind) {
    case 'file':
      return FILETYPE.REGULAR_FILE;
    case 'stdio':
      return cx.filestatOf(h).filetype;
    case 'listener':
    case 'socket':
      return FILETYPE.SOCKET_STREAM;
    default:
      return FILETYPE.DIRECTORY;
  }
}

export function fdCalls(cx: HostContext): CallTable {
  const { mem, table } = cx;
  const ok = ERRNO.SUCCESS;
  /**
   * fd_read and fd_pread on a handle opened read-only and not known to be a file's (mayBeDirectory):
   * `call` on it as a file's costs nothing more. If it fails, or reads no byte (a directory never
   * gives one), and the handle turns out to be a directory's, the call is made again on that, so
   * its result is a directory's in every respect (errno, and which check fails first).
   */
  const onMaybeDirectory = (fd: number, h: FileHandle, call: (h: Handle) => number): number => {
    let errno: number;
    try {
      errno = call(h);
    } catch (e) {
      const settled = table.get(fd);
      if (settled === h) throw e;
      return call(settled);
    }
    if (!h.mayBeDirectory) return errno;
    const settled = table.get(fd);
    return settled === h ? errno : call(settled);
  };
  const readInto = (h: Handle, iovs: number, count: number, out: number) => {
    mem.checkIovecs(u32(iovs), count >>> 0);
    mem.check(u32(out), 4); // fail before reading, not after the bytes were consumed
    mem.putU32(u32(out), read(cx, h, u32(iovs), count >>> 0));
    return ok;
  };
  const preadInto = (h: Handle, fd: number, iovs: number, count: number, offset: bigint, out: number) => {
    const file = cx.asFile(h, fd, NEEDS.fd_pread, ERRNO.ISDIR);
    mem.checkIovecs(u32(iovs), count >>> 0);
    mem.putU32(u32(out), readFile(mem, file, u32(iovs), count >>> 0, Number(offset)));
    return ok;
  };
  // Apart from fd_read and fd_pread: a closure there would make V8 allocate their arguments in a
  // context on every call.
  const readMaybeDirectory = (fd: number, h: FileHandle, iovs: number, count: number, out: number) =>
    onMaybeDirectory(fd, h, (x) => readInto(x, iovs, count, out));
  const preadMaybeDirectory = (fd: number, h: FileHandle, iovs: number, count: number, offset: bigint, out: number) =>
    onMaybeDirectory(fd, h, (x) => preadInto(x, fd, iovs, count, offset, out));
  const syncFd = (rights: bigint) => (fd: number) => {
    const h = cx.handle(fd, rights);
    if (h.kind === 'file') h.io.sync();
    return ok;
  };
  return {
    fd_advise: (fd: number, _offset: bigint, _len: bigint, advice: number) => {
      cx.file(fd, NEEDS.fd_advise);
      return advice > ADVICE_MAX ? ERRNO.INVAL : ok; // advice is only a hint
    },
    fd_allocate: (fd: number, offset: bigint, len: bigint) => {
      const h = cx.file(fd, NEEDS.fd_allocate);
      const end = Number(offset + len);
      if (end > Number(h.io.stat().size)) h.io.truncate(end);
      return ok;
    },
    fd_close: (fd: number) => {
      const h = table.peek(fd);
      table.close(fd);
      // As a file system that writes back later reports a failed write at close.
      if (h.kind === 'stdio') cx.output?.throwDeferred(h.stream);
      return ok;
    },
    fd_datasync: syncFd(NEEDS.fd_datasync),
    fd_sync: syncFd(NEEDS.fd_sync),
    fd_fdstat_get: (fd: number, out: number) => {
      const h = table.get(fd);
      const filetype = filetypeOf(cx, h);
      mem.check(u32(out), SIZEOF.fdstat);
      writeFdstat(mem.dv, u32(out), { filetype, flags: h.fdflags, rightsBase: h.rightsBase, rightsInheriting: h.rightsInheriting });
      return ok;
    },
    fd_fdstat_set_flags: (fd: number, flags: number) => {
      const h = cx.handle(fd, NEEDS.fd_fdstat_set_flags);
      if (flags & ~FDFLAGS_ALL) return ERRNO.INVAL;
      h.fdflags = flags;
      return ok;
    },
    fd_fdstat_set_rights: (fd: number, base: bigint, inheriting: bigint) => {
      const h = table.get(fd);
      // Rights only ever shrink.
      if (base & ~h.rightsBase || inheriting & ~h.rightsInheriting) return ERRNO.NOTCAPABLE;
      h.rightsBase = base;
      h.rightsInheriting = inheriting;
      return ok;
    },
    fd_filestat_get: (fd: number, out: number) => {
      const st = cx.filestatOf(cx.handle(fd, NEEDS.fd_filestat_get));
      mem.check(u32(out), SIZEOF.filestat);
      writeFilestat(mem.dv, u32(out), st);
      return ok;
    },
    fd_filestat_set_size: (fd: number, size: bigint) => {
      cx.file(fd, NEEDS.fd_filestat_set_size, ERRNO.INVAL).io.truncate(Number(size));
      return ok;
    },
    fd_filestat_set_times: (fd: number, atim: bigint, mtim: bigint, fst: number) => {
      const h = table.get(fd);
      const [a, m] = cx.times(atim, mtim, fst);
      if (h.kind === 'stdio' || h.kind === 'listener' || h.kind === 'socket') return ERRNO.BADF;
      checkRights(h, NEEDS.fd_filestat_set_times);
      if (h.kind === 'file') h.io.setTimes(a, m);
      else h.mount.backend.setTimes(h.rel, true, a, m);
      return ok;
    },
    fd_pread: (fd: number, iovs: number, count: number, offset: bigint, out: number) => {
      const h = table.peek(fd);
      if (h.kind === 'file' && h.mayBeDirectory) return preadMaybeDirectory(fd, h, iovs, count, offset, out);
      return preadInto(h, fd, iovs, count, offset, out);
    },
    fd_pwrite: (fd: number, iovs: number, count: number, offset: bigint, out: number) => {
      const h = cx.file(fd, NEEDS.fd_pwrite);
      mem.checkIovecs(u32(iovs), count >>> 0);
      mem.putU32(u32(out), writeFile(mem, h, u32(iovs), count >>> 0, Number(offset)));
      return ok;
    },
    fd_read: (fd: number, iovs: number, count: number, out: number) => {
      const h = table.peek(fd);
      if (h.kind === 'file' && h.mayBeDirectory) return readMaybeDirectory(fd, h, iovs, count, out);
      // readInto's body, written out: as a call here it cost ~100 ns per fd_read (measured).
      mem.checkIovecs(u32(iovs), count >>> 0);
      mem.check(u32(out), 4); // fail before reading, not after the bytes were consumed
      mem.putU32(u32(out), read(cx, h, u32(iovs), count >>> 0));
      return ok;
    },
    fd_write: (fd: number, iovs: number, count: number, out: number) => {
      const h = table.get(fd);
      mem.checkIovecs(u32(iovs), count >>> 0);
      mem.putU32(u32(out), write(cx, h, u32(iovs), count >>> 0));
      return ok;
    },
    fd_prestat_get: (fd: number, out: number) => {
      const h = table.get(fd);
      if (h.kind !== 'preopen') return ERRNO.BADF; // wasi-libc scans fds from 3 until BADF
      mem.check(u32(out), SIZEOF.prestat);
      writePrestatDir(mem.dv, u32(out), utf8.encode(h.mount.spec.guestPath).length);
      return ok;
    },
    fd_prestat_dir_name: (fd: number, ptr: number, len: number) => {
      const h = table.get(fd);
      if (h.kind !== 'preopen') return ERRNO.BADF;
      const name = utf8.encode(h.mount.spec.guestPath);
      if ((len >>> 0) < name.length) return ERRNO.NAMETOOLONG;
      mem.bytes(u32(ptr), name.length).set(name);
      return ok;
    },
    fd_readdir: (fd: number, buf: number, bufLen: number, cookie: bigint, usedPtr: number) => {
      const h = cx.dir(fd, NEEDS.fd_readdir);
      const used = putDirents(mem, u32(buf), bufLen >>> 0, h.mount.backend.readdir(h.rel), Number(cookie));
      mem.putU32(u32(usedPtr), used);
      return ok;
    },
    fd_renumber: (from: number, to: number) => {
      table.renumber(from, to);
      return ok;
    },
    fd_seek: (fd: number, offset: bigint, whence: number, out: number) => {
      const h = cx.file(fd, whence === WHENCE.CUR && offset === 0n ? NEEDS.fd_tell : NEEDS.fd_seek);
      let base: bigint;
      if (whence === WHENCE.SET) base = 0n;
      else if (whence === WHENCE.CUR) base = BigInt(h.offset);
      else if (whence === WHENCE.END) base = h.io.stat().size;
      else return ERRNO.INVAL;
      const next = base + offset;
      if (next < 0n || next > BigInt(Number.MAX_SAFE_INTEGER)) return ERRNO.INVAL;
      h.offset = Number(next);
      mem.putU64(u32(out), next);
      return ok;
    },
    fd_tell: (fd: number, out: number) => {
      mem.putU64(u32(out), BigInt(cx.file(fd, NEEDS.fd_tell).offset));
      return ok;
    },
  };
}
