/**
 * 1. Run-time cost of instrumentation, on examples/build/cpuheavy.wasm (~1 s plain).
 *    (a) plain module under node:wasi, in this process           — the baseline
 *    (b) instrumented module under node:wasi, in this process     — what Asyncify alone costs
 *    (c) instrumented module under wmig's host via run()          — the worker path the CLI uses
 *    (c0) run() of a trivial program                              — its fixed cost (worker spawn etc.)
 *    (d) whole process: `node bin/wmig.js run` vs `node bench/lib/node-wasi-run.js` on the plain and
 *        on the instrumented module (each a fresh process: compile + cold tiering included)
 * Compilation is done once up front for (a)–(c), so they measure steady-state (optimized) code;
 * each sample is instantiate + run to exit.
 * Variants are interleaved (order rotated every round), median of ROUNDS samples each.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { WASI } from 'node:wasi';
import { DEVNULL, QUIET_STDIO, ROOT, TMP, WMIG_BIN, example, now } from './lib/env.js';
import { load } from './lib/guest-helpers.js';
import { median, ms, ratio, table } from './lib/stats.js';

const { run } = await import(path.join(ROOT, 'dist/runtime/index.js'));

const ROUNDS = Number(process.env.BENCH_CPU_ROUNDS ?? 7);
const FILE = example('cpuheavy');
const NODE_WASI_RUNNER = path.join(ROOT, 'bench/lib/node-wasi-run.js');

function underNodeWasi(module) {
  const wasi = new WASI({ version: 'preview1', args: ['cpuheavy'], env: {}, returnOnExit: true, stdout: DEVNULL, stderr: DEVNULL });
  const t0 = now();
  const instance = new WebAssembly.Instance(module, wasi.getImportObject());
  const code = wasi.start(instance);
  const t = now() - t0;
  if (code !== 0) throw new Error(`cpuheavy exited ${code} under node:wasi`);
  return { total: t };
}

async function underWmig(loaded, expectCode = 0) {
  const t0 = now();
  const proc = await run(loaded, { args: [], stdio: QUIET_STDIO });
  const result = await proc.result;
  const t = now() - t0;
  if (result.state !== 'exited' || result.code !== expectCode) throw new Error(`${loaded.name} under run(): ${JSON.stringify(result)}`);
  return { total: t };
}

function wholeProcess(args) {
  const t0 = now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'ignore' });
  const t = now() - t0;
  if (r.status !== 0) return { total: t, failed: `status ${r.status ?? r.signal}` };
  return { total: t };
}

export async function benchInstrumentation(log = console.error) {
  const plain = new WebAssembly.Module(fs.readFileSync(FILE));
  const loaded = await load(FILE); // instruments through the bench cache (also warms it for the CLI)
  const instrumented = new WebAssembly.Module(loaded.bytes);
  const instrumentedFile = path.join(TMP, 'cpuheavy.instrumented.wasm');
  fs.writeFileSync(instrumentedFile, loaded.bytes);
  const trivial = await load(example('argsenv')); // exits with argc = 1

  const variants = {
    a: { name: '(a) plain, node:wasi (in-process)', fn: () => underNodeWasi(plain) },
    b: { name: '(b) instrumented, node:wasi (in-process)', fn: () => underNodeWasi(instrumented) },
    c: { name: '(c) instrumented, wmig run() (worker)', fn: () => underWmig(loaded) },
    c0: { name: '(c0) wmig run() of a trivial program (argsenv): fixed cost', fn: () => underWmig(trivial, 1) },
    dn: { name: '(d) whole process: node:wasi runner, plain', fn: () => wholeProcess([NODE_WASI_RUNNER, FILE]) },
    di: { name: '(d) whole process: node:wasi runner, instrumented', fn: () => wholeProcess([NODE_WASI_RUNNER, instrumentedFile]) },
    dw: { name: '(d) whole process: `node bin/wmig.js run`', fn: () => wholeProcess([WMIG_BIN, 'run', FILE]) },
  };
  const keys = Object.keys(variants);
  const samples = Object.fromEntries(keys.map((k) => [k, []]));
  const failures = Object.fromEntries(keys.map((k) => [k, []]));

  // One warm-up round (V8 tiering, page cache, instrumentation cache), then interleaved rounds.
  for (const k of keys) await variants[k].fn();
  for (let r = 0; r < ROUNDS; r++) {
    const order = keys.map((_, i) => keys[(i + r) % keys.length]);
    for (const k of order) {
      const s = await variants[k].fn();
      if (s.failed) failures[k].push(s.failed);
      samples[k].push(s);
    }
    log(`  cpuheavy round ${r + 1}/${ROUNDS}`);
  }

  const all = (k) => samples[k].map((s) => s.total);
  const med = (k) => median(all(k));
  const spread = (k) => `${ms(Math.min(...all(k)), 0)}–${ms(Math.max(...all(k)), 0)}`;
  const base = med('a');
  const baseWhole = med('dn');
  const row = (k, vsA, vsWhole) => [variants[k].name, ms(med(k), 0), spread(k), vsA ? ratio(med(k) / base) : '—', vsWhole ? ratio(med(k) / baseWhole) : '—'];
  const rows = [row('a', true), row('b', true), row('c', true), row('c0'), row('dn', true, true), row('di', true, true), row('dw', true, true)];
  const notes = Object.entries(failures)
    .filter(([, f]) => f.length)
    .map(([k, f]) => `- ${variants[k].name}: ${f.length} of ${ROUNDS + 1} runs ended with ${[...new Set(f)].join(', ')} (timed anyway)`);
  return [
    `### 1. Run-time cost of instrumentation (cpuheavy, median of ${ROUNDS} interleaved runs)`,
    '',
    `Instrumented module: ${loaded.bytes.length} bytes (plain ${fs.statSync(FILE).size}).`,
    '',
    table(['variant', 'median ms', 'min–max ms', 'vs (a)', 'vs (d) node:wasi plain'], rows),
    ...(notes.length ? ['', ...notes] : []),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await benchInstrumentation());
