/**
 * The host's part of a snapshot: capture (host → JSON + blobs), restore (JSON + blobs → host parts,
 * re-binding every mount and handle on this machine before the guest runs), and the fresh parts a
 * new process starts with.
 */
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { WmigError } from '../errors.js';
import type { Backend, FileIO } from '../vfs/backend.js';
import { HostFs, NamelessHostFile } from '../vfs/hostfs.js';
import { MemFs } from '../vfs/memfs.js';
import { accessOf } from './calls-path.js';
import { DeterministicClock, VirtualClock } from './clock.js';
import type { HostContext, HostParts } from './context.js';
import { ERRNO, FILETYPE, type Filestat } from './defs.js';
import { WasiError, nodeErrorCode } from './errno.js';
import { HandleTable, type Handle, type Mount, type StdioHandle } from './handles.js';
import { SYSTEM_ENTROPY, SeededEntropy } from './random.js';
import { RIGHTS_LISTENER, RIGHTS_STDIN, RIGHTS_STDOUT, preopenRights } from './rights.js';
import { HOST_STATE_VERSION, parseHostState, type HandleState, type HostState, type MountState } from './state.js';
import type { HostCapture, MountSpec, StdioSpec, WasiConfig, WasiRestoreOptions } from './types.js';

export const DEFAULT_STDIO: StdioSpec = { stdin: 0, stdout: 1, stderr: 2 };

/** Whether `rel` leads to the file with inode `ino` (following a final symlink, as its open did). */
function namesFile(backend: Backend, rel: string, ino: bigint): boolean {
  return statOrNull(backend, rel)?.ino === ino;
}

function isDirectory(backend: Backend, rel: string): boolean {
  return statOrNull(backend, rel)?.filetype === FILETYPE.DIRECTORY;
}

function statOrNull(backend: Backend, rel: string): Filestat | null {
  try {
    return backend.stat(rel, true);
  } catch (e) {
    if (e instanceof WasiError || nodeErrorCode(e) !== undefined) return null;
    throw e;
  }
}

/** A file's bytes, up to `size` (fewer if it is shorter by then). */
function readWhole(io: FileIO, size: bigint): Uint8Array {
  const data = new Uint8Array(Number(size));
  let at = 0;
  while (at < data.length) {
    const n = io.pread(data, at, data.length - at, at);
    if (n === 0) break;
    at += n;
  }
  return data.subarray(0, at);
}

/** Copies a directory tree between backends (carried mounts: host → memfs at freeze, back on thaw). */
function copyTree(from: Backend, to: Backend, rel = ''): void {
  for (const e of from.readdir(rel).entries) {
    const p = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.filetype === FILETYPE.DIRECTORY) {
      try {
        to.mkdir(p);
      } catch (error) {
        if (!(error instanceof WasiError && error.errno === ERRNO.EXIST) && nodeErrorCode(error) !== 'EEXIST') throw error;
      }
      copyTree(from, to, p);
    } else if (e.filetype === FILETYPE.REGULAR_FILE) {
      const src = from.open(p, { read: true, write: false, create: false, exclusive: false, truncate: false, directory: false, follow: false });
      const dst = to.open(p, { read: false, write: true, create: true, exclusive: false, truncate: true, directory: false, follow: false });
      if (src.kind !== 'file' || dst.kind !== 'file') throw new WasiError(ERRNO.ISDIR, p);
      try {
        const st = src.io.stat();
        const data = readWhole(src.io, st.size);
        dst.io.pwrite(data, 0, data.length, 0);
        dst.io.setTimes(st.atim, st.mtim);
      } finally {
        src.io.close();
        dst.io.close();
      }
    } else if (e.filetype === FILETYPE.SYMBOLIC_LINK) {
      // The link itself, not what it points to (which may lie outside the mount, or nowhere).
      to.symlink(from.readlink(p), p);
    } else {
      throw new WasiError(ERRNO.NOTSUP, `${p}: only directories, regular files and symlinks can be carried`);
    }
  }
}

/** The whole WASI state as JSON plus file blobs. Reads only: the host is unchanged. */
export function captureHost(cx: HostContext): HostCapture {
  const busy = cx.sockets?.busy();
  if (busy !== undefined) {
    throw new WmigError('BUSY', `cannot freeze with ${busy}: wmig freezes servers between connections (the process keeps running)`);
  }
  const files: Uint8Array[] = [];
  const mounts: MountState[] = [...cx.mounts.values()].map(({ spec, backend }) => {
    let memfs;
    if (backend instanceof MemFs) {
      memfs = backend.serialize(files);
    } else if (spec.carry) {
      const image = new MemFs();
      try {
        copyTree(backend, image);
      } catch (e) {
        throw new WmigError('CANT_WRITE', `carried mount ${spec.guestPath}: ${(e as Error).message}`);
      }
      memfs = image.serialize(files);
    }
    return {
      guestPath: spec.guestPath,
      kind: spec.kind,
      ...(spec.hostPath !== undefined ? { hostPath: spec.hostPath } : {}),
      readOnly: spec.readOnly === true,
      ...(spec.carry ? { carry: true } : {}),
      ...(memfs !== undefined ? { memfs } : {}),
    };
  });
  /** Blob index by the file's dev:ino: handles that share a detached file share its blob. */
  const detachedBlobs = new Map<string, number>();
  const handles: HandleState[] = cx.table.entries().map(([fd]) => {
    // get(), not the entry as opened: a directory opened as a file is recorded as the directory.
    const h = cx.table.get(fd);
    const base = { fd, fdflags: h.fdflags, rightsBase: String(h.rightsBase), rightsInheriting: String(h.rightsInheriting) };
    switch (h.kind) {
      case 'stdio': {
        const pending = h.pending !== undefined && h.pending.length > 0 ? { pending: Buffer.from(h.pending).toString('base64') } : {};
        return { ...base, kind: 'stdio', stream: h.stream, offset: h.offset, ...pending };
      }
      case 'preopen':
        return { ...base, kind: h.kind, mount: h.mount.spec.guestPath, path: h.rel };
      case 'dir': {
        const gone = isDirectory(h.mount.backend, h.rel) ? {} : { gone: true };
        return { ...base, kind: h.kind, mount: h.mount.spec.guestPath, path: h.rel, ...gone };
      }
      case 'file': {
        const st = h.io.stat();
        // A host file whose name no longer leads to it (unlinked while open, or moved or replaced by
        // another process) cannot be re-opened by name on thaw: its bytes travel instead. (A memfs
        // keeps such a file by inode in its image.)
        const state = { ...base, kind: 'file' as const, mount: h.mount.spec.guestPath, path: h.rel, offset: h.offset, ino: String(st.ino) };
        if (h.mount.backend instanceof MemFs || (st.nlink > 0n && namesFile(h.mount.backend, h.rel, st.ino))) return state;
        const key = `${st.dev}:${st.ino}`;
        const detached = detachedBlobs.get(key) ?? files.push(readWhole(h.io, st.size)) - 1;
        detachedBlobs.set(key, detached);
        return { ...state, detached };
      }
      case 'listener':
        return { ...base, kind: 'listener', address: h.address };
      case 'socket':
        throw new WmigError('BUSY', `fd ${fd} is an open socket connection`);
    }
  });
  const host: HostState = {
    version: HOST_STATE_VERSION,
    args: [...cx.args],
    env: cx.env.map(([k, v]) => [k, v]),
    mounts,
    handles,
    monotonicNs: String(cx.clock.monotonic()),
    ...(cx.clock instanceof DeterministicClock && cx.entropy instanceof SeededEntropy
      ? { deterministic: { seed: cx.entropy.seed, elapsedNs: String(cx.clock.elapsed), randomPosition: cx.entropy.position } }
      : {}),
    ...(cx.pendingPoll !== undefined ? { pendingPoll: { key: cx.pendingPoll.key, deadlines: { ...cx.pendingPoll.deadlines } } } : {}),
  };
  return { host, files };
}

/** The listening addresses a snapshot's listeners had, in fd order (thaw binds one per entry). */
export function snapshotListeners(host: unknown): string[] {
  const state = parseHostState(host);
  return state.handles
    .filter((h): h is Extract<HandleState, { kind: 'listener' }> => h.kind === 'listener')
    .sort((a, b) => a.fd - b.fd)
    .map((h) => h.address);
}

function stdioHandles(stdio: StdioSpec): StdioHandle[] {
  const fds = [stdio.stdin, stdio.stdout, stdio.stderr];
  return ([0, 1, 2] as const).map((stream) => ({
    kind: 'stdio', stream, hostFd: fds[stream]!, offset: 0, fdflags: 0,
    rightsBase: stream === 0 ? RIGHTS_STDIN : RIGHTS_STDOUT, rightsInheriting: 0n,
  }));
}

/** The host directory as a backend, or why it cannot be one ("not found", "not a directory", …). */
function bindHostFs(hostPath: string): HostFs | string {
  try {
    return new HostFs(hostPath);
  } catch (e) {
    const code = nodeErrorCode(e);
    if (code === undefined) throw e;
    return code === 'ENOENT' ? 'not found' : code === 'ENOTDIR' ? 'not a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
  }
}

export function freshParts(config: WasiConfig): HostParts {
  const table = new HandleTable();
  for (const h of stdioHandles(config.stdio ?? DEFAULT_STDIO)) table.add(h);
  const mounts = new Map<string, Mount>();
  for (const spec of config.mounts) {
    if (mounts.has(spec.guestPath)) throw new WmigError('USAGE', `mount ${spec.guestPath} given twice`);
    let backend: Backend;
    if (spec.kind === 'memory') {
      backend = new MemFs();
    } else {
      if (spec.hostPath === undefined) throw new WmigError('USAGE', `mount ${spec.guestPath}: no host directory given`);
      const hostFs = bindHostFs(spec.hostPath);
      if (typeof hostFs === 'string') throw new WmigError('NO_INPUT', `host directory ${spec.hostPath}: ${hostFs}`);
      backend = hostFs;
    }
    const mount = { spec: { ...spec }, backend };
    mounts.set(spec.guestPath, mount);
    // Preopens take fds 3, 4, … in mount order.
    const rights = preopenRights(spec.readOnly === true);
    table.add({ kind: 'preopen', mount, rel: '', fdflags: 0, rightsBase: rights, rightsInheriting: rights });
  }
  // Listening sockets come right after the preopens, like wasmtime's --tcplisten.
  (config.sockets?.addresses ?? []).forEach((address, index) => {
    table.add({ kind: 'listener', address, index, fdflags: 0, rightsBase: RIGHTS_LISTENER, rightsInheriting: 0n });
  });
  const det = config.deterministic;
  return {
    args: [...config.args],
    env: config.env.map(([k, v]) => [k, v]),
    mounts,
    table,
    clock: det ? new DeterministicClock(0n) : new VirtualClock(0n),
    entropy: det ? new SeededEntropy(det.seed) : SYSTEM_ENTROPY,
  };
}

/**
 * Re-creates a captured host's parts on this machine. Every mount and open file is re-bound here,
 * before the guest runs, so a missing directory or file fails the thaw rather than the guest.
 */
export function restoreParts(host: unknown, files: Uint8Array[], options: WasiRestoreOptions): { parts: HostParts; state: HostState } {
  const state = parseHostState(host);
  const stdio = options.stdio ?? DEFAULT_STDIO;
  const overrides = new Map((options.mounts ?? []).map((m) => [m.guestPath, m]));
  for (const g of overrides.keys()) {
    if (!state.mounts.some((m) => m.guestPath === g)) {
      throw new WmigError('REBIND_FAILED', `mount ${g}: the snapshot has no such mount`);
    }
  }
  const mounts = new Map<string, Mount>();
  for (const m of state.mounts) mounts.set(m.guestPath, rebindMount(m, overrides.get(m.guestPath), files));
  const listenerFds = state.handles.filter((h) => h.kind === 'listener').map((h) => h.fd).sort((a, b) => a - b);
  const addresses = options.sockets?.addresses ?? [];
  if (listenerFds.length > addresses.length) {
    throw new WmigError('REBIND_FAILED', `the snapshot has ${listenerFds.length} listening socket(s) but only ${addresses.length} address(es) were bound`);
  }
  const table = new HandleTable();
  try {
    const nameless = new Map<number, NamelessHostFile>();
    for (const h of state.handles) table.set(h.fd, rebindHandle(h, mounts, stdio, listenerFds, addresses, files, nameless));
  } catch (e) {
    table.closeAll();
    throw e;
  }
  const det = state.deterministic;
  const parts: HostParts = {
    args: state.args,
    env: state.env,
    mounts,
    table,
    clock: det ? new DeterministicClock(BigInt(det.elapsedNs)) : new VirtualClock(BigInt(state.monotonicNs)),
    entropy: det ? new SeededEntropy(det.seed, det.randomPosition) : SYSTEM_ENTROPY,
    ...(state.pendingPoll ? { pendingPoll: state.pendingPoll } : {}),
  };
  return { parts, state };
}

function rebindMount(m: MountState, override: MountSpec | undefined, files: Uint8Array[]): Mount {
  const image = (): MemFs => {
    try {
      return MemFs.deserialize(m.memfs!, files);
    } catch (e) {
      if (e instanceof WasiError) throw new WmigError('CORRUPT_SNAPSHOT', `mount ${m.guestPath}: ${e.message}`);
      throw e;
    }
  };
  if (m.kind === 'memory') {
    if (override !== undefined && override.kind !== 'memory') {
      throw new WmigError('REBIND_FAILED', `mount ${m.guestPath}: it is in-memory in the snapshot and cannot become a host directory`);
    }
    return { spec: { guestPath: m.guestPath, kind: 'memory', readOnly: override?.readOnly ?? m.readOnly }, backend: image() };
  }
  if (override !== undefined && override.kind !== 'host') {
    throw new WmigError('REBIND_FAILED', `mount ${m.guestPath}: it is a host directory in the snapshot and cannot become in-memory`);
  }
  const readOnly = override?.readOnly ?? m.readOnly;
  if (m.carry && m.memfs !== undefined) {
    // A carried mount: its files travel in the snapshot and are written into the bound directory
    // (created if missing), or into a fresh temporary directory when none is named.
    let hostPath = override?.hostPath;
    try {
      if (hostPath === undefined) hostPath = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'wmig-carry-'));
      else fs.mkdirSync(hostPath, { recursive: true });
      const backend = new HostFs(hostPath);
      copyTree(image(), backend);
      return { spec: { guestPath: m.guestPath, kind: 'host', hostPath, readOnly, carry: true }, backend };
    } catch (e) {
      if (e instanceof WmigError) throw e;
      throw new WmigError('REBIND_FAILED', `carried mount ${m.guestPath}: cannot materialize it in ${hostPath}: ${(e as Error).message}`);
    }
  }
  const hostPath = override?.hostPath ?? m.hostPath!;
  const backend = bindHostFs(hostPath);
  if (typeof backend === 'string') throw new WmigError('REBIND_FAILED', `mount ${m.guestPath}: host directory ${hostPath}: ${backend}`);
  return { spec: { guestPath: m.guestPath, kind: 'host', hostPath, readOnly, ...(m.carry ? { carry: true } : {}) }, backend };
}

function rebindHandle(
  h: HandleState, mounts: Map<string, Mount>, stdio: StdioSpec, listenerFds: number[], addresses: string[],
  files: Uint8Array[], nameless: Map<number, NamelessHostFile>,
): Handle {
  const rights = { fdflags: h.fdflags, rightsBase: BigInt(h.rightsBase), rightsInheriting: BigInt(h.rightsInheriting) };
  if (h.kind === 'stdio') {
    const hostFd = [stdio.stdin, stdio.stdout, stdio.stderr][h.stream]!;
    const pending = h.pending !== undefined ? { pending: new Uint8Array(Buffer.from(h.pending, 'base64')) } : {};
    return { kind: 'stdio', stream: h.stream, hostFd, offset: h.offset, ...pending, ...rights };
  }
  if (h.kind === 'listener') {
    const index = listenerFds.indexOf(h.fd);
    return { kind: 'listener', address: addresses[index]!, index, ...rights };
  }
  const mount = mounts.get(h.mount)!;
  const guestPath = h.path === '' ? h.mount : `${h.mount.replace(/\/$/, '')}/${h.path}`;
  const fail = (why: string) => new WmigError('REBIND_FAILED', `fd ${h.fd} (${guestPath}): ${why}`);
  /** Runs a re-binding step; a missing path or other file system error fails the thaw. */
  const attempt = <T>(step: () => T): T => {
    try {
      return step();
    } catch (e) {
      const code = nodeErrorCode(e);
      if (code === 'ENOENT' || (e instanceof WasiError && e.errno === ERRNO.NOENT)) throw fail('not found on this machine');
      if (code !== undefined || e instanceof WasiError) throw fail((e as Error).message);
      throw e;
    }
  };
  if (h.kind !== 'file') {
    // A directory removed while open is looked for nowhere: calls through it fail as they did.
    const gone = h.kind === 'dir' && h.gone === true;
    if (!gone && attempt(() => mount.backend.stat(h.path, true)).filetype !== FILETYPE.DIRECTORY) throw fail('is not a directory on this machine');
    return { kind: h.kind, mount, rel: h.path, ...rights };
  }
  if (h.detached !== undefined) {
    const blob = h.detached;
    const contents = files[blob];
    if (contents === undefined) throw new WmigError('CORRUPT_SNAPSHOT', `fd ${h.fd}: file blob ${blob} missing`);
    const file = nameless.get(blob) ?? attempt(() => new NamelessHostFile(contents));
    nameless.set(blob, file);
    return { kind: 'file', mount, rel: h.path, offset: h.offset, io: attempt(() => file.open()), mayBeDirectory: false, ...rights };
  }
  const { read, write } = accessOf(rights.rightsBase, h.fdflags);
  if (write && mount.spec.readOnly) throw fail(`open for writing but mount ${h.mount} is read-only here`);
  const opened = attempt(() => mount.backend.reopen(h.path, BigInt(h.ino), { read, write }));
  if (opened.kind !== 'file') throw fail('is a directory on this machine');
  return { kind: 'file', mount, rel: h.path, offset: h.offset, io: opened.io, mayBeDirectory: opened.mayBeDirectory, ...rights };
}
