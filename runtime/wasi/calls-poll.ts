/**
 * poll_oneoff. Clock subscriptions sleep (the sleep wakes for a freeze request; the absolute
 * deadlines are kept in the host state, so after a thaw the re-run call sleeps only what is left);
 * fd subscriptions report real readiness: files always, stdin when bytes were taken for it (kept
 * for the next fd_read) or at its end, sockets when the bridge has a connection or data (reading)
 * or when the connection is below its send high-water mark (writing). A poll that waits sleeps
 * until a deadline or a bridge message, never in slices.
 */
import { FreezeInterrupt } from '../engine/interrupt.js';
import { type CallTable, type HostContext, u32 } from './context.js';
import { ERRNO, EVENTTYPE, SIZEOF, SUBCLOCKFLAGS, readSubscription, writeEvent, type Event } from './defs.js';
import { NEEDS } from './rights.js';
import { stdinReadiness } from './stdin.js';

interface Timer {
  index: number;
  userdata: bigint;
  clockId: number;
  deadline: bigint;
}

interface FdSub {
  userdata: bigint;
  type: number;
  fd: number;
}

/** Readiness of one fd subscription now: an event, or null when not ready. Has no effect on the guest. */
function readiness(cx: HostContext, s: FdSub): Event | null {
  const event = { userdata: s.userdata, error: ERRNO.SUCCESS, type: s.type, nbytes: 0n };
  if (!cx.table.has(s.fd)) return { ...event, error: ERRNO.BADF };
  const h = cx.table.get(s.fd);
  const reading = s.type === EVENTTYPE.FD_READ;
  const needs = NEEDS.poll_oneoff;
  if ((!reading ? needs.write : h.kind === 'listener' ? needs.accept : needs.read) & ~h.rightsBase) {
    return { ...event, error: ERRNO.NOTCAPABLE };
  }
  switch (h.kind) {
    case 'file': {
      if (!reading) return event;
      const left = h.io.stat().size - BigInt(h.offset);
      return { ...event, nbytes: left > 0n ? left : 0n };
    }
    case 'stdio': {
      if (!reading || h.stream !== 0) return event;
      const n = stdinReadiness(cx, h);
      return n === null ? null : { ...event, nbytes: BigInt(n) };
    }
    case 'listener': {
      if (!reading) return { ...event, error: ERRNO.NOTSUP };
      const waiting = cx.sockets?.waiting(h) ?? 0;
      return waiting > 0 ? { ...event, nbytes: BigInt(waiting) } : null;
    }
    case 'socket': {
      const n = reading ? cx.sockets!.available(h) : cx.sockets!.writable(h);
      return n === null ? null : { ...event, nbytes: BigInt(n) };
    }
    default:
      return event;
  }
}

const keyOf = (cx: HostContext, inPtr: number, count: number) =>
  Buffer.from(cx.mem.bytes(inPtr, count * SIZEOF.subscription)).toString('hex');

function pollOneoff(cx: HostContext, inPtr: number, outPtr: number, count: number, neventsPtr: number): number {
  const { mem, clock } = cx;
  if (count === 0) return ERRNO.INVAL;
  mem.check(inPtr, count * SIZEOF.subscription);
  mem.check(outPtr, count * SIZEOF.event);
  mem.check(neventsPtr, 4);
  // The same call re-running after a freeze (or a refused freeze) keeps its deadlines.
  const resumed = cx.pendingPoll !== undefined && cx.pendingPoll.key === keyOf(cx, inPtr, count) ? cx.pendingPoll : undefined;
  cx.pendingPoll = undefined;
  const immediate: Event[] = [];
  const timers: Timer[] = [];
  const fds: FdSub[] = [];
  for (let i = 0; i < count; i++) {
    const s = readSubscription(mem.dv, inPtr + i * SIZEOF.subscription);
    if (s === null) return ERRNO.INVAL;
    if (s.type === EVENTTYPE.CLOCK) {
      let now: bigint;
      try {
        now = clock.peek(s.clockId);
      } catch {
        immediate.push({ userdata: s.userdata, error: ERRNO.INVAL, type: s.type, nbytes: 0n });
        continue;
      }
      const saved = resumed?.deadlines[i];
      const deadline = saved !== undefined ? BigInt(saved) : s.flags & SUBCLOCKFLAGS.ABSTIME ? s.timeout : now + s.timeout;
      timers.push({ index: i, userdata: s.userdata, clockId: s.clockId, deadline });
    } else {
      fds.push({ userdata: s.userdata, type: s.type, fd: s.fd });
    }
  }
  const check = (): Event[] | null => {
    const events = [...immediate];
    for (const s of fds) {
      const e = readiness(cx, s);
      if (e !== null) events.push(e);
    }
    for (const t of timers) {
      if (clock.peek(t.clockId) >= t.deadline) events.push({ userdata: t.userdata, error: ERRNO.SUCCESS, type: EVENTTYPE.CLOCK, nbytes: 0n });
    }
    return events.length > 0 ? events : null;
  };
  const leftMs = () => timers.reduce((ms, t) => Math.min(ms, Math.ceil(Number(t.deadline - clock.peek(t.clockId)) / 1e6)), Infinity);

  let seen = cx.signal.epoch();
  let events = check();
  if (events === null && clock.deterministic && timers.length > 0) {
    // Virtual time: a sleep takes no real time, the clock jumps to the first deadline.
    const first = timers.reduce((a, b) => (b.deadline - clock.peek(b.clockId) < a.deadline - clock.peek(a.clockId) ? b : a));
    clock.advance(first.deadline - clock.peek(first.clockId));
    events = check();
  }
  while (events === null) {
    if (cx.signal.requested()) {
      const deadlines: Record<number, string> = {};
      for (const t of timers) deadlines[t.index] = String(t.deadline);
      cx.pendingPoll = { key: keyOf(cx, inPtr, count), deadlines };
      cx.stdin?.withdraw();
      throw new FreezeInterrupt();
    }
    cx.signal.sleep(seen, Math.max(1, leftMs()));
    seen = cx.signal.epoch();
    events = check();
  }
  // A stdin want still out ends with the poll: the main thread reads stdin only while asked.
  cx.stdin?.withdraw();
  events.forEach((e, i) => writeEvent(mem.dv, outPtr + i * SIZEOF.event, e));
  mem.putU32(neventsPtr, events.length);
  return ERRNO.SUCCESS;
}

export function pollCalls(cx: HostContext): CallTable {
  return {
    poll_oneoff: (inPtr: number, outPtr: number, count: number, neventsPtr: number) =>
      pollOneoff(cx, u32(inPtr), u32(outPtr), count >>> 0, u32(neventsPtr)),
  };
}
