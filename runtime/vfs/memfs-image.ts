/** An in-memory file system as JSON for a snapshot: inodes by number, file contents as blob indexes. */
import { ERRNO } from '../wasi/defs.js';
import { WasiError } from '../wasi/errno.js';
import type { DirNode, Node } from './memfs-nodes.js';

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
    for (const [name, ino] of n.entries) dir.entries.set(name, inodes.get(ino) ?? fail(`memfs inode ${ino} missing`));
  }
  const root = inodes.get(image.root);
  if (root?.kind !== 'dir') fail('memfs root is not a directory');
  return { root: root as DirNode, nextIno: image.nextIno, inodes };
}
