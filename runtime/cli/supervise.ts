import { resolve } from 'node:path';
import { ExitCode, type FreezeReport, type WmigError, type WmigProcess } from '../index.js';
import { serveControl } from './control.js';
import { say } from './say.js';

export interface SuperviseOptions {
  snapshot?: string;
  verbose: boolean;
}

function describeFreeze(report: FreezeReport): string {
  const ms = (report.timings.capturedAt - report.timings.requestedAt).toFixed(1);
  const kept = report.leftRunning ? ', still running' : '';
  return `frozen before call ${report.callNumber}: ${report.path} (${report.byteLength} bytes, captured in ${ms} ms${kept})`;
}

/**
 * Opens the control socket for `wmig freeze PID`, starts the process, and turns its end into an
 * exit status.
 */
export async function supervise(start: () => Promise<WmigProcess>, options: SuperviseOptions): Promise<number> {
  let started!: (proc: WmigProcess) => void;
  const starting = new Promise<WmigProcess>((resolve) => (started = resolve));
  await serveControl(starting, resolve(options.snapshot ?? `wmig-${process.pid}.wmig`));
  const proc = await start();
  started(proc);
  // Guest stderr is the user's; wmig only speaks there when asked, or to a terminal.
  const chatty = options.verbose || process.stderr.isTTY === true;
  proc.on('frozen', (report: FreezeReport) => chatty && say(describeFreeze(report)));
  proc.on('freeze-error', (error: WmigError) => say(`freeze failed, process kept running: ${error.message}`));
  const result = await proc.result;
  switch (result.state) {
    case 'exited':
      return result.code;
    case 'trapped':
      say(`guest trapped: ${result.message}`);
      return ExitCode.TRAP;
    case 'frozen':
      return ExitCode.FROZEN;
  }
}
