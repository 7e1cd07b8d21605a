// The native wasm-opt when there is one (faster, and not bound by binaryen.js's 4 GB wasm heap),
// binaryen.js from npm otherwise.
import type { AsyncifyBackend } from './backend.js';
import { binaryenJsBackend } from './binaryen-js.js';
import { bundledWasmOpt, wasmOptBackend } from './wasm-opt.js';

/**
 * `setting` (else $WMIG_WASM_OPT): a wasm-opt path, or 'off' for binaryen.js. Unset: the wasm-opt
 * scripts/ensure-wasm-opt.sh unpacked into .wmig-tools/, else binaryen.js.
 */
export async function selectBackend(setting = process.env.WMIG_WASM_OPT): Promise<AsyncifyBackend> {
  if (setting === 'off') return binaryenJsBackend();
  const path = setting || bundledWasmOpt();
  return path ? wasmOptBackend(path) : binaryenJsBackend();
}
