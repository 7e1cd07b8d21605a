/**
 * An in-memory file system, carried whole in a snapshot. Inode-based so hard links and
 * open-but-unlinked files survive a capture/restore. No symlinks (path_symlink → NOTSUP).
 */
import { ERRNO, FILETYPE, type Filestat } from '../wasi/defs.js';
import { WasiError } from '../wasi/errno.js';
import { nowNs, type Backend, type DirListing, type FileIO, type OpenOptions, type Opened } from './backend.js';
import { baseName, parentOf } from './path.js';

interface Times {
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
}

interface FileNode extends Times {
  kind: 'file';
  ino: number;
  /** Capacity may exceed `size`; bytes past `size` are always zero. */
  data: Uint8Array;
  size: number;
  nlink: number;
  /** Open handles: a file with no links stays alive while one is open. */
  opens: number;
}

interface DirNode extends Times {
  kind: 'dir';
  ino: number;
  entries: Map<string, Node>;
}

type Node = FileNode | DirNode;

/** The JSON form of a memfs: inodes by number, file contents as blob indexes. */
export interface MemFsImage {
  root: number;
  nextIno: number;
  nodes: MemNodeImage[];
}

type TimesImage = { atim: string; mtim: string; ctim: string };
export type MemNodeImage =
  | ({ kind: 'dir'; ino: number; entries: [string, number][] } & TimesImage)
  | ({ kind: 'file'; ino: number; blob: number; nlink: number } & TimesImage);

const fail = (errno: number, what: string): never => {
  throw new WasiError(errno, what);
};

export class MemFs implements Backend {
  private root: DirNode;
  private nextIno: number;
  /** Every live inode (linked, or unlinked but open), for capture and for re-binding handles by inode. */
  private readonly inodes = new Map<number, Node>();

  constructor() {
    this.nextIno = 1;
    this.root = this.newDir();
  }

  stat(path: string): Filestat {
    return statOf(this.lookup(path));
  }

  open(path: string, o: OpenOptions): Opened {
    let node = this.tryLookup(path);
    if (node === undefined) {
      if (!o.create) fail(ERRNO.NOENT, path);
      const parent = this.lookupDir(parentOf(path));
      node = this.newFile();
      parent.entries.set(baseName(path), node);
      touch(parent);
    } else if (o.create && o.exclusive) {
      fail(ERRNO.EXIST, path);
    }
    if (node.kind === 'dir') {
      if (o.write || o.truncate) fail(ERRNO.ISDIR, path);
      return { kind: 'dir' };
    }
    if (o.directory) fail(ERRNO.NOTDIR, path);
    if (o.truncate) resize(node, 0);
    return this.openFile(node);
  }

  reopen(path: string, ino: bigint): Opened {
    const node = this.inodes.get(Number(ino));
    if (node === undefined) fail(ERRNO.NOENT, path);
    return node!.kind === 'dir' ? { kind: 'dir' } : this.openFile(node as FileNode);
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
    if (path === '') fail(ERRNO.EXIST, path);
    const parent = this.lookupDir(parentOf(path));
    if (parent.entries.has(baseName(path))) fail(ERRNO.EXIST, path);
    parent.entries.set(baseName(path), this.newDir());
    touch(parent);
  }

  rmdir(path: string): void {
    if (path === '') fail(ERRNO.BUSY, 'cannot remove the mount root');
    const parent = this.lookupDir(parentOf(path));
    const node = parent.entries.get(baseName(path)) ?? fail(ERRNO.NOENT, path);
    if (node.kind !== 'dir') fail(ERRNO.NOTDIR, path);
    if ((node as DirNode).entries.size > 0) fail(ERRNO.NOTEMPTY, path);
    parent.entries.delete(baseName(path));
    this.inodes.delete(node.ino);
    touch(parent);
  }

  unlink(path: string): void {
    if (path === '') fail(ERRNO.ISDIR, path);
    const parent = this.lookupDir(parentOf(path));
    const node = parent.entries.get(baseName(path)) ?? fail(ERRNO.NOENT, path);
    if (node.kind === 'dir') fail(ERRNO.ISDIR, path);
    parent.entries.delete(baseName(path));
    this.dropLink(node as FileNode);
    touch(parent);
  }

  rename(from: string, to: string): void {
    if (from === '' || to === '') fail(ERRNO.BUSY, 'cannot rename the mount root');
    const fromParent = this.lookupDir(parentOf(from));
    const node = fromParent.entries.get(baseName(from)) ?? fail(ERRNO.NOENT, from);
    const toParent = this.lookupDir(parentOf(to));
    if (node.kind === 'dir' && to.startsWith(from + '/')) fail(ERRNO.INVAL, 'cannot move a directory into itself');
    const existing = toParent.entries.get(baseName(to));
    if (existing === node) return;
    if (existing !== undefined) {
      if (node.kind === 'dir') {
        if (existing.kind !== 'dir') fail(ERRNO.NOTDIR, to);
        if ((existing as DirNode).entries.size > 0) fail(ERRNO.NOTEMPTY, to);
        this.inodes.delete(existing.ino);
      } else {
        if (existing.kind === 'dir') fail(ERRNO.ISDIR, to);
        this.dropLink(existing as FileNode);
      }
    }
    fromParent.entries.delete(baseName(from));
    toParent.entries.set(baseName(to), node);
    touch(fromParent);
    touch(toParent);
    node.ctim = nowNs();
  }

  link(from: string, to: string): void {
    const node = this.lookup(from);
    if (node.kind === 'dir') fail(ERRNO.PERM, 'hard link to a directory');
    const parent = this.lookupDir(parentOf(to));
    if (to === '' || parent.entries.has(baseName(to))) fail(ERRNO.EXIST, to);
    parent.entries.set(baseName(to), node);
    (node as FileNode).nlink++;
    node.ctim = nowNs();
    touch(parent);
  }

  symlink(): void {
    fail(ERRNO.NOTSUP, 'in-memory mounts have no symlinks');
  }

  readlink(path: string): string {
    this.lookup(path);
    return fail(ERRNO.INVAL, `not a symlink: ${path}`);
  }

  setTimes(path: string, _follow: boolean, atim: bigint | undefined, mtim: bigint | undefined): void {
    setNodeTimes(this.lookup(path), atim, mtim);
  }

  /** The whole tree as JSON; file bytes are appended to `blobs` (copied, so the guest may keep running). */
  serialize(blobs: Uint8Array[]): MemFsImage {
    const times = (n: Node): TimesImage => ({ atim: String(n.atim), mtim: String(n.mtim), ctim: String(n.ctim) });
    const nodes: MemNodeImage[] = [...this.inodes.values()].map((n) => {
      if (n.kind === 'dir') {
        return { kind: 'dir', ino: n.ino, entries: [...n.entries].map(([name, c]) => [name, c.ino] as [string, number]), ...times(n) };
      }
      blobs.push(n.data.slice(0, n.size));
      return { kind: 'file', ino: n.ino, blob: blobs.length - 1, nlink: n.nlink, ...times(n) };
    });
    return { root: this.root.ino, nextIno: this.nextIno, nodes };
  }

  /** Rebuilds a memfs from `serialize` output. Throws WasiError(INVAL) on an inconsistent image. */
  static deserialize(image: MemFsImage, blobs: Uint8Array[]): MemFs {
    const fs = new MemFs();
    fs.inodes.clear();
    for (const n of image.nodes) {
      const t = { atim: BigInt(n.atim), mtim: BigInt(n.mtim), ctim: BigInt(n.ctim) };
      if (n.kind === 'dir') {
        fs.inodes.set(n.ino, { kind: 'dir', ino: n.ino, entries: new Map(), ...t });
      } else {
        const blob = blobs[n.blob] ?? fail(ERRNO.INVAL, `memfs blob ${n.blob} missing`);
        fs.inodes.set(n.ino, { kind: 'file', ino: n.ino, data: blob.slice(), size: blob.length, nlink: n.nlink, opens: 0, ...t });
      }
    }
    for (const n of image.nodes) {
      if (n.kind !== 'dir') continue;
      const dir = fs.inodes.get(n.ino) as DirNode;
      for (const [name, ino] of n.entries) {
        dir.entries.set(name, fs.inodes.get(ino) ?? fail(ERRNO.INVAL, `memfs inode ${ino} missing`));
      }
    }
    const root = fs.inodes.get(image.root);
    if (root?.kind !== 'dir') fail(ERRNO.INVAL, 'memfs root is not a directory');
    fs.root = root as DirNode;
    fs.nextIno = image.nextIno;
    return fs;
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

  private dropLink(node: FileNode): void {
    node.nlink--;
    node.ctim = nowNs();
    if (node.nlink === 0 && node.opens === 0) this.inodes.delete(node.ino);
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
    return { kind: 'file', io };
  }

  private tryLookup(path: string): Node | undefined {
    let node: Node = this.root;
    if (path === '') return node;
    for (const part of path.split('/')) {
      if (node.kind !== 'dir') fail(ERRNO.NOTDIR, path);
      const next: Node | undefined = (node as DirNode).entries.get(part);
      if (next === undefined) return undefined;
      node = next;
    }
    return node;
  }

  private lookup(path: string): Node {
    return this.tryLookup(path) ?? fail(ERRNO.NOENT, path);
  }

  private lookupDir(path: string): DirNode {
    const node = this.lookup(path);
    if (node.kind !== 'dir') fail(ERRNO.NOTDIR, path);
    return node as DirNode;
  }
}

function filetypeOf(n: Node): number {
  return n.kind === 'dir' ? FILETYPE.DIRECTORY : FILETYPE.REGULAR_FILE;
}

function statOf(n: Node): Filestat {
  return {
    dev: 0n,
    ino: BigInt(n.ino),
    filetype: filetypeOf(n),
    nlink: BigInt(n.kind === 'file' ? n.nlink : 2),
    size: BigInt(n.kind === 'file' ? n.size : 0),
    atim: n.atim,
    mtim: n.mtim,
    ctim: n.ctim,
  };
}

function touch(dir: DirNode): void {
  dir.mtim = dir.ctim = nowNs();
}

function setNodeTimes(n: Node, atim: bigint | undefined, mtim: bigint | undefined): void {
  if (atim !== undefined) n.atim = atim;
  if (mtim !== undefined) n.mtim = mtim;
  n.ctim = nowNs();
}

/** Sets the size, keeping the invariant that bytes past `size` are zero. */
function resize(node: FileNode, size: number): void {
  if (size < node.size) {
    node.data.fill(0, size, node.size);
  } else if (size > node.data.length) {
    const grown = new Uint8Array(Math.max(size, node.data.length * 2, 64));
    grown.set(node.data.subarray(0, node.size));
    node.data = grown;
  }
  node.size = size;
  node.mtim = node.ctim = nowNs();
}
