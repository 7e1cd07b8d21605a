import type { Command } from 'commander';
import { run, type MountSpec } from '../../index.js';
import { autoFreezeOptions, addFreezeFlags, type FreezeFlags } from '../freeze-flags.js';
import { parseDir, parseEnv, parseTmpfs } from '../options.js';
import { supervise } from '../supervise.js';

interface RunFlags extends FreezeFlags {
  dir?: MountSpec[];
  tmpfs?: MountSpec[];
  env?: [string, string][];
  argv0?: string;
  cacheDir?: string;
}

export function registerRun(program: Command, exit: (code: number) => void): void {
  const command = program
    .command('run')
    .description('run a WASI command (instrumented on first use, cached by digest)')
    .argument('<module>', 'a .wasm file (plain or already instrumented)')
    .argument('[args...]', 'arguments passed to the guest')
    .option('--dir <HOST::GUEST>', 'mount a host directory at a guest path (repeatable; DIR alone mounts it at the same path)', parseDir)
    .option('--tmpfs <GUEST>', 'mount an in-memory directory at a guest path; it travels in the snapshot (repeatable)', parseTmpfs)
    .option('--env <K=V>', 'set a guest environment variable (repeatable)', parseEnv)
    .option('--argv0 <NAME>', "the guest's argv[0] (default: the module's file name)")
    .option('--cache-dir <DIR>', 'where instrumented modules are cached (default: $WMIG_CACHE_DIR or ~/.cache/wmig)')
    .passThroughOptions();
  addFreezeFlags(command);
  command.action(async (module: string, args: string[], flags: RunFlags) => {
    const proc = await run(module, {
      args,
      argv0: flags.argv0,
      env: flags.env ?? [],
      mounts: [...(flags.dir ?? []), ...(flags.tmpfs ?? [])],
      cacheDir: flags.cacheDir,
      ...autoFreezeOptions(flags),
    });
    exit(await supervise(proc, { snapshot: flags.snapshot, verbose: flags.verbose ?? false }));
  });
}
