/** args_*, environ_*, clock_*, random_get, sched_yield, proc_*. */
import { CLOCK_RESOLUTION_NS } from './clock.js';
import { type CallTable, type HostContext, u32 } from './context.js';
import { ERRNO } from './defs.js';

/** Thrown by proc_exit; the engine catches it and ends the run with `code`. */
export class ProcExit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`proc_exit(${code})`);
    this.name = 'ProcExit';
    this.code = code;
  }
}

const utf8 = new TextEncoder();

export function envCalls(cx: HostContext): CallTable {
  const { mem } = cx;
  const putStrings = (list: string[], ptrsPtr: number, bufPtr: number) => {
    let at = u32(bufPtr);
    list.forEach((s, i) => {
      const b = utf8.encode(s);
      mem.putU32(u32(ptrsPtr) + 4 * i, at);
      mem.bytes(at, b.length + 1).set(b);
      mem.u8[at + b.length] = 0;
      at += b.length + 1;
    });
    return ERRNO.SUCCESS;
  };
  const putSizes = (list: string[], countPtr: number, sizePtr: number) => {
    mem.putU32(u32(countPtr), list.length);
    mem.putU32(u32(sizePtr), list.reduce((n, s) => n + utf8.encode(s).length + 1, 0));
    return ERRNO.SUCCESS;
  };
  const environ = () => cx.env.map(([k, v]) => `${k}=${v}`);

  return {
    args_get: (argv: number, buf: number) => putStrings(cx.args, argv, buf),
    args_sizes_get: (count: number, size: number) => putSizes(cx.args, count, size),
    environ_get: (environPtr: number, buf: number) => putStrings(environ(), environPtr, buf),
    environ_sizes_get: (count: number, size: number) => putSizes(environ(), count, size),

    clock_res_get: (id: number, out: number) => {
      cx.clock.peek(id); // validates the id
      mem.putU64(u32(out), CLOCK_RESOLUTION_NS);
      return ERRNO.SUCCESS;
    },
    clock_time_get: (id: number, _precision: bigint, out: number) => {
      mem.check(u32(out), 8);
      mem.putU64(u32(out), cx.clock.read(id));
      return ERRNO.SUCCESS;
    },
    random_get: (buf: number, len: number) => {
      cx.entropy.fill(mem.bytes(u32(buf), len >>> 0));
      return ERRNO.SUCCESS;
    },
    sched_yield: () => ERRNO.SUCCESS,
    proc_exit: (code: number) => {
      throw new ProcExit(code >>> 0);
    },
    proc_raise: () => ERRNO.NOSYS,
  };
}
