/**
 * A host directory, sandboxed: every guest path is resolved inside the mount root, and symlinks
 * are checked by resolving the real path of the parent (and of the link, when followed) and
 * requiring it to stay under the real path of the root. Read-only enforcement is the host's job
 * (it knows the mount spec); this backend additionally opens files O_RDONLY unless asked to write.
 */
// The calls every open, read and write makes are imported by name: a lookup on the fs module
// object is a generic property lookup (~10 ns a call).
import fs, { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { ERRNO, FILETYPE, type Filestat } from '../wasi/defs.js';
import { WasiError, nodeErrorCode } from '../wasi/errno.js';
import type { Backend, DirListing, FileIO, OpenOptions, Opened, ReopenOptions } from './backend.js';
import { ListingCache } from './listing-cache.js';
import { parentOf } from './path.js';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_NOFOLLOW } = fs.constants;
/** Same bound as Linux's MAXSYMLINKS, for chains of dangling links we resolve ourselves. */
const MAX_SYMLINK_HOPS = 40;

export class HostFs implements Backend {
  /** Real path of the mount root; every resolved host path must be it or lie under it. */
  private readonly root: string;
  /** `root` with one trailing "/": what every path under the root starts with. */
  private readonly rootPrefix: string;
  private readonly listings = new ListingCache();

  /** Throws a Node ENOENT/ENOTDIR error when `hostPath` is not an existing directory. */
  constructor(hostPath: string) {
    this.root = fs.realpathSync(hostPath);
    this.rootPrefix = this.root.endsWith(nodePath.sep) ? this.root : this.root + nodePath.sep;
    if (!fs.statSync(this.root).isDirectory()) {
      throw Object.assign(new Error(`not a directory: ${hostPath}`), { code: 'ENOTDIR' });
    }
  }

  stat(path: string, follow: boolean): Filestat {
    return toFilestat(this.resolveAndStat(path, follow).st);
  }

  open(path: string, o: OpenOptions): Opened {
    let flags = o.write ? (o.read ? O_RDWR : O_WRONLY) : O_RDONLY;
    if (o.create) flags |= O_CREAT;
    if (o.exclusive) flags |= O_EXCL;
    if (o.truncate) flags |= O_TRUNC;
    if (o.directory || path === '') return this.openDirectory(path, o);
    // Files: open first, without following a symlink in the last component (the kernel says ELOOP
    // for one); only then resolve the link inside the sandbox. The common case is two syscalls.
    try {
      return this.openFdOrDirectory(this.lastUnresolved(path), flags | O_NOFOLLOW, path, o);
    } catch (e) {
      if (nodeErrorCode(e) !== 'ELOOP') throw e;
      if (!o.follow) throw new WasiError(ERRNO.LOOP, `symlink not followed: ${path}`);
    }
    return this.openFdOrDirectory(this.hostPath(path, true), flags, path, o);
  }

  /** O_CREAT or write access on a directory is EISDIR from the kernel: decided by openDirectory instead. */
  private openFdOrDirectory(p: string, flags: number, path: string, o: OpenOptions): Opened {
    try {
      return this.openFd(p, flags);
    } catch (e) {
      if (nodeErrorCode(e) === 'EISDIR') return this.openDirectory(path, o);
      throw e;
    }
  }

  /** A directory handle is a path: no host fd is kept for it. */
  private openDirectory(path: string, o: OpenOptions): Opened {
    const existing = lstatOrUndefined(this.hostPath(path, o.follow));
    if (existing === undefined) throw new WasiError(ERRNO.NOENT, path);
    if (o.create && o.exclusive) throw new WasiError(ERRNO.EXIST, path);
    if (existing.isSymbolicLink()) throw new WasiError(ERRNO.LOOP, `symlink not followed: ${path}`);
    if (!existing.isDirectory()) throw new WasiError(ERRNO.NOTDIR, path);
    if (o.write || o.truncate) throw new WasiError(ERRNO.ISDIR, path);
    return { kind: 'dir' };
  }

  reopen(path: string, _ino: bigint, o: ReopenOptions): Opened {
    const p = this.hostPath(path, true);
    if (fs.statSync(p).isDirectory()) return { kind: 'dir' };
    return { kind: 'file', io: new HostFile(openSync(p, o.write ? (o.read ? O_RDWR : O_WRONLY) : O_RDONLY)), mayBeDirectory: false };
  }

  readdir(path: string): DirListing {
    const { p, st } = this.resolveAndStat(path, true);
    if (!st.isDirectory()) throw new WasiError(ERRNO.NOTDIR, path);
    return this.listings.get(path, st, () => ({
      self: st.ino,
      parent: path === '' ? st.ino : this.stat(parentOf(path), true).ino,
      entries: fs.readdirSync(p).sort().map((name) => {
        const entry = fs.lstatSync(nodePath.join(p, name), { bigint: true });
        return { name, filetype: filetypeOf(entry), ino: entry.ino };
      }),
    }));
  }

  mkdir(path: string): void {
    fs.mkdirSync(this.hostPath(path, false));
  }

  rmdir(path: string): void {
    if (path === '') throw new WasiError(ERRNO.BUSY, 'cannot remove the mount root');
    fs.rmdirSync(this.hostPath(path, false));
  }

  unlink(path: string): void {
    const p = this.hostPath(path, false);
    // Linux unlink() of a directory says EISDIR; keep that rather than EPERM from other systems.
    if (lstatOrUndefined(p)?.isDirectory()) throw new WasiError(ERRNO.ISDIR, path);
    fs.unlinkSync(p);
  }

  rename(from: string, to: string): void {
    if (from === '' || to === '') throw new WasiError(ERRNO.BUSY, 'cannot rename the mount root');
    fs.renameSync(this.hostPath(from, false), this.hostPath(to, false));
  }

  link(from: string, to: string): void {
    fs.linkSync(this.hostPath(from, false), this.hostPath(to, false));
  }

  symlink(target: string, path: string): void {
    // An absolute target could never be followed inside the sandbox; refuse it up front.
    if (target.startsWith('/')) throw new WasiError(ERRNO.PERM, `absolute symlink target ${target}`);
    fs.symlinkSync(target, this.hostPath(path, false));
  }

  readlink(path: string): string {
    return fs.readlinkSync(this.hostPath(path, false));
  }

  setTimes(path: string, follow: boolean, atim: bigint | undefined, mtim: bigint | undefined): void {
    const p = this.hostPath(path, follow);
    const st = follow ? fs.statSync(p, { bigint: true }) : fs.lstatSync(p, { bigint: true });
    const a = toSeconds(atim ?? st.atimeNs);
    const m = toSeconds(mtim ?? st.mtimeNs);
    if (follow) fs.utimesSync(p, a, m);
    else fs.lutimesSync(p, a, m);
  }

  /**
   * Opens a host fd. Opening a directory for writing fails (EISDIR), so only a read-only open may
   * have found one: that is left to the handle table to find out when it matters (mayBeDirectory).
   */
  private openFd(p: string, flags: number): Opened {
    const fd = openSync(p, flags, 0o666);
    return { kind: 'file', io: new HostFile(fd), mayBeDirectory: (flags & (O_WRONLY | O_RDWR)) === 0 };
  }

  /**
   * The host path for a normalized guest path. The parent is resolved with realpath (so symlinked
   * directories are followed and checked); a symlink in the last component is checked too when it
   * will be followed. Anything outside the root is NOTCAPABLE.
   */
  private hostPath(rel: string, follow: boolean, hops = 0): string {
    if (rel === '') return this.root;
    const candidate = this.lastUnresolved(rel);
    if (!follow || !lstatOrUndefined(candidate)?.isSymbolicLink()) return candidate;
    const parent = nodePath.dirname(candidate);
    try {
      const real = fs.realpathSync(candidate);
      this.requireInside(real, rel);
      return real;
    } catch (e) {
      if (nodeErrorCode(e) !== 'ENOENT') throw e;
      // A dangling link (e.g. O_CREAT through it): resolve its target as a guest path ourselves.
      if (hops >= MAX_SYMLINK_HOPS) throw new WasiError(ERRNO.LOOP, rel);
      const target = nodePath.resolve(parent, fs.readlinkSync(candidate));
      this.requireInside(target, rel);
      return this.hostPath(nodePath.relative(this.root, target), follow, hops + 1);
    }
  }

  /** The host path of `rel` and its stat; a symlink in the last component is followed when `follow`. */
  private resolveAndStat(rel: string, follow: boolean): { p: string; st: fs.BigIntStats } {
    if (rel === '') return { p: this.root, st: fs.statSync(this.root, { bigint: true }) };
    // One lstat answers both "is it a symlink to follow?" and, when it is not, the stat itself.
    const candidate = this.lastUnresolved(rel);
    const st = fs.lstatSync(candidate, { bigint: true });
    if (!follow || !st.isSymbolicLink()) return { p: candidate, st };
    const p = this.hostPath(rel, true);
    return { p, st: fs.statSync(p, { bigint: true }) };
  }

  /**
   * The host path of `rel` (not ""), its parent resolved and checked, its last component as it is
   * (maybe a symlink). `rel` is normalized (see backend.ts), so joining strings is exact. Directly
   * under the root there is nothing to resolve: the guest cannot replace the root itself.
   */
  private lastUnresolved(rel: string): string {
    const slash = rel.lastIndexOf('/');
    if (slash < 0) return this.rootPrefix + rel;
    const parent = fs.realpathSync.native(this.rootPrefix + rel.slice(0, slash));
    this.requireInside(parent, rel);
    return `${parent}${nodePath.sep}${rel.slice(slash + 1)}`;
  }

  private requireInside(p: string, rel: string): void {
    if (p !== this.root && !p.startsWith(this.rootPrefix)) {
      throw new WasiError(ERRNO.NOTCAPABLE, `path leaves the mount: ${rel}`);
    }
  }
}

/**
 * A host file that no directory names, holding `contents`: how a file the guest had open but no
 * name led to any more (unlinked, moved away) comes back after a thaw (its bytes travel in the
 * snapshot). Made in a fresh private directory under the OS temp dir, removed again at once.
 */
export class NamelessHostFile {
  readonly #fd: number;
  #taken = false;

  constructor(contents: Uint8Array) {
    const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'wmig-nameless-'));
    const file = nodePath.join(dir, 'f');
    const fd = openSync(file, O_RDWR | O_CREAT | O_EXCL, 0o600);
    try {
      fs.unlinkSync(file);
      fs.rmdirSync(dir);
      new HostFile(fd).pwrite(contents, 0, contents.length, 0);
    } catch (e) {
      closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    this.#fd = fd;
  }

  /**
   * An open of the file, for one handle: the first is the fd it was made with, each further one
   * opens it again through /proc/self/fd (Linux), so that handles that shared the file still do.
   */
  open(): FileIO {
    if (!this.#taken) {
      this.#taken = true;
      return new HostFile(this.#fd);
    }
    return new HostFile(openSync(`/proc/self/fd/${this.#fd}`, O_RDWR));
  }
}

/** An open host file; one object per open (not one closure per method). */
class HostFile implements FileIO {
  readonly #fd: number;

  constructor(fd: number) {
    this.#fd = fd;
  }

  pread(buffer: Uint8Array, offset: number, length: number, position: number): number {
    return readSync(this.#fd, buffer, offset, length, position);
  }

  pwrite(buffer: Uint8Array, offset: number, length: number, position: number): number {
    let done = 0;
    while (done < length) done += writeSync(this.#fd, buffer, offset + done, length - done, position + done);
    return done;
  }

  stat(): Filestat {
    return toFilestat(fstatSync(this.#fd, { bigint: true }));
  }

  truncate(size: number): void {
    fs.ftruncateSync(this.#fd, size);
  }

  setTimes(atim: bigint | undefined, mtim: bigint | undefined): void {
    const st = fstatSync(this.#fd, { bigint: true });
    fs.futimesSync(this.#fd, toSeconds(atim ?? st.atimeNs), toSeconds(mtim ?? st.mtimeNs));
  }

  sync(): void {
    fs.fsyncSync(this.#fd);
  }

  close(): void {
    closeSync(this.#fd);
  }
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  return fs.lstatSync(p, { throwIfNoEntry: false });
}

function toSeconds(ns: bigint): number {
  return Number(ns) / 1e9;
}

function filetypeOf(st: fs.BigIntStats | fs.Stats): number {
  if (st.isFile()) return FILETYPE.REGULAR_FILE;
  if (st.isDirectory()) return FILETYPE.DIRECTORY;
  if (st.isSymbolicLink()) return FILETYPE.SYMBOLIC_LINK;
  if (st.isCharacterDevice()) return FILETYPE.CHARACTER_DEVICE;
  if (st.isBlockDevice()) return FILETYPE.BLOCK_DEVICE;
  if (st.isSocket()) return FILETYPE.SOCKET_STREAM;
  return FILETYPE.UNKNOWN;
}

export function toFilestat(st: fs.BigIntStats): Filestat {
  return {
    dev: st.dev,
    ino: st.ino,
    filetype: filetypeOf(st),
    nlink: st.nlink,
    size: st.size,
    atim: st.atimeNs,
    mtim: st.mtimeNs,
    ctim: st.ctimeNs,
  };
}
