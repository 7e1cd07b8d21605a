import type { Command } from 'commander';
import { run, type MountSpec } from '../../index.js';
import { autoFreezeOptions, addFreezeFlags, type FreezeFlags } from '../freeze-flags.js';
import { parseDir, parseEnv, parseListen, parseTmpfs } from '../options.js';
import { supervise } from '../supervise.js';

interface RunFlags extends FreezeFlags {
  dir?: MountSpec[];
  tmpfs?: MountSpec[];
  env?: [string, string][];
  argv0?: string;
  cacheDir?: string;
  preempt?: boolean;
  compact?: boolean;
  listen?: string[];
  deterministic?: boolean;
  seed?: string;
  writeBehind: boolean;
}

export function registerRun(program: Command, exit: (code: number) => void): void {
  const command = program
    .command('run')
    .description('run a WASI command (instrumented on first use, cached by digest)')
    .argument('<module>', 'a .wasm file (plain or already instrumented)')
    .argument('[args...]', 'arguments passed to the guest')
    .option('--dir <HOST::GUEST[:ro][:carry]>', 'mount a host directory at a guest path (repeatable; DIR alone mounts it at the same path); ' +
      ':ro makes it read-only, :carry carries its files inside the snapshot (thaw writes them into the directory it binds there, or a new temp dir)', parseDir)
    .option('--tmpfs <GUEST>', 'mount an in-memory directory at a guest path; it travels in the snapshot (repeatable)', parseTmpfs)
    .option('--listen <HOST:PORT>', 'listen on HOST:PORT and hand the guest the listening socket as the fd after the preopens (repeatable; like wasmtime --tcplisten). A freeze while a connection is open is refused (BUSY); freeze between connections', parseListen)
    .option('--deterministic', 'virtual clocks (realtime starts at 2024-01-01, monotonic at 0, +1 µs per read, sleeps take no real time) and seeded random_get; carried across freeze/thaw')
    .option('--seed <SEED>', 'the random_get seed for --deterministic (default "0"; implies --deterministic)')
    .option('--env <K=V>', 'set a guest environment variable (repeatable)', parseEnv)
    .option('--argv0 <NAME>', "the guest's argv[0] (default: the module's file name)")
    .option('--cache-dir <DIR>', 'where instrumented modules are cached (default: $WMIG_CACHE_DIR or ~/.cache/wmig)')
    .option('--preempt', 'add preemption points at loop headers, so freezes also happen in compute loops without WASI calls')
    .option('--compact', 'instrument without fast paths: about half the instrumented code, slower (see wmig instrument --compact)')
    .option('--no-write-behind', "make every write to stdout and stderr before the guest's fd_write returns (default: to a regular file or a pipe they are written in batches, within about 1 ms)")
    .passThroughOptions();
  addFreezeFlags(command);
  command.action(async (module: string, args: string[], flags: RunFlags) => {
    const options = {
      args,
      argv0: flags.argv0,
      env: flags.env ?? [],
      mounts: [...(flags.dir ?? []), ...(flags.tmpfs ?? [])],
      cacheDir: flags.cacheDir,
      preempt: flags.preempt ?? false,
      fastPaths: !flags.compact,
      listen: flags.listen,
      deterministic: flags.seed ?? flags.deterministic,
      writeBehind: flags.writeBehind,
      ...autoFreezeOptions(flags),
    };
    exit(await supervise(() => run(module, options), { snapshot: flags.snapshot, verbose: flags.verbose ?? false }));
  });
}
