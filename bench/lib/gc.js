/** A full GC between samples, so each one starts from a clean heap (as a fresh worker would). */
import v8 from 'node:v8';
import vm from 'node:vm';

let gc = globalThis.gc;
if (typeof gc !== 'function') {
  v8.setFlagsFromString('--expose-gc');
  gc = vm.runInNewContext('gc');
}
export const fullGc = () => gc();
