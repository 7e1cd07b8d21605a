/**
 * Path resolution in an in-memory tree, with symlinks followed as Linux's path walk does:
 * intermediate components always, the last one when asked; ".." in a target climbs the directories
 * actually walked through. As on a host mount (hostfs.ts), a target may not climb above the mount
 * root (NOTCAPABLE), and 40 symlinks per lookup is the most (then LOOP, like Linux's MAXSYMLINKS).
 */
import { ERRNO } from '../wasi/defs.js';
import { WasiError } from '../wasi/errno.js';
import type { DirNode, Node } from './memfs-nodes.js';

const MAX_SYMLINK_HOPS = 40;

/** Where a path leads: the directory holding its last entry (with the chain from the root), and that entry. */
export interface Located {
  /** Root first; the last one holds `name`. */
  dirs: DirNode[];
  /** "." when the path ends at a directory itself ("", ".", "..", or a trailing "/" in a target). */
  name: string;
  /** undefined: no such entry (yet). */
  node: Node | undefined;
}

/** Resolves `rel` (normalized, see backend.ts) from `root`; the last component is followed when `followLast`. */
export function locate(root: DirNode, rel: string, followLast: boolean): Located {
  const parts = rel === '' ? [] : rel.split('/');
  return walk([root], parts, followLast, { hops: 0 }, rel);
}

function walk(start: DirNode[], parts: string[], followLast: boolean, budget: { hops: number }, path: string): Located {
  let dirs = start;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const last = i === parts.length - 1;
    if (part === '..') {
      if (dirs.length === 1) throw new WasiError(ERRNO.NOTCAPABLE, `symlink leaves the mount: ${path}`);
      dirs = dirs.slice(0, -1);
    }
    if (part === '' || part === '.' || part === '..') {
      if (last) return { dirs, name: '.', node: dirs[dirs.length - 1] };
      continue;
    }
    const node = dirs[dirs.length - 1]!.entries.get(part);
    if (last && (node?.kind !== 'symlink' || !followLast)) return { dirs, name: part, node };
    if (node === undefined) throw new WasiError(ERRNO.NOENT, path);
    if (node.kind === 'file') throw new WasiError(ERRNO.NOTDIR, path);
    if (node.kind === 'dir') {
      dirs = [...dirs, node];
      continue;
    }
    if (++budget.hops > MAX_SYMLINK_HOPS) throw new WasiError(ERRNO.LOOP, `too many symlinks: ${path}`);
    const target = walk(dirs, node.target.split('/'), true, budget, path);
    if (last) return target;
    if (target.node === undefined) throw new WasiError(ERRNO.NOENT, path);
    if (target.node.kind !== 'dir') throw new WasiError(ERRNO.NOTDIR, path);
    dirs = target.name === '.' ? target.dirs : [...target.dirs, target.node];
  }
  return { dirs, name: '.', node: dirs[dirs.length - 1] };
}
