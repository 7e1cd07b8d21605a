// Asyncify through binaryen.js (npm `binaryen`, binaryen compiled to wasm): always available, but
// single-threaded and limited to a 4 GB heap (it ran out on a 72 MiB module).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type Binaryen from 'binaryen';
import { asyncifyImports, type AsyncifyBackend, type AsyncifyJob } from './backend.js';
import { TransformError } from './errors.js';

// Toolchains without a target_features section (Debian's clang and rustc) leave binaryen
// at MVP, yet their output may use post-MVP features. Allow what Node >= 20 runs by
// default; MutableGlobals is needed for the global exports themselves.
function engineFeatures(F: typeof Binaryen.Features): number {
  return F.MutableGlobals | F.SignExt | F.NontrappingFPToInt | F.BulkMemory | F.BulkMemoryOpt |
    F.ReferenceTypes | F.Multivalue | F.SIMD128 | F.CallIndirectOverlong;
}

/** binaryen.js takes ~0.5 s to load: only pay for it when something is actually instrumented. */
let binaryen: typeof Binaryen;
async function loadBinaryen(): Promise<void> {
  binaryen ??= (await import('binaryen')).default;
}

export function binaryenJsBackend(): AsyncifyBackend {
  const pkg = createRequire(import.meta.url).resolve('binaryen/package.json');
  const version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  return { id: `binaryen.js-${version}`, run };
}

async function run(wasm: Uint8Array, job: AsyncifyJob): Promise<Uint8Array> {
  job.progress('parse');
  await loadBinaryen();
  const module = runBinaryen('read', () => binaryen.readBinary(wasm));
  const savedOptimize = binaryen.getOptimizeLevel();
  const savedShrink = binaryen.getShrinkLevel();
  const savedDebugInfo = binaryen.getDebugInfo();
  try {
    module.setFeatures(module.getFeatures() | engineFeatures(binaryen.Features));
    if (!module.validate()) {
      throw new TransformError('unsupported', 'module uses WebAssembly features wmig does not support (binaryen validation failed; details on stderr)');
    }
    // Asyncify itself tidies the code it adds when the optimize level is > 0, so set the levels first.
    binaryen.setOptimizeLevel(job.optimizeLevel);
    binaryen.setShrinkLevel(0);
    // Keep the name section (function names for profiles and trap stack traces).
    binaryen.setDebugInfo(true);
    if (job.removeList) {
      const names: string[] = [];
      for (let i = 0; i < module.getNumFunctions(); i++) names.push(binaryen.getFunctionInfo(module.getFunctionByIndex(i)).name);
      const removed = job.removeList(names);
      if (removed.length > 0) binaryen.setPassArgument('asyncify-removelist', removed.join(','));
    }
    job.progress('asyncify');
    binaryen.setPassArgument('asyncify-imports', asyncifyImports(job.freezePoints));
    runBinaryen('asyncify', () => module.runPasses(['asyncify']));
    if (job.optimizeModule) {
      job.progress('optimize');
      runBinaryen('optimize', () => module.optimize());
    }
    return runBinaryen('emit', () => module.emitBinary());
  } finally {
    binaryen.clearPassArguments();
    binaryen.setOptimizeLevel(savedOptimize);
    binaryen.setShrinkLevel(savedShrink);
    binaryen.setDebugInfo(savedDebugInfo);
    module.dispose();
  }
}

// binaryen.js throws plain objects with a message (its details go to stderr).
function runBinaryen<T>(stage: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TransformError) throw e;
    const message = typeof e === 'object' && e !== null && 'message' in e ? String(e.message) : String(e);
    throw new TransformError('binaryen-failed', `binaryen failed during ${stage}: ${message}`, { cause: e });
  }
}
