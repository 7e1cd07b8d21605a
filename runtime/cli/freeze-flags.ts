import { InvalidArgumentError, type Command } from 'commander';
import type { AutoFreezeOptions } from '../index.js';
import { parseCount, parseMs } from './options.js';

/** The freeze flags shared by `wmig run` and `wmig thaw`. */
export interface FreezeFlags {
  freezeAtCall?: number;
  freezeAfter?: number;
  snapshot?: string;
  leaveRunning?: boolean;
  embedModule?: boolean;
  drain?: number;
  verbose?: boolean;
}

export function addFreezeFlags(command: Command): Command {
  return command
    .option('--freeze-at-call <N>', 'freeze before the N-th WASI call, counted from the program start', parseCount)
    .option('--freeze-after <MS>', 'freeze at the first WASI call after MS milliseconds (or loop header, with --preempt)', parseMs)
    .option('--snapshot <FILE>', 'where freezes write the snapshot (also the default for `wmig freeze PID`)')
    .option('--leave-running', 'keep the guest running after an automatic freeze')
    .option('--drain <MS>', 'with --freeze-after: wait up to MS for open socket connections to close (new ones wait), then freeze', parseMs)
    .option('--no-embed-module', 'do not carry the module in the snapshot (thaw then needs --module)')
    .option('-v, --verbose', 'report freezes on stderr (always on when stderr is a terminal)');
}

export function autoFreezeOptions(flags: FreezeFlags): AutoFreezeOptions {
  if ((flags.freezeAtCall !== undefined || flags.freezeAfter !== undefined) && !flags.snapshot) {
    throw new InvalidArgumentError('--freeze-at-call and --freeze-after need --snapshot FILE');
  }
  return {
    freezeAtCall: flags.freezeAtCall,
    freezeAfterMs: flags.freezeAfter,
    snapshotPath: flags.snapshot,
    leaveRunning: flags.leaveRunning ?? false,
    embedModule: flags.embedModule ?? true,
    drainMs: flags.drain,
  };
}
