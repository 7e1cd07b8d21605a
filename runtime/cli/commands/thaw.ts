import type { Command } from 'commander';
import { thaw, type MountSpec } from '../../index.js';
import { addFreezeFlags, autoFreezeOptions, type FreezeFlags } from '../freeze-flags.js';
import { parseDir } from '../options.js';
import { supervise } from '../supervise.js';

interface ThawFlags extends FreezeFlags {
  dir?: MountSpec[];
  module?: string;
  cacheDir?: string;
}

export function registerThaw(program: Command, exit: (code: number) => void): void {
  const command = program
    .command('thaw')
    .description('resume a frozen process from its snapshot, in this OS process')
    .argument('<snapshot>', 'a snapshot file written by a freeze')
    .option('--dir <HOST::GUEST>', "re-bind the snapshot's mount at GUEST to this host directory (repeatable)", parseDir)
    .option('--module <FILE>', 'the module, for a snapshot made with --no-embed-module')
    .option('--cache-dir <DIR>', 'where instrumented modules are cached');
  addFreezeFlags(command);
  command.action(async (snapshot: string, flags: ThawFlags) => {
    const proc = await thaw(snapshot, {
      mounts: flags.dir,
      module: flags.module,
      cacheDir: flags.cacheDir,
      ...autoFreezeOptions(flags),
    });
    exit(await supervise(proc, { snapshot: flags.snapshot, verbose: flags.verbose ?? false }));
  });
}
