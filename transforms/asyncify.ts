import type { AsyncifyBackend } from './backend.js';
import { canReach, scanModule, ScanUnsupported, type ScannedModule } from './code-scan.js';
import { engineRejection } from './engine.js';
import { TransformError } from './errors.js';
import { encodeInfo, INFO_SECTION, TRANSFORM_VERSION, type ExportedGlobal, type GlobalValueType, type InstrumentInfo } from './info.js';
import { addExports, appendCustomSection, EXPORT_GLOBAL, EXPORT_TABLE, readShape, withoutDebugSections, type ModuleShape } from './module-edit.js';
import { splitFastPaths } from './fast-path.js';
import { insertPreemptChecks, PREEMPT_IMPORT } from './preempt.js';
import { RESERVED_PAGES, reserveTopPages } from './reserve.js';
import { selectBackend } from './select-backend.js';
import { INVOKE_TABLE_EXPORT, isInvokeImport, LONGJMP_UNWIND_NAME } from './sjlj.js';

/** WASI modules whose calls become freeze points. */
const WASI_MODULES = new Set(['wasi_snapshot_preview1', 'wasi_unstable']);
/** Never returns, so there is nothing to resume after it; instrumenting it would only cost code. */
const NOT_FREEZE_POINTS = new Set(['proc_exit']);

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
  /** binaryen optimize level at which Asyncify tidies the code it adds, and of optimizeModule. Default 2.
   * 0 leaves it untidied: diagnostics only (such output has overflowed V8's stack on SQLite). */
  optimizeLevel?: number;
  /** Then also optimize the whole module. Default false: on SQLite that doubled the instrumentation
   * time and the result ran no faster (bench/README.md). */
  optimizeModule?: boolean;
  /** Split instrumented functions into a fast body and a rewind copy (fast-path.ts). Default true. */
  fastPaths?: boolean;
  /** A native wasm-opt to run Asyncify with, or 'off' for binaryen.js. Default: $WMIG_WASM_OPT, else the
   * one scripts/ensure-wasm-opt.sh put in .wmig-tools/, else binaryen.js. */
  wasmOpt?: string;
  /** A backend already selected (instrumentCached needs its id for the cache key first). */
  backend?: AsyncifyBackend;
}

/** What instrumentation did, for benchmarks and tests. Not part of the info section. */
export interface AsyncifyStats {
  /** The tool that ran Asyncify, with its version (AsyncifyBackend.id). */
  tool: string;
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
  /** Instrumented functions given a fast body without rewind guards (fast-path.ts). */
  fastPaths: number;
  /** Unwind edges of those bodies that zero the locals their rewind cannot observe (unwind-liveness.ts). */
  zeroedEdges: number;
}

/**
 * Applies Asyncify to a plain WASI module, exports its mutable globals and embeds the
 * wmig.instrument section. The caller has checked the framing and computed the digest.
 */
export async function asyncify(wasm: Uint8Array, originalDigest: string, options: AsyncifyOptions = {}): Promise<{ wasm: Uint8Array; info: InstrumentInfo; stats: AsyncifyStats }> {
  const progress = options.onProgress ?? (() => {});
  const scope = options.scope ?? 'precise';
  const preempt = options.preempt ?? false;
  // binaryen may accept bytes the engine would reject; the engine is what will run them.
  const rejection = engineRejection(wasm);
  if (rejection !== null) throw new TransformError('not-wasm', `not a valid WebAssembly module: ${rejection}`);
  wasm = withoutDebugSections(wasm);

  progress('scan');
  let scanned: ScannedModule | null = null;
  let fallback: string | null = null;
  try {
    scanned = scanModule(wasm);
  } catch (e) {
    if (!(e instanceof ScanUnsupported)) throw e;
    fallback = e.message;
  }
  const backend = options.backend ?? (await selectBackend(options.wasmOpt));
  const stats: AsyncifyStats = {
    tool: backend.id,
    definedFunctions: scanned ? scanned.functions.length - scanned.numImportedFunctions : 0,
    preciseFunctions: null,
    fallback: scope === 'precise' ? fallback : null,
    unreserved: scanned ? null : fallback,
    loopChecks: 0,
    entryChecks: 0,
    fastPaths: 0,
    zeroedEdges: 0,
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
  let stubIndex: number | null = null;
  let preemptFlag: string | undefined;
  if (preempt) {
    if (!scanned) throw new TransformError('unsupported', `cannot insert preemption points: ${fallback}`);
    progress('preempt');
    const rewrite = insertPreemptChecks(scanned);
    input = rewrite.bytes;
    stubIndex = rewrite.stubIndex;
    preemptFlag = globalExportName(rewrite.flagGlobal);
    stats.loopChecks = rewrite.loopChecks;
    stats.entryChecks = rewrite.entryChecks;
    scanned = scanModule(input);
  }

  const shape = readShape(input);
  const globals = exportMutableGlobals(shape);
  const freezePoints = freezePointImports(shape, preempt);
  const table = invokeTable(shape);
  input = addExports(input, [
    ...globals.map((g) => ({ name: g.export, kind: EXPORT_GLOBAL, index: g.index })),
    ...(table === undefined ? [] : [{ name: table, kind: EXPORT_TABLE, index: 0 }]),
  ]);
  const info: InstrumentInfo = {
    transformVersion: TRANSFORM_VERSION, originalDigest, freezePoints, globals,
    ...(table === undefined ? {} : { table }),
    ...(reservedPages === undefined ? {} : { reservedPages }),
    ...(options.fastPaths ?? true ? {} : { compact: true as const }),
    ...(preemptFlag === undefined ? {} : { preemptFlag }),
  };

  let removeList: ((names: string[]) => string[]) | undefined;
  if (scope === 'precise' && scanned) {
    const precise = scanned;
    removeList = (names) => {
      progress('scope');
      const removed = preciseRemoveList(names, precise, new Set(freezePoints), stubIndex);
      if (typeof removed === 'string') {
        stats.fallback = removed;
        return [];
      }
      stats.preciseFunctions = removed.kept;
      return removed.names;
    };
  }
  const out = await backend.run(input, {
    freezePoints,
    removeList,
    optimizeLevel: options.optimizeLevel ?? 2,
    optimizeModule: options.optimizeModule ?? false,
    progress,
  });

  progress('emit');
  const fast = options.fastPaths ?? true ? splitFastPaths(out) : { bytes: out, split: 0, zeroedEdges: 0 };
  stats.fastPaths = fast.split;
  stats.zeroedEdges = fast.zeroedEdges;
  const instrumented = appendCustomSection(fast.bytes, INFO_SECTION, encodeInfo(info));
  const outRejection = engineRejection(instrumented);
  if (outRejection !== null) throw new TransformError('binaryen-failed', `instrumented module is invalid: ${outRejection}`);
  return { wasm: instrumented, info, stats };
}

/**
 * Asyncify's remove-list for the precise scope: every defined function our call graph proves
 * cannot reach a freeze point, by the name the Asyncify tool gave it (`names`, in index order:
 * tools name unnamed functions themselves, and deduplicate names differently). Names the list
 * syntax cannot carry stay instrumented, which is always safe. Returns a reason string when the
 * names cannot be matched to the scan.
 */
function preciseRemoveList(names: string[], scanned: ScannedModule, freezePoints: Set<string>, stubIndex: number | null): { names: string[]; kept: number } | string {
  if (names.length !== scanned.functions.length) return 'the Asyncify tool and the scan disagree on the function count';
  const roots = new Set<number>();
  for (const fn of scanned.functions) {
    // An invoke may unwind only when a table entry it can call may: the scan sees it as that call.
    if (fn.import && freezePoints.has(`${fn.import.module}.${fn.import.base}`) && !isInvokeImport(fn.import.module, fn.import.base)) roots.add(fn.index);
  }
  const reach = canReach(scanned, roots);
  const removed: string[] = [];
  let kept = 0;
  for (const fn of scanned.functions) {
    if (fn.import) continue;
    const name = names[fn.index]!;
    if (reach.has(fn.index) || !listable(name)) kept++;
    else removed.push(name);
  }
  // The preemption stub reaches wmig.preempt; it is ours, not the program's.
  return { names: removed, kept: kept - (stubIndex === null ? 0 : 1) };
}

/** Commas separate entries, `*` is a wildcard, brackets group entries, `@` names a file. */
function listable(name: string): boolean {
  return name !== '' && !/[,*()<>[\]{}\n]/.test(name) && !name.startsWith('@') && name.trim() === name;
}

const VALUE_TYPES: Record<number, GlobalValueType> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64' };

/** Every mutable global, to be exported as `wmig.global.<index>` (index in the global index space, imports included). */
function exportMutableGlobals(shape: ModuleShape): ExportedGlobal[] {
  return shape.globals.filter((g) => g.mutable).map((g) => {
    const type = VALUE_TYPES[g.type];
    if (!type) throw new TransformError('unsupported', `mutable global ${g.index} has a type wmig cannot save (only i32, i64, f32, f64)`);
    return { export: globalExportName(g.index), index: g.index, type };
  });
}

function globalExportName(index: number): string {
  return `wmig.global.${index}`;
}

/** The imports Asyncify may unwind from, as `module.base`, in import order: WASI calls (freeze
 * points), setjmp/longjmp's invokes and longjmp_unwind, and wmig.preempt when preemption checks
 * were inserted. */
function freezePointImports(shape: ModuleShape, preempt: boolean): string[] {
  const isFreezePoint = (module: string, base: string) =>
    (WASI_MODULES.has(module) && !NOT_FREEZE_POINTS.has(base)) ||
    isInvokeImport(module, base) ||
    `${module}.${base}` === LONGJMP_UNWIND_NAME ||
    (preempt && module === PREEMPT_IMPORT.module && base === PREEMPT_IMPORT.base);
  return shape.functionImports.filter((f) => isFreezePoint(f.module, f.base)).map((f) => `${f.module}.${f.base}`);
}

/** For a module that imports invokes, the export name of the table they call into (wasm-ld exports
 * none of a command's own); undefined for any other. */
function invokeTable(shape: ModuleShape): string | undefined {
  if (!shape.functionImports.some((f) => isInvokeImport(f.module, f.base))) return undefined;
  if (shape.tableCount !== 1) throw new TransformError('unsupported', `module imports env.invoke_* (setjmp/longjmp) but has ${shape.tableCount} tables, not one`);
  return INVOKE_TABLE_EXPORT;
}
