/**
 * An in-memory file system, carried whole in a snapshot. Inode-based so hard links and
 * open-but-unlinked files survive a capture/restore. Symlinks behave as on a host mount: targets
 * are stored verbatim and resolved by memfs-walk.ts; absolute ones are refused, as hostfs does.
 */
import { ERRNO, type Filestat } from '../wasi/defs.js';
import { WasiError } from '../wasi/errno.js';
import { nowNs, type Backend, type DirListing, type FileIO, type OpenOptions, type Opened } from './backend.js';
import { fromImage, toImage, type MemFsImage, type MemFsParts } from './memfs-image.js';
import { filetypeOf, resize, setNodeTimes, statOf, touch, type DirNode, type FileNode, type Node, type SymlinkNode } from './memfs-nodes.js';
import { locate, type Located } from './memfs-walk.js';
import { parentOf } from './path.js';

export type { MemFsImage, MemNodeImage } from './memfs-image.js';

const fail = (errno: number, what: string): never => {
  throw new WasiError(errno, what);
};

export class MemFs implements Backend {
  private readonly root: DirNode;
  private nextIno: number;
  /** Every live inode (linked, or unlinked but open), for capture and for re-binding handles by inode. */
  private readonly inodes: Map<number, Node>;

  /** An empty tree, or the one a snapshot image holds. */
  constructor(parts?: MemFsParts) {
    this.inodes = parts?.inodes ?? new Map();
    this.nextIno = parts?.nextIno ?? 1;
    this.root = parts?.root ?? this.newDir();
  }

  stat(path: string, follow: boolean): Filestat {
    return statOf(this.lookup(path, follow));
  }

  open(path: string, o: OpenOptions): Opened {
    let loc = locate(this.root, path, false);
    if (loc.node?.kind === 'symlink') {
      // O_EXCL never follows a link; otherwise the last one is followed only when asked (O_NOFOLLOW: LOOP).
      if (o.create && o.exclusive) fail(ERRNO.EXIST, path);
      if (!o.follow) fail(ERRNO.LOOP, `symlink not followed: ${path}`);
      loc = locate(this.root, path, true);
    }
    let node = loc.node;
    if (node === undefined) {
      if (!o.create) fail(ERRNO.NOENT, path);
      node = this.add(loc, this.newFile());
    } else if (o.create && o.exclusive) {
      fail(ERRNO.EXIST, path);
    }
    if (node.kind === 'dir') {
      if (o.write || o.truncate) fail(ERRNO.ISDIR, path);
      return { kind: 'dir' };
    }
    if (o.directory) fail(ERRNO.NOTDIR, path);
    if (o.truncate) resize(node as FileNode, 0);
    return this.openFile(node as FileNode);
  }

  reopen(path: string, ino: bigint): Opened {
    const node = this.inodes.get(Number(ino));
    if (node === undefined || node.kind === 'symlink') return fail(ERRNO.NOENT, path);
    return node.kind === 'dir' ? { kind: 'dir' } : this.openFile(node);
  }

  readdir(path: string): DirListing {
    const dir = this.lookupDir(path);
    const entries = [...dir.entries.keys()].sort().map((name) => {
      const n = dir.entries.get(name)!;
      return { name, filetype: filetypeOf(n), ino: BigInt(n.ino) };
    });
    return { self: BigInt(dir.ino), parent: BigInt(this.lookupDir(parentOf(path)).ino), entries };
  }

  mkdir(path: string): void {
    const loc = locate(this.root, path, false);
    if (loc.node !== undefined) fail(ERRNO.EXIST, path);
    this.add(loc, this.newDir());
  }

  rmdir(path: string): void {
    if (path === '') fail(ERRNO.BUSY, 'cannot remove the mount root');
    const loc = locate(this.root, path, false);
    const node = loc.node ?? fail(ERRNO.NOENT, path);
    if (node.kind !== 'dir') fail(ERRNO.NOTDIR, path);
    if ((node as DirNode).entries.size > 0) fail(ERRNO.NOTEMPTY, path);
    this.remove(loc);
    this.inodes.delete(node.ino);
  }

  unlink(path: string): void {
    if (path === '') fail(ERRNO.ISDIR, path);
    const loc = locate(this.root, path, false);
    const node = loc.node ?? fail(ERRNO.NOENT, path);
    if (node.kind === 'dir') fail(ERRNO.ISDIR, path);
    this.remove(loc);
    this.dropLink(node as FileNode | SymlinkNode);
  }

  rename(from: string, to: string): void {
    if (from === '' || to === '') fail(ERRNO.BUSY, 'cannot rename the mount root');
    const src = locate(this.root, from, false);
    const node = src.node ?? fail(ERRNO.NOENT, from);
    const dst = locate(this.root, to, false);
    // Also through symlinks: the destination's directories must not include the one being moved.
    if (dst.dirs.includes(node as DirNode)) fail(ERRNO.INVAL, 'cannot move a directory into itself');
    const existing = dst.node;
    if (existing === node) return;
    if (existing !== undefined) {
      if (node.kind === 'dir') {
        if (existing.kind !== 'dir') fail(ERRNO.NOTDIR, to);
        if ((existing as DirNode).entries.size > 0) fail(ERRNO.NOTEMPTY, to);
        this.inodes.delete(existing.ino);
      } else {
        if (existing.kind === 'dir') fail(ERRNO.ISDIR, to);
        this.dropLink(existing as FileNode | SymlinkNode);
      }
    }
    this.remove(src);
    this.add(dst, node);
    node.ctim = nowNs();
  }

  link(from: string, to: string): void {
    const node = this.lookup(from, false);
    const dst = locate(this.root, to, false);
    // Linux checks the new name before the kind of the old one (EEXIST wins over EPERM).
    if (dst.node !== undefined) fail(ERRNO.EXIST, to);
    if (node.kind === 'dir') fail(ERRNO.PERM, 'hard link to a directory');
    this.add(dst, node);
    (node as FileNode | SymlinkNode).nlink++;
    node.ctim = nowNs();
  }

  symlink(target: string, path: string): void {
    // An absolute target could never be followed inside the mount (hostfs refuses it too).
    if (target.startsWith('/')) fail(ERRNO.PERM, `absolute symlink target ${target}`);
    if (target === '') fail(ERRNO.NOENT, 'empty symlink target');
    const loc = locate(this.root, path, false);
    if (loc.node !== undefined) fail(ERRNO.EXIST, path);
    const t = nowNs();
    const link: SymlinkNode = { kind: 'symlink', ino: this.nextIno++, target, nlink: 1, atim: t, mtim: t, ctim: t };
    this.inodes.set(link.ino, link);
    this.add(loc, link);
  }

  readlink(path: string): string {
    const node = this.lookup(path, false);
    if (node.kind !== 'symlink') fail(ERRNO.INVAL, `not a symlink: ${path}`);
    return (node as SymlinkNode).target;
  }

  setTimes(path: string, follow: boolean, atim: bigint | undefined, mtim: bigint | undefined): void {
    setNodeTimes(this.lookup(path, follow), atim, mtim);
  }

  /** The whole tree as JSON; file bytes are appended to `blobs` (copied, so the guest may keep running). */
  serialize(blobs: Uint8Array[]): MemFsImage {
    return toImage({ root: this.root, nextIno: this.nextIno, inodes: this.inodes }, blobs);
  }

  /** Rebuilds a memfs from `serialize` output. Throws WasiError(INVAL) on an inconsistent image. */
  static deserialize(image: MemFsImage, blobs: Uint8Array[]): MemFs {
    return new MemFs(fromImage(image, blobs));
  }

  private newDir(): DirNode {
    const t = nowNs();
    const dir: DirNode = { kind: 'dir', ino: this.nextIno++, entries: new Map(), atim: t, mtim: t, ctim: t };
    this.inodes.set(dir.ino, dir);
    return dir;
  }

  private newFile(): FileNode {
    const t = nowNs();
    const file: FileNode = { kind: 'file', ino: this.nextIno++, data: new Uint8Array(0), size: 0, nlink: 1, opens: 0, atim: t, mtim: t, ctim: t };
    this.inodes.set(file.ino, file);
    return file;
  }

  /** Links `node` at a located name that has no entry. */
  private add(loc: Located, node: Node): Node {
    const parent = loc.dirs[loc.dirs.length - 1]!;
    parent.entries.set(loc.name, node);
    touch(parent);
    return node;
  }

  private remove(loc: Located): void {
    const parent = loc.dirs[loc.dirs.length - 1]!;
    parent.entries.delete(loc.name);
    touch(parent);
  }

  private dropLink(node: FileNode | SymlinkNode): void {
    node.nlink--;
    node.ctim = nowNs();
    if (node.nlink === 0 && (node.kind === 'symlink' || node.opens === 0)) this.inodes.delete(node.ino);
  }

  private openFile(node: FileNode): Opened {
    node.opens++;
    let closed = false;
    const io: FileIO = {
      pread: (buffer, offset, length, pos) => {
        if (pos >= node.size) return 0;
        const n = Math.min(length, node.size - pos);
        buffer.set(node.data.subarray(pos, pos + n), offset);
        return n;
      },
      pwrite: (buffer, offset, length, pos) => {
        if (pos + length > node.size) resize(node, pos + length);
        node.data.set(buffer.subarray(offset, offset + length), pos);
        node.mtim = node.ctim = nowNs();
        return length;
      },
      stat: () => statOf(node),
      truncate: (size) => resize(node, size),
      setTimes: (atim, mtim) => setNodeTimes(node, atim, mtim),
      sync: () => {},
      close: () => {
        if (closed) return;
        closed = true;
        node.opens--;
        if (node.nlink === 0 && node.opens === 0) this.inodes.delete(node.ino);
      },
    };
    return { kind: 'file', io, mayBeDirectory: false };
  }

  private lookup(path: string, follow: boolean): Node {
    return locate(this.root, path, follow).node ?? fail(ERRNO.NOENT, path);
  }

  private lookupDir(path: string): DirNode {
    const node = this.lookup(path, true);
    if (node.kind !== 'dir') fail(ERRNO.NOTDIR, path);
    return node as DirNode;
  }
}
