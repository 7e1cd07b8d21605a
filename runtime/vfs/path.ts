/** Guest path resolution: lexical, inside the directory handle the path is relative to. */
import { ERRNO } from '../wasi/defs.js';
import { WasiError } from '../wasi/errno.js';

export interface ResolvedPath {
  /** Relative to the mount root; "" is the root. */
  rel: string;
  /** "x/" names a directory: callers turn a non-directory into NOTDIR. */
  trailingSlash: boolean;
}

/** Anything but plain names joined by single slashes: ".", "..", "", a leading or trailing "/", NUL. */
const NEEDS_RESOLVING = /(?:^|\/)\.\.?(?:\/|$)|\/\/|^\/|\/$|\0/;

/**
 * Resolves `path` against the directory `base` (itself relative to the mount root).
 * Absolute paths and ".." that climbs above `base` are refused with NOTCAPABLE, as in the
 * WASI capability model: a directory handle grants nothing above itself.
 */
export function resolveGuestPath(base: string, path: string): ResolvedPath {
  if (path.length === 0) throw new WasiError(ERRNO.NOENT, 'empty path');
  if (!NEEDS_RESOLVING.test(path)) return { rel: base === '' ? path : `${base}/${path}`, trailingSlash: false };
  if (path.includes('\0')) throw new WasiError(ERRNO.INVAL, 'NUL in path');
  if (path.startsWith('/')) throw new WasiError(ERRNO.NOTCAPABLE, `absolute path ${path}`);
  const floor = base === '' ? 0 : base.split('/').length;
  const parts = base === '' ? [] : base.split('/');
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length <= floor) throw new WasiError(ERRNO.NOTCAPABLE, `path escapes its directory: ${path}`);
      parts.pop();
    } else {
      parts.push(part);
    }
  }
  return { rel: parts.join('/'), trailingSlash: path.endsWith('/') };
}

/**
 * Whether `rel` is what resolveGuestPath returns and the backends expect: "" or plain names joined
 * by single slashes (no ".", "..", empty name or NUL). For paths from outside, such as a snapshot.
 */
export function isNormalizedRel(rel: string): boolean {
  return rel === '' || rel.split('/').every(isEntryName);
}

/** A name a directory can hold: not empty, ".", "..", and without "/" or NUL. */
export function isEntryName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

export function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

export function baseName(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}
