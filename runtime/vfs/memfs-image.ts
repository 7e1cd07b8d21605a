/** An in-memory file system as JSON for a snapshot: inodes by number, file contents as blob indexes. */
import { ERRNO } from '../wasi/defs.js';
import { WasiError } from '../wasi/errno.js';
import type { DirNode, Node } from './memfs-nodes.js';
import { isEntryName } from './path.js';

export interface MemFsImage {
  root: number;
  nextIno: number;
  nodes: MemNodeImage[];
}

type TimesImage = { atim: string; mtim: string; ctim: string };
export type MemNodeImage =
  | ({ kind: 'dir'; ino: number; entries: [string, number][] } & TimesImage)
  | ({ kind: 'file'; ino: number; blob: number; nlink: number } & TimesImage)
  | ({ kind: 'symlink'; ino: number; target: string; nlink: number } & TimesImage);

/** The inodes of one tree, as MemFs keeps them. */
export interface MemFsParts {
  root: DirNode;
  nextIno: number;
  /** Every live inode (linked, or unlinked but open). */
  inodes: Map<number, Node>;
}

const fail = (what: string): never => {
  throw new WasiError(ERRNO.INVAL, what);
};

/** File bytes are appended to `blobs` (copied, so the guest may keep running). */
export function toImage(fs: MemFsParts, blobs: Uint8Array[]): MemFsImage {
  const times = (n: Node): TimesImage => ({ atim: String(n.atim), mtim: String(n.mtim), ctim: String(n.ctim) });
  const nodes = [...fs.inodes.values()].map((n): MemNodeImage => {
    switch (n.kind) {
      case 'dir':
        return { kind: 'dir', ino: n.ino, entries: [...n.entries].map(([name, c]) => [name, c.ino] as [string, number]), ...times(n) };
      case 'symlink':
        return { kind: 'symlink', ino: n.ino, target: n.target, nlink: n.nlink, ...times(n) };
      case 'file':
        blobs.push(n.data.slice(0, n.size));
        return { kind: 'file', ino: n.ino, blob: blobs.length - 1, nlink: n.nlink, ...times(n) };
    }
  });
  return { root: fs.root.ino, nextIno: fs.nextIno, nodes };
}

/** Rebuilds the inodes of `toImage` output. Throws WasiError(INVAL) on an inconsistent image. */
export function fromImage(image: MemFsImage, blobs: Uint8Array[]): MemFsParts {
  const inodes = new Map<number, Node>();
  for (const n of image.nodes) {
    if (inodes.has(n.ino)) fail(`memfs inode ${n.ino} twice`);
    // New inodes are numbered from nextIno on: one at or below a present inode would replace it.
    if (n.ino >= image.nextIno) fail(`memfs inode ${n.ino} is not below nextIno ${image.nextIno}`);
    const t = { atim: BigInt(n.atim), mtim: BigInt(n.mtim), ctim: BigInt(n.ctim) };
    if (n.kind === 'dir') {
      inodes.set(n.ino, { kind: 'dir', ino: n.ino, entries: new Map(), ...t });
    } else if (n.kind === 'symlink') {
      // path_symlink never stores these; the path walk relies on it.
      if (n.target === '' || n.target.startsWith('/')) fail(`memfs symlink ${n.ino}: bad target`);
      inodes.set(n.ino, { kind: 'symlink', ino: n.ino, target: n.target, nlink: n.nlink, ...t });
    } else {
      const blob = blobs[n.blob] ?? fail(`memfs blob ${n.blob} missing`);
      inodes.set(n.ino, { kind: 'file', ino: n.ino, data: blob.slice(), size: blob.length, nlink: n.nlink, opens: 0, ...t });
    }
  }
  for (const n of image.nodes) {
    if (n.kind !== 'dir') continue;
    const dir = inodes.get(n.ino) as DirNode;
    for (const [name, ino] of n.entries) {
      // Paths reach a backend resolved (path.ts): a "..", "" or "a/b" entry could never be looked up.
      if (!isEntryName(name)) fail(`memfs directory ${n.ino}: bad entry name ${JSON.stringify(name)}`);
      if (dir.entries.has(name)) fail(`memfs directory ${n.ino}: entry ${JSON.stringify(name)} twice`);
      dir.entries.set(name, inodes.get(ino) ?? fail(`memfs inode ${ino} missing`));
    }
  }
  const root = inodes.get(image.root);
  if (root?.kind !== 'dir') fail('memfs root is not a directory');
  checkTree(root as DirNode, inodes);
  return { root: root as DirNode, nextIno: image.nextIno, inodes };
}

/**
 * What MemFs keeps true and its walks rely on: directories form one tree under the root (each
 * linked once, no cycle, none left over), and a file's or symlink's link count is the number of
 * entries naming it (0 only for a file unlinked while open).
 */
function checkTree(root: DirNode, inodes: Map<number, Node>): void {
  const links = new Map<number, number>();
  const seenDirs = new Set<DirNode>([root]);
  const work = [root];
  while (work.length > 0) {
    for (const child of work.pop()!.entries.values()) {
      if (child.kind !== 'dir') {
        links.set(child.ino, (links.get(child.ino) ?? 0) + 1);
      } else {
        if (seenDirs.has(child)) fail(`memfs directory ${child.ino} is linked more than once`);
        seenDirs.add(child);
        work.push(child);
      }
    }
  }
  for (const node of inodes.values()) {
    if (node.kind === 'dir') {
      if (!seenDirs.has(node)) fail(`memfs directory ${node.ino} is not under the root`);
    } else if (node.nlink !== (links.get(node.ino) ?? 0) || (node.kind === 'symlink' && node.nlink === 0)) {
      fail(`memfs inode ${node.ino}: link count ${node.nlink}, linked ${links.get(node.ino) ?? 0} times`);
    }
  }
}
