// How many defined functions Asyncify actually instrumented: those that read its state global
// (found through the body of the exported asyncify_get_state), minus the Asyncify API itself and
// the rewind copies transforms/fast-path.ts appends after it.
import { scanModule } from '../dist/transforms/code-scan.js';

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

export function exportIndex(wasm, name) {
  let p = 8;
  const u32 = () => { let r = 0, s = 0, b; do { b = wasm[p++]; r += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80); return r; };
  while (p < wasm.length) {
    const id = wasm[p++];
    const size = u32();
    const end = p + size;
    if (id === 7) {
      for (let n = u32(); n > 0; n--) {
        const len = u32();
        const got = new TextDecoder().decode(wasm.subarray(p, p + len));
        p += len;
        const kind = wasm[p++];
        const index = u32();
        if (kind === 0 && got === name) return index;
      }
    }
    p = end;
  }
  throw new Error(`no export ${name}`);
}
