import { readSnapshotFile } from '../snapshot/file.js';
import { decodeSnapshot } from '../snapshot/format.js';
import type { Snapshot } from '../snapshot/types.js';
import { WmigError } from '../errors.js';
import { prestartWorker, type WmigProcess } from '../process/process.js';
import { snapshotListeners } from '../wasi/capture.js';
import { SocketBridge } from '../wasi/socket-bridge.js';
import type { MountSpec, StdioSpec } from '../wasi/types.js';
import { checkStdio } from './check-options.js';
import { loadInstrumented, loadModule, type LoadedModule, type ModuleOptions } from './modules.js';
import { launch, moduleInit, outputBridge, stdinBridge, type AutoFreezeOptions } from './run.js';

export interface ThawOptions extends ModuleOptions, AutoFreezeOptions {
  /** Re-binds mounts by guest path: a host mount can point at another directory on this machine. */
  mounts?: MountSpec[];
  stdio?: StdioSpec;
  /**
   * Write the guest's stdout and stderr behind when they are regular files, /dev/null or pipes
   * (default true): fd_write appends to a buffer written out within about a millisecond, and before
   * any call that could observe it. false: every write is made before fd_write returns.
   */
  writeBehind?: boolean;
  /** The module, for a snapshot that does not carry it (plain or instrumented; its digest must match). */
  module?: string | Uint8Array;
  /**
   * Addresses for the snapshot's listening sockets, in guest fd order; a listener not given one is
   * re-bound to the address it had at freeze.
   */
  listen?: string[];
}

/**
 * Resumes a frozen process from a snapshot (file path or bytes). Everything is checked before the
 * guest runs: checksum, page hashes, format version, module identity; mounts and open files are
 * re-bound in the worker before it resumes (failures reject `result` with REBIND_FAILED).
 */
export async function thaw(source: string | Uint8Array, options: ThawOptions = {}): Promise<WmigProcess> {
  checkStdio(options.stdio);
  prestartWorker();
  const { bytes, snapshot } = typeof source === 'string' ? readSnapshotFile(source) : { bytes: source, snapshot: decodeSnapshot(source) };
  const loaded = await resolveModule(snapshot, options);
  // The worker parses the bytes again without re-verifying; hand them over without a copy if we own them.
  const owned = typeof source === 'string' && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const original = snapshotListeners(snapshot.host);
  if ((options.listen?.length ?? 0) > original.length) {
    throw new WmigError('USAGE', `--listen given ${options.listen!.length} time(s) but the snapshot has ${original.length} listening socket(s)`);
  }
  const sockets = original.length > 0 ? await SocketBridge.listen(original.map((a, i) => options.listen?.[i] ?? a)) : undefined;
  const stdin = stdinBridge(options.stdio);
  const output = outputBridge(options);
  const restore = {
    mounts: options.mounts,
    stdio: options.stdio,
    ...(sockets ? { sockets: sockets.init } : {}),
    ...(stdin ? { stdinBridge: stdin.init } : {}),
    ...(output ? { output: output.init } : {}),
  };
  return launch(
    { kind: 'thaw', snapshot: bytes, restore, ...moduleInit(loaded) },
    options,
    owned ? [bytes.buffer as ArrayBuffer] : [],
    { sockets, stdin, output },
  );
}

async function resolveModule(snapshot: Snapshot, options: ThawOptions): Promise<LoadedModule> {
  const { digest, name, bytes } = snapshot.module;
  let loaded: LoadedModule;
  if (bytes) {
    loaded = loadInstrumented(bytes, name);
  } else if (options.module !== undefined) {
    // A plain module gets the instrumentation the frozen one had (older snapshots: the options').
    const { preempt, fastPaths } = snapshot.meta;
    loaded = await loadModule(options.module, {
      ...options,
      ...(typeof preempt === 'boolean' ? { preempt } : {}),
      ...(typeof fastPaths === 'boolean' ? { fastPaths } : {}),
    });
  } else {
    throw new WmigError('NO_INPUT', `the snapshot does not carry its module (${name}); pass it with --module`);
  }
  if (loaded.digest !== digest) {
    throw new WmigError(
      'MODULE_MISMATCH',
      `the snapshot was taken from module ${name} (sha256 ${digest.slice(0, 16)}…), not ${loaded.name} (sha256 ${loaded.digest.slice(0, 16)}…)${whyOtherBytes(snapshot.meta, loaded)}`,
    );
  }
  // The very module the snapshot ran: the tool it recorded made it (the next freeze records it again).
  const { instrumentedBy } = snapshot.meta;
  return loaded.tool === null && typeof instrumentedBy === 'string' ? { ...loaded, tool: instrumentedBy } : loaded;
}

/** When --module is the same program, instrumented into other bytes: why, from what the snapshot recorded. */
function whyOtherBytes(meta: Snapshot['meta'], loaded: LoadedModule): string {
  if (meta.originalDigest !== loaded.info.originalDigest) return '';
  const remedy = 'thaw with the instrumented module the process ran, or freeze with the module embedded (the default)';
  const { transformVersion, instrumentedBy } = meta;
  if (transformVersion !== loaded.info.transformVersion) {
    const then = typeof transformVersion === 'number' ? `wmig's transform version ${transformVersion}` : 'an older wmig';
    return `: the same program, but instrumented by ${then}, and this wmig instruments with version ${loaded.info.transformVersion}; ${remedy}`;
  }
  if (typeof instrumentedBy === 'string' && instrumentedBy === loaded.tool) return '';
  const tools = typeof instrumentedBy === 'string' && loaded.tool ? ` (${instrumentedBy} then, ${loaded.tool} here)` : '';
  return `: the same program and transform version, instrumented by another Asyncify tool${tools}; ${remedy}`;
}
