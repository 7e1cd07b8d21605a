import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ExitCode, VERSION, WmigError } from '../index.js';
import { registerFreeze } from './commands/freeze.js';
import { registerInspect } from './commands/inspect.js';
import { registerInstrument } from './commands/instrument.js';
import { registerRun } from './commands/run.js';
import { registerThaw } from './commands/thaw.js';
import { say } from './say.js';

/** Ends the CLI with `code` once stderr has drained (the guest's output was written synchronously). */
function exit(code: number): void {
  process.exitCode = code;
  process.stderr.write('', () => process.exit(code));
}

function fail(error: unknown): void {
  if (error instanceof WmigError) {
    say(error.message);
    exit(error.code);
  } else if (error instanceof InvalidArgumentError) {
    say(error.message);
    exit(ExitCode.USAGE);
  } else if (error instanceof CommanderError) {
    // Commander already printed the message (or the help text).
    exit(error.exitCode === 0 ? 0 : ExitCode.USAGE);
  } else {
    say(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    exit(ExitCode.INTERNAL);
  }
}

const program = new Command()
  .name('wmig')
  .description('Run WASI programs so they can be frozen into a snapshot and thawed elsewhere.')
  .version(VERSION)
  .enablePositionalOptions()
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(`wmig: ${text.replace(/^error: /, '')}`) });

registerRun(program, exit);
registerThaw(program, exit);
registerFreeze(program, exit);
registerInstrument(program, exit);
registerInspect(program, exit);
for (const command of program.commands) command.exitOverride();

program.parseAsync(process.argv).catch(fail);
