/** Both Asyncify backends, for tests that must hold for each. */
import { bundledWasmOpt } from '../../transforms/wasm-opt.js';

export const BACKENDS = [
  { name: 'binaryen.js', wasmOpt: 'off' },
  // npm test's pretest installs it (scripts/ensure-wasm-opt.sh); without it these tests fail, not skip.
  { name: 'wasm-opt', wasmOpt: bundledWasmOpt() ?? 'wasm-opt-missing-run-scripts/ensure-wasm-opt.sh' },
] as const;
