/** The guest's file descriptor table: fd → virtual handle. */
import type { MountSpec } from './types.js';
import type { Backend, FileIO } from '../vfs/backend.js';
import { ERRNO, FILETYPE } from './defs.js';
import { WasiError } from './errno.js';

/** A mounted directory tree: the spec it was bound from, and its backend. */
export interface Mount {
  spec: MountSpec;
  backend: Backend;
}

interface HandleBase {
  fdflags: number;
  rightsBase: bigint;
  rightsInheriting: bigint;
}

/** Guest stdin/stdout/stderr (wherever fd_renumber has moved them), backed by a host fd. */
export interface StdioHandle extends HandleBase {
  kind: 'stdio';
  stream: 0 | 1 | 2;
  hostFd: number;
  /** Bytes taken from the host stream (stdin: including `pending`) or written to it so far. */
  offset: number;
  /**
   * stdin: bytes taken from the host that the guest has not read yet (a poll_oneoff readiness
   * check's, or what the stdin bridge read); never empty (undefined instead).
   */
  pending?: Uint8Array;
}

/** A preopened mount root or a directory opened with path_open. */
export interface DirHandle extends HandleBase {
  kind: 'preopen' | 'dir';
  mount: Mount;
  /** Relative to the mount root; "" for the root. */
  rel: string;
}

export interface FileHandle extends HandleBase {
  kind: 'file';
  mount: Mount;
  rel: string;
  /** The guest-visible offset; I/O is positional, so the host's own offset never matters. */
  offset: number;
  /** `io.stat().ino` is what a snapshot records (memfs re-binds by it; inspect shows it). */
  io: FileIO;
  /** Opened read-only without finding out whether it is a directory (Opened.mayBeDirectory). */
  mayBeDirectory: boolean;
}

/** A pre-opened listening socket (`--listen`); re-bound on thaw by its guest fd. */
export interface ListenerHandle extends HandleBase {
  kind: 'listener';
  /** The address it listens on in this process ("HOST:PORT"). */
  address: string;
  /** Which of this process's bridge listeners it is (listeners are numbered in fd order). */
  index: number;
}

/** An accepted connection. Never captured: a freeze with open connections is refused. */
export interface SocketHandle extends HandleBase {
  kind: 'socket';
  conn: { close(): void };
}

export type Handle = StdioHandle | DirHandle | FileHandle | ListenerHandle | SocketHandle;

/**
 * Guest fds are below this (Linux's default nr_open). The table is an array indexed by fd, so a
 * bound keeps a snapshot's fd numbers from making it huge; the guest gets MFILE past it.
 */
export const MAX_FDS = 1 << 20;

export class HandleTable {
  /** Indexed by fd, undefined where an fd is free: an array lookup is cheaper than a Map's on every call. */
  private readonly handles: (Handle | undefined)[] = [];

  /** The handle at `fd`, a directory's handle if the file it was opened as turns out to be one. */
  get(fd: number): Handle {
    const h = this.peek(fd);
    return h.kind === 'file' && h.mayBeDirectory ? this.#settle(fd, h) : h;
  }

  /**
   * The handle at `fd`, as it was opened: maybe a FileHandle on a directory (mayBeDirectory). For
   * calls that work on a file and fail on a directory anyway (fd_read, fd_pread): see calls-fd.ts.
   */
  peek(fd: number): Handle {
    const h = this.handles[fd];
    if (h === undefined) throw new WasiError(ERRNO.BADF, `bad fd ${fd}`);
    return h;
  }

  /** Finds out what a read-only open found: a directory gets the handle path_open gives one. */
  #settle(fd: number, h: FileHandle): Handle {
    if (h.io.stat().filetype !== FILETYPE.DIRECTORY) {
      h.mayBeDirectory = false;
      return h;
    }
    h.io.close();
    const dir: DirHandle = { kind: 'dir', mount: h.mount, rel: h.rel, fdflags: h.fdflags, rightsBase: h.rightsBase, rightsInheriting: h.rightsInheriting };
    this.handles[fd] = dir;
    return dir;
  }

  has(fd: number): boolean {
    return this.handles[fd] !== undefined;
  }

  /** Like POSIX: the lowest free fd, so the table alone determines the next one after a thaw. */
  add(h: Handle): number {
    let fd = 0;
    while (this.handles[fd] !== undefined) fd++;
    if (fd >= MAX_FDS) throw new WasiError(ERRNO.MFILE, `${MAX_FDS} fds open`);
    this.handles[fd] = h;
    return fd;
  }

  set(fd: number, h: Handle): void {
    this.handles[fd] = h;
  }

  /** Removes the entry and releases its host resource (stdio host fds are not ours to close). */
  close(fd: number): void {
    const h = this.peek(fd);
    this.handles[fd] = undefined;
    if (h.kind === 'file') h.io.close();
    else if (h.kind === 'socket') h.conn.close();
  }

  /**
   * path_rename moved `from` (a file, or a directory and all under it) to `to` on `mount`: handles
   * opened there follow it, as an fd follows its file. Directory handles are paths (no host fd is
   * kept for them), and a thaw re-opens files by path.
   */
  rebase(mount: Mount, from: string, to: string): void {
    const under = `${from}/`;
    for (const h of this.handles) {
      if (h === undefined || (h.kind !== 'dir' && h.kind !== 'file') || h.mount !== mount) continue;
      if (h.rel === from) h.rel = to;
      else if (h.rel.startsWith(under)) h.rel = to + h.rel.slice(from.length);
    }
  }

  /** fd_renumber: `to` is closed and `from` takes its place. */
  renumber(from: number, to: number): void {
    const h = this.peek(from);
    this.peek(to);
    if (from === to) return;
    this.close(to);
    this.handles[from] = undefined;
    this.handles[to] = h;
  }

  /** In fd order, as opened (see peek). */
  entries(): [number, Handle][] {
    return this.handles.flatMap((h, fd): [number, Handle][] => (h === undefined ? [] : [[fd, h]]));
  }

  closeAll(): void {
    for (const [fd] of this.entries()) this.close(fd);
  }
}
