import { describeSnapshot } from '../snapshot/format.js';
import { readInputFile } from './modules.js';

export type SnapshotDescription = ReturnType<typeof describeSnapshot>;

/** Reads (if given a path), fully checks and describes a snapshot, for `wmig inspect`. */
export function inspectSnapshot(source: string | Uint8Array): SnapshotDescription {
  return describeSnapshot(typeof source === 'string' ? readInputFile(source, 'snapshot') : source);
}
