import type { Writable } from 'node:stream';
import { WmigError } from '../errors.js';
import type { FreezeReport, WmigProcess } from '../process/process.js';

export interface MigrateOptions {
  /** Also write the snapshot here (atomically). */
  path?: string;
  /** Also stream the snapshot bytes here (e.g. a socket to the destination node). */
  stream?: Writable;
  /** Keep the source running (a copy, not a move). Default false. */
  leaveRunning?: boolean;
  /** Carry the module in the snapshot (default true). */
  embedModule?: boolean;
}

/**
 * Freezes a running process at its next WASI call and returns the snapshot bytes, ready for
 * `thaw()` here or on another machine.
 */
export async function migrate(proc: WmigProcess, options: MigrateOptions = {}): Promise<Uint8Array> {
  const report: FreezeReport = await proc.freeze({
    leaveRunning: options.leaveRunning,
    embedModule: options.embedModule,
    reason: 'migrate',
  });
  const bytes = report.bytes;
  if (!bytes) throw new WmigError('INTERNAL', 'in-memory freeze returned no bytes');
  if (options.path) {
    const { writeSnapshotBytes } = await import('../snapshot/file.js');
    writeSnapshotBytes(options.path, bytes);
  }
  if (options.stream) await writeToStream(options.stream, bytes);
  return bytes;
}

function writeToStream(stream: Writable, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(bytes, (error) => (error ? reject(error) : resolve()));
  });
}
