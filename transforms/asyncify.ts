import type Binaryen from 'binaryen';
import { canReach, scanModule, ScanUnsupported, type ScannedModule } from './code-scan.js';
import { engineRejection } from './engine.js';
import { TransformError } from './errors.js';
import { encodeInfo, INFO_SECTION, TRANSFORM_VERSION, type ExportedGlobal, type GlobalValueType, type InstrumentInfo } from './info.js';
import { insertPreemptChecks, PREEMPT_IMPORT } from './preempt.js';
import { RESERVED_PAGES, reserveTopPages } from './reserve.js';
import { isJumpImport, STACK_POINTER_NAME } from './sjlj.js';

/** WASI modules whose calls become freeze points. */
const WASI_MODULES = new Set(['wasi_snapshot_preview1', 'wasi_unstable']);
/** Never returns, so there is nothing to resume after it; instrumenting it would only cost code. */
const NOT_FREEZE_POINTS = new Set(['proc_exit']);

/** The imports Asyncify may unwind from: WASI calls (freeze points) and setjmp/longjmp. */
function isUnwindImport(module: string, base: string): boolean {
  return (WASI_MODULES.has(module) && !NOT_FREEZE_POINTS.has(base)) || isJumpImport(`${module}.${base}`);
}

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

/** Which functions Asyncify instruments. */
export type InstrumentScope =
  /** Only functions that can reach a freeze point through direct calls, or indirect calls to
   * table entries of exactly the called signature (our call-graph analysis). */
  | 'precise'
  /** Asyncify's own analysis: every function with an indirect call counts as one that may unwind. */
  | 'asyncify';

export interface AsyncifyOptions {
  onProgress?: (stage: string) => void;
  /** Default 'precise'. */
  scope?: InstrumentScope;
  /** Insert preemption checks at loop headers (and entries of recursive functions). Default false. */
  preempt?: boolean;
  /** 'instrumented': after Asyncify, optimize only the functions it instrumented (precise scope
   * only; the rest is the compiler's output, already optimized). Default 'module'. */
  optimizeOnly?: 'module' | 'instrumented';
  /** binaryen optimize level after Asyncify (1 is about twice as fast as 2, slightly bigger). Default 2.
   * 0 skips optimization: diagnostics only (unoptimized Asyncify output has overflowed V8's stack). */
  optimizeLevel?: number;
}

/** What instrumentation did, for benchmarks and tests. Not part of the info section. */
export interface AsyncifyStats {
  /** Defined functions in the input (the preemption stub not counted). */
  definedFunctions: number;
  /** Defined functions that may unwind by our analysis (null when the scope is 'asyncify'). */
  preciseFunctions: number | null;
  /** Why the precise scope could not be used, if it was asked for and fell back. */
  fallback: string | null;
  /** Why no pages could be reserved for Asyncify's data (the host then borrows guest memory). */
  unreserved: string | null;
  loopChecks: number;
  entryChecks: number;
}

/**
 * Applies Asyncify to a plain WASI module, exports its mutable globals and embeds the
 * wmig.instrument section. The caller has checked the framing and computed the digest.
 */
export async function asyncify(wasm: Uint8Array, originalDigest: string, options: AsyncifyOptions = {}): Promise<{ wasm: Uint8Array; info: InstrumentInfo; stats: AsyncifyStats }> {
  const progress = options.onProgress ?? (() => {});
  const scope = options.scope ?? 'precise';
  // binaryen may accept bytes the engine would reject; the engine is what will run them.
  const rejection = engineRejection(wasm);
  if (rejection !== null) throw new TransformError('not-wasm', `not a valid WebAssembly module: ${rejection}`);

  progress('scan');
  let scanned: ScannedModule | null = null;
  let fallback: string | null = null;
  try {
    scanned = scanModule(wasm);
  } catch (e) {
    if (!(e instanceof ScanUnsupported)) throw e;
    fallback = e.message;
  }
  const stats: AsyncifyStats = {
    definedFunctions: scanned ? scanned.functions.length - scanned.numImportedFunctions : 0,
    preciseFunctions: null,
    fallback: scope === 'precise' ? fallback : null,
    unreserved: scanned ? null : fallback,
    loopChecks: 0,
    entryChecks: 0,
  };
  let input = wasm;
  let reservedPages: number | undefined;
  if (scanned) {
    progress('reserve');
    try {
      input = reserveTopPages(scanned).bytes;
      reservedPages = RESERVED_PAGES;
      scanned = scanModule(input);
    } catch (e) {
      if (!(e instanceof ScanUnsupported)) throw e;
      stats.unreserved = e.message;
    }
  }
  let stub: { index: number; fuelGlobal: number } | null = null;
  if (options.preempt) {
    if (!scanned) throw new TransformError('unsupported', `cannot insert preemption points: ${fallback}`);
    progress('preempt');
    const rewrite = insertPreemptChecks(scanned);
    input = rewrite.bytes;
    stub = { index: rewrite.stubIndex, fuelGlobal: rewrite.fuelGlobal };
    stats.loopChecks = rewrite.loopChecks;
    stats.entryChecks = rewrite.entryChecks;
    scanned = scanModule(input);
  }

  progress('parse');
  await loadBinaryen();
  const module = runBinaryen('read', () => binaryen.readBinary(input));
  const savedOptimize = binaryen.getOptimizeLevel();
  const savedShrink = binaryen.getShrinkLevel();
  try {
    module.setFeatures(module.getFeatures() | engineFeatures(binaryen.Features));
    if (!module.validate()) {
      throw new TransformError('unsupported', 'module uses WebAssembly features wmig does not support (binaryen validation failed; details on stderr)');
    }
    const globals = exportMutableGlobals(module);
    const freezePoints = unwindImports(module);
    const jumps = freezePoints.some(isJumpImport);
    const stackPointer = jumps ? stackPointerGlobal(module, globals) : undefined;
    if (stub) {
      const importName = 'wmig$preempt';
      module.addFunctionImport(importName, PREEMPT_IMPORT.module, PREEMPT_IMPORT.base, binaryen.none, binaryen.i32);
      const fuelName = binaryen.getGlobalInfo(module.getGlobalByIndex(stub.fuelGlobal)).name;
      const stubFn = module.getFunctionByIndex(stub.index);
      // The typings lack the static Function helpers binaryen.js has.
      const fnApi = (binaryen as unknown as { Function: { setBody(fn: Binaryen.FunctionRef, body: Binaryen.ExpressionRef): void } }).Function;
      fnApi.setBody(stubFn, module.global.set(fuelName, module.call(importName, [], binaryen.i32)));
      freezePoints.push(`${PREEMPT_IMPORT.module}.${PREEMPT_IMPORT.base}`);
    }
    const info: InstrumentInfo = {
      transformVersion: TRANSFORM_VERSION, originalDigest, freezePoints, globals,
      ...(stackPointer === undefined ? {} : { stackPointer }),
      ...(reservedPages === undefined ? {} : { reservedPages }),
    };

    // Asyncify itself tidies the code it adds when the optimize level is > 0, so set the levels first.
    binaryen.setOptimizeLevel(options.optimizeLevel ?? 2);
    binaryen.setShrinkLevel(0);
    let instrumented: string[] | null = null;
    if (scope === 'precise' && scanned) {
      progress('scope');
      const removed = preciseRemoveList(module, scanned, stub?.index ?? null);
      if (typeof removed === 'string') {
        stats.fallback = removed;
      } else {
        stats.preciseFunctions = removed.kept;
        instrumented = removed.keptNames;
        if (removed.names.length > 0) binaryen.setPassArgument('asyncify-removelist', removed.names.join(','));
      }
    }
    progress('asyncify');
    // An empty list would mean "unset", i.e. every import may unwind; name a non-existent one instead.
    binaryen.setPassArgument('asyncify-imports', freezePoints.length > 0 ? freezePoints.join(',') : 'wmig.none');
    runBinaryen('asyncify', () => module.runPasses(['asyncify']));
    // Unoptimized Asyncify output has overflowed V8's stack on large programs.
    // Level 0 skips it: only for diagnostics (counting what Asyncify touched), not for running.
    if ((options.optimizeLevel ?? 2) > 0) {
      progress('optimize');
      if (options.optimizeOnly === 'instrumented' && instrumented !== null) {
        // The other functions are the compiler's output, untouched by Asyncify: optimize only these
        // (and Asyncify's API functions). Faster; module-level passes such as inlining do not run.
        const targets = instrumented;
        runBinaryen('optimize', () => {
          for (const name of targets) module.optimizeFunction(name);
          for (let i = 0; i < module.getNumFunctions(); i++) {
            const fn = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
            if (!fn.module && fn.name.startsWith('asyncify_')) module.optimizeFunction(fn.name);
          }
        });
      } else {
        runBinaryen('optimize', () => module.optimize());
      }
    }

    progress('emit');
    module.addCustomSection(INFO_SECTION, encodeInfo(info));
    const out = runBinaryen('emit', () => module.emitBinary());
    const outRejection = engineRejection(out);
    if (outRejection !== null) throw new TransformError('binaryen-failed', `instrumented module is invalid: ${outRejection}`);
    return { wasm: out, info, stats };
  } finally {
    binaryen.clearPassArguments();
    binaryen.setOptimizeLevel(savedOptimize);
    binaryen.setShrinkLevel(savedShrink);
    module.dispose();
  }
}

/**
 * Asyncify's remove-list for the precise scope: every defined function our call graph proves
 * cannot reach a freeze point. Names are binaryen's (it names unnamed functions itself), so the
 * scan's function indices are mapped through binaryen's function order, which is checked to be
 * the binary's. Names the list syntax cannot carry (commas, wildcards) stay instrumented, which
 * is always safe. Returns a reason string when the mapping cannot be trusted.
 */
function preciseRemoveList(module: Binaryen.Module, scanned: ScannedModule, stubIndex: number | null): { names: string[]; kept: number; keptNames: string[] } | string {
  // binaryen's count includes the wmig.preempt import we added, which the scan does not know.
  const extra = stubIndex === null ? 0 : 1;
  if (module.getNumFunctions() !== scanned.functions.length + extra) return 'binaryen and the scan disagree on the function count';
  const roots = new Set<number>();
  const names: string[] = [];
  for (const fn of scanned.functions) {
    const info = binaryen.getFunctionInfo(module.getFunctionByIndex(fn.index));
    if (fn.import) {
      if (info.module !== fn.import.module || info.base !== fn.import.base) return 'binaryen reordered the imports';
      if (isUnwindImport(fn.import.module, fn.import.base)) roots.add(fn.index);
    } else if (info.module) {
      return 'binaryen reordered the functions';
    }
    names.push(info.name);
  }
  if (stubIndex !== null) roots.add(stubIndex);
  const reach = canReach(scanned, roots);
  const removed: string[] = [];
  const keptNames: string[] = [];
  for (const fn of scanned.functions) {
    if (fn.import) continue;
    const name = names[fn.index] ?? binaryen.getFunctionInfo(module.getFunctionByIndex(fn.index)).name;
    if (fn.index === stubIndex) {
      keptNames.push(name);
    } else if (reach.has(fn.index) || /[,*]/.test(name) || name.startsWith('@') || name.trim() !== name) {
      keptNames.push(name);
    } else {
      removed.push(name);
    }
  }
  return { names: removed, kept: keptNames.length - (stubIndex === null ? 0 : 1), keptNames };
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

function unwindImports(module: Binaryen.Module): string[] {
  const names: string[] = [];
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const fn = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
    if (fn.module && fn.base && isUnwindImport(fn.module, fn.base)) names.push(`${fn.module}.${fn.base}`);
  }
  return names;
}

/**
 * The shadow stack pointer: the global wasm-ld names __stack_pointer, or, in a module whose
 * names were stripped, global 0, which wasm-ld always makes the stack pointer of a non-PIC module.
 */
function stackPointerGlobal(module: Binaryen.Module, globals: ExportedGlobal[]): string {
  const i32 = globals.filter((g) => g.type === 'i32');
  const named = i32.find((g) => binaryen.getGlobalInfo(module.getGlobalByIndex(g.index)).name === STACK_POINTER_NAME);
  const found = named ?? i32.find((g) => g.index === 0);
  if (!found) throw new TransformError('unsupported', 'module uses setjmp/longjmp but has no recognisable shadow stack pointer');
  return found.export;
}
