import { resolve } from 'node:path';
import type { Command } from 'commander';
import { WmigError } from '../../index.js';
import { requestControl } from '../control.js';
import { parseCount, parseMs } from '../options.js';

interface FreezeCommandFlags {
  snapshot?: string;
  leaveRunning?: boolean;
  drain?: number;
}

export function registerFreeze(program: Command, exit: (code: number) => void): void {
  program
    .command('freeze')
    .description('freeze a running `wmig run` / `wmig thaw` process (through its control socket)')
    .argument('<pid>', 'the OS process id of the wmig process', parseCount)
    .option('--snapshot <FILE>', "where to write the snapshot (default: the process's --snapshot, else wmig-PID.wmig in its directory)")
    .option('--leave-running', 'take the snapshot and let the process carry on')
    .option('--drain <MS>', 'if socket connections are open, wait up to MS for the guest to close them (new ones wait), then freeze', parseMs)
    .action(async (pid: number, flags: FreezeCommandFlags) => {
      const reply = await requestControl(pid, {
        op: 'freeze',
        snapshot: flags.snapshot ? resolve(flags.snapshot) : undefined,
        leaveRunning: flags.leaveRunning ?? false,
        drainMs: flags.drain,
      });
      if (!reply.ok) throw new WmigError(reply.kind, reply.message);
      const kept = reply.leftRunning ? ' (still running)' : '';
      process.stdout.write(`${reply.path}: ${reply.byteLength} bytes, frozen before call ${reply.callNumber}${kept}\n`);
      exit(0);
    });
}
