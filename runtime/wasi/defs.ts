/**
 * wasi_snapshot_preview1 constants and struct layouts (from the preview1 witx), in one place.
 * All multi-byte fields are little-endian; pointers are u32 offsets into linear memory.
 */

export const ERRNO = {
  SUCCESS: 0, TOOBIG: 1, ACCES: 2, ADDRINUSE: 3, ADDRNOTAVAIL: 4, AFNOSUPPORT: 5, AGAIN: 6,
  ALREADY: 7, BADF: 8, BADMSG: 9, BUSY: 10, CANCELED: 11, CHILD: 12, CONNABORTED: 13,
  CONNREFUSED: 14, CONNRESET: 15, DEADLK: 16, DESTADDRREQ: 17, DOM: 18, DQUOT: 19, EXIST: 20,
  FAULT: 21, FBIG: 22, HOSTUNREACH: 23, IDRM: 24, ILSEQ: 25, INPROGRESS: 26, INTR: 27, INVAL: 28,
  IO: 29, ISCONN: 30, ISDIR: 31, LOOP: 32, MFILE: 33, MLINK: 34, MSGSIZE: 35, MULTIHOP: 36,
  NAMETOOLONG: 37, NETDOWN: 38, NETRESET: 39, NETUNREACH: 40, NFILE: 41, NOBUFS: 42, NODEV: 43,
  NOENT: 44, NOEXEC: 45, NOLCK: 46, NOLINK: 47, NOMEM: 48, NOMSG: 49, NOPROTOOPT: 50, NOSPC: 51,
  NOSYS: 52, NOTCONN: 53, NOTDIR: 54, NOTEMPTY: 55, NOTRECOVERABLE: 56, NOTSOCK: 57, NOTSUP: 58,
  NOTTY: 59, NXIO: 60, OVERFLOW: 61, OWNERDEAD: 62, PERM: 63, PIPE: 64, PROTO: 65,
  PROTONOSUPPORT: 66, PROTOTYPE: 67, RANGE: 68, ROFS: 69, SPIPE: 70, SRCH: 71, STALE: 72,
  TIMEDOUT: 73, TXTBSY: 74, XDEV: 75, NOTCAPABLE: 76,
} as const;

export const FILETYPE = {
  UNKNOWN: 0, BLOCK_DEVICE: 1, CHARACTER_DEVICE: 2, DIRECTORY: 3, REGULAR_FILE: 4,
  SOCKET_DGRAM: 5, SOCKET_STREAM: 6, SYMBOLIC_LINK: 7,
} as const;

/** Rights are a u64 bitset; bigint so they can be combined without losing bits. */
export const RIGHTS = {
  FD_DATASYNC: 1n << 0n, FD_READ: 1n << 1n, FD_SEEK: 1n << 2n, FD_FDSTAT_SET_FLAGS: 1n << 3n,
  FD_SYNC: 1n << 4n, FD_TELL: 1n << 5n, FD_WRITE: 1n << 6n, FD_ADVISE: 1n << 7n,
  FD_ALLOCATE: 1n << 8n, PATH_CREATE_DIRECTORY: 1n << 9n, PATH_CREATE_FILE: 1n << 10n,
  PATH_LINK_SOURCE: 1n << 11n, PATH_LINK_TARGET: 1n << 12n, PATH_OPEN: 1n << 13n,
  FD_READDIR: 1n << 14n, PATH_READLINK: 1n << 15n, PATH_RENAME_SOURCE: 1n << 16n,
  PATH_RENAME_TARGET: 1n << 17n, PATH_FILESTAT_GET: 1n << 18n, PATH_FILESTAT_SET_SIZE: 1n << 19n,
  PATH_FILESTAT_SET_TIMES: 1n << 20n, FD_FILESTAT_GET: 1n << 21n, FD_FILESTAT_SET_SIZE: 1n << 22n,
  FD_FILESTAT_SET_TIMES: 1n << 23n, PATH_SYMLINK: 1n << 24n, PATH_REMOVE_DIRECTORY: 1n << 25n,
  PATH_UNLINK_FILE: 1n << 26n, POLL_FD_READWRITE: 1n << 27n, SOCK_SHUTDOWN: 1n << 28n,
  SOCK_ACCEPT: 1n << 29n,
} as const;

export const RIGHTS_ALL = (1n << 30n) - 1n;

export const FDFLAGS = { APPEND: 1, DSYNC: 2, NONBLOCK: 4, RSYNC: 8, SYNC: 16 } as const;
export const FDFLAGS_ALL = 0x1f;

export const OFLAGS = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
export const LOOKUPFLAGS = { SYMLINK_FOLLOW: 1 } as const;
export const WHENCE = { SET: 0, CUR: 1, END: 2 } as const;
export const CLOCKID = { REALTIME: 0, MONOTONIC: 1, PROCESS_CPUTIME_ID: 2, THREAD_CPUTIME_ID: 3 } as const;
export const EVENTTYPE = { CLOCK: 0, FD_READ: 1, FD_WRITE: 2 } as const;
export const SUBCLOCKFLAGS = { ABSTIME: 1 } as const;
export const FSTFLAGS = { ATIM: 1, ATIM_NOW: 2, MTIM: 4, MTIM_NOW: 8 } as const;
export const PREOPENTYPE_DIR = 0;
/** advice values are 0 (normal) … 5 (noreuse). */
export const ADVICE_MAX = 5;
export const SDFLAGS_ALL = 3;
/** sock_recv's ri_flags. */
export const RIFLAGS = { RECV_PEEK: 1, RECV_WAITALL: 2 } as const;

export const SIZEOF = {
  iovec: 8, fdstat: 24, filestat: 64, prestat: 8, dirent: 24, subscription: 48, event: 32,
} as const;

export interface Iovec {
  buf: number;
  len: number;
}

/** Reads an iovec/ciovec array. */
export function readIovecs(dv: DataView, ptr: number, count: number): Iovec[] {
  const out: Iovec[] = [];
  for (let i = 0; i < count; i++) {
    const at = ptr + i * SIZEOF.iovec;
    out.push({ buf: dv.getUint32(at, true), len: dv.getUint32(at + 4, true) });
  }
  return out;
}

export interface Fdstat {
  filetype: number;
  flags: number;
  rightsBase: bigint;
  rightsInheriting: bigint;
}

export function writeFdstat(dv: DataView, ptr: number, s: Fdstat): void {
  dv.setUint8(ptr, s.filetype);
  dv.setUint8(ptr + 1, 0);
  dv.setUint16(ptr + 2, s.flags, true);
  dv.setUint32(ptr + 4, 0, true);
  dv.setBigUint64(ptr + 8, s.rightsBase, true);
  dv.setBigUint64(ptr + 16, s.rightsInheriting, true);
}

export interface Filestat {
  dev: bigint;
  ino: bigint;
  filetype: number;
  nlink: bigint;
  size: bigint;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
}

export function writeFilestat(dv: DataView, ptr: number, s: Filestat): void {
  dv.setBigUint64(ptr, s.dev, true);
  dv.setBigUint64(ptr + 8, s.ino, true);
  dv.setUint8(ptr + 16, s.filetype);
  for (let i = 17; i < 24; i++) dv.setUint8(ptr + i, 0);
  dv.setBigUint64(ptr + 24, s.nlink, true);
  dv.setBigUint64(ptr + 32, s.size, true);
  dv.setBigUint64(ptr + 40, s.atim, true);
  dv.setBigUint64(ptr + 48, s.mtim, true);
  dv.setBigUint64(ptr + 56, s.ctim, true);
}

export function writePrestatDir(dv: DataView, ptr: number, nameLen: number): void {
  dv.setUint32(ptr, PREOPENTYPE_DIR, true); // tag u8 plus padding
  dv.setUint32(ptr + 4, nameLen, true);
}

/** A dirent header (SIZEOF.dirent bytes, padding zeroed); its name follows it. */
export function writeDirentHeader(dv: DataView, ptr: number, next: bigint, ino: bigint, filetype: number, nameLen: number): void {
  dv.setBigUint64(ptr, next, true);
  dv.setBigUint64(ptr + 8, ino, true);
  dv.setUint32(ptr + 16, nameLen, true);
  dv.setUint32(ptr + 20, filetype, true); // u8 plus padding
}


export type Subscription =
  | { userdata: bigint; type: typeof EVENTTYPE.CLOCK; clockId: number; timeout: bigint; flags: number }
  | { userdata: bigint; type: typeof EVENTTYPE.FD_READ | typeof EVENTTYPE.FD_WRITE; fd: number };

/** Returns null for an unknown event type tag. */
export function readSubscription(dv: DataView, ptr: number): Subscription | null {
  const userdata = dv.getBigUint64(ptr, true);
  const type = dv.getUint8(ptr + 8);
  if (type === EVENTTYPE.CLOCK) {
    return {
      userdata, type,
      clockId: dv.getUint32(ptr + 16, true),
      timeout: dv.getBigUint64(ptr + 24, true),
      // precision (ptr + 32) is a hint we do not need
      flags: dv.getUint16(ptr + 40, true),
    };
  }
  if (type === EVENTTYPE.FD_READ || type === EVENTTYPE.FD_WRITE) {
    return { userdata, type, fd: dv.getUint32(ptr + 16, true) };
  }
  return null;
}

export interface Event {
  userdata: bigint;
  error: number;
  type: number;
  /** For fd events: bytes available (reads) or writable. */
  nbytes: bigint;
}

export function writeEvent(dv: DataView, ptr: number, e: Event): void {
  new Uint8Array(dv.buffer, dv.byteOffset + ptr, SIZEOF.event).fill(0);
  dv.setBigUint64(ptr, e.userdata, true);
  dv.setUint16(ptr + 8, e.error, true);
  dv.setUint8(ptr + 10, e.type);
  dv.setBigUint64(ptr + 16, e.nbytes, true);
  // eventrwflags (ptr + 24) stay 0: no hangup reporting
}
