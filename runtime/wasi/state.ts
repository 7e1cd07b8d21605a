/** The WASI host's part of a snapshot: its JSON shape, and validation of untrusted input. */
import { WmigError } from '../errors.js';
import type { MemFsImage, MemNodeImage } from '../vfs/memfs.js';
import { isNormalizedRel } from '../vfs/path.js';
import { MAX_FDS } from './handles.js';

export const HOST_STATE_VERSION = 1;

export interface MountState {
  guestPath: string;
  kind: 'host' | 'memory';
  hostPath?: string;
  readOnly: boolean;
  /** A host mount whose files travel in the snapshot (in `memfs`) and are written out again on thaw. */
  carry?: boolean;
  /** Contents of a memory or carried mount; file bytes are blobs in HostCapture.files. */
  memfs?: MemFsImage;
}

interface HandleStateBase {
  fd: number;
  fdflags: number;
  /** u64 bitsets as decimal strings (JSON has no 64-bit integers). */
  rightsBase: string;
  rightsInheriting: string;
}

export type HandleState =
  | (HandleStateBase & { kind: 'stdio'; stream: 0 | 1 | 2; offset: number; pending?: string })
  | (HandleStateBase & { kind: 'listener'; address: string })
  | (HandleStateBase & {
    kind: 'preopen' | 'dir'; mount: string; path: string;
    /** A directory removed while open: nothing to find on thaw, and calls through it fail as before. */
    gone?: boolean;
  })
  | (HandleStateBase & {
    kind: 'file'; mount: string; path: string; offset: number; ino: string;
    /**
     * On a host mount, a file no name leads to any more (unlinked while open, or moved or replaced
     * by another process): the index of its contents in the blobs, shared by the handles it had.
     */
    detached?: number;
  });

export interface HostState {
  version: number;
  args: string[];
  env: [string, string][];
  mounts: MountState[];
  handles: HandleState[];
  /** Guest-visible monotonic clock at capture, ns as a decimal string. */
  monotonicNs: string;
  /** Deterministic mode: the virtual clock and the seeded random stream's position. */
  deterministic?: { seed: string; elapsedNs: string; randomPosition: number };
  /** A poll_oneoff that gave way to a freeze: its absolute deadlines, for the re-run after thaw. */
  pendingPoll?: { key: string; deadlines: Record<string, string> };
}

class Corrupt extends Error {}

function check(cond: boolean, what: string): asserts cond {
  if (!cond) throw new Corrupt(what);
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const isNat = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const isU64Str = (x: unknown): x is string => isStr(x) && /^\d{1,20}$/.test(x);
const isI64Str = (x: unknown): x is string => isStr(x) && /^-?\d{1,20}$/.test(x);

function checkMemfs(m: unknown, where: string): void {
  check(isObj(m) && isNat(m.root) && isNat(m.nextIno) && Array.isArray(m.nodes), `${where}: memfs`);
  for (const n of m.nodes as unknown[]) {
    check(isObj(n) && isNat(n.ino) && isI64Str(n.atim) && isI64Str(n.mtim) && isI64Str(n.ctim), `${where}: memfs node`);
    const node = n as unknown as MemNodeImage;
    if (node.kind === 'dir') {
      check(Array.isArray(node.entries) && node.entries.every((e) => Array.isArray(e) && e.length === 2 && isStr(e[0]) && isNat(e[1])), `${where}: memfs dir entries`);
    } else if (node.kind === 'symlink') {
      check(isStr(node.target) && isNat(node.nlink), `${where}: memfs symlink`);
    } else {
      check(node.kind === 'file' && isNat(node.blob) && isNat(node.nlink), `${where}: memfs node kind`);
    }
  }
}

function checkHandle(h: unknown, mounts: Set<string>): void {
  check(isObj(h) && isNat(h.fd), 'handle');
  const where = `fd ${h.fd}`;
  check(h.fd < MAX_FDS, `${where}: not below ${MAX_FDS}`);
  check(isNat(h.fdflags) && isU64Str(h.rightsBase) && isU64Str(h.rightsInheriting), `${where}: flags or rights`);
  if (h.kind === 'stdio') {
    check((h.stream === 0 || h.stream === 1 || h.stream === 2) && isNat(h.offset), `${where}: stdio`);
    check(h.pending === undefined || isStr(h.pending), `${where}: stdio pending`);
    return;
  }
  if (h.kind === 'listener') {
    check(isStr(h.address), `${where}: listener address`);
    return;
  }
  check(h.kind === 'preopen' || h.kind === 'dir' || h.kind === 'file', `${where}: kind`);
  check(isStr(h.mount) && mounts.has(h.mount) && isStr(h.path), `${where}: mount/path`);
  // Backends take paths as resolveGuestPath makes them: a ".." here would name the mount's parent.
  check(h.kind === 'preopen' ? h.path === '' : isNormalizedRel(h.path), `${where}: path ${JSON.stringify(h.path)} is not a normalized path in its mount`);
  if (h.kind === 'dir') check(h.gone === undefined || typeof h.gone === 'boolean', `${where}: gone`);
  if (h.kind === 'file') check(isNat(h.offset) && isU64Str(h.ino) && (h.detached === undefined || isNat(h.detached)), `${where}: file offset/ino/detached`);
}

/** Validates the shape of `x` (from a snapshot) and returns it typed. */
export function parseHostState(x: unknown): HostState {
  try {
    check(isObj(x), 'not an object');
    check(x.version === HOST_STATE_VERSION, `unknown host state version ${String(x.version)}`);
    check(Array.isArray(x.args) && x.args.every(isStr), 'args');
    check(Array.isArray(x.env) && x.env.every((e) => Array.isArray(e) && e.length === 2 && isStr(e[0]) && isStr(e[1])), 'env');
    check(Array.isArray(x.mounts), 'mounts');
    const guestPaths = new Set<string>();
    for (const m of x.mounts as unknown[]) {
      check(isObj(m) && isStr(m.guestPath) && !guestPaths.has(m.guestPath) && typeof m.readOnly === 'boolean', 'mount');
      guestPaths.add(m.guestPath);
      if (m.kind === 'host') {
        check(isStr(m.hostPath), `mount ${m.guestPath}: hostPath`);
        check(m.carry === undefined || typeof m.carry === 'boolean', `mount ${m.guestPath}: carry`);
        if (m.carry === true) checkMemfs(m.memfs, `mount ${m.guestPath}`);
      } else {
        check(m.kind === 'memory', `mount ${m.guestPath}: kind`);
        checkMemfs(m.memfs, `mount ${m.guestPath}`);
      }
    }
    check(Array.isArray(x.handles), 'handles');
    const fds = new Set<number>();
    for (const h of x.handles as unknown[]) {
      checkHandle(h, guestPaths);
      const fd = (h as HandleState).fd;
      check(!fds.has(fd), `fd ${fd} twice`);
      fds.add(fd);
    }
    check(isU64Str(x.monotonicNs), 'monotonicNs');
    if (x.deterministic !== undefined) {
      const d = x.deterministic;
      check(isObj(d) && isStr(d.seed) && isU64Str(d.elapsedNs) && isNat(d.randomPosition), 'deterministic');
    }
    if (x.pendingPoll !== undefined) {
      const p = x.pendingPoll;
      check(isObj(p) && isStr(p.key) && isObj(p.deadlines) && Object.values(p.deadlines).every(isI64Str), 'pendingPoll');
    }
    return x as unknown as HostState;
  } catch (e) {
    if (e instanceof Corrupt) throw new WmigError('CORRUPT_SNAPSHOT', `malformed WASI host state: ${e.message}`);
    throw e;
  }
}
