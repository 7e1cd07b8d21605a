/**
 * wasi_snapshot_preview1 over virtual handles, so that the whole host state can be captured as
 * JSON and re-bound on another machine (see capture.ts). This file is only the dispatcher: the
 * call families live in calls-*.ts, the state they share in context.ts.
 */
import type { FreezeSignal } from '../engine/interrupt.js';
import { envCalls } from './calls-env.js';
import { fdCalls } from './calls-fd.js';
import { pathCalls } from './calls-path.js';
import { pollCalls } from './calls-poll.js';
import { sockCalls } from './calls-sock.js';
import { captureHost, freshParts, restoreParts } from './capture.js';
import { HostContext, type HostParts } from './context.js';
import { errnoOf } from './errno.js';
import type { StdioHandle } from './handles.js';
import { OutputRing } from './output-ring.js';
import { SocketClient } from './sockets.js';
import { StdinClient } from './stdin.js';
import type { HostCapture, WasiConfig, WasiFunction, WasiRestoreOptions } from './types.js';

export { ProcExit } from './calls-env.js';

type Fixed = (a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, f?: unknown,
  g?: unknown, h?: unknown, i?: unknown) => number;

/**
 * Calls that neither observe nor order against deferred stdout/stderr writes, so they need not
 * write them out first (see output-ring.ts); fd_write decides by its handle.
 */
const UNORDERED = new Set(['args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get', 'clock_time_get', 'random_get', 'sched_yield', 'fd_write']);

export class WasiHost {
  readonly imports: Record<string, WasiFunction>;
  private readonly cx: HostContext;

  /** `parts` is restore's way in; callers pass only a config. */
  constructor(config: WasiConfig, parts?: HostParts) {
    this.cx = new HostContext(parts ?? freshParts(config));
    if (config.sockets !== undefined) this.cx.sockets = new SocketClient(config.sockets.port, config.sockets.addresses);
    if (config.stdinBridge !== undefined) this.cx.stdin = new StdinClient(config.stdinBridge.port);
    if (config.output !== undefined) this.cx.output = new OutputRing(config.output);
    this.imports = this.makeImports();
  }

  setMemory(memory: WebAssembly.Memory): void {
    this.cx.mem.set(memory);
  }

  /** Lets blocking calls (sleeps, stdin, accept/recv) wake for bridge messages and give way to a freeze. */
  setFreezeSignal(signal: FreezeSignal): void {
    this.cx.signal = signal;
  }

  /** Called by the thaw path right before the guest resumes (see GuestClock.resume). */
  resumeClocks(): void {
    this.cx.clock.resume();
  }

  /** True when the clocks and random_get are virtual (deterministic mode). */
  get deterministic(): boolean {
    return this.cx.clock.deterministic;
  }

  /** Bytes of stdin taken from the host stream (carried across thaws; for inspect and tests). */
  get stdinOffset(): number {
    return this.stdinHandle()?.offset ?? 0;
  }

  private stdinHandle(): StdioHandle | undefined {
    const stdin = this.cx.table.entries().find(([, h]) => h.kind === 'stdio' && h.stream === 0);
    return stdin?.[1] as StdioHandle | undefined;
  }

  /** Why a freeze now would be refused (open socket connections), or undefined when it would not. */
  busy(): string | undefined {
    return this.cx.sockets?.busy();
  }

  /** The whole WASI state as JSON plus file blobs. The guest's view of the host is unchanged. */
  capture(): HostCapture {
    // Every byte the stdin bridge took from the host must be in the snapshot, and none may come later.
    this.cx.stdin?.settle(this.cx, this.stdinHandle());
    // And every byte the guest wrote is in its file: a snapshot follows all of its output.
    this.cx.output?.flush();
    return captureHost(this.cx);
  }

  /**
   * Re-creates a captured host on this machine. Every mount and open file is re-bound here,
   * before the guest runs, so a missing directory or file fails the thaw rather than the guest.
   */
  static restore(host: unknown, files: Uint8Array[], options: WasiRestoreOptions = {}): WasiHost {
    const { parts, state } = restoreParts(host, files, options);
    const config: WasiConfig = {
      args: state.args,
      env: state.env,
      mounts: [...parts.mounts.values()].map((m) => m.spec),
      ...(options.sockets ? { sockets: options.sockets } : {}),
      ...(options.stdinBridge ? { stdinBridge: options.stdinBridge } : {}),
      ...(options.output ? { output: options.output } : {}),
    };
    return new WasiHost(config, parts);
  }

  /** Writes out deferred output and closes the host files this host opened (stdio fds belong to the caller). */
  close(): void {
    this.cx.output?.flush();
    this.cx.table.closeAll();
  }

  private makeImports(): Record<string, WasiFunction> {
    const cx = this.cx;
    const fns = { ...envCalls(cx), ...fdCalls(cx), ...pathCalls(cx), ...pollCalls(cx), ...sockCalls(cx) };
    const imports: Record<string, WasiFunction> = {};
    for (const [name, fn] of Object.entries(fns) as [string, Fixed][]) {
      const flushFirst = UNORDERED.has(name) ? undefined : cx.output;
      // Fixed arity (path_open has the most parameters, 9): a rest parameter costs an array per call.
      imports[name] = ((a, b, c, d, e, f, g, h, i) => {
        try {
          flushFirst?.flush();
          return fn(a, b, c, d, e, f, g, h, i);
        } catch (error) {
          return errnoOf(error); // rethrows ProcExit, FreezeInterrupt and bugs
        }
      }) as Fixed as WasiFunction;
    }
    return imports;
  }
}
