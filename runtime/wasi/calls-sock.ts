/** sock_* calls on pre-opened listeners (`--listen`) and the connections they accept. */
import { type CallTable, type HostContext, u32 } from './context.js';
import { ERRNO, FDFLAGS, RIFLAGS, SDFLAGS_ALL } from './defs.js';
import type { Handle, SocketHandle } from './handles.js';
import { gather, iovecsLength, scatter } from './memory.js';
import { NEEDS, RIGHTS_SOCKET, checkRights } from './rights.js';

/** A connection handle holding `rights`, or the errno for what `h` is instead. */
function connection(h: Handle, rights: bigint): SocketHandle | number {
  if (h.kind !== 'socket') return h.kind === 'listener' ? ERRNO.NOTCONN : ERRNO.NOTSOCK;
  checkRights(h, rights);
  return h;
}

export function sockCalls(cx: HostContext): CallTable {
  const { mem, table } = cx;
  return {
    sock_accept: (fd: number, flags: number, out: number) => {
      const h = table.get(fd);
      if (h.kind !== 'listener') return ERRNO.NOTSOCK;
      checkRights(h, NEEDS.sock_accept);
      if (flags & ~FDFLAGS.NONBLOCK) return ERRNO.INVAL;
      mem.check(u32(out), 4);
      const nonblocking = (h.fdflags & FDFLAGS.NONBLOCK) !== 0;
      const conn = cx.sockets!.accept(cx, h, nonblocking);
      const s: SocketHandle = { kind: 'socket', conn, fdflags: flags & FDFLAGS.NONBLOCK, rightsBase: RIGHTS_SOCKET, rightsInheriting: 0n };
      let accepted: number;
      try {
        accepted = table.add(s);
      } catch (e) {
        conn.close(); // MFILE: the connection has no fd to reach the guest through
        throw e;
      }
      mem.putU32(u32(out), accepted);
      return ERRNO.SUCCESS;
    },
    sock_recv: (fd: number, iovs: number, count: number, riFlags: number, outLen: number, outFlags: number) => {
      const h = connection(table.get(fd), NEEDS.sock_recv);
      if (typeof h === 'number') return h;
      const list = mem.iovecs(u32(iovs), count >>> 0);
      mem.check(u32(outLen), 4);
      mem.check(u32(outFlags), 2);
      const options = { peek: (riFlags & RIFLAGS.RECV_PEEK) !== 0, waitAll: (riFlags & RIFLAGS.RECV_WAITALL) !== 0 };
      const n = scatter(mem.u8, list, (tmp) => cx.sockets!.recv(cx, h, tmp, options));
      mem.putU32(u32(outLen), n);
      mem.dv.setUint16(u32(outFlags), 0, true);
      return ERRNO.SUCCESS;
    },
    sock_send: (fd: number, iovs: number, count: number, _siFlags: number, outLen: number) => {
      const h = connection(table.get(fd), NEEDS.sock_send);
      if (typeof h === 'number') return h;
      const list = mem.iovecs(u32(iovs), count >>> 0);
      mem.check(u32(outLen), 4);
      mem.putU32(u32(outLen), cx.sockets!.send(cx, h, iovecsLength(list), (n) => gather(mem.u8, list, n)));
      return ERRNO.SUCCESS;
    },
    sock_shutdown: (fd: number, how: number) => {
      const h = table.get(fd);
      if (how & ~SDFLAGS_ALL) return ERRNO.INVAL;
      const c = connection(h, NEEDS.sock_shutdown);
      if (typeof c === 'number') return c;
      if (how === 0) return ERRNO.INVAL;
      cx.sockets!.shutdown(c, how);
      return ERRNO.SUCCESS;
    },
  };
}
