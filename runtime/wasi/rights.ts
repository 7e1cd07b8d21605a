/**
 * Rights (preview1 witx, `rights`): what each kind of handle starts with, and the one table of what
 * each call needs. Every handle lookup in the calls names its call's entry here, and
 * test/wasi-host.test.ts drives every entry with its right dropped, so no call goes unchecked.
 * Calls not listed need no right: fd_close, fd_fdstat_get, fd_fdstat_set_rights, fd_prestat_get,
 * fd_prestat_dir_name, fd_renumber.
 *
 * A missing right is NOTCAPABLE, reported after what is wrong with the kind of fd (NOTDIR, SPIPE,
 * NOTSOCK …, the order wasmtime and wasi-testsuite expect). On a read-only mount a right that would
 * modify it is ROFS instead, whatever the handle holds: its handles start without those rights,
 * and a mount that became read-only at a thaw must refuse too. Rights travel in the snapshot and
 * never grow: a mount that was read-only stays without them after a thaw binds it writable.
 */
import { ERRNO, FDFLAGS, OFLAGS, RIGHTS, RIGHTS_ALL } from './defs.js';
import { WasiError } from './errno.js';
import type { Handle } from './handles.js';

/** What a stdio stream may do. No FD_SEEK/FD_TELL: wasi-libc's isatty() relies on their absence. */
export const RIGHTS_STDIN = RIGHTS.FD_READ | RIGHTS.FD_FDSTAT_SET_FLAGS | RIGHTS.FD_FILESTAT_GET | RIGHTS.POLL_FD_READWRITE;
export const RIGHTS_STDOUT = RIGHTS.FD_WRITE | RIGHTS.FD_FDSTAT_SET_FLAGS | RIGHTS.FD_FILESTAT_GET | RIGHTS.POLL_FD_READWRITE;

export const RIGHTS_LISTENER = RIGHTS.SOCK_ACCEPT | RIGHTS.FD_FDSTAT_SET_FLAGS | RIGHTS.FD_FILESTAT_GET | RIGHTS.POLL_FD_READWRITE;
export const RIGHTS_SOCKET = RIGHTS.FD_READ | RIGHTS.FD_WRITE | RIGHTS.SOCK_SHUTDOWN | RIGHTS.FD_FDSTAT_SET_FLAGS |
  RIGHTS.FD_FILESTAT_GET | RIGHTS.POLL_FD_READWRITE;

/** Rights whose presence means "opened for writing" (wasi-libc and Rust std request exactly these for write access). */
export const RIGHTS_WRITE = RIGHTS.FD_WRITE | RIGHTS.FD_ALLOCATE | RIGHTS.FD_FILESTAT_SET_SIZE;

/** Rights that change what is stored: a read-only mount has none of them. */
export const RIGHTS_MODIFY = RIGHTS_WRITE | RIGHTS.FD_FILESTAT_SET_TIMES | RIGHTS.PATH_CREATE_DIRECTORY |
  RIGHTS.PATH_CREATE_FILE | RIGHTS.PATH_LINK_SOURCE | RIGHTS.PATH_LINK_TARGET | RIGHTS.PATH_RENAME_SOURCE |
  RIGHTS.PATH_RENAME_TARGET | RIGHTS.PATH_FILESTAT_SET_SIZE | RIGHTS.PATH_FILESTAT_SET_TIMES | RIGHTS.PATH_SYMLINK |
  RIGHTS.PATH_REMOVE_DIRECTORY | RIGHTS.PATH_UNLINK_FILE;

/** A preopened mount root's rights, base and inheriting alike. */
export const preopenRights = (readOnly: boolean): bigint => (readOnly ? RIGHTS_ALL & ~RIGHTS_MODIFY : RIGHTS_ALL);

/** The rights each call needs on its fd arguments. */
export const NEEDS = {
  fd_advise: RIGHTS.FD_ADVISE,
  fd_allocate: RIGHTS.FD_ALLOCATE,
  fd_datasync: RIGHTS.FD_DATASYNC,
  fd_fdstat_set_flags: RIGHTS.FD_FDSTAT_SET_FLAGS,
  fd_filestat_get: RIGHTS.FD_FILESTAT_GET,
  fd_filestat_set_size: RIGHTS.FD_FILESTAT_SET_SIZE,
  fd_filestat_set_times: RIGHTS.FD_FILESTAT_SET_TIMES,
  fd_pread: RIGHTS.FD_READ | RIGHTS.FD_SEEK,
  fd_pwrite: RIGHTS.FD_WRITE | RIGHTS.FD_SEEK,
  fd_read: RIGHTS.FD_READ,
  fd_readdir: RIGHTS.FD_READDIR,
  /** fd_seek that leaves the offset alone (CUR, 0) needs only FD_TELL (which FD_SEEK implies). */
  fd_seek: RIGHTS.FD_SEEK,
  fd_sync: RIGHTS.FD_SYNC,
  fd_tell: RIGHTS.FD_TELL,
  fd_write: RIGHTS.FD_WRITE,
  path_create_directory: RIGHTS.PATH_CREATE_DIRECTORY,
  path_filestat_get: RIGHTS.PATH_FILESTAT_GET,
  path_filestat_set_times: RIGHTS.PATH_FILESTAT_SET_TIMES,
  path_link: { from: RIGHTS.PATH_LINK_SOURCE, to: RIGHTS.PATH_LINK_TARGET },
  /**
   * On the directory, by oflags and fdflags; the rights asked for must also be among those it
   * passes on (its inheriting rights), else NOTCAPABLE.
   */
  path_open: {
    always: RIGHTS.PATH_OPEN, creat: RIGHTS.PATH_CREATE_FILE, trunc: RIGHTS.PATH_FILESTAT_SET_SIZE,
    dsync: RIGHTS.FD_DATASYNC, rsyncOrSync: RIGHTS.FD_SYNC,
  },
  path_readlink: RIGHTS.PATH_READLINK,
  path_remove_directory: RIGHTS.PATH_REMOVE_DIRECTORY,
  path_rename: { from: RIGHTS.PATH_RENAME_SOURCE, to: RIGHTS.PATH_RENAME_TARGET },
  path_symlink: RIGHTS.PATH_SYMLINK,
  path_unlink_file: RIGHTS.PATH_UNLINK_FILE,
  /** Per fd subscription; a listener is readable when a connection waits, which is what accepting needs. */
  poll_oneoff: {
    read: RIGHTS.POLL_FD_READWRITE | RIGHTS.FD_READ,
    write: RIGHTS.POLL_FD_READWRITE | RIGHTS.FD_WRITE,
    accept: RIGHTS.POLL_FD_READWRITE | RIGHTS.SOCK_ACCEPT,
  },
  sock_accept: RIGHTS.SOCK_ACCEPT,
  sock_recv: RIGHTS.FD_READ,
  sock_send: RIGHTS.FD_WRITE,
  sock_shutdown: RIGHTS.SOCK_SHUTDOWN,
} as const;

/** What path_open needs on the directory for these flags. */
export function openNeeds(oflags: number, fdflags: number): bigint {
  const n = NEEDS.path_open;
  // Only the flags given cost a BigInt operation (each allocates; most opens have none of them).
  let needs = n.always;
  if (oflags & OFLAGS.CREAT) needs |= n.creat;
  if (oflags & OFLAGS.TRUNC) needs |= n.trunc;
  if (fdflags & FDFLAGS.DSYNC) needs |= n.dsync;
  if (fdflags & (FDFLAGS.RSYNC | FDFLAGS.SYNC)) needs |= n.rsyncOrSync;
  return needs;
}

/** Fails unless `h` may do what needs `rights` (see the top of this file). */
export function checkRights(h: Handle, rights: bigint): void {
  // This runs on every fd_read and fd_write: the common case (held, not on a read-only mount) is
  // the one test V8 compiles to integer operations, and the rest is apart so that this inlines.
  if ((h.rightsBase & rights) === rights && !('mount' in h && h.mount.spec.readOnly)) return;
  checkRightsFully(h, rights);
}

/** checkRights beyond the common case: a read-only mount, a right not held (FD_SEEK implies FD_TELL). */
function checkRightsFully(h: Handle, rights: bigint): void {
  if ('mount' in h && h.mount.spec.readOnly && (rights & RIGHTS_MODIFY) !== 0n) {
    throw new WasiError(ERRNO.ROFS, `${h.mount.spec.guestPath} is read-only`);
  }
  if ((h.rightsBase & rights) === rights) return;
  const held = h.rightsBase & RIGHTS.FD_SEEK ? h.rightsBase | RIGHTS.FD_TELL : h.rightsBase; // witx: FD_SEEK implies FD_TELL
  if ((rights & ~held) !== 0n) throw new WasiError(ERRNO.NOTCAPABLE, 'the fd lacks a right the call needs');
}
