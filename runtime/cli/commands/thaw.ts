import type { Command } from 'commander';
import { thaw, type MountSpec } from '../../index.js';
import { addFreezeFlags, autoFreezeOptions, type FreezeFlags } from '../freeze-flags.js';
import { parseDir, parseListen } from '../options.js';
import { supervise } from '../supervise.js';

interface ThawFlags extends FreezeFlags {
  dir?: MountSpec[];
  module?: string;
  cacheDir?: string;
  preempt?: boolean;
  listen?: string[];
  writeBehind: boolean;
}

export function registerThaw(program: Command, exit: (code: number) => void): void {
  const command = program
    .command('thaw')
    .description('resume a frozen process from its snapshot, in this OS process')
    .argument('<snapshot>', 'a snapshot file written by a freeze')
    .option('--dir <HOST::GUEST[:ro]>', "re-bind the snapshot's mount at GUEST to this host directory (repeatable; :ro makes it read-only here; " +
      'a carried mount is written out into it — without --dir, into a new temp dir)', parseDir)
    .option('--listen <HOST:PORT>', "re-bind the snapshot's listening sockets, in guest fd order, to these addresses (default: the addresses they had)", parseListen)
    .option('--module <FILE>', 'the module, for a snapshot made with --no-embed-module')
    .option('--cache-dir <DIR>', 'where instrumented modules are cached')
    .option('--preempt', 'with --module, for a snapshot from a wmig that did not record it: instrument the module with preemption points')
    .option('--no-write-behind', "make every write to stdout and stderr before the guest's fd_write returns (default: to a regular file or a pipe they are written in batches, within about 1 ms)");
  addFreezeFlags(command);
  command.action(async (snapshot: string, flags: ThawFlags) => {
    const options = {
      mounts: flags.dir,
      module: flags.module,
      listen: flags.listen,
      cacheDir: flags.cacheDir,
      preempt: flags.preempt ?? false,
      writeBehind: flags.writeBehind,
      ...autoFreezeOptions(flags),
    };
    exit(await supervise(() => thaw(snapshot, options), { snapshot: flags.snapshot, verbose: flags.verbose ?? false }));
  });
}
