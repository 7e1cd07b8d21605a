import { basename } from 'node:path';
import type { ModuleRef } from '../snapshot/types.js';
import type { FreezeRequest } from '../process/messages.js';
import { prestartWorker, WmigProcess, type ProcessBridges } from '../process/process.js';
import { DEFAULT_STDIO } from '../wasi/capture.js';
import { OutputBridge } from '../wasi/output-bridge.js';
import { SocketBridge } from '../wasi/socket-bridge.js';
import { StdinBridge } from '../wasi/stdin-bridge.js';
import type { MountSpec, StdioSpec } from '../wasi/types.js';
import { checkArgs, checkEnv, checkStdio } from './check-options.js';
import { loadModule, type LoadedModule, type ModuleOptions } from './modules.js';

/** When and how a process freezes by itself (the CLI's --freeze-at-call / --freeze-after). */
export interface AutoFreezeOptions {
  /** Freeze before the N-th freeze-point (WASI) call, counted from the program's start (1-based). */
  freezeAtCall?: number;
  /** Freeze at the first WASI call after this many milliseconds. */
  freezeAfterMs?: number;
  /** Where automatic freezes write the snapshot. Required with freezeAtCall / freezeAfterMs. */
  snapshotPath?: string;
  /** Keep running after an automatic freeze. */
  leaveRunning?: boolean;
  /** Carry the module in the snapshot (default true). */
  embedModule?: boolean;
  /** With freezeAfterMs: wait up to this long for open socket connections to close (FreezeOptions.drainMs). */
  drainMs?: number;
}

export interface RunOptions extends ModuleOptions, AutoFreezeOptions {
  /** Arguments after argv[0]. */
  args?: string[];
  /** argv[0]; default: the module's file name. */
  argv0?: string;
  env?: Record<string, string> | [string, string][];
  mounts?: MountSpec[];
  stdio?: StdioSpec;
  /**
   * Write the guest's stdout and stderr behind when they are regular files, /dev/null or pipes
   * (default true): fd_write appends to a buffer written out within about a millisecond, and before
   * any call that could observe it. false: every write is made before fd_write returns.
   */
  writeBehind?: boolean;
  /**
   * Listen on these addresses ("HOST:PORT"; port 0 picks one, see `proc.listening`) and hand the
   * guest one listening socket fd each, right after the preopens (like wasmtime's --tcplisten).
   */
  listen?: string[];
  /**
   * Deterministic mode: virtual clocks (fixed start, a fixed step per read, sleeps take no real
   * time) and random_get from a seeded stream; both continue across freeze/thaw. `true` = seed "0".
   */
  deterministic?: boolean | string;
}

/** Starts a WASI command (plain or instrumented; plain ones are instrumented through the cache). */
export async function run(module: string | Uint8Array | LoadedModule, options: RunOptions = {}): Promise<WmigProcess> {
  const env = Array.isArray(options.env) ? options.env : Object.entries(options.env ?? {});
  if (options.argv0 !== undefined) checkArgs([options.argv0], 0);
  checkArgs(options.args ?? []);
  checkEnv(env);
  checkStdio(options.stdio);
  prestartWorker();
  const loaded = isLoaded(module) ? module : await loadModule(module, options);
  const argv0 = options.argv0 ?? basename(loaded.name);
  const sockets = options.listen?.length ? await SocketBridge.listen(options.listen) : undefined;
  const stdin = stdinBridge(options.stdio);
  const output = outputBridge(options);
  const det = options.deterministic;
  const wasi = {
    args: [argv0, ...(options.args ?? [])],
    env,
    mounts: options.mounts ?? [],
    stdio: options.stdio,
    ...(sockets ? { sockets: sockets.init } : {}),
    ...(stdin ? { stdinBridge: stdin.init } : {}),
    ...(output ? { output: output.init } : {}),
    ...(det !== undefined && det !== false ? { deterministic: { seed: det === true ? '0' : det } } : {}),
  };
  return launch({ kind: 'start', wasi, ...moduleInit(loaded) }, options, [], { sockets, stdin, output });
}

/** The main thread reads the guest's stdin when it is a pipe, socket or terminal (see stdin-bridge.ts). */
export function stdinBridge(stdio: StdioSpec | undefined): StdinBridge | undefined {
  return StdinBridge.for((stdio ?? DEFAULT_STDIO).stdin);
}

/** The main thread writes the guest's stdout and stderr when they are regular files, /dev/null or pipes (see output-ring.ts). */
export function outputBridge(options: { stdio?: StdioSpec; writeBehind?: boolean }): OutputBridge | undefined {
  return options.writeBehind === false ? undefined : OutputBridge.for(options.stdio ?? DEFAULT_STDIO);
}

export function isLoaded(value: unknown): value is LoadedModule {
  return typeof value === 'object' && value !== null && 'compiled' in value && 'info' in value;
}

export function moduleInit(loaded: LoadedModule): { module: WebAssembly.Module; info: LoadedModule['info']; moduleRef: ModuleRef; instrumentedBy: string | null } {
  return {
    module: loaded.compiled,
    info: loaded.info,
    moduleRef: { digest: loaded.digest, name: basename(loaded.name), bytes: loaded.bytes },
    instrumentedBy: loaded.tool,
  };
}

type LaunchInit = ConstructorParameters<typeof WmigProcess>[0];

/** Creates the process and arms its automatic freeze. */
export function launch(init: LaunchInit, auto: AutoFreezeOptions, transfer: ArrayBuffer[] = [], bridges: ProcessBridges = {}): WmigProcess {
  const base = {
    leaveRunning: auto.leaveRunning ?? false,
    embedModule: auto.embedModule ?? true,
    destination: { kind: 'file' as const, path: auto.snapshotPath ?? '' },
  };
  const freezeAtCall: (FreezeRequest & { callNumber: number }) | undefined =
    auto.freezeAtCall !== undefined && auto.snapshotPath
      ? { ...base, id: 0, requestedAt: 0, callNumber: auto.freezeAtCall, reason: `freeze-at-call ${auto.freezeAtCall}` }
      : undefined;
  const proc = new WmigProcess({ ...init, freezeAtCall } as LaunchInit, transfer, bridges);
  if (auto.freezeAfterMs !== undefined && auto.snapshotPath) {
    const timer = setTimeout(() => {
      proc
        .freeze({ path: auto.snapshotPath, leaveRunning: base.leaveRunning, embedModule: base.embedModule, drainMs: auto.drainMs, reason: `freeze-after ${auto.freezeAfterMs}ms` })
        .catch((error: Error) => proc.emit('freeze-error', error));
    }, auto.freezeAfterMs);
    void proc.result.finally(() => clearTimeout(timer)).catch(() => {});
  }
  return proc;
}
