/**
 * Issue 4 on a large C program: SQLite (amalgamation + a small query driver), instrumented with
 * each scope, timed and run. Not part of `node bench/cpu-suite.js` because the SQLite module is
 * built outside the repo:
 *   npm pack better-sqlite3 && tar xzf better-sqlite3-*.tgz     (ships deps/sqlite3/sqlite3.c)
 *   clang --target=wasm32-wasi -O2 -I package/deps/sqlite3 -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION \
 *     -DSQLITE_TEMP_STORE=3 -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_MMAN \
 *     -D_WASI_EMULATED_GETPID -Wl,-z,stack-size=1048576 -Wl,--strip-debug -o sqlq.wasm main.c \
 *     package/deps/sqlite3/sqlite3.c -lwasi-emulated-signal -lwasi-emulated-process-clocks -lwasi-emulated-mman -lwasi-emulated-getpid
 *   node bench/cpu-suite-sqlite.js sqlq.wasm [args…]
 * (main.c: examples/cpu/sqlite-main.c.in) Prints one line per variant.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WASI } from 'node:wasi';
import { DEVNULL, ROOT } from './lib/env.js';
import { instrumentedFunctionCount } from './cpu-suite-count.js';
import { median } from './lib/stats.js';

const { asyncify } = await import(path.join(ROOT, 'dist/transforms/asyncify.js'));
const [file, ...args] = process.argv.slice(2);
const wasm = fs.readFileSync(file);
const ROUNDS = Number(process.env.BENCH_CPU_ROUNDS ?? 3);
const VARIANTS = (process.env.VARIANTS ?? 'asyncify,precise,preempt,precise-Omodule').split(',');
// WMIG_WASM_OPT=off: binaryen.js instead of the native wasm-opt.
const OPTIONS = {
  asyncify: { scope: 'asyncify' },
  precise: { scope: 'precise' },
  'precise-O1': { scope: 'precise', optimizeLevel: 1 },
  preempt: { scope: 'precise', preempt: true },
  'precise-Omodule': { scope: 'precise', optimizeModule: true },
  'preempt-Omodule': { scope: 'precise', preempt: true, optimizeModule: true },
};

function runOnce(module) {
  const wasi = new WASI({ version: 'preview1', args: ['sqlq', ...args], env: {}, returnOnExit: true, stdout: DEVNULL, stderr: DEVNULL });
  const imports = { ...wasi.getImportObject(), wmig: { preempt: () => 10000 } };
  const u0 = process.cpuUsage();
  const code = wasi.start(new WebAssembly.Instance(module, imports));
  const u = process.cpuUsage(u0);
  if (code !== 0) throw new Error(`exit ${code}`);
  return (u.user + u.system) / 1000;
}

const plainModule = new WebAssembly.Module(wasm);
runOnce(plainModule);
const plain = median(Array.from({ length: ROUNDS }, () => runOnce(plainModule)));
console.log(`plain: ${wasm.length} bytes, ${plain.toFixed(0)} ms`);
for (const key of VARIANTS) {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const stages = [];
  let last = t0;
  const out = await asyncify(wasm, '0'.repeat(64), {
    ...OPTIONS[key],
    onProgress: (s) => { const t = performance.now(); stages.push(`${s}@${((t - t0) / 1000).toFixed(1)}s`); last = t; },
  });
  const seconds = (performance.now() - t0) / 1000;
  const rss = process.memoryUsage().rss;
  const module = new WebAssembly.Module(out.wasm);
  runOnce(module);
  const t = median(Array.from({ length: ROUNDS }, () => runOnce(module)));
  console.log(`${key} (${out.stats.tool}): instrument ${seconds.toFixed(1)} s (${stages.join(' ')}), rss +${((rss - rss0) / 2 ** 20).toFixed(0)} MiB; ` +
    `${out.wasm.length} bytes (${(out.wasm.length / wasm.length).toFixed(3)}×); instrumented ${instrumentedFunctionCount(out.wasm)} of ${out.stats.definedFunctions} ` +
    `(analysis ${out.stats.preciseFunctions}); run ${t.toFixed(0)} ms (${(t / plain).toFixed(3)}×); checks ${out.stats.loopChecks}+${out.stats.entryChecks}`);
}
process.exit(0);
