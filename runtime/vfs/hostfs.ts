/**
 * A host directory, sandboxed: every guest path is resolved inside the mount root, and symlinks
 * are checked by resolving the real path of the parent (and of the link, when followed) and
 * requiring it to stay under the real path of the root. Read-only enforcement is the host's job
 * (it knows the mount spec); this backend additionally opens files O_RDONLY unless asked to write.
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { ERRNO, FILETYPE, type Filestat } from '../wasi/defs.js';
import { WasiError, nodeErrorCode } from '../wasi/errno.js';
import type { Backend, DirEntry, FileIO, OpenOptions, Opened, ReopenOptions } from './backend.js';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_NOFOLLOW } = fs.constants;
/** Same bound as Linux's MAXSYMLINKS, for chains of dangling links we resolve ourselves. */
const MAX_SYMLINK_HOPS = 40;

export class HostFs implements Backend {
  /** Real path of the mount root; every resolved host path must be it or lie under it. */
  private readonly root: string;

  /** Throws a Node ENOENT/ENOTDIR error when `hostPath` is not an existing directory. */
  constructor(hostPath: string) {
    this.root = fs.realpathSync(hostPath);
    if (!fs.statSync(this.root).isDirectory()) {
      throw Object.assign(new Error(`not a directory: ${hostPath}`), { code: 'ENOTDIR' });
    }
  }

  stat(path: string, follow: boolean): Filestat {
    const p = this.hostPath(path, follow);
    return toFilestat(follow ? fs.statSync(p, { bigint: true }) : fs.lstatSync(p, { bigint: true }));
  }

  open(path: string, o: OpenOptions): Opened {
    const p = this.hostPath(path, o.follow);
    const existing = lstatOrUndefined(p);
    if (existing !== undefined) {
      if (o.create && o.exclusive) throw new WasiError(ERRNO.EXIST, path);
      if (existing.isSymbolicLink()) throw new WasiError(ERRNO.LOOP, `symlink not followed: ${path}`);
      if (existing.isDirectory()) {
        if (o.write || o.truncate) throw new WasiError(ERRNO.ISDIR, path);
        return { kind: 'dir' };
      }
      if (o.directory) throw new WasiError(ERRNO.NOTDIR, path);
    } else if (o.directory && !o.create) {
      throw new WasiError(ERRNO.NOENT, path);
    }
    let flags = o.write ? (o.read ? O_RDWR : O_WRONLY) : O_RDONLY;
    if (o.create) flags |= O_CREAT;
    if (o.exclusive) flags |= O_EXCL;
    if (o.truncate) flags |= O_TRUNC;
    if (!o.follow) flags |= O_NOFOLLOW;
    return this.openFd(p, flags);
  }

  reopen(path: string, _ino: bigint, o: ReopenOptions): Opened {
    const p = this.hostPath(path, true);
    if (fs.statSync(p).isDirectory()) return { kind: 'dir' };
    return this.openFd(p, o.write ? (o.read ? O_RDWR : O_WRONLY) : O_RDONLY);
  }

  readdir(path: string): DirEntry[] {
    const p = this.hostPath(path, true);
    return fs.readdirSync(p).sort().map((name) => {
      const st = fs.lstatSync(nodePath.join(p, name), { bigint: true });
      return { name, filetype: filetypeOf(st), ino: st.ino };
    });
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

  private openFd(p: string, flags: number): Opened {
    const fd = fs.openSync(p, flags, 0o666);
    const io: FileIO = {
      pread: (dst, pos) => fs.readSync(fd, dst, 0, dst.length, pos),
      pwrite: (src, pos) => {
        let done = 0;
        while (done < src.length) done += fs.writeSync(fd, src, done, src.length - done, pos + done);
        return done;
      },
      stat: () => toFilestat(fs.fstatSync(fd, { bigint: true })),
      truncate: (size) => fs.ftruncateSync(fd, size),
      setTimes: (atim, mtim) => {
        const st = fs.fstatSync(fd, { bigint: true });
        fs.futimesSync(fd, toSeconds(atim ?? st.atimeNs), toSeconds(mtim ?? st.mtimeNs));
      },
      sync: () => fs.fsyncSync(fd),
      close: () => fs.closeSync(fd),
    };
    return { kind: 'file', io, ino: fs.fstatSync(fd, { bigint: true }).ino };
  }

  /**
   * The host path for a normalized guest path. The parent is resolved with realpath (so symlinked
   * directories are followed and checked); a symlink in the last component is checked too when it
   * will be followed. Anything outside the root is NOTCAPABLE.
   */
  private hostPath(rel: string, follow: boolean, hops = 0): string {
    if (rel === '') return this.root;
    const joined = nodePath.join(this.root, rel);
    const parent = fs.realpathSync(nodePath.dirname(joined));
    this.requireInside(parent, rel);
    const candidate = nodePath.join(parent, nodePath.basename(joined));
    if (!follow || !lstatOrUndefined(candidate)?.isSymbolicLink()) return candidate;
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

  private requireInside(p: string, rel: string): void {
    if (p !== this.root && !p.startsWith(this.root + nodePath.sep)) {
      throw new WasiError(ERRNO.NOTCAPABLE, `path leaves the mount: ${rel}`);
    }
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
