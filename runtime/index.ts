/** wmig's library API. */
export { instrument, instrumentCached, readInstrumentInfo, type InstrumentInfo, type InstrumentResult } from '../transforms/index.js';
export { ExitCode, WmigError, type ExitCodeName } from './errors.js';
export { run, type RunOptions, type AutoFreezeOptions } from './api/run.js';
export { thaw, type ThawOptions } from './api/thaw.js';
export { migrate, type MigrateOptions } from './api/migrate.js';
export { loadModule, type LoadedModule } from './api/modules.js';
export { inspectSnapshot, type SnapshotDescription } from './api/inspect.js';
export { WmigProcess, type ProcessResult, type FreezeOptions, type FreezeReport, type FreezeTimings, type ProcessState } from './process/process.js';
export { decodeSnapshot, describeSnapshot, encodeSnapshot, snapshotBytes } from './snapshot/format.js';
export { readSnapshotFile, writeSnapshotFile } from './snapshot/file.js';
export type { Snapshot, SnapshotInput, MemoryPage, GlobalValue } from './snapshot/types.js';
export type { MountSpec, StdioSpec } from './wasi/types.js';
export { VERSION } from './version.js';
