/** Paths and shared setup for the benchmarks. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIST, ROOT } from './env-paths.js';

export { DIST, ROOT };
export const WMIG_BIN = path.join(ROOT, 'bin/wmig.js');
export const example = (name) => path.join(ROOT, 'examples/build', `${name}.wasm`);

/** A scratch directory for this run: instrumentation cache and snapshot files. Removed at exit. */
export const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'wmig-bench-'));
export const CACHE_DIR = path.join(TMP, 'cache');
fs.mkdirSync(CACHE_DIR, { recursive: true });
// Child processes (the CLI) use the same cache, warmed by the first in-process load.
process.env.WMIG_CACHE_DIR = CACHE_DIR;
process.on('exit', () => fs.rmSync(TMP, { recursive: true, force: true }));

/** An fd on /dev/null for guest stdout/stderr. */
export const DEVNULL = fs.openSync('/dev/null', 'w');
export const QUIET_STDIO = { stdin: 0, stdout: DEVNULL, stderr: DEVNULL };

export const now = () => performance.now();
