import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { asyncify } from './asyncify.js';
import { selectBackend } from './select-backend.js';
import { sha256Hex } from './digest.js';
import { engineRejection } from './engine.js';
import { TransformError } from './errors.js';
import { readInstrumentInfo, TRANSFORM_VERSION } from './info.js';
import { inspect, variantKey, type InstrumentOptions, type InstrumentResult } from './instrument.js';
import { PREEMPT_IMPORT } from './preempt.js';

export interface InstrumentCachedOptions extends InstrumentOptions {
  /** Defaults to defaultCacheDir(). */
  cacheDir?: string;
}

export interface CachedInstrumentResult extends InstrumentResult {
  /** The result was read from the cache rather than computed. */
  cached: boolean;
  /** The cache file holding the result; null when the input was already instrumented (nothing cached). */
  cachePath: string | null;
  /** The Asyncify tool and version that made it (the cache key's part); null when the input was already instrumented. */
  tool: string | null;
}

/** $WMIG_CACHE_DIR, else $XDG_CACHE_HOME/wmig, else ~/.cache/wmig. */
export function defaultCacheDir(): string {
  const explicit = process.env.WMIG_CACHE_DIR;
  if (explicit) return explicit;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'wmig');
}

/**
 * instrument(), memoized on disk by the input's sha256: instrumenting a large program
 * takes seconds, reading the cached result milliseconds.
 */
export async function instrumentCached(wasm: Uint8Array, options: InstrumentCachedOptions = {}): Promise<CachedInstrumentResult> {
  const existing = inspect(wasm);
  if (existing) return { wasm, info: existing, alreadyInstrumented: true, cached: false, cachePath: null, tool: null };

  const digest = sha256Hex(wasm);
  const dir = options.cacheDir ?? defaultCacheDir();
  // Each tool (and version) gives other bytes, and a snapshot only thaws into the very same bytes.
  const backend = await selectBackend(options.wasmOpt);
  const cachePath = join(dir, `${digest}.t${TRANSFORM_VERSION}${variantKey(options)}.${backend.id}.wasm`);
  const hit = readCacheEntry(cachePath, digest, options.preempt ?? false);
  if (hit) {
    options.onProgress?.('cache-hit');
    return { ...hit, alreadyInstrumented: false, cached: true, cachePath, tool: backend.id };
  }

  const fresh = await asyncify(wasm, digest, { ...options, backend });
  options.onProgress?.('cache-write');
  writeAtomically(dir, cachePath, fresh.wasm);
  return { ...fresh, alreadyInstrumented: false, cached: false, cachePath, tool: backend.id };
}

/** A usable cache entry, or null for anything else (missing, unreadable, damaged, stale). */
function readCacheEntry(path: string, digest: string, preempt: boolean): Omit<InstrumentResult, 'alreadyInstrumented'> | null {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    return null;
  }
  try {
    const info = readInstrumentInfo(bytes);
    if (!info || info.originalDigest !== digest || info.transformVersion !== TRANSFORM_VERSION) return null;
    if (info.freezePoints.includes(`${PREEMPT_IMPORT.module}.${PREEMPT_IMPORT.base}`) !== preempt) return null;
    // The section survives damage elsewhere in the file; the engine check catches that.
    if (engineRejection(bytes) !== null) return null;
    return { wasm: bytes, info };
  } catch (e) {
    if (e instanceof TransformError) return null;
    throw e;
  }
}

// Readers never see a partial file: write a unique temp file in the same directory
// (same filesystem, so rename is atomic), then rename it over the entry.
function writeAtomically(dir: string, path: string, bytes: Uint8Array): void {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(temp, bytes);
    renameSync(temp, path);
  } catch (e) {
    try {
      rmSync(temp, { force: true });
    } catch {
      // Best effort: the write error below is the one worth reporting.
    }
    throw new TransformError('io', `cannot write the instrumentation cache ${path}: ${(e as Error).message}`, { cause: e });
  }
}
