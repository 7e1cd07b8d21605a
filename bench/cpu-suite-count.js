// How many defined functions Asyncify actually instrumented: those that read its state global
// (found through the body of the exported asyncify_get_state), minus the Asyncify API itself and
// the rewind copies transforms/fast-path.ts appends after it.
import { scanModule } from '../dist/transforms/code-scan.js';
import { exportedFunction, readSections } from '../dist/transforms/wasm-binary.js';

export function instrumentedFunctionCount(wasm) {
  return instrumentedFunctions(wasm).size;
}

/** Their indices (Asyncify appends its API functions and moves no other). */
export function instrumentedFunctions(wasm) {
  const m = scanModule(wasm);
  const getState = exportIndex(wasm, 'asyncify_get_state');
  const state = [...m.functions[getState].globalsRead][0];
  const api = new Set(['asyncify_start_unwind', 'asyncify_stop_unwind', 'asyncify_start_rewind', 'asyncify_stop_rewind', 'asyncify_get_state'].map((n) => exportIndex(wasm, n)));
  const firstApi = Math.min(...api);
  return new Set(m.functions.filter((f) => !f.import && f.index < firstApi && f.globalsRead.has(state)).map((f) => f.index));
}

function exportIndex(wasm, name) {
  const index = exportedFunction(readSections(wasm), name);
  if (index === null) throw new Error(`no export ${name}`);
  return index;
}
