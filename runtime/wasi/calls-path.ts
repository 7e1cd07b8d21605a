/** path_* calls: open, create, remove, rename, links, metadata. */
import { type CallTable, type HostContext, u32 } from './context.js';
import { ERRNO, FDFLAGS, FDFLAGS_ALL, FILETYPE, LOOKUPFLAGS, OFLAGS, RIGHTS, SIZEOF, writeFilestat } from './defs.js';
import type { Handle } from './handles.js';
import { NEEDS, RIGHTS_MODIFY, RIGHTS_WRITE, openNeeds } from './rights.js';

const utf8 = new TextEncoder();
const READ_RIGHTS = RIGHTS.FD_READ | RIGHTS.FD_READDIR;

/** The open mode implied by rights (as wasi-libc and Rust std request them) and the append flag. */
export function accessOf(rights: bigint, fdflags: number): { read: boolean; write: boolean } {
  return {
    read: (rights & READ_RIGHTS) !== 0n,
    write: (rights & RIGHTS_WRITE) !== 0n || (fdflags & FDFLAGS.APPEND) !== 0,
  };
}

/** `rights` ⊆ `allowed`, written with & and === only: V8 compiles those to plain integer operations, `~` it does not (60 ns). */
const within = (rights: bigint, allowed: bigint) => (rights & allowed) === rights;

function pathOpen(cx: HostContext, fd: number, dirflags: number, ptr: number, len: number, oflags: number,
  rightsBase: bigint, rightsInheriting: bigint, fdflags: number, out: number): number {
  const p = cx.path(fd, openNeeds(oflags, fdflags), ptr, len);
  if (fdflags & ~FDFLAGS_ALL || oflags & ~15) return ERRNO.INVAL;
  const create = (oflags & OFLAGS.CREAT) !== 0;
  const directory = (oflags & OFLAGS.DIRECTORY) !== 0 || p.trailingSlash;
  if (create && directory) return ERRNO.INVAL;
  const follow = (dirflags & LOOKUPFLAGS.SYMLINK_FOLLOW) !== 0;
  const { mount, rightsInheriting: passed } = p.dir;
  const readOnly = mount.spec.readOnly === true;
  // Rights cannot exceed what the directory passes on. A read-only mount passes on none that modify
  // it, and asking for those there is no error (Rust's std asks for all of them); opening for
  // writing is (ROFS, below).
  const allowed = readOnly ? passed | RIGHTS_MODIFY : passed;
  if (!within(rightsBase, allowed) || !within(rightsInheriting, allowed)) return ERRNO.NOTCAPABLE;
  // Within `passed` already unless the mount is read-only (every & allocates a BigInt).
  const base = readOnly ? rightsBase & passed : rightsBase;
  const inheriting = readOnly ? rightsInheriting & passed : rightsInheriting;
  // O_DIRECTORY opens for listing whatever rights were asked for (POSIX opendir is read-only).
  const access = accessOf(rightsBase, fdflags);
  const read = access.read;
  const write = access.write && !directory;
  if (write && readOnly) return ERRNO.ROFS;
  const truncate = (oflags & OFLAGS.TRUNC) !== 0;
  const opened = p.backend.open(p.rel, { read, write, create, exclusive: (oflags & OFLAGS.EXCL) !== 0, truncate, directory, follow });
  // Literals, not a spread of the common fields: a spread is a slow generic copy.
  const h: Handle = opened.kind === 'dir'
    ? { kind: 'dir', mount, rel: p.rel, fdflags, rightsBase: base, rightsInheriting: inheriting }
    : { kind: 'file', mount, rel: p.rel, fdflags, rightsBase: base, rightsInheriting: inheriting, offset: 0, io: opened.io, mayBeDirectory: opened.mayBeDirectory };
  try {
    cx.mem.putU32(out, cx.table.add(h));
  } catch (e) {
    if (h.kind === 'file') h.io.close();
    throw e;
  }
  return ERRNO.SUCCESS;
}

export function pathCalls(cx: HostContext): CallTable {
  const { mem } = cx;
  const ok = ERRNO.SUCCESS;
  /** Two paths for a link or rename (the rights each directory needs): both on one mount, else null (XDEV). */
  const pair = (needs: { from: bigint; to: bigint }, fromFd: number, fromPtr: number, fromLen: number, toFd: number, toPtr: number, toLen: number) => {
    const from = cx.path(fromFd, needs.from, u32(fromPtr), fromLen >>> 0);
    const to = cx.path(toFd, needs.to, u32(toPtr), toLen >>> 0);
    if (from.dir.mount !== to.dir.mount) return null;
    return { mount: from.dir.mount, backend: from.backend, from: from.rel, to: to.rel };
  };
  return {
    path_create_directory: (fd: number, ptr: number, len: number) => {
      const p = cx.path(fd, NEEDS.path_create_directory, u32(ptr), len >>> 0);
      p.backend.mkdir(p.rel);
      return ok;
    },
    path_filestat_get: (fd: number, flags: number, ptr: number, len: number, out: number) => {
      const p = cx.path(fd, NEEDS.path_filestat_get, u32(ptr), len >>> 0);
      const st = p.backend.stat(p.rel, (flags & LOOKUPFLAGS.SYMLINK_FOLLOW) !== 0);
      if (p.trailingSlash && st.filetype !== FILETYPE.DIRECTORY) return ERRNO.NOTDIR;
      mem.check(u32(out), SIZEOF.filestat);
      writeFilestat(mem.dv, u32(out), st);
      return ok;
    },
    path_filestat_set_times: (fd: number, flags: number, ptr: number, len: number, atim: bigint, mtim: bigint, fst: number) => {
      const p = cx.path(fd, NEEDS.path_filestat_set_times, u32(ptr), len >>> 0);
      const [a, m] = cx.times(atim, mtim, fst);
      p.backend.setTimes(p.rel, (flags & LOOKUPFLAGS.SYMLINK_FOLLOW) !== 0, a, m);
      return ok;
    },
    path_link: (oldFd: number, _oldFlags: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number) => {
      const paths = pair(NEEDS.path_link, oldFd, oldPtr, oldLen, newFd, newPtr, newLen);
      if (paths === null) return ERRNO.XDEV;
      paths.backend.link(paths.from, paths.to);
      return ok;
    },
    path_open: (fd: number, dirflags: number, ptr: number, len: number, oflags: number,
      rightsBase: bigint, rightsInheriting: bigint, fdflags: number, out: number) => pathOpen(
      cx, fd, dirflags, u32(ptr), len >>> 0, oflags, rightsBase, rightsInheriting, fdflags, u32(out)),
    path_readlink: (fd: number, ptr: number, len: number, buf: number, bufLen: number, usedPtr: number) => {
      const p = cx.path(fd, NEEDS.path_readlink, u32(ptr), len >>> 0);
      const target = utf8.encode(p.backend.readlink(p.rel));
      const n = Math.min(target.length, bufLen >>> 0);
      mem.bytes(u32(buf), n).set(target.subarray(0, n));
      mem.putU32(u32(usedPtr), n);
      return ok;
    },
    path_remove_directory: (fd: number, ptr: number, len: number) => {
      const p = cx.path(fd, NEEDS.path_remove_directory, u32(ptr), len >>> 0);
      p.backend.rmdir(p.rel);
      return ok;
    },
    path_rename: (fd: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number) => {
      const paths = pair(NEEDS.path_rename, fd, oldPtr, oldLen, newFd, newPtr, newLen);
      if (paths === null) return ERRNO.XDEV;
      paths.backend.rename(paths.from, paths.to);
      cx.table.rebase(paths.mount, paths.from, paths.to);
      return ok;
    },
    path_symlink: (oldPtr: number, oldLen: number, fd: number, newPtr: number, newLen: number) => {
      const target = mem.string(u32(oldPtr), oldLen >>> 0);
      const p = cx.path(fd, NEEDS.path_symlink, u32(newPtr), newLen >>> 0);
      if (target.includes('\0')) return ERRNO.INVAL; // as in paths; no file system can store it
      p.backend.symlink(target, p.rel);
      return ok;
    },
    path_unlink_file: (fd: number, ptr: number, len: number) => {
      const p = cx.path(fd, NEEDS.path_unlink_file, u32(ptr), len >>> 0);
      if (p.trailingSlash) {
        return p.backend.stat(p.rel, false).filetype === FILETYPE.DIRECTORY ? ERRNO.ISDIR : ERRNO.NOTDIR;
      }
      p.backend.unlink(p.rel);
      return ok;
    },
  };
}
