import { readFileSync } from 'node:fs';
import { instrumentCached, readInstrumentInfo, sha256Hex, TransformError, type InstrumentInfo } from '../../transforms/index.js';
import { WmigError } from '../errors.js';

/** An instrumented module ready to instantiate. */
export interface LoadedModule {
  /** The instrumented bytes. */
  bytes: Uint8Array;
  /** sha256 of the instrumented bytes: the identity a snapshot records. */
  digest: string;
  info: InstrumentInfo;
  compiled: WebAssembly.Module;
  name: string;
  /** The Asyncify tool that instrumented it (as instrumentCached names it: here, or as the snapshot it came from recorded); null when unknown. */
  tool: string | null;
}

export interface ModuleOptions {
  cacheDir?: string;
  onProgress?: (stage: string) => void;
  /** Instrument with preemption points, so freezes are honoured in compute loops (separate cache entry). */
  preempt?: boolean;
  /** false: no fast bodies beside the rewind copies (about half the instrumented code, slower). Default true. */
  fastPaths?: boolean;
}

/** Compiled modules by digest: a second run or thaw in this process skips V8 compilation. */
const compiledByDigest = new Map<string, WebAssembly.Module>();

export function readInputFile(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'not found' : code === 'EISDIR' ? 'is a directory' : (error as Error).message;
    throw new WmigError('NO_INPUT', `${what} ${path}: ${reason}`, { cause: error });
  }
}

/** Instruments (through the on-disk cache) and compiles a plain or already-instrumented module. */
export async function loadModule(source: string | Uint8Array, options: ModuleOptions = {}): Promise<LoadedModule> {
  const name = typeof source === 'string' ? source : '<bytes>';
  const input = typeof source === 'string' ? readInputFile(source, 'module') : source;
  let result;
  try {
    result = await instrumentCached(input, options);
  } catch (error) {
    if (error instanceof TransformError) {
      const kind = error.reason === 'io' ? 'CANT_WRITE' : error.reason === 'binaryen-failed' ? 'INTERNAL' : 'BAD_MODULE';
      throw new WmigError(kind, `${name}: ${error.message}`, { cause: error });
    }
    throw error;
  }
  return fromInstrumented(result.wasm, name, result.info, result.tool);
}

/** Wraps bytes that must already be instrumented by wmig (e.g. embedded in a snapshot). */
export function loadInstrumented(bytes: Uint8Array, name: string): LoadedModule {
  const info = readInstrumentInfo(bytes);
  if (!info) throw new WmigError('BAD_MODULE', `${name} is not a wmig-instrumented module`);
  return fromInstrumented(bytes, name, info, null);
}

function fromInstrumented(bytes: Uint8Array, name: string, info: InstrumentInfo, tool: string | null): LoadedModule {
  const digest = sha256Hex(bytes);
  let compiled = compiledByDigest.get(digest);
  if (!compiled) {
    try {
      compiled = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    } catch (error) {
      throw new WmigError('BAD_MODULE', `${name}: cannot compile: ${(error as Error).message}`, { cause: error });
    }
    compiledByDigest.set(digest, compiled);
  }
  return { bytes, digest, info, compiled, name, tool };
}
