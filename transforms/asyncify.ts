import type Binaryen from 'binaryen';
import { engineRejection } from './engine.js';
import { TransformError } from './errors.js';
import { encodeInfo, INFO_SECTION, TRANSFORM_VERSION, type ExportedGlobal, type GlobalValueType, type InstrumentInfo } from './info.js';

/** WASI modules whose calls become freeze points. */
const WASI_MODULES = new Set(['wasi_snapshot_preview1', 'wasi_unstable']);
/** Never returns, so there is nothing to resume after it; instrumenting it would only cost code. */
const NOT_FREEZE_POINTS = new Set(['proc_exit']);

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

export interface AsyncifyOptions {
  onProgress?: (stage: string) => void;
}

/**
 * Applies Asyncify to a plain WASI module, exports its mutable globals and embeds the
 * wmig.instrument section. The caller has checked the framing and computed the digest.
 */
export async function asyncify(wasm: Uint8Array, originalDigest: string, options: AsyncifyOptions = {}): Promise<{ wasm: Uint8Array; info: InstrumentInfo }> {
  const progress = options.onProgress ?? (() => {});
  // binaryen may accept bytes the engine would reject; the engine is what will run them.
  const rejection = engineRejection(wasm);
  if (rejection !== null) throw new TransformError('not-wasm', `not a valid WebAssembly module: ${rejection}`);

  progress('parse');
  await loadBinaryen();
  const module = runBinaryen('read', () => binaryen.readBinary(wasm));
  const savedOptimize = binaryen.getOptimizeLevel();
  const savedShrink = binaryen.getShrinkLevel();
  try {
    module.setFeatures(module.getFeatures() | engineFeatures(binaryen.Features));
    if (!module.validate()) {
      throw new TransformError('unsupported', 'module uses WebAssembly features wmig does not support (binaryen validation failed; details on stderr)');
    }
    const globals = exportMutableGlobals(module);
    const freezePoints = wasiImports(module);
    const info: InstrumentInfo = { transformVersion: TRANSFORM_VERSION, originalDigest, freezePoints, globals };

    // Asyncify itself tidies the code it adds when the optimize level is > 0, so set the levels first.
    binaryen.setOptimizeLevel(2);
    binaryen.setShrinkLevel(0);
    progress('asyncify');
    // An empty list would mean "unset", i.e. every import may unwind; name a non-existent one instead.
    binaryen.setPassArgument('asyncify-imports', freezePoints.length > 0 ? freezePoints.join(',') : 'wmig.none');
    runBinaryen('asyncify', () => module.runPasses(['asyncify']));
    // Unoptimized Asyncify output has overflowed V8's stack on large programs.
    progress('optimize');
    runBinaryen('optimize', () => module.optimize());

    progress('emit');
    module.addCustomSection(INFO_SECTION, encodeInfo(info));
    const out = runBinaryen('emit', () => module.emitBinary());
    const outRejection = engineRejection(out);
    if (outRejection !== null) throw new TransformError('binaryen-failed', `instrumented module is invalid: ${outRejection}`);
    return { wasm: out, info };
  } finally {
    binaryen.clearPassArguments();
    binaryen.setOptimizeLevel(savedOptimize);
    binaryen.setShrinkLevel(savedShrink);
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

function exportMutableGlobals(module: Binaryen.Module): ExportedGlobal[] {
  const exported: ExportedGlobal[] = [];
  // binaryen keeps the binary's order (imports first), so i is the wasm global index.
  // Export by internal name as binaryen knows it: stripped modules have no real names.
  for (let index = 0; index < module.getNumGlobals(); index++) {
    const global = binaryen.getGlobalInfo(module.getGlobalByIndex(index));
    if (!global.mutable) continue;
    const type = valueType(global.type);
    if (type === null) {
      throw new TransformError('unsupported', `mutable global ${index} has a type wmig cannot save (only i32, i64, f32, f64)`);
    }
    const name = `wmig.global.${index}`;
    module.addGlobalExport(global.name, name);
    exported.push({ export: name, index, type });
  }
  return exported;
}

function valueType(type: Binaryen.Type): GlobalValueType | null {
  switch (type) {
    case binaryen.i32: return 'i32';
    case binaryen.i64: return 'i64';
    case binaryen.f32: return 'f32';
    case binaryen.f64: return 'f64';
    default: return null;
  }
}

function wasiImports(module: Binaryen.Module): string[] {
  const names: string[] = [];
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const fn = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
    if (fn.module && fn.base && WASI_MODULES.has(fn.module) && !NOT_FREEZE_POINTS.has(fn.base)) {
      names.push(`${fn.module}.${fn.base}`);
    }
  }
  return names;
}
