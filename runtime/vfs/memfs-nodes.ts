/** The inodes of an in-memory file system and what can be read or changed on one. */
import { FILETYPE, type Filestat } from '../wasi/defs.js';
import { nowNs } from './backend.js';

export interface Times {
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
}

export interface FileNode extends Times {
  kind: 'file';
  ino: number;
  /** Capacity may exceed `size`; bytes past `size` are always zero. */
  data: Uint8Array;
  size: number;
  nlink: number;
  /** Open handles: a file with no links stays alive while one is open. */
  opens: number;
}

export interface DirNode extends Times {
  kind: 'dir';
  ino: number;
  entries: Map<string, Node>;
}

export interface SymlinkNode extends Times {
  kind: 'symlink';
  ino: number;
  /** Verbatim, as path_symlink got it: relative, resolved from the directory holding the link. */
  target: string;
  /** Linux link(2) hard-links a symlink itself, so a symlink can have several names. */
  nlink: number;
}

export type Node = FileNode | DirNode | SymlinkNode;

const utf8 = new TextEncoder();

export function filetypeOf(n: Node): number {
  if (n.kind === 'dir') return FILETYPE.DIRECTORY;
  return n.kind === 'file' ? FILETYPE.REGULAR_FILE : FILETYPE.SYMBOLIC_LINK;
}

/** A symlink's size is its target's length in bytes, as lstat reports it. */
function sizeOf(n: Node): number {
  if (n.kind === 'dir') return 0;
  return n.kind === 'file' ? n.size : utf8.encode(n.target).length;
}

export function statOf(n: Node): Filestat {
  return {
    dev: 0n,
    ino: BigInt(n.ino),
    filetype: filetypeOf(n),
    nlink: BigInt(n.kind === 'dir' ? 2 : n.nlink),
    size: BigInt(sizeOf(n)),
    atim: n.atim,
    mtim: n.mtim,
    ctim: n.ctim,
  };
}

export function touch(dir: DirNode): void {
  dir.mtim = dir.ctim = nowNs();
}

export function setNodeTimes(n: Node, atim: bigint | undefined, mtim: bigint | undefined): void {
  if (atim !== undefined) n.atim = atim;
  if (mtim !== undefined) n.mtim = mtim;
  n.ctim = nowNs();
}

/** Sets the size, keeping the invariant that bytes past `size` are zero. */
export function resize(node: FileNode, size: number): void {
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
