/** Engine-level helpers: load an instrumented module and run a guest in this thread. */
import fs from 'node:fs';
import path from 'node:path';
import { DIST, CACHE_DIR } from './env.js';

const { loadModule } = await import(path.join(DIST, 'runtime/api/modules.js'));
const { Guest } = await import(path.join(DIST, 'runtime/engine/guest.js'));
const { WasiHost } = await import(path.join(DIST, 'runtime/wasi/host.js'));

export { Guest, WasiHost };

/** Instrumented + compiled module (through the bench's instrumentation cache). */
export function load(file) {
  return loadModule(file, { cacheDir: CACHE_DIR });
}

/**
 * Runs a guest in this thread until the first call for which `match(importName)` holds; returns
 * the 1-based number of that call (what `run({ freezeAtCall })` expects).
 */
export async function findCall(file, args, match, stdio) {
  const loaded = await load(file);
  const host = new WasiHost({ args: [path.basename(file), ...args], env: [], mounts: [], stdio });
  let found = 0;
  const guest = Guest.instantiate(loaded.compiled, loaded.info, host, (n, name) => {
    if (match(name)) found = n;
    return found !== 0;
  });
  const outcome = guest.start();
  host.close();
  if (outcome.kind !== 'unwound') throw new Error(`${file}: no matching call (${outcome.kind})`);
  return found;
}

export function fileSize(p) {
  return fs.statSync(p).size;
}
