/** The one place where failures become WASI errno values. */
import { ERRNO } from './defs.js';

/** A failure that already has a WASI errno (thrown by the VFS and by argument checks). */
export class WasiError extends Error {
  readonly errno: number;
  constructor(errno: number, message?: string) {
    super(message ?? `wasi errno ${errno}`);
    this.name = 'WasiError';
    this.errno = errno;
  }
}

const FROM_NODE_CODE: Record<string, number> = {
  E2BIG: ERRNO.TOOBIG,
  EACCES: ERRNO.ACCES,
  EAGAIN: ERRNO.AGAIN,
  EWOULDBLOCK: ERRNO.AGAIN,
  EBADF: ERRNO.BADF,
  EBUSY: ERRNO.BUSY,
  EEXIST: ERRNO.EXIST,
  EFAULT: ERRNO.FAULT,
  EFBIG: ERRNO.FBIG,
  EINTR: ERRNO.INTR,
  EINVAL: ERRNO.INVAL,
  EIO: ERRNO.IO,
  EISDIR: ERRNO.ISDIR,
  ELOOP: ERRNO.LOOP,
  EMFILE: ERRNO.MFILE,
  EMLINK: ERRNO.MLINK,
  ENAMETOOLONG: ERRNO.NAMETOOLONG,
  ENFILE: ERRNO.NFILE,
  ENODEV: ERRNO.NODEV,
  ENOENT: ERRNO.NOENT,
  ENOMEM: ERRNO.NOMEM,
  ENOSPC: ERRNO.NOSPC,
  ENOSYS: ERRNO.NOSYS,
  ENOTDIR: ERRNO.NOTDIR,
  ENOTEMPTY: ERRNO.NOTEMPTY,
  ENOTSUP: ERRNO.NOTSUP,
  EOPNOTSUPP: ERRNO.NOTSUP,
  ENXIO: ERRNO.NXIO,
  EOVERFLOW: ERRNO.OVERFLOW,
  EPERM: ERRNO.PERM,
  EPIPE: ERRNO.PIPE,
  EROFS: ERRNO.ROFS,
  ESPIPE: ERRNO.SPIPE,
  ETXTBSY: ERRNO.TXTBSY,
  EXDEV: ERRNO.XDEV,
  EDQUOT: ERRNO.DQUOT,
  ENOTSOCK: ERRNO.NOTSOCK,
};

/** A Node system error (from fs.*Sync): has a string `code` like "ENOENT". */
export function nodeErrorCode(e: unknown): string | undefined {
  if (e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string') {
    const code = (e as NodeJS.ErrnoException).code!;
    if (/^E[A-Z0-9]+$/.test(code)) return code;
  }
  return undefined;
}

/**
 * Maps a failure to an errno. Anything that is neither a WasiError nor a Node system error
 * (ProcExit, bugs) is rethrown: turning those into errno values would hide them from the engine.
 */
export function errnoOf(e: unknown): number {
  if (e instanceof WasiError) return e.errno;
  const code = nodeErrorCode(e);
  if (code !== undefined) return FROM_NODE_CODE[code] ?? ERRNO.IO;
  throw e;
}
