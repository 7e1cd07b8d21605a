/**
 * What a guest can observe of a file system, as plain values that compare across backends: an
 * errno, plus what the call returned when it succeeded. Inode and device numbers and ctimes are
 * left out (they differ by nature); so is a directory's nlink (2 + subdirectories on ext4, 1 on btrfs).
 */
import { ERRNO, FILETYPE, LOOKUPFLAGS, OFLAGS, RIGHTS_ALL } from '../../runtime/wasi/defs.js';
import { READ_RIGHTS, dec, type Guest } from './wasi-guest.js';

export type Seen = { errno: number } & Record<string, unknown>;

const lookup = (follow: boolean) => (follow ? LOOKUPFLAGS.SYMLINK_FOLLOW : 0);

export function stat(g: Guest, p: string, follow: boolean): Seen {
  const errno = g.call('path_filestat_get', 3, lookup(follow), ...g.str(p), 256);
  if (errno !== ERRNO.SUCCESS) return { errno };
  const filetype = g.dv.getUint8(256 + 16);
  const times = { atim: g.dv.getBigUint64(256 + 40, true), mtim: g.dv.getBigUint64(256 + 48, true) };
  if (filetype === FILETYPE.DIRECTORY) return { errno, filetype, ...times };
  return { errno, filetype, nlink: g.dv.getBigUint64(256 + 24, true), size: g.dv.getBigUint64(256 + 32, true), ...times };
}

/** stat without the times, for checks made right after a change (times then depend on the clock). */
export function kind(g: Guest, p: string, follow: boolean): Seen {
  const { atim: _a, mtim: _m, ...rest } = stat(g, p, follow);
  return rest;
}

export function readlink(g: Guest, p: string, bufLen = 64): Seen {
  g.u8.fill(0, 512, 512 + 128);
  const errno = g.call('path_readlink', 3, ...g.str(p), 512, bufLen, 16);
  if (errno !== ERRNO.SUCCESS) return { errno };
  const used = g.dv.getUint32(16, true);
  return { errno, used, text: dec.decode(g.u8.subarray(512, 512 + used)) };
}

export interface OpenHow {
  oflags?: number;
  follow?: boolean;
  /** Ask for write rights too (else read-only). */
  write?: boolean;
}

/** path_open, and for a success what was opened: its filetype and, for a file, its contents. */
export function open(g: Guest, p: string, how: OpenHow = {}): Seen {
  const errno = g.tryOpen(3, p, how.oflags ?? 0, { follow: how.follow ?? false, rights: how.write ? RIGHTS_ALL : READ_RIGHTS });
  if (errno !== ERRNO.SUCCESS) return { errno };
  const fd = g.dv.getUint32(16, true);
  const filetype = g.fdstat(fd).filetype;
  const contents = filetype === FILETYPE.REGULAR_FILE ? g.read(fd, 100) : undefined;
  g.ok('fd_close', fd);
  return { errno, filetype, contents };
}

/** Opens `p` (following a symlink) and lists it: names and types, "." and ".." included. */
export function listing(g: Guest, p: string): Seen {
  const errno = g.tryOpen(3, p, OFLAGS.DIRECTORY, { follow: true, rights: READ_RIGHTS });
  if (errno !== ERRNO.SUCCESS) return { errno };
  const fd = g.dv.getUint32(16, true);
  const entries = g.readdir(fd);
  g.ok('fd_close', fd);
  return { errno, entries };
}

export function symlink(g: Guest, target: string, p: string): Seen {
  return { errno: g.call('path_symlink', ...g.str(target, 2048), 3, ...g.str(p)) };
}

/** path_link, path_rename: two paths under the preopen. */
export function twoPaths(g: Guest, call: 'path_link' | 'path_rename', from: string, to: string): Seen {
  const args = call === 'path_link' ? [3, 0, ...g.str(from), 3, ...g.str(to, 2048)] : [3, ...g.str(from), 3, ...g.str(to, 2048)];
  return { errno: g.call(call, ...args) };
}

/** path_create_directory, path_remove_directory, path_unlink_file. */
export function onePath(g: Guest, call: string, p: string): Seen {
  return { errno: g.pathCall(call, 3, p) };
}

export function setTimes(g: Guest, p: string, follow: boolean, atim: bigint, mtim: bigint): Seen {
  return { errno: g.call('path_filestat_set_times', 3, lookup(follow), ...g.str(p), atim, mtim, 1 | 4) };
}

/** Writes `data` to `p` through path_open with the given flags (e.g. O_TRUNC through a link). */
export function writeVia(g: Guest, p: string, data: string, how: OpenHow): Seen {
  const errno = g.tryOpen(3, p, how.oflags ?? 0, { follow: how.follow ?? false });
  if (errno !== ERRNO.SUCCESS) return { errno };
  const fd = g.dv.getUint32(16, true);
  const written = g.write(fd, data);
  g.ok('fd_close', fd);
  return { errno, written };
}
